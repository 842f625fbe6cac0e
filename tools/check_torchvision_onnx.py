#!/usr/bin/python3
"""Full-size torchvision classifiers through pixab's ONNX loader, against PyTorch.

For each of VGG-16, ResNet-50 and MobileNetV2 (torchvision's own
definitions, 1000 classes, random weights BN-calibrated on synthetic images
by make_goldens.randomise_and_calibrate), export with torch.onnx.export
(opset 13, eval mode: BatchNormalization folded by the exporter) into a
scratch directory, run `pixab classify --logits` and `pixab explain -m
METHODS -l LAYER -c CLASS` on tests/data/test299.png resized once to
224 x 224 (input_image: neither side resizes), and print the errors against
PyTorch on the same input: logits max|d| relative to max|logit|, and every
method's map (pixab, ablation, activation, gradcam, gradcampp, xgradcam,
scorecam; each at its default score, for PyTorch's top-1 class) max|d| on
[0, 1], at two layers per model (LAYERS): the default one (the last spatial
tensor before the global pooling) and an earlier one, against
test_methods.c's tolerances (1e-3, Score-CAM 2e-3). A method whose map is
all zeros for the top-1 class (every weight negative: Score-CAM on these
random nets) is checked for the next class by rank whose map is not.

The reference maps are make_cam_goldens.py's plain PyTorch methods (its
Plain class) with make_onnx_goldens.hooked_split's body and head, the head
in broadcast mode (the modules before the layer run once per head batch:
nothing bypasses these layers). Precision of the reference: float64, except
the methods named by --float32 (default scorecam: its K full forward passes,
2048 for ResNet-50, take about 3x longer in float64); each row says which.
Before the export, clear_kinks moves the biases of the random weights so
that no ReLU / ReLU6 input after the earlier layer lies within
--kink-margin (1e-3) of a kink on this image: there the gradient methods'
dS/dA jumps, and float32 engines (pixab, PyTorch alike) land on either side
(MobileNetV2's Grad-CAM at features.13 moved by 2e-2 without it).

A model pixab refuses prints its one-line reason. Nothing is written into
the repository; large files stay in --work. The whole run (three models,
seven methods, two layers) took 32 min on 2 busy cores, most of it
Score-CAM on both sides (PyTorch 2048 + 1024 forward passes of ResNet-50,
1024 of VGG-16); --models, --layers and --methods restrict it. Exit status
1 when a check is beyond its tolerance. --export DIR only writes the models.

  /usr/bin/python3 tools/check_torchvision_onnx.py --pixab build/pixab [--models vgg16,resnet50,mobilenet_v2]
      [--layers default,earlier] [--methods all] [--float32 scorecam] [--work DIR]
"""

import argparse
import copy
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torch.nn as nn
import torchvision.models as tvm

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_cam_goldens as mcg  # noqa: E402
import make_goldens as mg  # noqa: E402
import make_onnx_goldens as mog  # noqa: E402

SIZE = 224
# tag -> (the module whose output is the layer, its ONNX tensor name in the export, as `pixab layers` lists it)
LAYERS = {
    "vgg16": {"default": ("features", "/avgpool/AveragePool_output_0"),  # AdaptiveAvgPool2d(7) of 7x7: the same
              "earlier": ("features.23", "/features/features.23/MaxPool_output_0")},
    "resnet50": {"default": ("layer4", "/layer4/layer4.2/relu_2/Relu_output_0"),
                 "earlier": ("layer3", "/layer3/layer3.5/relu_2/Relu_output_0")},
    "mobilenet_v2": {"default": ("features", "/features/features.18/features.18.2/Clip_output_0"),
                     "earlier": ("features.13", "/features/features.13/Add_output_0")},
}
TOL = {m: 2e-3 if m == "scorecam" else 1e-3 for m in mog.TINY_METHODS}  # tests/test_methods.c


def build(name):
    m = getattr(tvm, name)(weights=None)
    fc = m.fc if name == "resnet50" else m.classifier[-1]
    return m, fc


def npy_load(path):
    return np.load(path).astype(np.float64)


def pixab_default_layer(args, path):
    """The layer `pixab layers` marks as the default (*)."""
    r = subprocess.run([args.pixab, "layers", path], capture_output=True, text=True, check=True)
    marked = [ln.split()[2] for ln in r.stdout.splitlines() if ln.lstrip().startswith("*")]
    return marked[0] if marked else None


