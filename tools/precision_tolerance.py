#!/usr/bin/python3
"""How far CAM maps move below fp32: the limits of gpu_parity's precision rows.

The CUDA backend's reduced precisions (kernels/cuda_backend.cu) round the
inputs and the BN-folded weights of every convolution and of the FC layer:
  tf32       to 10 mantissa bits (truncated: the worst case of the tensor
             cores), fp32 results;
  fp16/bf16  to IEEE half / bfloat16 (round to nearest even); convolution
             results stored in 16 bits too, then bias + ReLU in fp32; the FC
             result stays fp32;
  backward   fp32 data on TF32 math below fp32 (both operands of the
             backward-data products truncated to tf32).
This script makes torchvision's Inception3 do exactly that (every
BasicConv2d replaced by an emulating conv + folded bias + ReLU with its own
backward, fc likewise), computes every method's map with the plain-PyTorch
implementations of tools/make_cam_goldens.py (DESIGN.md §4), and prints, per
precision, method and layer, max |map - fp32 map| and 1 - Spearman over a few
images. gpu_parity's PRECISION_MAP_* limits (tests/gpu/parity_model.c) are
set from the worst values printed here, with margin; the GPU has to stay
inside what the arithmetic alone explains.

Run with Debian's /usr/bin/python3 (python3-torch 1.13, torchvision 0.14):
  /usr/bin/python3 tools/precision_tolerance.py [--model M] [IMAGE...]
"""

import argparse
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_cam_goldens import Plain, load_input, load_model, minmax_relu  # noqa: E402

METHODS = ["pixab", "ablation", "activation", "gradcam", "gradcampp", "xgradcam", "scorecam"]
LAYERS = ["Mixed_7c", "Mixed_6e"]
BN_EPS = 1e-3


def to_tf32(t):
    """Truncate fp32 to 10 mantissa bits."""
    return (t.contiguous().view(torch.int32) & ~0x1FFF).view(torch.float32)


def rounder(precision):
    if precision == "tf32":
        return to_tf32
    if precision == "fp16":
        return lambda t: t.half().float()
    if precision == "bf16":
        return lambda t: t.bfloat16().float()
    return lambda t: t


class EmulatedConv(torch.autograd.Function):
    """y = round_out(conv(round(x), round(w))): forward as the backend's
    precision; backward-data with tf32-truncated operands (TF32 math)."""

    @staticmethod
    def forward(ctx, x, w, stride, padding, precision):
        r = rounder(precision)
        y = F.conv2d(r(x), r(w), None, stride, padding)
        if precision in ("fp16", "bf16"):
            y = r(y)
        ctx.save_for_backward(w)
        ctx.shape, ctx.stride, ctx.padding, ctx.precision = x.shape, stride, padding, precision
        return y

    @staticmethod
    def backward(ctx, gy):
        (w,) = ctx.saved_tensors
        t = to_tf32 if ctx.precision != "fp32" else (lambda v: v)
        gx = torch.nn.grad.conv2d_input(ctx.shape, t(w), t(gy), ctx.stride, ctx.padding)
        return gx, None, None, None, None


class EmulatedLinear(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w, precision):
        r = rounder(precision)
        ctx.save_for_backward(w)
        ctx.precision = precision
        return r(x) @ r(w).t()

    @staticmethod
    def backward(ctx, gy):
        (w,) = ctx.saved_tensors
        t = to_tf32 if ctx.precision == "tf32" else (lambda v: v)  # cuBLAS TF32 mode at tf32 only
        return t(gy) @ t(w), None, None


def emulate(model, precision):
    """Replace every BasicConv2d and fc of `model` (in place) by the backend's arithmetic."""
    for mod in model.modules():
        if hasattr(mod, "conv") and hasattr(mod, "bn"):
            conv, bn = mod.conv, mod.bn
            scale = bn.weight.double() / torch.sqrt(bn.running_var.double() + BN_EPS)
            w = (conv.weight.double() * scale.view(-1, 1, 1, 1)).float().detach()
            b = (bn.bias.double() - bn.running_mean.double() * scale).float().detach()

            def fwd(x, w=w, b=b, stride=conv.stride, padding=conv.padding):
                return torch.relu(EmulatedConv.apply(x, w, stride, padding, precision) + b.view(1, -1, 1, 1))

            mod.forward = fwd
    fc = model.fc
    fw, fb = fc.weight.detach().clone(), fc.bias.detach().clone()
    fc.forward = lambda x: EmulatedLinear.apply(x, fw, precision) + fb
    return model


def spearman(a, b):
    ra = np.argsort(np.argsort(a, kind="stable"), kind="stable").astype(float)
    rb = np.argsort(np.argsort(b, kind="stable"), kind="stable").astype(float)
    # average ranks for ties
    for v, r in ((a, ra), (b, rb)):
        for u in np.unique(v):
            idx = np.nonzero(v == u)[0]
            if idx.size > 1:
                r[idx] = r[idx].mean()
    if ra.std() == 0 and rb.std() == 0:
        return 1.0
    if ra.std() == 0 or rb.std() == 0:
        return 0.0
    return float(np.corrcoef(ra, rb)[0, 1])


def maps_for(model_path, precision, x, layer, c):
    model, _, _, _ = load_model(model_path)
    emulate(model, precision)
    plain = Plain(model, x, layer, METHODS, [(1, 1), (1, 2), (2, 1), (2, 2)], {})
    return {m: minmax_relu(plain.run(m, c, "softmax")[0].detach()).numpy().ravel() for m in METHODS}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    data = os.path.join(here, "..", "tests", "data")
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=os.path.join(data, "inception_v3_w8.safetensors"))
    ap.add_argument("images", nargs="*", default=[os.path.join(data, "test299.png")])
    a = ap.parse_args()
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    worst = {}
    for img in a.images:
        x = load_input(img)
        ref_model, _, _, _ = load_model(a.model)
        emulate(ref_model, "fp32")
        with torch.no_grad():
            c = int(ref_model(x).argmax())
        for layer in LAYERS:
            ref = maps_for(a.model, "fp32", x, layer, c)
            for p in ("tf32", "fp16", "bf16"):
                got = maps_for(a.model, p, x, layer, c)
                for m in METHODS:
                    d = float(np.abs(got[m] - ref[m]).max())
                    r = 1.0 - spearman(got[m], ref[m])
                    print(f"{os.path.basename(img)} {layer} {p} {m:10s} max|d| {d:.3g}  1-Spearman {r:.3g}", flush=True)
                    w = worst.setdefault(p, [0.0, 0.0])
                    w[0], w[1] = max(w[0], d), max(w[1], r)
    print("\nworst over images, layers and methods:")
    for p, (d, r) in worst.items():
        print(f"  {p}: max|d| {d:.3g}, 1-Spearman {r:.3g}")


if __name__ == "__main__":
    main()
