#!/usr/bin/python3
"""Golden guided backpropagation and guided maps for pixab (docs/evaluation.md), from PyTorch.

GB(x) = d logit_c / d x of the preprocessed input, where every ReLU's backward
passes the gradient only where both its input and the incoming gradient are
positive (Springenberg et al.). torchvision's Inception3 applies its ReLUs
functionally (F.relu inside BasicConv2d.forward), so pytorch-grad-cam's
GuidedBackpropReLUModel, which swaps nn.ReLU modules, never reaches them: here
BasicConv2d.forward is replaced by conv -> bn -> GuidedReLU (a custom autograd
function), the model's only ReLUs. Max pools are PyTorch's (the gradient to the
first maximum). Float64 throughout.

Guided map of a method: G = GB * M_up, M_up the method's golden map
(tests/data/cam_goldens_w8.safetensors, made independently by
tools/make_cam_goldens.py) upsampled to 299 x 299 (bilinear,
align_corners=False) and broadcast over the channels.

On tests/data/inception_v3_w8.safetensors and tests/data/small53x37.png (the
CAM goldens' input), classes top1 and other (the CAM goldens' own), methods
gradcam (logit) and pixab (softmax) at Mixed_7c. The whole (299, 299, 3)
gradient would be 1 MB per class, so the file keeps, per class: the norm, the
projections on tools/make_cam_goldens.py's four fixed directions, and rows 100
and 200 (NHWC, float32); per guided map the same three.

Run with Debian's /usr/bin/python3 (python3-torch, torchvision):
  tools/make_guided_goldens.py tests/data/inception_v3_w8.safetensors \
      tests/data/guided_goldens_w8.safetensors

--tiny-onnx DIR writes DIR/tiny_guided.onnx and its goldens instead: a small
net whose ReLUs an ONNX importer cannot all fold into a convolution (one after
a max pool, one whose input an Add also reads) beside fused ones; the
(seeded, random) input and the whole GB of two classes, float64 PyTorch with
every nn.ReLU swapped for GuidedReLU.
"""

import argparse
import copy
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
import torchvision.models.inception as tvi

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402
from make_cam_goldens import body, head, input_directions, load_input, load_model  # noqa: E402

ROWS = (100, 200)
METHODS = (("gradcam", "logit"), ("pixab", "softmax"))
TAGS = ("top1", "other")


class GuidedReLU(torch.autograd.Function):
    """ReLU whose backward passes grad only where input > 0 and grad > 0."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * ((x > 0) & (g > 0)).to(g.dtype)


def guided_forward(self, x):
    return GuidedReLU.apply(self.bn(self.conv(x)))


def guided_backprop(model, x, c):
    """GB (299, 299, 3) NHWC float64 numpy of class c's logit."""
    m64 = copy.deepcopy(model).double()
    plain = tvi.BasicConv2d.forward
    tvi.BasicConv2d.forward = guided_forward
    try:
        x64 = x.detach().double().requires_grad_(True)
        logits = head(m64, body(m64, x64, "Mixed_7c"), "Mixed_7c")
        logits[0, c].backward()
    finally:
        tvi.BasicConv2d.forward = plain
    return x64.grad[0].permute(1, 2, 0).contiguous().numpy()


class TinyGuided(torch.nn.Module):
    """24 x 24 in: conv+ReLU (folds into the conv), max pool, ReLU (standalone:
    after a pool), conv, ReLU on a tensor the Add also reads (standalone),
    1x1 conv+ReLU, global average pooling, FC to 10 classes."""

    def __init__(self):
        super().__init__()
        nn = torch.nn
        self.c1, self.r1, self.pool, self.r2 = nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.ReLU()
        self.c2, self.r3 = nn.Conv2d(8, 8, 3, padding=1), nn.ReLU()
        self.c3, self.r4, self.fc = nn.Conv2d(8, 12, 1), nn.ReLU(), nn.Linear(12, 10)

    def forward(self, x):
        x = self.r2(self.pool(self.r1(self.c1(x))))
        y = self.c2(x)
        z = self.r4(self.c3(self.r3(y) + y))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(z, 1), 1))


class GuidedReLUModule(torch.nn.Module):
    def forward(self, x):
        return GuidedReLU.apply(x)


