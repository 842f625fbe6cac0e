#!/usr/bin/python3
"""Golden CAM maps for pixab's method tests (DESIGN.md §4), from PyTorch and pytorch-grad-cam.

For one checkpoint written by tools/make_goldens.py and the test image, for
target layers Mixed_7c and Mixed_6e, scores softmax and logit, and two classes
(tag "top1" = the top-1 class, tag "other" = the class ranked 4th by the
unmodified network, --other-rank), it computes every method's map at LAYER resolution (H x W
of the layer), ReLU'd and min-max normalised to [0, 1] (all zeros when
max == min), plus the raw map before ReLU/min-max and the channel weights.

Sources (DESIGN.md §8: expected values from an independent implementation):
  gradcam, gradcampp, xgradcam, ablation
      channel weights from pytorch-grad-cam's own classes (GradCAM,
      GradCAMPlusPlus, XGradCAM, AblationCAM: their get_cam_weights and
      get_cam_image, captured by subclassing); their formulas were checked to be
      DESIGN §4's (see FORMULA_NOTES).  pytorch-grad-cam upsamples to the input
      size before min-max scaling (and scales with a 1e-7 epsilon), so the
      layer-resolution map is made here from its raw sum_k w_k A_k:
      minmax(relu(raw)).
  scorecam
      plain PyTorch from DESIGN §4: pytorch-grad-cam's ScoreCAM differs (it
      upsamples with align_corners=True, normalises masks with a 1e-8 epsilon,
      has no baseline S(x_b) and takes a softmax over the channel scores).
  activation, pixab
      plain PyTorch from DESIGN §4 (pytorch-grad-cam has neither).
Every method is also computed in plain PyTorch from DESIGN §4 in float32 and
float64; the summary prints the differences (library vs plain; golden vs f64,
the noise floor that test tolerances must exceed).

The head after a layer runs the real torchvision modules (eval mode): for
Mixed_6e Mixed_7a, Mixed_7b, Mixed_7c, avgpool, dropout (identity in eval),
flatten, fc; for Mixed_7c avgpool, dropout, flatten, fc.

Also: --bench-pgc times pytorch-grad-cam itself (GradCAM, AblationCAM) on the
full-width model on the CPU and appends JSON lines to
bench/results/pytorch_grad_cam_cpu.jsonl.

Run with Debian's /usr/bin/python3 (python3-torch 1.13, torchvision 0.14) and
grad-cam from PyPI (installed with --no-deps; its imports need python3-opencv,
python3-matplotlib, python3-scipy, python3-sklearn, python3-tqdm from apt).
"""

import argparse
import copy
import datetime
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
import torchvision.models.inception as tvi

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402
from make_goldens import build_model, load_png, normalise  # noqa: E402

# the main path of torchvision's Inception3._forward, in order (eval mode)
ORDER = ["Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "maxpool1",
         "Conv2d_3b_1x1", "Conv2d_4a_3x3", "maxpool2", "Mixed_5b", "Mixed_5c",
         "Mixed_5d", "Mixed_6a", "Mixed_6b", "Mixed_6c", "Mixed_6d", "Mixed_6e",
         "Mixed_7a", "Mixed_7b", "Mixed_7c"]
ALL_METHODS = ["pixab", "ablation", "activation", "gradcam", "gradcampp",
               "xgradcam", "scorecam"]
PGC_METHODS = ["gradcam", "gradcampp", "xgradcam", "ablation"]
WEIGHT_METHODS = ["ablation", "gradcam", "gradcampp", "xgradcam", "scorecam"]
DEFAULT_SCORE = {"pixab": "softmax", "ablation": "softmax", "scorecam": "softmax",
                 "activation": "-", "gradcam": "logit", "gradcampp": "logit",
                 "xgradcam": "logit"}
BOXES = [(1, 1), (1, 2), (2, 1), (2, 2)]  # (h, w)
SCORES = ["softmax", "logit"]
# the "other" class: the one ranked 4th (1-based) by the unmodified network.
# (On the w8 model rank 3 (class 6) makes every Score-CAM raw map negative, so
# its Score-CAM goldens would be all zeros; rank 4 gives non-degenerate maps for
# every method, layer and score.)
OTHER_RANK = 4

