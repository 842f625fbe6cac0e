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
  tiny_resnet.onnx, tiny_mobilenet.onnx      small nets over every op of ONNX CNNs (residual
                                 Add across the target layer, depthwise / grouped / dilated
                                 convs, ReLU6, HardSwish, squeeze-excitation with Sigmoid /
                                 HardSigmoid and Mul, ceil-mode pools, count_include_pad=0,
                                 asymmetric pads, a materialised Pad), no metadata
  tiny_*.onnx.goldens.safetensors            "input", "logits", and for each layer tag
                                 (default, earlier, inside) "class/TAG" and every method's
                                 map "METHOD/TAG" (H, W) at the method's default score for
                                 the top-1 class, in float64 (make_cam_goldens.py's plain
                                 PyTorch methods; the head runs the real modules, the
                                 target replaced through a forward hook, so skip
                                 connections that bypass it see the unmodified image)
The input goldens are tests/data/test299.png normalised (and, for VGG,
resized by F.interpolate bilinear, half-pixel centres, as pixab resizes).

torch.onnx.export needs no `onnx` package in torch 1.13; the metadata_props
are appended to the serialised ModelProto (field 14, a repeated message:
protobuf concatenation merges them). Run with Debian's /usr/bin/python3.
"""

import argparse
import copy
import io
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.models import vgg as tvv

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_cam_goldens as mcg  # noqa: E402
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
    (Gemm, or MatMul + Add), optionally one unsupported op (Tanh)."""

    def __init__(self, reduce_mean=False, tanh=False):
        super().__init__()
        self.a = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4), nn.ReLU())
        self.b = nn.Conv2d(4, 4, 1)
        self.c = nn.Conv2d(4, 4, 3, padding=1)
        self.w = nn.Parameter(torch.randn(8, 3))
        self.bias = nn.Parameter(torch.randn(3))
        self.fc = nn.Linear(8, 3)
        self.reduce_mean, self.tanh = reduce_mean, tanh

    def forward(self, x):
        x = self.a(x)
        x = torch.cat([F.relu(self.b(F.avg_pool2d(x, 3, 1, 1))), F.relu(self.c(x))], 1)
        x = F.max_pool2d(x, 2)
        if self.tanh:
            x = torch.tanh(x)
        if self.reduce_mean:
            return x.mean((2, 3)) @ self.w + self.bias
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class ZeroPad(torch.autograd.Function):
    """F.pad with zeros, exported as one Pad node with constant pads
    (torch 1.13 builds F.pad's pads in the graph with ConstantOfShape, Concat,
    ..., which its constant folding leaves in place)."""

    @staticmethod
    def forward(ctx, x, pads):
        ctx.pads = pads
        return F.pad(x, pads)

    @staticmethod
    def backward(ctx, grad):
        left, right, top, bottom = ctx.pads
        return grad[:, :, top:grad.shape[2] - bottom, left:grad.shape[3] - right], None

    @staticmethod
    def symbolic(g, x, pads):
        left, right, top, bottom = pads
        p = g.op("Constant", value_t=torch.tensor([0, 0, top, left, 0, 0, bottom, right], dtype=torch.int64))
        return g.op("Pad", x, p, mode_s="constant")


class Block(nn.Module):
    """A ResNet basic block: conv-BN-ReLU, conv-BN (dilated when asked), the
    skip (a 1x1 stride-2 conv + BN when the shape changes), Add, ReLU."""

    def __init__(self, cin, cout, stride=1, dilation=1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, dilation, dilation=dilation, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = (nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
                     if stride != 1 or cin != cout else None)
        self.relu2 = nn.ReLU()

    def forward(self, x):
        y = self.bn2(self.conv2(self.relu1(self.bn1(self.conv1(x)))))
        return self.relu2(y + (self.down(x) if self.down is not None else x))


class TinyResNet(nn.Module):
    """33 x 33 in: conv, a zero Pad (0,1,0,1) folded into a 2x2 conv
    (asymmetric pads), x * sigmoid(x), a Pad (1,0,1,0) before a ceil-mode max
    pool (a Pad op of its own), a block with a dilated conv, an average pool
    without the padding counted, a stride-2 block with a projection skip, GAP, FC."""

    def __init__(self, classes):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, 1, 1, bias=False), nn.BatchNorm2d(8), nn.ReLU())
        self.conv2 = nn.Conv2d(8, 8, 2, bias=False)
        self.bn2 = nn.BatchNorm2d(8)
        self.pool = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.block1 = Block(8, 8, dilation=2)
        self.avg = nn.AvgPool2d(3, 1, 1, count_include_pad=False)
        self.block2 = Block(8, 16, stride=2)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, classes)

    def forward(self, x):
        x = self.stem(x)
        x = self.bn2(self.conv2(ZeroPad.apply(x, (0, 1, 0, 1))))
        x = x * torch.sigmoid(x)
        x = self.pool(ZeroPad.apply(x, (1, 0, 1, 0)))
        x = self.block2(self.avg(self.block1(x)))
        return self.fc(torch.flatten(self.gap(x), 1))