class Reference:
    """make_cam_goldens' Plain methods at one layer, in float64 and (for the
    methods in float32) float32, each on its own copy of the model with its
    own hooked_split; the expensive logits are computed once and shared by
    both scores."""

    def __init__(self, model, x, name, tag, methods, float32):
        self.float32, self.split, self.plain = float32, {}, {}
        module = LAYERS[name][tag][0]
        for dtype in (torch.float64, torch.float32):
            todo = [m for m in methods if (m in float32) == (dtype == torch.float32)]
            if not todo:
                continue
            m_, x_ = copy.deepcopy(model).to(dtype), x.to(dtype)
            self.split[dtype] = mcg.body, mcg.head = mog.hooked_split(m_, x_, {tag: module}, broadcast=True)
            self.plain[dtype] = mcg.Plain(m_, x_, tag, todo, mcg.BOXES, {})
            with torch.no_grad():
                want = m_(x_)[0]
            assert torch.allclose(self.plain[dtype].logits, want, atol=1e-4 * float(want.abs().max())), \
                "head(body(x)) != model(x)"

    def map(self, method, c, score):
        """(map [H,W] float64 numpy, precision, seconds)."""
        dtype = torch.float32 if method in self.float32 else torch.float64
        mcg.body, mcg.head = self.split[dtype]
        t0 = time.time()
        raw, _, _ = self.plain[dtype].run(method, c, score)
        return mcg.minmax_relu(raw).double().numpy(), str(dtype).replace("torch.", ""), time.time() - t0


def head_kinks(model, x, module):
    """The ReLU / ReLU6 (Hardtanh) calls after `module`'s output on x, in order:
    [(activation, its input, the bias of the last module with one that ran before
    it: a per-channel term of that input)], and the smallest gap between the
    two largest values of a max-pool window after it (where those are > 0)."""
    state = {"after": False, "bias": None}
    calls, gaps = [], [float("inf")]

    def leaf(mod, i, o):
        state["bias"] = mod.bias

    def pool(mod, i, o):
        if state["after"]:
            k, st = mod.kernel_size, mod.stride
            w = i[0].unfold(2, k, st).unfold(3, k, st).flatten(-2)
            top = w.topk(2, -1).values
            top = top[top[..., 0] > 0]
            if top.numel():
                gaps.append(float((top[:, 0] - top[:, 1]).min()))

    def act(mod, i):
        if state["after"]:
            calls.append((mod, i[0].detach().clone(), state["bias"]))

    mods = dict(model.named_modules())
    hooks = [mods[module].register_forward_hook(lambda mod, i, o: state.__setitem__("after", True))]
    for mod in model.modules():
        if isinstance(mod, (nn.ReLU, nn.Hardtanh)):
            hooks.append(mod.register_forward_pre_hook(act))
        elif isinstance(mod, nn.MaxPool2d):
            hooks.append(mod.register_forward_hook(pool))
        elif not list(mod.children()) and getattr(mod, "bias", None) is not None:
            hooks.append(mod.register_forward_hook(leaf))
    model(x)
    for h in hooks:
        h.remove()
    return calls, min(gaps)


def kink_distance(v, mod):
    """|v - the nearest kink| of activation mod."""
    kinks = [0.0] if isinstance(mod, nn.ReLU) else [mod.min_val, mod.max_val]
    return torch.stack([(v - k).abs() for k in kinks]).min(0).values


def clear_kinks(model, x, module, margin):
    """Moves every ReLU / ReLU6 input of the head after `module` (on x, in
    float64) at least `margin` from its kinks, where the gradient methods'
    dS/dA jumps: a float32 engine's input there differs from float64's by up to
    ~2e-4 (MobileNetV2) and may fall on the other side. Channel by channel, in
    the order the head runs them, the bias that adds to the input is shifted by
    the smallest multiple of `margin` that clears the channel (the model is
    random; the shift is exported with it). Returns (channels moved, largest
    shift, smallest distance to a kink after it, smallest max-pool gap)."""
    m64 = copy.deepcopy(model).double()
    p32 = dict(model.named_parameters())
    name_of = {id(p): n for n, p in m64.named_parameters()}
    steps = margin * torch.arange(1, 4001, dtype=torch.float64).repeat_interleave(2)
    steps[1::2] *= -1
    moved, largest = 0, 0.0
    with torch.no_grad():
        n_calls = len(head_kinks(m64, x.double(), module)[0])
        for j in range(n_calls):
            mod, v, bias = head_kinks(m64, x.double(), module)[0][j]
            v = v[0].reshape(v.shape[1], -1)  # (C, positions)
            assert bias is not None and bias.shape[0] == v.shape[0], "no per-channel bias before %s" % mod
            for ch in torch.nonzero(kink_distance(v, mod).min(1).values < margin).flatten().tolist():
                ok = kink_distance(v[ch][None, :] + steps[:, None], mod).min(1).values >= margin
                shift = float(steps[int(torch.nonzero(ok)[0])])
                b32 = p32[name_of[id(bias)]]
                b32[ch] += shift
                bias[ch] = float(b32[ch])
                moved, largest = moved + 1, max(largest, abs(shift))
        calls, gap = head_kinks(m64, x.double(), module)
    closest = min([float(kink_distance(v, mod).min()) for mod, v, _ in calls] or [float("inf")])
    return moved, largest, closest, gap