FORMULA_NOTES = (
    "gradcam: pytorch-grad-cam w = mean_ij g (== DESIGN). "
    "gradcampp: pytorch-grad-cam alpha = g^2/(2g^2 + sum_uv A * g^3 + 1e-6), alpha = 0 where g == 0, "
    "w = sum_ij alpha*relu(g) (== DESIGN, which follows it). "
    "xgradcam: w = sum_ij g*A/(sum_uv A + 1e-7) (== DESIGN). "
    "ablation: pytorch-grad-cam replaces the target layer's output by the cached A with channel k set "
    "to 0 (it uses 0 when min(A) == 0, as for Inception's post-ReLU Mixed outputs; else min-1e7), runs "
    "the rest of the network (it also re-runs everything before the layer, whose result it discards) "
    "in batches of 32, w = (Y - Y_k)/Y with Y = S(original forward) (== DESIGN). "
    "scorecam: pytorch-grad-cam DIFFERS: UpsamplingBilinear2d (align_corners=True) vs DESIGN "
    "align_corners=False; mask (M - min)/(max - min + 1e-8) vs exact min-max with w = 0 for constant "
    "A_k; w = softmax over k of S(x o M_k) vs DESIGN w = S(x o M_k) - S(x_b); so it is plain PyTorch here. "
    "all methods: pytorch-grad-cam min-max scales with (x - min)/(max + 1e-7) AFTER resizing to the input "
    "size (cv2.resize); DESIGN maps are at layer resolution with exact min-max, so the layer-resolution "
    "map is made here from pytorch-grad-cam's raw sum_k w_k A_k.")


# ----------------------------------------------------------------- model

def load_model(path):
    """torchvision Inception3 of the checkpoint's width (from fc.weight), eval."""
    arrays, meta = safetensors_io.load(path, float32=True)
    fc_in = arrays["fc.weight"].shape[1]
    classes = arrays["fc.weight"].shape[0]
    assert 2048 % fc_in == 0, fc_in
    width_div = 2048 // fc_in
    model = build_model(width_div, classes)
    sd = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in arrays.items()}
    model.load_state_dict(sd, strict=True)
    model.eval()
    return model, width_div, classes, meta


# A ReLU input this close to 0 (in float64) can land on the other side in a
# float32 implementation that sums in another order, and flip that element's
# gradient: goldens of the gradient methods need every head ReLU input further away.
KINK_MARGIN = 2e-5


def load_input(path):
    """DESIGN §3 preprocessing: [0,1], bilinear (half-pixel centres, no antialias)
    resize to 299 x 299 when needed, (x - 0.5)/0.5; NCHW."""
    x = normalise(load_png(path))
    if tuple(x.shape[-2:]) != (299, 299):
        u = x * 0.5 + 0.5  # back to [0,1]: resizing happens before normalisation
        u = torch.nn.functional.interpolate(u, size=(299, 299), mode="bilinear", align_corners=False)
        x = (u - 0.5) / 0.5
    return x.contiguous()


def kink_margin(model, x, layer):
    """Smallest |pre-ReLU value| over the BasicConv2d of the head after `layer`, in float64."""
    m64 = copy.deepcopy(model).double()
    mins = []
    head_blocks = ORDER[ORDER.index(layer) + 1:]
    hooks = [mod.register_forward_hook(lambda mod, inp, out: mins.append(float(mod.bn(mod.conv(inp[0])).abs().min())))
             for name, mod in m64.named_modules()
             if isinstance(mod, tvi.BasicConv2d) and name.split(".")[0] in head_blocks]
    with torch.no_grad():
        head(m64, body(m64, x.double(), layer), layer)
    for h in hooks:
        h.remove()
    return min(mins) if mins else float("inf")


def input_directions(n, count=4):
    """Fixed pseudo-random directions over the (299, 299, 3) NHWC input, as the C
    test makes them: d_j[i] = ((i * 2654435761 + 97 j) mod 2001) / 1000 - 1."""
    i = np.arange(n, dtype=np.uint64)
    return [((i * np.uint64(2654435761) + np.uint64(97 * j)) % np.uint64(2001)).astype(np.float64) / 1000.0 - 1.0
            for j in range(count)]


def input_gradient_goldens(model, x, c):
    """d logit_c / d input (float64), summarised: its norm and its projections on
    input_directions (the whole 299x299x3 gradient would be 1 MB)."""
    m64 = copy.deepcopy(model).double()
    x64 = x.detach().double().requires_grad_(True)
    head(m64, body(m64, x64, "Mixed_7c"), "Mixed_7c")[0, c].backward()
    g = x64.grad[0].permute(1, 2, 0).contiguous().numpy().ravel()  # NHWC order
    proj = [float(g @ d) for d in input_directions(g.size)]
    return {"input_grad/logit/top1/norm": torch.tensor([float(np.linalg.norm(g))]),
            "input_grad/logit/top1/proj": torch.tensor(proj)}


def body(model, x, layer):
    """Output of `layer` (the main path of Inception3._forward up to it)."""
    for name in ORDER:
        x = getattr(model, name)(x)
        if name == layer:
            return x
    raise ValueError(layer)


def head(model, a, layer):
    """Logits from the output `a` of `layer`: the real torchvision modules after it."""
    for name in ORDER[ORDER.index(layer) + 1:]:
        a = getattr(model, name)(a)
    a = model.avgpool(a)
    a = model.dropout(a)
    a = torch.flatten(a, 1)
    return model.fc(a)


