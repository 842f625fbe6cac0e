#!/usr/bin/python3
"""Small random-weight ONNX test models (exported by torch.onnx) and PyTorch goldens.

The expected values for pixab's ONNX loader come from PyTorch itself (the
model before export), never from pixab (DESIGN.md §8). Models and weights:
make_goldens.py's reduced-width Inception-V3 (same BN-calibrated random
weights), and a VGG-11-BN at reduced width whose classifier reads global
average pooling (so it runs at 64 x 64), exported with its BatchNormalization
nodes kept (TrainingMode.PRESERVE on the eval-mode model) so the loader's BN folding is exercised.

What it writes into --out-dir:
  inception_v3_w8.onnx           opset 13, metadata pixab.mean/std/input_size/classes
  inception_v3_w8.onnx.goldens.safetensors   "logits" (1,10) (its input is make_goldens.py's
                                 "input" of inception_v3_w8.goldens.safetensors: the same image)
  vgg11_bn_w8.onnx               opset 11, input 64 (from the graph's static shape), no metadata
                                 (so pixab's ImageNet defaults apply)
  vgg11_bn_w8.onnx.goldens.safetensors       "input" (1,3,64,64) and "logits" (1,10)
The input goldens are tests/data/test299.png normalised (and, for VGG,
resized by F.interpolate bilinear, half-pixel centres, as pixab resizes).

torch.onnx.export needs no `onnx` package in torch 1.13; the metadata_props
are appended to the serialised ModelProto (field 14, a repeated message:
protobuf concatenation merges them). Run with Debian's /usr/bin/python3.
"""

import argparse
import io
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.models import vgg as tvv

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_goldens as mg  # noqa: E402
import safetensors_io  # noqa: E402

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
VGG_SIZE = 64


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def metadata_props(meta):
    """ModelProto.metadata_props entries (field 14) for a dict of strings."""
    out = b""
    for k, v in meta.items():
        kb, vb = k.encode(), v.encode()
        entry = b"\x0a" + varint(len(kb)) + kb + b"\x12" + varint(len(vb)) + vb
        out += b"\x72" + varint(len(entry)) + entry
    return out


def export(model, x, path, opset, meta, keep_bn):
    buf = io.BytesIO()
    torch.onnx.export(model, x, buf, opset_version=opset, input_names=["input"],
                      output_names=["logits"], do_constant_folding=not keep_bn,
                      # PRESERVE on an eval-mode model: the exporter's eval
                      # peephole, which folds BN into Conv, does not run
                      training=torch.onnx.TrainingMode.PRESERVE if keep_bn
                      else torch.onnx.TrainingMode.EVAL)
    data = buf.getvalue() + (metadata_props(meta) if meta else b"")
    with open(path, "wb") as f:
        f.write(data)
    return len(data)