def input_image():
    """tests/data/test299.png resized to 224 x 224 once, by PIL (uint8 RGB):
    pixab reads it as it is, so no side resizes. (Bilinear source
    coordinates in float32, F.interpolate's and pixab's alike, are off by up
    to ~2e-5 at x ~ 300; MobileNetV2's random weights amplify the input
    difference that makes to 1e-4 in the logits.)"""
    from PIL import Image
    img = mg.load_png(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", mg.TEST_IMAGE))
    return np.asarray(Image.fromarray(img).resize((SIZE, SIZE), Image.BILINEAR))


def calibrated(name, args, img):
    """torchvision's `name` with BN-calibrated random weights (eval), its
    biases moved off the head's kinks at the earliest layer of LAYERS
    (clear_kinks), and the 224 x 224 image img normalised in float64."""
    torch.manual_seed(args.seed)
    model, fc = build(name)
    mean = torch.tensor(mog.IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(mog.IMAGENET_STD).view(1, 3, 1, 1)
    calib = mg.calibration_batch(args.seed, args.calib, size=SIZE)
    calib = (calib * 0.5 + 0.5 - mean) / std
    mg.randomise_and_calibrate(model, calib, args.seed, fc=fc)
    model.eval()
    x01 = torch.from_numpy(img.astype(np.float64) / 255.0).permute(2, 0, 1)[None]
    x = ((x01 - mean.double()) / std.double()).contiguous()
    if args.kink_margin > 0:
        moved, largest, closest, gap = clear_kinks(model, x, LAYERS[name]["earlier"][0], args.kink_margin)
        print("%s: %d channel biases moved (at most %.1e) off the head's kinks: every ReLU input after %s "
              "%.1e or more from one; smallest max-pool gap %.1e" % (
                  name, moved, largest, LAYERS[name]["earlier"][0], closest, gap), flush=True)
    return model, x


def explain(args, path, png, out, onnx_name, methods, c):
    """pixab explain of png into out; seconds, or None (printed) when it failed."""
    t0 = time.time()
    r = subprocess.run([args.pixab, "explain", "-w", path, "--device", "cpu", "-m", ",".join(methods),
                        "-l", onnx_name, "-c", str(c), "--no-png", "-o", out, png], capture_output=True, text=True)
    if r.returncode != 0:
        print("%s: explain failed: %s" % (path, r.stderr.strip()))
        return None
    return time.time() - t0


def compare(rows, name, tag, method, rank, want, out, dtype, secs):
    """One row: pixab's map in out against want (the class ranked `rank`)."""
    have = npy_load(os.path.join(out, "input.%s.npy" % method))
    d = float(np.abs(have - want).max()) if have.shape == want.shape else float("inf")
    what = method + ("" if rank == 1 else " (class rank %d)" % rank)
    rows.append((name, tag, what, dtype, d, TOL[method], "" if want.any() else "all zeros"))
    print("%s %s: %-10s map %dx%d max|d| = %.2e (tolerance %.0e, reference %s, %.0f s)%s%s" % (
        name, tag, what, want.shape[0], want.shape[1], d, TOL[method], dtype, secs,
        "" if want.any() else " (all zeros)", "" if d <= TOL[method] else "  BEYOND TOLERANCE"), flush=True)


def check(name, args, img, work, rows):
    model, x = calibrated(name, args, img)
    path = os.path.join(work, name + ".onnx")
    t0 = time.time()
    nbytes = mog.export(model, x.float(), path, 13, None, False)
    with torch.no_grad():
        logits = model(x.float())[0].double()
    print("%s: exported %.1f MB in %.0f s" % (name, nbytes / 1e6, time.time() - t0), flush=True)
    png = os.path.join(work, "input.png")
    r = subprocess.run([args.pixab, "classify", "-w", path, "--device", "cpu", "--logits",
                        os.path.join(work, name + ".logits.npy"), png], capture_output=True, text=True)
    if r.returncode != 0:
        print("%s: pixab refuses it: %s" % (name, r.stderr.strip()))
        rows.append((name, "-", "load", "-", float("nan"), 0.0, "refused"))
        return
    got = npy_load(os.path.join(work, name + ".logits.npy"))[0]
    err = float(np.abs(got - logits.numpy()).max() / np.abs(logits.numpy()).max())
    c = int(logits.argmax())
    print("%s: logits max|d| / max|logit| = %.2e (top-1 pixab %d, torch %d)" % (name, err, int(got.argmax()), c),
          flush=True)
    rows.append((name, "-", "logits", "float32", err, 1e-4, ""))
    default = pixab_default_layer(args, path)
    if default != LAYERS[name]["default"][1]:
        print("%s: pixab's default layer is %s, not %s" % (name, default, LAYERS[name]["default"][1]))
        rows.append((name, "default", "layer", "-", float("nan"), 0.0, "default layer " + str(default)))
    ranked = [int(k) for k in torch.argsort(logits, descending=True)[:args.max_rank]]
    for tag in args.layers.split(","):
        module, onnx_name = LAYERS[name][tag]
        ref = Reference(model, x, name, tag, args.methods, args.float32)
        wants, groups = {}, {}
        for m in args.methods:
            # a map that is all zeros (every channel weight negative) checks little: then the
            # next class by rank whose map is not (the expensive logits are shared by all classes)
            for rank, k in enumerate(ranked if m != "activation" else ranked[:1]):
                want = ref.map(m, k, mog.DEFAULT_SCORE[m])
                if want[0].any():
                    break
            if rank:
                print("%s %s: %s's map is all zeros for the classes ranked 1 to %d: checked for class %d (rank %d)" % (
                    name, tag, m, rank, k, rank + 1))
            wants[m] = (rank + 1, want)
            groups.setdefault(k, []).append(m)
        for k, methods in groups.items():
            out = os.path.join(work, "%s.%s.c%d.out" % (name, tag, k))
            secs = explain(args, path, png, out, onnx_name, methods, k)
            if secs is None:
                rows.append((name, tag, "explain", "-", float("nan"), 0.0, "failed"))
                continue
            print("%s %s (%s = %s): pixab explain -m %s -c %d: %.0f s" % (
                name, tag, module, onnx_name, ",".join(methods), k, secs), flush=True)
            for m in methods:
                rank, (want, dtype, t) = wants[m]
                compare(rows, name, tag, m, rank, want, out, dtype, t)
        del ref


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pixab", default="build/pixab")
    ap.add_argument("--models", default="vgg16,resnet50,mobilenet_v2")
    ap.add_argument("--layers", default="default,earlier", help="default, earlier or both (LAYERS)")
    ap.add_argument("--methods", default="all", help="comma list of pixab's methods, or all")
    ap.add_argument("--float32", default="scorecam",
                    help="methods whose PyTorch reference runs in float32 (the others: float64); '' for none")
    ap.add_argument("--kink-margin", type=float, default=1e-3,
                    help="distance of the head's ReLU inputs from their kinks (clear_kinks; 0: off)")
    ap.add_argument("--max-rank", type=int, default=10,
                    help="a method whose map is all zeros for the top-1 class is checked for the next class "
                         "by rank, up to this rank")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--calib", type=int, default=16, help="calibration images")
    ap.add_argument("--threads", type=int, default=os.cpu_count(), help="PyTorch threads (default: all cores)")
    ap.add_argument("--work", default=None, help="scratch directory (default: a temporary one)")
    ap.add_argument("--export", default=None, metavar="DIR",
                    help="only export the models (DIR/NAME.onnx, as checked) and stop (bench/run_onnx.sh)")
    args = ap.parse_args()
    args.methods = list(mog.TINY_METHODS) if args.methods == "all" else args.methods.split(",")
    args.float32 = set(m for m in args.float32.split(",") if m)
    for m in list(args.methods) + list(args.float32):
        if m not in mog.TINY_METHODS:
            raise SystemExit("unknown method %s (methods: %s)" % (m, ",".join(mog.TINY_METHODS)))
    for tag in args.layers.split(","):
        if tag not in ("default", "earlier"):
            raise SystemExit("--layers: '%s' is not default or earlier" % tag)
    torch.set_num_threads(args.threads)
    torch.set_grad_enabled(False)
    img = input_image()
    if args.export:
        os.makedirs(args.export, exist_ok=True)
        for name in args.models.split(","):
            model, x = calibrated(name, args, img)
            path = os.path.join(args.export, name + ".onnx")
            print("%s: %.1f MB" % (path, mog.export(model, x.float(), path, 13, None, False) / 1e6))
        return 0
    rows = []
    t_start = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or tmp
        os.makedirs(work, exist_ok=True)
        from PIL import Image
        Image.fromarray(img).save(os.path.join(work, "input.png"))
        for name in args.models.split(","):
            check(name, args, img, work, rows)
    print("\nmodel        layer    what                     reference  max|d|    tolerance")
    bad = 0
    for name, tag, what, dtype, d, tol, note in rows:
        ok = d <= tol
        bad += not ok
        print("%-12s %-8s %-24s %-10s %-9.2e %-9.0e %s" % (name, tag, what, dtype, d, tol,
                                                           ("" if ok else "FAIL ") + note))
    print("%d of %d checks beyond tolerance; %.0f s in all" % (bad, len(rows), time.time() - t_start))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