def head_batched(model, t, layer, chunk):
    with torch.no_grad():
        return torch.cat([head(model, t[i:i + chunk], layer) for i in range(0, t.shape[0], chunk)])


def score_of(logits, c, score):
    """S: class-c softmax probability or logit; logits [..., classes]."""
    if score == "softmax":
        return torch.softmax(logits, dim=-1)[..., c]
    if score == "logit":
        return logits[..., c]
    raise ValueError(score)


def minmax_relu(raw):
    """DESIGN §4: ReLU, then min-max to [0, 1]; all zeros when max == min."""
    r = torch.clamp(torch.as_tensor(raw), min=0)
    lo, hi = r.min(), r.max()
    if hi == lo:
        return torch.zeros_like(r)
    return (r - lo) / (hi - lo)


def chunk_for(k, h, w, budget_floats=32 * 1024 * 1024):
    return max(1, min(256, budget_floats // max(1, k * h * w)))


# ----------------------------------------------------------------- plain PyTorch methods (DESIGN §4)

def pixab_logits(model, a, layer, boxes):
    """Logits of every ablated tensor: returns (logits_del [B,H,W,C],
    logits_pres [B,H,W,C], logits_A [C], logits_Z [C])."""
    _, k, h, w = a.shape
    chunk = chunk_for(k, h, w)
    positions = [(i, j) for i in range(h) for j in range(w)]
    with torch.no_grad():
        la = head(model, a, layer)[0]
        lz = head(model, torch.zeros_like(a), layer)[0]
        dels, press = [], []
        for (bh, bw) in boxes:
            for persp, out in (("del", dels), ("pres", press)):
                rows = []
                for s in range(0, len(positions), chunk):
                    part = positions[s:s + chunk]
                    t = torch.empty((len(part), k, h, w), dtype=a.dtype)
                    for n, (i, j) in enumerate(part):
                        r0, r1 = i, min(i + bh, h)
                        c0, c1 = j, min(j + bw, w)
                        if persp == "del":   # A with all K channels of the region set to 0
                            t[n] = a[0]
                            t[n, :, r0:r1, c0:c1] = 0
                        else:                # zeros except the region, which keeps A
                            t[n] = 0
                            t[n, :, r0:r1, c0:c1] = a[0, :, r0:r1, c0:c1]
                    rows.append(head(model, t, layer))
                out.append(torch.cat(rows).view(h, w, -1))
    return torch.stack(dels), torch.stack(press), la, lz


def pixab_raw(plog, c, score):
    ld, lp, la, lz = plog
    y, ybar = score_of(la, c, score), score_of(lz, c, score)
    sd, sp = score_of(ld, c, score), score_of(lp, c, score)  # [B, H, W]
    return (y - sd).mean(0) + (sp - ybar).mean(0), y, ybar


def ablation_logits(model, a, layer):
    """Logits [K, C] of A with channel k set to 0, k = 0..K-1, and of A."""
    _, k, h, w = a.shape
    chunk = chunk_for(k, h, w)
    rows = []
    with torch.no_grad():
        la = head(model, a, layer)[0]
        for s in range(0, k, chunk):
            n = min(chunk, k - s)
            t = a.repeat(n, 1, 1, 1)
            for m in range(n):
                t[m, s + m] = 0
            rows.append(head(model, t, layer))
    return torch.cat(rows), la


def ablation_weights(alog, c, score):
    lk, la = alog
    y = score_of(la, c, score)
    return (y - score_of(lk, c, score)) / y


def scorecam_logits(model, x, a, chunk=16):
    """Logits [K, C] of x o M_k (M_k = minmax(upsample(A_k)) to the input size,
    bilinear align_corners=False, applied to the normalised input), logits of
    the zero (normalised) input x_b, and the mask of constant channels."""
    _, k, h, w = a.shape
    up = F.interpolate(a, size=x.shape[-2:], mode="bilinear", align_corners=False)[0]
    flat = a[0].reshape(k, -1)
    const = flat.max(1).values == flat.min(1).values
    lo = up.reshape(k, -1).min(1).values.view(k, 1, 1)
    hi = up.reshape(k, -1).max(1).values.view(k, 1, 1)
    rows = []
    with torch.no_grad():
        lb = model(torch.zeros_like(x))[0]
        for s in range(0, k, chunk):
            sl = slice(s, min(s + chunk, k))
            m = (up[sl] - lo[sl]) / torch.where(const[sl].view(-1, 1, 1), torch.ones_like(hi[sl]),
                                                  hi[sl] - lo[sl])
            m[const[sl]] = 0  # not used: w_k = 0 for constant A_k
            rows.append(model(x * m[:, None]))
    return torch.cat(rows), lb, const


def scorecam_weights(slog, c, score):
    lk, lb, const = slog
    wk = score_of(lk, c, score) - score_of(lb, c, score)
    return torch.where(const, torch.zeros_like(wk), wk)


def grad_weights(model, a, layer, c, score):
    """(gradcam, gradcampp, xgradcam) weights from g = dS/dA (DESIGN §4)."""
    a = a.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        s = score_of(head(model, a, layer)[0], c, score)
        (g,) = torch.autograd.grad(s, a)
    a = a.detach()
    g = g[0]
    A = a[0]
    w_gc = g.mean((1, 2))
    g2 = g * g
    g3 = g2 * g
    suma = A.sum((1, 2), keepdim=True)
    alpha = g2 / (2 * g2 + suma * g3 + 1e-6)
    alpha = torch.where(g != 0, alpha, torch.zeros_like(alpha))
    w_pp = (alpha * torch.clamp(g, min=0)).sum((1, 2))
    w_x = (g * A).sum((1, 2)) / (A.sum((1, 2)) + 1e-7)
    return {"gradcam": w_gc, "gradcampp": w_pp, "xgradcam": w_x}


def fast_path(model, a, boxes, c, score):
    """DESIGN §4 fast path for a layer followed directly by global average
    pooling (Mixed_7c): pooled features of the ablated tensors from box sums.
    Only a cross-check of the general path; returns (pixab raw, ablation w)."""
    _, k, h, w = a.shape
    with torch.no_grad():
        pooled = a.mean((2, 3))[0]                                 # [K]
        fc = lambda p: model.fc(p)                                 # noqa: E731
        y, ybar = score_of(fc(pooled), c, score), score_of(fc(torch.zeros_like(pooled)), c, score)
        dterm, pterm = torch.zeros(h, w, dtype=a.dtype), torch.zeros(h, w, dtype=a.dtype)
        for (bh, bw) in boxes:
            bs = torch.stack([a[0, :, i:min(i + bh, h), j:min(j + bw, w)].sum((1, 2))
                              for i in range(h) for j in range(w)]) / (h * w)  # [HW, K]
            dterm += (y - score_of(fc(pooled - bs), c, score)).view(h, w)
            pterm += (score_of(fc(bs), c, score) - ybar).view(h, w)
        raw = dterm / len(boxes) + pterm / len(boxes)
        abl = pooled.repeat(k, 1)
        abl[torch.arange(k), torch.arange(k)] = 0
        wk = (y - score_of(fc(abl), c, score)) / y
    return raw, wk


def weighted_sum(w, a):
    return (w.view(-1, 1, 1) * a[0]).sum(0)


class Plain:
    """All methods in plain PyTorch for one model (dtype) and layer; the
    expensive logits are computed once and shared by scores and classes."""

    def __init__(self, model, x, layer, methods, boxes, times):
        self.model, self.x, self.layer, self.methods = model, x, layer, methods
        self.times = times
        with torch.no_grad():
            self.a = body(model, x, layer)
            self.logits = head(model, self.a, layer)[0]
        self.cache = {}
        self.boxes = boxes

    def _timed(self, key, fn):
        if key not in self.cache:
            t0 = time.time()
            self.cache[key] = fn()
            self.times[key] = self.times.get(key, 0.0) + time.time() - t0
        return self.cache[key]

    def run(self, method, c, score):
        """-> (raw map [H,W], weights [K] or None, extras dict)."""
        a = self.a
        if method == "pixab":
            plog = self._timed("pixab", lambda: pixab_logits(self.model, a, self.layer, self.boxes))
            raw, y, ybar = pixab_raw(plog, c, score)
            return raw, None, {"pixab_ybar": ybar}
        if method == "ablation":
            alog = self._timed("ablation", lambda: ablation_logits(self.model, a, self.layer))
            w = ablation_weights(alog, c, score)
            return weighted_sum(w, a), w, {}
        if method == "scorecam":
            slog = self._timed("scorecam", lambda: scorecam_logits(self.model, self.x, a))
            w = scorecam_weights(slog, c, score)
            return weighted_sum(w, a), w, {"scorecam_base": score_of(slog[1], c, score)}
        if method == "activation":
            return a[0].sum(0), None, {}
        if method in ("gradcam", "gradcampp", "xgradcam"):
            t0 = time.time()
            w = grad_weights(self.model, a, self.layer, c, score)[method]
            self.times[method] = self.times.get(method, 0.0) + time.time() - t0
            return weighted_sum(w, a), w, {}
        raise ValueError(method)


# ----------------------------------------------------------------- pytorch-grad-cam

def pgc_classes():
    import pytorch_grad_cam as pgc

    def keep(cls):
        class Keep(cls):
            """Captures the channel weights and the raw sum_k w_k A_k (before
            pytorch-grad-cam's ReLU, resize and scaling)."""

            def get_cam_weights(self, *args, **kwargs):
                self.kept_weights = super().get_cam_weights(*args, **kwargs)
                return self.kept_weights

            def get_cam_image(self, *args, **kwargs):
                self.kept_raw = super().get_cam_image(*args, **kwargs)
                return self.kept_raw
        Keep.__name__ = "Keep" + cls.__name__
        return Keep

    return {"gradcam": keep(pgc.GradCAM), "gradcampp": keep(pgc.GradCAMPlusPlus),
            "xgradcam": keep(pgc.XGradCAM), "ablation": keep(pgc.AblationCAM)}


def pgc_target(c, score):
    from pytorch_grad_cam.utils.model_targets import (ClassifierOutputSoftmaxTarget,
                                                      ClassifierOutputTarget)
    return ClassifierOutputSoftmaxTarget(c) if score == "softmax" else ClassifierOutputTarget(c)


def pgc_run(model, x, layer, method, c, score):
    """-> (raw [H,W] float32, weights [K] float32, full-size map from the library)."""
    from pytorch_grad_cam.ablation_layer import AblationLayer
    from pytorch_grad_cam.utils.image import scale_cam_image
    cls = pgc_classes()[method]
    layer_mod = getattr(model, layer)
    if method == "ablation":
        # a fresh AblationLayer: the library's default argument is one shared instance
        cam = cls(model, [layer_mod], ablation_layer=AblationLayer(), batch_size=32)
    else:
        cam = cls(model, [layer_mod])
    try:
        full = cam(input_tensor=x, targets=[pgc_target(c, score)])
        raw = np.asarray(cam.kept_raw, dtype=np.float32)[0]
        w = np.asarray(cam.kept_weights, dtype=np.float32)[0]
        # the library's own output is its ReLU + scale + resize of the same raw map
        mine = scale_cam_image(np.maximum(raw, 0)[None], (x.shape[-1], x.shape[-2]))
        mine = scale_cam_image(mine)  # aggregate_multi_layers scales again
        assert np.allclose(full, mine, atol=1e-5), float(np.abs(full - mine).max())
    finally:
        cam.activations_and_grads.release()
    return torch.from_numpy(raw), torch.from_numpy(w), full[0]


# ----------------------------------------------------------------- goldens

def class_choice(logits, other_rank):
    order = torch.argsort(logits, descending=True).tolist()
    return {"top1": order[0], "other": order[other_rank - 1]}


def argmax_str(m):
    if float(m.max()) == 0.0:
        return "-"
    i = int(torch.argmax(m))
    return "(%d,%d)" % (i // m.shape[1], i % m.shape[1])


def make_goldens(args):
    torch.set_num_threads(args.threads)
    methods = [m for m in args.methods.split(",") if m]
    for m in methods:
        if m not in ALL_METHODS:
            raise SystemExit("unknown method %s" % m)
    layers = [l for l in args.layers.split(",") if l]
    for l in layers:
        if l not in ORDER:
            raise SystemExit("unknown layer %s" % l)
    model, width_div, classes, mmeta = load_model(args.model)
    model64 = copy.deepcopy(model).double() if args.check64 else None
    x = load_input(args.image)
    margins = {l: kink_margin(model, x, l) for l in layers}
    for l, mg in margins.items():
        print("min |pre-ReLU| in the head after %s (float64): %.3g" % (l, mg))
        if mg < KINK_MARGIN:
            raise SystemExit("image %s: a ReLU input in the head after %s is within %.1g of 0: float32 "
                             "implementations may disagree on its gradient; choose another image" % (args.image, l, mg))
    import pytorch_grad_cam
    pgc_version = getattr(pytorch_grad_cam, "__version__", None)
    if pgc_version is None:
        from importlib.metadata import version
        pgc_version = version("grad-cam")

    with torch.no_grad():
        logits = model(x)[0]
    classes_of = class_choice(logits, args.other_rank)
    print("model %s: width/%d, %d classes; image %s; torch %s, grad-cam %s, threads %d" % (
        args.model, width_div, classes, args.image, torch.__version__, pgc_version, args.threads))
    print("classes: top1 = %d, other (rank %d) = %d; logits top: %s" % (
        classes_of["top1"], args.other_rank, classes_of["other"],
        ", ".join("%d:%.3f" % (int(i), float(logits[i]))
                  for i in torch.argsort(logits, descending=True)[:5])))

    ablation_src = args.ablation_source
    source = {}
    for m in methods:
        if m in PGC_METHODS and not (m == "ablation" and ablation_src == "plain"):
            source[m] = "pytorch-grad-cam"
        else:
            source[m] = "plain-pytorch"

    out = {"logits": logits.float().contiguous()}
    out.update(input_gradient_goldens(model, x, int(logits.argmax())))
    rows = []
    times = {}       # plain f32 time per method (shared logits counted once per layer)
    times_pgc = {}   # pytorch-grad-cam time per method
    fast_checks = []
    for layer in layers:
        plain = Plain(model, x, layer, methods, BOXES, times)
        plain64 = Plain(model64, x.double(), layer, methods, BOXES, {}) if model64 is not None else None
        assert torch.allclose(head(model, plain.a, layer)[0], logits, atol=1e-4)
        a = plain.a
        amin = float(a.min())
        _, K, H, W = a.shape
        print("%s: A %dx%dx%d, min %.3g (pytorch-grad-cam ablation value %s), max|head(body(x)) - model(x)| %.2e"
              % (layer, K, H, W, amin, "0" if amin == 0 else "min-1e7",
                 float((plain.logits - logits).abs().max())))
        for score in SCORES:
            for tag, c in classes_of.items():
                key = "%s/%s/%s" % (layer, score, tag)
                y = score_of(logits, c, score)
                out["class/" + key] = torch.tensor([float(c)])
                out["score/" + key] = y.reshape(1).float()
                for m in methods:
                    raw32, w32, extra = plain.run(m, c, score)
                    raw64, w64, _ = plain64.run(m, c, score) if plain64 is not None else (None, None, None)
                    dlib = None
                    if source[m] == "pytorch-grad-cam":
                        t0 = time.time()
                        raw, w, _ = pgc_run(model, x, layer, m, c, score)
                        times_pgc[m] = times_pgc.get(m, 0.0) + time.time() - t0
                        dlib = float((minmax_relu(raw) - minmax_relu(raw32)).abs().max())
                        dlib_w = float((w - w32).abs().max() / max(float(w32.abs().max()), 1e-30))
                    elif raw64 is not None:
                        # Plain-PyTorch goldens come from the float64 run: the exact
                        # reference, not one float32 summation order among others.
                        raw, w = raw64, w64
                    else:
                        raw, w = raw32, w32
                    raw = raw.float()
                    mp = minmax_relu(raw)
                    out["%s/%s" % (m, key)] = mp.contiguous()
                    out["%s_raw/%s" % (m, key)] = raw.contiguous()
                    if w is not None:
                        out["weights/%s/%s" % (m, key)] = w.float().contiguous()
                    for ek, ev in extra.items():
                        out["%s/%s" % (ek, key)] = ev.reshape(1).float()
                    d64 = float((mp.double() - minmax_relu(raw64)).abs().max()) if raw64 is not None else None
                    rows.append((m, layer, score, tag, c, mp, raw, dlib,
                                 dlib_w if dlib is not None else None, d64, source[m]))
                    if layer == "Mixed_7c" and m in ("pixab", "ablation"):
                        fraw, fw = fast_path(model, a, BOXES, c, score)
                        if m == "pixab":
                            d = float((fraw - raw).abs().max() / raw.abs().max())
                        else:
                            d = float((fw - w).abs().max() / w.abs().max())
                        fast_checks.append("%s/%s/%s/%s %.1e" % (m, layer, score, tag, d))

    meta = {
        "pixab.model": os.path.basename(args.model),
        "pixab.model_note": mmeta.get("pixab.note", ""),
        "pixab.image": os.path.basename(args.image) + " (resized to 299x299 when needed)",
        "pixab.kink_margin": ",".join("%s=%.3g" % kv for kv in margins.items()),
        "pixab.torch": torch.__version__,
        "pixab.grad_cam_version": str(pgc_version),
        "pixab.width_div": str(width_div),
        "pixab.classes": str(classes),
        "pixab.class_tags": "top1=%d (rank 1), other=%d (rank %d)" % (
            classes_of["top1"], classes_of["other"], args.other_rank),
        "pixab.layers": ",".join(layers),
        "pixab.methods": ",".join(methods),
        "pixab.boxes": ",".join("%dx%d" % b for b in BOXES),
        "pixab.default_score": ",".join("%s=%s" % (m, DEFAULT_SCORE[m]) for m in methods),
        "pixab.sources": ",".join("%s=%s" % (m, source[m]) for m in methods),
        "pixab.precision": ("plain-pytorch goldens: the float64 computation, stored as float32"
                            if args.check64 else "float32") + "; pytorch-grad-cam goldens: float32 (the library)",
        "pixab.why_plain": (
            "scorecam: pytorch-grad-cam's ScoreCAM differs from DESIGN §4 (align_corners=True "
            "upsampling, 1e-8 epsilon in the mask min-max, no baseline, softmax over channel scores); "
            "pixab, activation: not in pytorch-grad-cam"
            + ("; ablation: --ablation-source plain (head-only, same definition; the library "
               "re-runs the whole network per channel)" if ablation_src == "plain" else "")),
        "pixab.formula_notes": FORMULA_NOTES,
        "pixab.layout": (
            "<method>/<layer>/<score>/<tag> [H,W] = minmax(relu(raw)) at layer resolution; "
            "<method>_raw/... [H,W] raw map before ReLU/min-max (sum_k w_k A_k; pixab: p(i,j)); "
            "weights/<method>/... [K] channel weights (ablation, gradcam, gradcampp, xgradcam, scorecam); "
            "class/... [1] class index as float; score/... [1] Y = S(A) of the unmodified network; "
            "pixab_ybar/... [1] S(Z); scorecam_base/... [1] S(x_b); logits [classes] of the test image; "
            "score in {softmax, logit}, tag in {top1, other}"),
    }
    out = {k: (v.float() if torch.is_tensor(v) else v) for k, v in out.items()}
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    safetensors_io.save(args.out, out, meta)
    back, _ = safetensors_io.load(args.out)
    for k, v in out.items():
        assert np.array_equal(back[k], v.numpy()), k

    print()
    print("%-10s %-8s %-7s %-5s %4s | %6s %6s %6s %-8s | %10s %10s | %8s %8s %8s | %s" % (
        "method", "layer", "score", "tag", "cls", "min", "max", "mean", "argmax",
        "raw min", "raw max", "dlib", "dlib_w", "d64", "source"))
    for (m, layer, score, tag, c, mp, raw, dlib, dlw, d64, src) in rows:
        f = lambda v: ("%8.1e" % v) if v is not None else "%8s" % "-"  # noqa: E731
        print("%-10s %-8s %-7s %-5s %4d | %6.3f %6.3f %6.3f %-8s | %10.3e %10.3e | %s %s %s | %s" % (
            m, layer, score, tag, c, float(mp.min()), float(mp.max()), float(mp.mean()),
            argmax_str(mp), float(raw.min()), float(raw.max()), f(dlib), f(dlw), f(d64), src))
    print()
    print("dlib = max|map(pytorch-grad-cam) - map(plain f32)|, dlib_w = max|w_lib - w_plain|/max|w_plain|, "
          "d64 = max|golden map - map(plain f64)|")
    if fast_checks:
        print("pooled fast path vs golden (max|d|/max|golden|; pixab raw, ablation w): "
              + ", ".join(fast_checks))
    print("time, plain PyTorch f32 (all layers; shared head logits once per layer): " +
          ", ".join("%s %.2f s" % (k, v) for k, v in times.items()))
    if times_pgc:
        print("time, pytorch-grad-cam (all layers, scores, classes): " +
              ", ".join("%s %.2f s" % (k, v) for k, v in times_pgc.items()))
    print("%s: %d tensors, %d bytes" % (args.out, len(out), os.path.getsize(args.out)))


# ----------------------------------------------------------------- benchmark of pytorch-grad-cam

def _cpu_busy_s():
    """(CPU seconds busy on the whole machine, CPU seconds of this process)."""
    import resource
    with open("/proc/stat") as f:
        v = [int(t) for t in f.readline().split()[1:]]
    busy = (sum(v[:8]) - v[3] - v[4]) / os.sysconf("SC_CLK_TCK")  # all but idle, iowait
    r = resource.getrusage(resource.RUSAGE_SELF)
    return busy, r.ru_utime + r.ru_stime


def bench_pgc(args):
    import pytorch_grad_cam as pgc
    from importlib.metadata import version
    from pytorch_grad_cam.ablation_layer import AblationLayer
    torch.set_num_threads(args.threads)
    model, width_div, classes, _ = load_model(args.model)
    x = load_input(args.image)
    layer = model.Mixed_7c
    with open("/proc/loadavg") as f:
        load0 = f.read().split()[0]
    base = {"date": datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%MZ"),
            "machine": args.machine, "impl": "pytorch-grad-cam", "grad_cam": version("grad-cam"),
            "torch": torch.__version__, "threads": args.threads,
            "model": "inception_v3 width/%d %d classes" % (width_div, classes),
            "layer": "Mixed_7c", "image": "299x299"}
    lines = []
    busy0 = _cpu_busy_s()
    t_start = time.time()

    def fwd():
        with torch.no_grad():
            return model(x)
    fwd()
    tf = []
    for _ in range(args.runs):
        t0 = time.time()
        fwd()
        tf.append(time.time() - t0)
    t_fwd = float(np.median(tf))
    lines.append(dict(base, method="forward (torch, reference)", s_per_image=round(t_fwd, 4),
                      runs=args.runs))

    cam = pgc.GradCAM(model, [layer])
    cam(input_tensor=x, targets=None)  # warm-up
    tg = []
    for _ in range(args.runs):
        t0 = time.time()
        cam(input_tensor=x, targets=None)
        tg.append(time.time() - t0)
    cam.activations_and_grads.release()
    lines.append(dict(base, method="gradcam", s_per_image=round(float(np.median(tg)), 4),
                      runs=args.runs, note="GradCAM(model,[Mixed_7c])(x, targets=None): forward + "
                      "backward + 299x299 map; median"))

    class FirstN(AblationLayer):
        """Ablates only the first n channels (the library fills the others with
        the original score); used to time a fraction of the 2048 channels."""
        n = args.ablation_channels

        def activations_to_be_ablated(self, activations, ratio_channels_to_ablate=1.0):
            self.indices = np.int32(range(min(self.n, activations.shape[0])))
            return self.indices

    cam = pgc.AblationCAM(model, [layer], ablation_layer=FirstN(), batch_size=args.ablation_batch)
    t0 = time.time()
    cam(input_tensor=x, targets=None)
    t_part = time.time() - t0
    cam.activations_and_grads.release()
    K = model.fc.in_features  # channels of Mixed_7c
    n = min(args.ablation_channels, K)
    # fixed part: the activations forward + the original-score forward (2 forwards)
    est = 2 * t_fwd + (t_part - 2 * t_fwd) * (K / n)
    lines.append(dict(base, method="ablation", s_per_image=round(est, 1), estimated=True,
                      measured_channels=n, of_channels=K, batch_size=args.ablation_batch,
                      measured_s=round(t_part, 2),
                      note="AblationCAM(batch_size=%d) timed on the first %d of %d channels "
                           "(every ablation re-runs the whole network); estimate = 2*forward + "
                           "(measured - 2*forward) * %d/%d" % (args.ablation_batch, n, K, K, n)))
    with open("/proc/loadavg") as f:
        load1 = f.read().split()[0]
    busy1 = _cpu_busy_s()
    others = (busy1[0] - busy0[0]) - (busy1[1] - busy0[1])
    print("bench wall %.1f s; CPU seconds used by other processes meanwhile: %.1f" % (
        time.time() - t_start, others))
    os.makedirs(os.path.dirname(os.path.abspath(args.bench_out)), exist_ok=True)
    with open(args.bench_out, "a") as f:
        for ln in lines:
            ln["loadavg_before_after"] = "%s/%s" % (load0, load1)
            ln["other_processes_cpu_s"] = round(others, 1)
            s = json.dumps(ln)
            print(s)
            f.write(s + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--full", action="store_true",
                    help="full-width model: defaults --model build/full/inception_v3_full.safetensors "
                         "--out build/full/cam_goldens_full.safetensors --ablation-source plain")
    ap.add_argument("--model", default=None, help="default tests/data/inception_v3_w8.safetensors")
    ap.add_argument("--image", default="tests/data/small53x37.png",
                    help="resized to 299x299 as DESIGN §3 says; test299.png has a ReLU input 3.8e-6 from 0 "
                         "in the head after Mixed_6e (see KINK_MARGIN)")
    ap.add_argument("--out", default=None, help="default tests/data/cam_goldens_w8.safetensors")
    ap.add_argument("--methods", default=",".join(ALL_METHODS))
    ap.add_argument("--layers", default="Mixed_7c,Mixed_6e")
    ap.add_argument("--ablation-source", choices=["pgc", "plain"], default=None,
                    help="ablation golden from pytorch-grad-cam's AblationCAM (default; it re-runs "
                         "the whole network per channel) or plain PyTorch (head only; default with --full)")
    ap.add_argument("--no-check64", dest="check64", action="store_false",
                    help="skip the float64 plain-PyTorch cross-check")
    ap.add_argument("--other-rank", type=int, default=OTHER_RANK,
                    help="rank (1-based) of the class tagged 'other' (default %(default)s)")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--bench-pgc", action="store_true",
                    help="instead of goldens: time pytorch-grad-cam GradCAM and AblationCAM (model "
                         "default: the full-width one) and append JSON lines to --bench-out")
    ap.add_argument("--bench-out", default="bench/results/pytorch_grad_cam_cpu.jsonl")
    ap.add_argument("--machine", default="AMD EPYC, 2 cores")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--ablation-channels", type=int, default=128)
    ap.add_argument("--ablation-batch", type=int, default=32)
    args = ap.parse_args()
    full = args.full or args.bench_pgc
    if args.model is None:
        args.model = ("build/full/inception_v3_full.safetensors" if full
                      else "tests/data/inception_v3_w8.safetensors")
    if args.out is None:
        args.out = ("build/full/cam_goldens_full.safetensors" if args.full
                    else "tests/data/cam_goldens_w8.safetensors")
    if args.ablation_source is None:
        args.ablation_source = "plain" if args.full else "pgc"
    if args.bench_pgc:
        bench_pgc(args)
    else:
        make_goldens(args)


if __name__ == "__main__":
    main()