def vgg_w(div, classes):
    """torchvision VGG-11 with BatchNorm, every width divided by div, global
    average pooling instead of the 7x7 adaptive pool, a 3-layer classifier."""
    cfg = [v if v == "M" else v // div for v in tvv.cfgs["A"]]
    m = tvv.VGG(tvv.make_layers(cfg, batch_norm=True), num_classes=classes, init_weights=True)
    c, hidden = cfg[-2], 256 // div
    m.avgpool = nn.AdaptiveAvgPool2d(1)
    m.classifier = nn.Sequential(nn.Linear(c, hidden), nn.ReLU(True), nn.Dropout(),
                                 nn.Linear(hidden, hidden), nn.ReLU(True), nn.Dropout(),
                                 nn.Linear(hidden, classes))
    return m


def goldens(path, model, x, note, with_input):
    with torch.no_grad():
        logits = model(x)
    g = {"logits": logits.float().contiguous()}
    if with_input:
        g["input"] = x.float().contiguous()
    safetensors_io.save(path, g, {"pixab.note": note, "pixab.torch": torch.__version__})
    return logits


class TinyNet(nn.Module):
    """A few-KB CNN over every supported op (fuzz seeds): conv + BN + ReLU,
    a zero-padded average pool (exported as Pad + AveragePool), a max pool,
    a concatenation, global pooling (GAP or ReduceMean) and a classifier
    (Gemm, or MatMul + Add), optionally one unsupported op (Sigmoid)."""

    def __init__(self, reduce_mean=False, sigmoid=False):
        super().__init__()
        self.a = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4), nn.ReLU())
        self.b = nn.Conv2d(4, 4, 1)
        self.c = nn.Conv2d(4, 4, 3, padding=1)
        self.w = nn.Parameter(torch.randn(8, 3))
        self.bias = nn.Parameter(torch.randn(3))
        self.fc = nn.Linear(8, 3)
        self.reduce_mean, self.sigmoid = reduce_mean, sigmoid

    def forward(self, x):
        x = self.a(x)
        x = torch.cat([F.relu(self.b(F.avg_pool2d(x, 3, 1, 1))), F.relu(self.c(x))], 1)
        x = F.max_pool2d(x, 2)
        if self.sigmoid:
            x = torch.sigmoid(x)
        if self.reduce_mean:
            return x.mean((2, 3)) @ self.w + self.bias
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def fuzz_seeds(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    x = torch.rand(1, 3, 8, 8)
    for name, net, keep_bn in (("tiny_gemm.onnx", TinyNet(), True), ("tiny_matmul.onnx", TinyNet(True), False),
                               ("bad_sigmoid.onnx", TinyNet(sigmoid=True), False)):
        path = os.path.join(out_dir, name)
        print("%s (%d bytes)" % (path, export(net.eval(), x, path, 13, {"pixab.input_size": "8"}, keep_bn)))
    with open(os.path.join(out_dir, "tiny_gemm.onnx"), "rb") as f:
        data = f.read()
    with open(os.path.join(out_dir, "bad_truncated.onnx"), "wb") as f:
        f.write(data[:len(data) // 2])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out-dir", default="tests/data")
    ap.add_argument("--width-div", type=int, default=8)
    ap.add_argument("--classes", type=int, default=10)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--fuzz-seeds", default=None, metavar="DIR",
                    help="only write the fuzz seeds (tiny models, tests/fuzz/corpus_onnx) into DIR")
    args = ap.parse_args()
    if args.fuzz_seeds:
        torch.manual_seed(args.seed)
        fuzz_seeds(args.fuzz_seeds)
        return
    D, K = args.width_div, args.classes
    torch.manual_seed(args.seed)
    torch.set_grad_enabled(False)
    img = mg.load_png(os.path.join(args.out_dir, mg.TEST_IMAGE))
    names = ",".join("class%d" % i for i in range(K))

    # Inception-V3: make_goldens.py's model and weights, mean = std = 0.5.
    inc = mg.build_model(D, K)
    mg.randomise_and_calibrate(inc, mg.calibration_batch(args.seed, 32), args.seed)
    inc.eval()
    x = mg.normalise(img)
    name = "inception_v3_w%d.onnx" % D
    path = os.path.join(args.out_dir, name)
    meta = {"pixab.mean": "0.5,0.5,0.5", "pixab.std": "0.5,0.5,0.5", "pixab.input_size": "299",
            "pixab.classes": names}
    size = export(inc, x, path, 13, meta, False)
    lg = goldens(path + ".goldens.safetensors", inc, x,
                 "RANDOM weights: torchvision Inception3 width/%d, %d classes, seed %d, "
                 "tools/make_onnx_goldens.py" % (D, K, args.seed), False)
    print("%s (%d bytes) logits %s" % (path, size, np.round(lg[0].numpy(), 3).tolist()))

    # VGG-11-BN: ImageNet mean/std (pixab's default for ONNX), BN kept in the graph.
    vgg = vgg_w(D, K)
    calib = mg.calibration_batch(args.seed, 32, size=VGG_SIZE)
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    calib = (calib * 0.5 + 0.5 - mean) / std  # mg.normalise uses mean = std = 0.5
    mg.randomise_and_calibrate(vgg, calib, args.seed, fc=vgg.classifier[-1])
    vgg.eval()
    x01 = torch.from_numpy(img.astype(np.float32) / 255.0).permute(2, 0, 1)[None]
    x01 = F.interpolate(x01, size=(VGG_SIZE, VGG_SIZE), mode="bilinear", align_corners=False)
    x = ((x01 - mean) / std).contiguous()
    path = os.path.join(args.out_dir, "vgg11_bn_w%d.onnx" % D)
    size = export(vgg, x, path, 11, None, True)
    lg = goldens(path + ".goldens.safetensors", vgg, x,
                 "RANDOM weights: torchvision VGG-11-BN width/%d, GAP head, %d classes, seed %d, "
                 "input 64, tools/make_onnx_goldens.py" % (D, K, args.seed), True)
    print("%s (%d bytes) logits %s" % (path, size, np.round(lg[0].numpy(), 3).tolist()))


if __name__ == "__main__":
    main()