def tiny_onnx(out_dir):
    """DIR/tiny_guided.onnx and DIR/tiny_guided_goldens.safetensors (input,
    logits, class/TAG, gb/TAG: the whole (24, 24, 3) NHWC GB)."""
    from make_onnx_goldens import export
    torch.manual_seed(7)
    net = TinyGuided().eval()
    x = torch.randn(1, 3, 24, 24)
    path = os.path.join(out_dir, "tiny_guided.onnx")
    export(net, x, path, 13, None, False)
    g = copy.deepcopy(net).double()
    for name in ("r1", "r2", "r3", "r4"):
        setattr(g, name, GuidedReLUModule())
    with torch.no_grad():
        logits = net.double()(x.double())[0]
    order = torch.argsort(logits, descending=True)
    out = {"input": x.permute(0, 2, 3, 1).contiguous().numpy().astype(np.float32),
           "logits": logits.numpy().astype(np.float32)}
    for tag, c in zip(TAGS, (int(order[0]), int(order[5]))):
        x64 = x.double().requires_grad_(True)
        g(x64)[0, c].backward()
        gb = x64.grad[0].permute(1, 2, 0).contiguous().numpy()
        x64.grad = None
        xp = x.double().requires_grad_(True)
        net(xp)[0, c].backward()
        plain = xp.grad[0].permute(1, 2, 0).numpy()
        print("%s: class %d, |GB| %.6g, |GB - plain gradient| %.6g" % (
            tag, c, np.linalg.norm(gb), np.linalg.norm(gb - plain)))
        out["class/%s" % tag] = np.array([c], np.float32)
        out["gb/%s" % tag] = gb.astype(np.float32)
    gpath = os.path.join(out_dir, "tiny_guided_goldens.safetensors")
    safetensors_io.save(gpath, out, {"source": "tools/make_guided_goldens.py --tiny-onnx", "model": "tiny_guided.onnx",
                                     "keys": "input (1,24,24,3) NHWC, logits, class/TAG, gb/TAG (24,24,3); "
                                             "TAG in top1, other (the 6th largest logit)"})


def summary(prefix, v):
    """norm, projections and rows of v (299, 299, 3)."""
    flat = v.ravel()
    return {prefix + "/norm": np.array([np.linalg.norm(flat)], np.float32),
            prefix + "/proj": np.array([flat @ d for d in input_directions(flat.size)], np.float32),
            prefix + "/rows": np.ascontiguousarray(v[list(ROWS)], np.float32)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", nargs="?")
    ap.add_argument("out", nargs="?")
    ap.add_argument("--tiny-onnx", metavar="DIR", help="write DIR/tiny_guided.onnx and its goldens instead")
    ap.add_argument("--image", default=os.path.join(os.path.dirname(__file__), "..", "tests", "data", "small53x37.png"))
    ap.add_argument("--cam-goldens", default=os.path.join(os.path.dirname(__file__), "..", "tests", "data",
                                                          "cam_goldens_w8.safetensors"))
    args = ap.parse_args()
    torch.set_num_threads(2)
    if args.tiny_onnx:
        return tiny_onnx(args.tiny_onnx)
    if not args.out:
        ap.error("the model and the output file are needed (or --tiny-onnx DIR)")
    model, _, _, _ = load_model(args.model)
    cam, _ = safetensors_io.load(args.cam_goldens, float32=True)
    x = load_input(args.image)
    out = {}
    for tag in TAGS:
        c = int(cam["class/Mixed_7c/logit/%s" % tag][0])
        gb = guided_backprop(model, x, c)
        print("%s: class %d, |GB| %.6g, nonzero %d of %d, GB >= 0 %.3f" % (
            tag, c, np.linalg.norm(gb), np.count_nonzero(gb), gb.size, np.mean(gb >= 0)))
        out["class/%s" % tag] = np.array([c], np.float32)
        out.update(summary("gb/%s" % tag, gb))
        for method, score in METHODS:
            key = "%s/Mixed_7c/%s/%s" % (method, score, tag)
            m = torch.from_numpy(cam[key].astype(np.float64))[None, None]
            up = F.interpolate(m, size=(299, 299), mode="bilinear", align_corners=False)[0, 0].numpy()
            g = gb * up[:, :, None]
            print("  %s: |G| %.6g" % (key, np.linalg.norm(g)))
            out.update(summary("guided/%s/%s" % (method, tag), g))
    meta = {"source": "tools/make_guided_goldens.py", "model": os.path.basename(args.model),
            "image": os.path.basename(args.image), "rows": ",".join(map(str, ROWS)),
            "keys": "class/TAG, gb/TAG/{norm,proj,rows}, guided/METHOD/TAG/{norm,proj,rows}; "
                    "METHOD in gradcam (logit), pixab (softmax) at Mixed_7c; TAG in top1, other"}
    safetensors_io.save(args.out, out, meta)
    back, _ = safetensors_io.load(args.out)
    for k, v in out.items():
        assert np.array_equal(back[k], v), k


if __name__ == "__main__":
    main()