class SE(nn.Module):
    def __init__(self, c, mid, gate):
        super().__init__()
        self.fc1 = nn.Conv2d(c, mid, 1)
        self.relu = nn.ReLU()
        self.fc2 = nn.Conv2d(mid, c, 1)
        self.gate = gate

    def forward(self, x):
        return x * self.gate(self.fc2(self.relu(self.fc1(F.adaptive_avg_pool2d(x, 1)))))


def cbn(cin, cout, k, stride, act, groups=1):
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout),
                         act)


class InvertedResidual(nn.Module):
    """MobileNetV2/V3's block: 1x1 expansion (grouped when asked), depthwise
    conv, optional squeeze-excitation, 1x1 projection, residual Add."""

    def __init__(self, cin, mid, cout, k, stride, act, se=None, groups=1):
        super().__init__()
        self.expand = cbn(cin, mid, 1, 1, act(), groups)
        self.dw = cbn(mid, mid, k, stride, act(), mid)
        self.se = se if se is not None else nn.Identity()
        self.project = nn.Sequential(nn.Conv2d(mid, cout, 1, bias=False), nn.BatchNorm2d(cout))
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        y = self.project(self.se(self.dw(self.expand(x))))
        return x + y if self.residual else y


class TinyMobileNet(nn.Module):
    """32 x 32 in: MobileNetV2/V3 style: Hardswish stem, a Clip (-1, 3),
    ReLU6 blocks, depthwise 3x3 and 5x5 (stride 2), squeeze-excitation with
    HardSigmoid and with Sigmoid, a grouped 1x1 expansion, residual Adds, a
    Hardswish 1x1 conv, GAP and a two-layer classifier (Linear, Hardswish,
    Dropout, Linear: no fast path)."""

    def __init__(self, classes):
        super().__init__()
        self.stem = cbn(3, 8, 3, 2, nn.Hardswish())
        self.ir1 = InvertedResidual(8, 16, 8, 3, 1, nn.ReLU6)
        self.ir2 = InvertedResidual(8, 24, 12, 5, 2, nn.Hardswish, SE(24, 8, nn.Hardsigmoid()))
        self.ir3 = InvertedResidual(12, 24, 12, 3, 1, nn.ReLU6, SE(24, 8, nn.Sigmoid()), groups=2)
        self.last = cbn(12, 32, 1, 1, nn.Hardswish())
        self.classifier = nn.Sequential(nn.Linear(32, 16), nn.Hardswish(), nn.Dropout(0.2), nn.Linear(16, classes))

    def forward(self, x):
        x = torch.clamp(self.stem(x), -1.0, 3.0)
        x = self.last(self.ir3(self.ir2(self.ir1(x))))
        return self.classifier(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def tiny_vgg(classes):
    """torchvision's VGG with BatchNorm (3 stages, widths 8-16-16) and its own
    classifier shape: AdaptiveAvgPool2d((2, 2)) on 4 x 4 features, Flatten,
    Linear-ReLU-Dropout twice, Linear (a Gemm on flattened spatial features)."""
    m = tvv.VGG(tvv.make_layers([8, "M", 16, "M", 16, "M"], batch_norm=True), num_classes=classes,
                init_weights=True)
    m.avgpool = nn.AdaptiveAvgPool2d((2, 2))
    m.classifier = nn.Sequential(nn.Linear(16 * 2 * 2, 32), nn.ReLU(True), nn.Dropout(),
                                 nn.Linear(32, 32), nn.ReLU(True), nn.Dropout(), nn.Linear(32, classes))
    return m


# The tiny nets' target layers: tag -> (the module whose output it is, its ONNX tensor name).
TINY_LAYERS = {
    "tiny_resnet": {"default": ("block2", "/block2/relu2/Relu_output_0"),
                    "earlier": ("block1", "/block1/relu2/Relu_output_0"),
                    "inside": ("block2.relu1", "/block2/relu1/Relu_output_0")},
    "tiny_mobilenet": {"default": ("last", "/last/last.2/HardSwish_output_0"),
                       "earlier": ("ir1", "/ir1/Add_output_0"),
                       "inside": ("ir3.expand", "/ir3/expand/expand.2/Clip_output_0")},
    "tiny_vgg": {"default": ("avgpool", "/avgpool/AveragePool_output_0"),
                 "earlier": ("features.7", "/features/features.7/MaxPool_output_0")},
}
TINY_METHODS = ("pixab", "ablation", "activation", "gradcam", "gradcampp", "xgradcam", "scorecam")
DEFAULT_SCORE = {"pixab": "softmax", "ablation": "softmax", "scorecam": "softmax", "activation": "logit",
                 "gradcam": "logit", "gradcampp": "logit", "xgradcam": "logit"}


def hooked_split(model, x, layers, broadcast=False):
    """make_cam_goldens' body / head for any graph: body runs the model and
    keeps the output of module layers[name]; head runs the whole model on
    len(a) copies of x with that output replaced by a (a forward hook), so
    every input of the head that does not depend on the layer (a skip) is
    the image's own. broadcast: the head runs the model on x itself (the
    modules before the layer once, not once per copy) and the hook's a
    carries the batch; right only when every tensor that bypasses the layer
    meets the batch in a broadcasting op (Add, Mul), not a Concat."""
    mods = dict(model.named_modules())

    def body(m, xx, layer):
        got = {}
        h = mods[layers[layer]].register_forward_hook(lambda mod, i, o: got.__setitem__("a", o))
        m(xx)
        h.remove()
        return got["a"]

    def head(m, a, layer):
        h = mods[layers[layer]].register_forward_hook(lambda mod, i, o: a)
        out = m(x if broadcast else x.expand(a.shape[0], -1, -1, -1))
        h.remove()
        return out

    return body, head


def tiny_goldens(name, net, size, args, img, mean, std):
    calib = mg.calibration_batch(args.seed, 32, size=size)
    calib = (calib * 0.5 + 0.5 - mean) / std
    mg.randomise_and_calibrate(net, calib, args.seed, fc=net.fc if hasattr(net, "fc") else net.classifier[-1])
    net.eval()
    x01 = torch.from_numpy(img.astype(np.float32) / 255.0).permute(2, 0, 1)[None]
    x01 = F.interpolate(x01, size=(size, size), mode="bilinear", align_corners=False)
    x = ((x01 - mean) / std).contiguous()
    path = os.path.join(args.out_dir, name + ".onnx")
    nbytes = export(net, x, path, 14 if "mobilenet" in name else 13, None, False)
    with open(path, "rb") as f:
        data = f.read()
    with torch.no_grad():
        logits = net(x)
    out = {"input": x.float().contiguous(), "logits": logits.float().contiguous()}
    # float64 reference maps: make_cam_goldens' plain PyTorch methods on this graph
    net64, x64 = copy.deepcopy(net).double(), x.double()
    mods = {tag: mod for tag, (mod, _) in TINY_LAYERS[name].items()}
    mcg.body, mcg.head = hooked_split(net64, x64, mods)
    c = int(logits[0].argmax())
    for tag, (_, onnx_name) in TINY_LAYERS[name].items():
        assert onnx_name.encode() in data, "%s: no tensor %s in the export" % (name, onnx_name)
        plain = mcg.Plain(net64, x64, tag, list(TINY_METHODS), mcg.BOXES, {})
        assert torch.allclose(plain.logits, logits[0].double(), atol=1e-4)
        out["class/" + tag] = torch.tensor([float(c)])
        for m in TINY_METHODS:
            raw, _, _ = plain.run(m, c, DEFAULT_SCORE[m])
            out["%s/%s" % (m, tag)] = mcg.minmax_relu(raw).float().contiguous()
        print("  %s %s: A %s" % (tag, onnx_name, tuple(plain.a.shape)))
    safetensors_io.save(path + ".goldens.safetensors", out,
                        {"pixab.note": "RANDOM weights (BN-calibrated), seed %d, input %d, "
                         "tools/make_onnx_goldens.py" % (args.seed, size), "pixab.torch": torch.__version__})
    print("%s (%d bytes) logits %s" % (path, nbytes, np.round(logits[0].numpy(), 3).tolist()))


def fuzz_seeds(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    x = torch.rand(1, 3, 8, 8)
    for name, net, keep_bn in (("tiny_gemm.onnx", TinyNet(), True), ("tiny_matmul.onnx", TinyNet(True), False),
                               ("bad_tanh.onnx", TinyNet(tanh=True), False)):
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
    ap.add_argument("--tiny-only", action="store_true", help="only the small nets (tiny_resnet, tiny_mobilenet)")
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
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    if args.tiny_only:
        torch.manual_seed(args.seed)
        tiny_goldens("tiny_resnet", TinyResNet(K), 33, args, img, mean, std)
        tiny_goldens("tiny_mobilenet", TinyMobileNet(K), 32, args, img, mean, std)
        tiny_goldens("tiny_vgg", tiny_vgg(K), 32, args, img, mean, std)
        return

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

    torch.manual_seed(args.seed)
    tiny_goldens("tiny_resnet", TinyResNet(K), 33, args, img, mean, std)
    tiny_goldens("tiny_mobilenet", TinyMobileNet(K), 32, args, img, mean, std)
    tiny_goldens("tiny_vgg", tiny_vgg(K), 32, args, img, mean, std)


if __name__ == "__main__":
    main()
