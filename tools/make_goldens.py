#!/usr/bin/python3
"""Random-weight torchvision Inception-V3 checkpoints and PyTorch golden outputs.

The expected values for pixab's tests come from this independent implementation
(torchvision's Inception3 on the CPU), never from pixab itself (DESIGN.md §8).

What it writes into --out-dir:
  <name>.safetensors           the model: ALL torchvision state-dict keys
                               (AuxLogits.* and *.num_batches_tracked as I64
                               scalars included), float tensors in --dtype,
                               metadata pixab.mean/std/input_size/classes/note
  <name>.goldens.safetensors   F32 goldens, see GOLDEN_LAYERS and README
  test299.png                  deterministic structured 299x299 RGB test image
  small53x37.png               deterministic 53 wide x 37 high RGB image
  <name>_<dt>.safetensors      for each --extra-dtypes dt (f16, bf16): the same
  <name>_<dt>.goldens.safetensors  model rounded to dt, with goldens "input" and
                               "logits" recomputed by torch from the rounded
                               weights (read back from the written file).

Random weights are made "realistic": kaiming-normal conv weights, BN gamma in
[0.5, 1.5] and beta in [-0.2, 0.3], then BN running statistics calibrated on a
batch of synthetic structured images (one train-mode pass with momentum=None),
then fc scaled so logits span a few units (see randomise_and_calibrate).

Width divisor D > 1 divides every channel count (except the 3 image channels)
by D, keeping torchvision's topology and state-dict key names exactly.

Run with Debian's /usr/bin/python3 (python3-torch 1.13, torchvision 0.14).
"""

import argparse
import copy
import functools
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image
from torchvision.models import inception as tvi

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402

MEAN = (0.5, 0.5, 0.5)
STD = (0.5, 0.5, 0.5)
INPUT_SIZE = 299
TEST_IMAGE = "test299.png"
SMALL_IMAGE = "small53x37.png"
SMALL_W, SMALL_H = 53, 37
# modules whose outputs go into the goldens (torchvision module names)
GOLDEN_LAYERS = ["Conv2d_4a_3x3", "maxpool2", "Mixed_5b", "Mixed_6a",
                 "Mixed_6e", "Mixed_7c"]
# modules whose statistics are printed
STAT_LAYERS = ["Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "maxpool1",
               "Conv2d_3b_1x1", "Conv2d_4a_3x3", "maxpool2", "Mixed_5b",
               "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b", "Mixed_6c",
               "Mixed_6d", "Mixed_6e", "Mixed_7a", "Mixed_7b", "Mixed_7c"]
TORCH_DTYPES = {"f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16}


# ----------------------------------------------------------------- model

class ReducedBasicConv2d(tvi.BasicConv2d):
    """torchvision BasicConv2d with in/out channels divided by `div`
    (in_channels == 3, the image, is kept)."""

    def __init__(self, in_channels, out_channels, div=1, **kwargs):
        if in_channels != 3:
            assert in_channels % div == 0, in_channels
            in_channels //= div
        assert out_channels % div == 0, out_channels
        super().__init__(in_channels, out_channels // div, **kwargs)


def build_model(width_div, classes):
    if width_div == 1:
        m = tvi.Inception3(num_classes=classes, aux_logits=True,
                           transform_input=False, init_weights=True)
    else:
        conv = functools.partial(ReducedBasicConv2d, div=width_div)
        blocks = [conv] + [functools.partial(b, conv_block=conv) for b in
                           (tvi.InceptionA, tvi.InceptionB, tvi.InceptionC,
                            tvi.InceptionD, tvi.InceptionE, tvi.InceptionAux)]
        m = tvi.Inception3(num_classes=classes, aux_logits=True,
                           transform_input=False, inception_blocks=blocks,
                           init_weights=True)
        m.fc = nn.Linear(2048 // width_div, classes)
        m.AuxLogits.fc = nn.Linear(768 // width_div, classes)
    return m


def check_topology(model, width_div, classes):
    """Key names must be exactly torchvision's; shapes divided by D."""
    ref = tvi.Inception3(num_classes=classes, aux_logits=True,
                         transform_input=False, init_weights=False).state_dict()
    sd = model.state_dict()
    if list(ref.keys()) != list(sd.keys()):
        missing = set(ref) ^ set(sd)
        raise SystemExit("state-dict keys differ from torchvision: %s" % sorted(missing)[:10])
    for k, v in ref.items():
        exp = list(v.shape)
        if k.endswith("conv.weight"):
            exp[0] //= width_div
            if exp[1] != 3:
                exp[1] //= width_div
        elif k in ("fc.weight", "AuxLogits.fc.weight"):
            exp[1] //= width_div
        elif k.endswith(("bn.weight", "bn.bias", "bn.running_mean", "bn.running_var")):
            exp[0] //= width_div
        if list(sd[k].shape) != exp:
            raise SystemExit("%s: shape %s, expected %s" % (k, list(sd[k].shape), exp))
    n_main = sum(1 for n, mod in model.named_modules()
                 if isinstance(mod, tvi.BasicConv2d) and not n.startswith("AuxLogits"))
    assert n_main == 94, n_main
    return len(sd)


# ----------------------------------------------------------------- images

def _grid(h, w):
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    return y / max(h - 1, 1), x / max(w - 1, 1)


def synth_image(rng, h, w):
    """Structured image: smooth gradients, shapes, stripes, noise. uint8 HxWx3."""
    yy, xx = _grid(h, w)
    img = np.zeros((h, w, 3))
    # smooth background: per-channel linear ramp + low-frequency sinusoid
    for c in range(3):
        a = rng.uniform(0, 2 * math.pi)
        img[..., c] = (rng.uniform(0.2, 0.6)
                       + rng.uniform(-0.3, 0.3) * (np.cos(a) * xx + np.sin(a) * yy)
                       + 0.1 * np.sin(2 * math.pi * (rng.uniform(0.5, 2) * xx
                                                     + rng.uniform(0.5, 2) * yy)
                                      + rng.uniform(0, 6.3)))
    # stripes in a random band
    ang = rng.uniform(0, math.pi)
    freq = rng.uniform(6, 30)
    s = 0.5 + 0.5 * np.sign(np.sin(2 * math.pi * freq * (np.cos(ang) * xx + np.sin(ang) * yy)))
    band = (np.abs(yy - rng.uniform(0.2, 0.8)) < rng.uniform(0.05, 0.2)).astype(float)
    col = rng.uniform(0, 1, 3)
    img = img * (1 - 0.6 * (band * s)[..., None]) + 0.6 * (band * s)[..., None] * col
    # shapes: disks, rectangles, triangles
    for _ in range(rng.integers(3, 8)):
        col = rng.uniform(0, 1, 3)
        kind = rng.integers(0, 3)
        cy, cx = rng.uniform(0.1, 0.9, 2)
        r = rng.uniform(0.05, 0.25)
        if kind == 0:
            m = ((yy - cy) ** 2 + (xx - cx) ** 2) < r * r
        elif kind == 1:
            m = (np.abs(yy - cy) < r * rng.uniform(0.3, 1)) & (np.abs(xx - cx) < r)
        else:
            m = (yy - cy < r) & (yy - cy > -r) & (np.abs(xx - cx) < (yy - cy + r) / 2)
        img[m] = 0.8 * col + 0.2 * img[m]
    img += rng.normal(0, rng.uniform(0.01, 0.06), img.shape)
    return (np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8)


def test_image(seed, h=INPUT_SIZE, w=INPUT_SIZE):
    """The test image: fixed composition (two objects on a textured ground)."""
    rng = np.random.default_rng([seed, 299])
    yy, xx = _grid(h, w)
    img = np.stack([0.35 + 0.3 * yy, 0.55 - 0.2 * xx, 0.45 + 0.15 * np.sin(6 * xx + 3 * yy)], -1)
    stripes = (np.sin(2 * math.pi * 18 * (xx + 0.3 * yy)) > 0) & (yy > 0.78)
    img[stripes] = [0.9, 0.85, 0.2]
    disk = ((yy - 0.38) ** 2 + (xx - 0.28) ** 2) < 0.16 ** 2
    img[disk] = [0.85, 0.12, 0.1]
    square = (np.abs(yy - 0.45) < 0.14) & (np.abs(xx - 0.72) < 0.12)
    img[square] = [0.1, 0.2, 0.8]
    tri = (yy > 0.55) & (yy < 0.75) & (np.abs(xx - 0.5) < (yy - 0.55) * 0.6)
    img[tri] = [0.1, 0.7, 0.25]
    img += rng.normal(0, 0.03, img.shape)
    return (np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8)


def small_image(seed):
    rng = np.random.default_rng([seed, 53, 37])
    return synth_image(rng, SMALL_H, SMALL_W)


def object_image(rng, h, w):
    """Flat-coloured objects on a smooth background with a stripe band and mild
    noise (the test image's style, random layout). uint8 HxWx3."""
    yy, xx = _grid(h, w)
    c0, c1 = rng.uniform(0.1, 0.9, 3), rng.uniform(0.1, 0.9, 3)
    t = rng.uniform(0, 1) * yy + rng.uniform(0, 1) * xx
    t = t / max(t.max(), 1e-6)
    img = c0 * (1 - t[..., None]) + c1 * t[..., None]
    img += 0.1 * np.sin(rng.uniform(2, 8) * xx + rng.uniform(2, 8) * yy)[..., None] * rng.uniform(-1, 1, 3)
    if rng.uniform() < 0.7:
        y0 = rng.uniform(0, 0.8)
        f = rng.uniform(8, 25)
        band = (yy > y0) & (yy < y0 + rng.uniform(0.1, 0.25)) & \
               (np.sin(2 * math.pi * f * (xx + rng.uniform(-0.5, 0.5) * yy)) > 0)
        img[band] = rng.uniform(0, 1, 3)
    for _ in range(rng.integers(1, 5)):
        col = rng.uniform(0, 1, 3)
        cy, cx = rng.uniform(0.15, 0.85, 2)
        r = rng.uniform(0.06, 0.2)
        kind = rng.integers(0, 3)
        if kind == 0:
            m = ((yy - cy) ** 2 + (xx - cx) ** 2) < r * r
        elif kind == 1:
            m = (np.abs(yy - cy) < r * rng.uniform(0.6, 1.4)) & (np.abs(xx - cx) < r)
        else:
            m = (yy - cy < r) & (yy - cy > -r) & (np.abs(xx - cx) < (yy - cy + r) * 0.6)
        img[m] = col
    img += rng.normal(0, rng.uniform(0.01, 0.05), img.shape)
    return (np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8)


def calibration_batch(seed, n, salt=16, size=INPUT_SIZE):
    """n synthetic size x size images, alternately textured (synth_image) and
    object compositions (object_image); none equals the test image."""
    rng = np.random.default_rng([seed, salt])
    imgs = np.stack([(synth_image if i % 2 == 0 else object_image)(rng, size, size)
                     for i in range(n)])
    return normalise(imgs)


def normalise(u8):
    """uint8 NHWC (or HWC) -> normalised float32 NCHW torch tensor."""
    x = torch.from_numpy(np.asarray(u8, dtype=np.float32) / 255.0)
    if x.dim() == 3:
        x = x[None]
    x = x.permute(0, 3, 1, 2).contiguous()
    mean = torch.tensor(MEAN).view(1, 3, 1, 1)
    std = torch.tensor(STD).view(1, 3, 1, 1)
    return ((x - mean) / std).contiguous()


def load_png(path):
    return np.asarray(Image.open(path).convert("RGB"), dtype=np.uint8)


# ----------------------------------------------------------------- weights

def randomise_and_calibrate(model, calib, seed, fc=None):
    """fc: the classifier Linear (default model.fc), scaled on the features it
    reads; model.AuxLogits.fc, when there is one, is randomised too."""
    g = torch.Generator().manual_seed(seed)
    fc = fc if fc is not None else model.fc
    with torch.no_grad():
        for mod in model.modules():
            if isinstance(mod, nn.Conv2d):
                fan_in = mod.in_channels * mod.kernel_size[0] * mod.kernel_size[1]
                mod.weight.copy_(torch.randn(mod.weight.shape, generator=g)
                                 * math.sqrt(2.0 / fan_in))
            elif isinstance(mod, nn.BatchNorm2d):
                mod.weight.copy_(torch.rand(mod.weight.shape, generator=g) + 0.5)
                mod.bias.copy_(torch.rand(mod.bias.shape, generator=g) * 0.5 - 0.2)
                mod.momentum = None
                mod.reset_running_stats()
        model.train()
        model(calib)  # one pass: running stats = batch statistics
        model.eval()
        for mod in model.modules():
            if isinstance(mod, nn.BatchNorm2d):
                mod.momentum = 0.1  # torchvision default; not stored anyway
        # fc: random, scaled so that logits span a few units on the calibration batch
        feats = {}
        h = fc.register_forward_hook(lambda m, i, o: feats.__setitem__("f", i[0].flatten(1)))
        model(calib)
        h.remove()
        f = feats["f"]
        w = torch.randn(fc.weight.shape, generator=g)
        b = torch.rand(fc.bias.shape, generator=g) * 0.2 - 0.1
        # half-centre on the mean calibration feature (logits then depend on the
        # image as well as on the class), scaled so that the median over the
        # calibration images of the per-image logit std (over classes) is 1.5
        fmean = f.mean(0)
        scale = 1.5 / float(((f - 0.5 * fmean) @ w.t()).std(1).median())
        fc.weight.copy_(w * scale)
        fc.bias.copy_(b - (0.5 * fmean @ w.t()) * scale)
        if getattr(model, "AuxLogits", None) is None:
            return
        aux = model.AuxLogits.fc
        aux.weight.copy_(torch.randn(aux.weight.shape, generator=g) / math.sqrt(aux.in_features))
        aux.bias.copy_(torch.rand(aux.bias.shape, generator=g) * 0.2 - 0.1)


# ----------------------------------------------------------------- export

def export_model(model, path, dtype, classes, note):
    sd = model.state_dict()
    tensors = {}
    for k, v in sd.items():
        if v.is_floating_point():
            tensors[k] = v.detach().to(TORCH_DTYPES[dtype])
        else:
            tensors[k] = v.detach().to(torch.int64)  # num_batches_tracked: I64 scalar
    meta = {
        "pixab.mean": ",".join(str(m) for m in MEAN),
        "pixab.std": ",".join(str(s) for s in STD),
        "pixab.input_size": str(INPUT_SIZE),
        "pixab.classes": ",".join("class%d" % i for i in range(classes)),
        "pixab.note": note,
    }
    safetensors_io.save(path, tensors, meta)


def load_back(model, path):
    """Read `path` with our reader, convert floats to f32, load strictly."""
    arrays, meta = safetensors_io.load(path, float32=True)
    sd = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in arrays.items()}
    model.load_state_dict(sd, strict=True)
    return meta


def run_with_hooks(model, x, layers):
    outs = {}
    hooks = [getattr(model, n).register_forward_hook(
        (lambda name: lambda m, i, o: outs.__setitem__(name, o.detach().clone()))(n))
        for n in layers]
    with torch.no_grad():
        logits = model(x)
    for h in hooks:
        h.remove()
    return logits, outs


def stats_line(name, t):
    t = t.double()
    return ("  %-14s %-18s mean %8.4f  std %8.4f  zero %5.3f  max %8.3f  finite %s"
            % (name, "x".join(str(s) for s in t.shape), float(t.mean()), float(t.std()),
               float((t == 0).double().mean()), float(t.max()), bool(torch.isfinite(t).all())))


def resize_goldens(small_u8):
    x = torch.from_numpy(small_u8.astype(np.float32) / 255.0).permute(2, 0, 1)[None]
    out = {}
    for s in (31, 71):
        y = F.interpolate(x, size=(s, s), mode="bilinear", align_corners=False,
                          antialias=False)
        out["resize_%d" % s] = y[0].permute(1, 2, 0).contiguous()
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--width-div", type=int, default=8)
    ap.add_argument("--classes", type=int, default=None,
                    help="default 1000 for --width-div 1, else 10")
    ap.add_argument("--out-dir", default="tests/data")
    ap.add_argument("--name", default=None)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--dtype", choices=sorted(TORCH_DTYPES), default="f32",
                    help="dtype of float tensors in <name>.safetensors; goldens "
                         "are computed with the weights rounded to it")
    ap.add_argument("--extra-dtypes", default=None,
                    help="comma list (f16,bf16): also write <name>_<dt>.safetensors "
                         "+ goldens (input, logits); default f16 when --width-div > 1, "
                         "none for full width; '' for none")
    ap.add_argument("--calib", type=int, default=32, help="calibration batch size")
    args = ap.parse_args()
    D = args.width_div
    classes = args.classes if args.classes is not None else (1000 if D == 1 else 10)
    name = args.name or ("inception_v3_full" if D == 1 else "inception_v3_w%d" % D)
    os.makedirs(args.out_dir, exist_ok=True)

    torch.manual_seed(args.seed)
    np.random.seed(args.seed % (2 ** 32))
    torch.set_grad_enabled(False)

    # images (shared by all widths; depend only on the seed)
    test_png = os.path.join(args.out_dir, TEST_IMAGE)
    small_png = os.path.join(args.out_dir, SMALL_IMAGE)
    Image.fromarray(test_image(args.seed), "RGB").save(test_png, optimize=False)
    Image.fromarray(small_image(args.seed), "RGB").save(small_png, optimize=False)

    model = build_model(D, classes)
    nkeys = check_topology(model, D, classes)
    randomise_and_calibrate(model, calibration_batch(args.seed, args.calib), args.seed)
    model.eval()

    note = ("RANDOM weights (not trained): torchvision Inception3, width/%d, %d classes, "
            "BN calibrated on synthetic images, seed %d; made by tools/make_goldens.py "
            "with torch %s" % (D, classes, args.seed, torch.__version__))
    if D == 1:
        note = note.replace("width/1", "full width")

    x = normalise(load_png(test_png))
    resize = resize_goldens(load_png(small_png))

    def write(dtype, suffix, full):
        mpath = os.path.join(args.out_dir, name + suffix + ".safetensors")
        gpath = os.path.join(args.out_dir, name + suffix + ".goldens.safetensors")
        export_model(model, mpath, dtype, classes, note + (", stored as %s" % dtype.upper()))
        # goldens from the weights exactly as stored (read back through our reader)
        m2 = build_model(D, classes)
        meta = load_back(m2, mpath)
        m2.eval()
        assert meta["pixab.input_size"] == "299"
        if dtype == "f32":
            for k, v in model.state_dict().items():
                assert torch.equal(v, m2.state_dict()[k]), k
        logits, outs = run_with_hooks(m2, x, STAT_LAYERS)
        g = {"input": x, "logits": logits}
        if full:
            for n in GOLDEN_LAYERS:
                g[n] = outs[n]
            g.update(resize)
        g = {k: v.float().contiguous() for k, v in g.items()}
        gmeta = {"pixab.model": os.path.basename(mpath), "pixab.image": TEST_IMAGE,
                 "pixab.small_image": SMALL_IMAGE, "pixab.seed": str(args.seed),
                 "pixab.width_div": str(D), "pixab.classes": str(classes),
                 "pixab.torch": torch.__version__,
                 "pixab.layout": "input/activations NCHW (N=1) normalised with "
                                 "mean=std=0.5; resize_* HWC in [0,1], not normalised"}
        safetensors_io.save(gpath, g, gmeta)
        # verify files parse and round-trip
        back, _ = safetensors_io.load(gpath)
        for k, v in g.items():
            assert np.array_equal(back[k], v.numpy()), k

        print("%s (%d bytes), %s (%d bytes)" % (mpath, os.path.getsize(mpath), gpath,
                                                os.path.getsize(gpath)))
        for n in STAT_LAYERS:
            print(stats_line(n, outs[n]))
        lg = logits[0]
        top = torch.topk(lg, min(5, classes))
        print("  logits: max|v| %.4f  mean %.4f  std %.4f  top %s (%s)" % (
            float(lg.abs().max()), float(lg.mean()), float(lg.std()),
            top.indices.tolist(), ", ".join("%.3f" % v for v in top.values.tolist())))
        return m2, logits

    print("model: width/%d, %d classes, %d state-dict keys, %d parameters (%d without Aux)" % (
        D, classes, nkeys, sum(p.numel() for p in model.parameters()),
        sum(p.numel() for n, p in model.named_parameters() if not n.startswith("AuxLogits"))))
    m_main, logits_main = write(args.dtype, "", True)

    # eval output ~ train (batch-statistics) output on the calibration batch?
    calib = calibration_batch(args.seed, args.calib)
    mt = copy.deepcopy(m_main)
    for mod in mt.modules():
        if isinstance(mod, nn.BatchNorm2d):
            mod.momentum = 0.0  # train mode uses batch stats but leaves running stats
    ev_logits, ev = run_with_hooks(mt, calib, ["Mixed_7c"])
    mt.train()
    mt.dropout.eval()
    _, tr = run_with_hooks(mt, calib, ["Mixed_7c"])
    e, t = ev["Mixed_7c"], tr["Mixed_7c"]
    print("  calibration batch (%d images): Mixed_7c eval vs train-mode rel. diff %.4f; "
          "logits std over images %.3f, max|logits| %.3f, distinct argmax %d" % (
              args.calib, float((e - t).norm() / t.norm()), float(ev_logits.std(0).mean()),
              float(ev_logits.abs().max()), len(set(ev_logits.argmax(1).tolist()))))
    held = calibration_batch(args.seed, 8, salt=17)
    hl, ho = run_with_hooks(m_main, held, ["Mixed_7c"])
    print("  8 held-out synthetic images: max|logits| %.3f, logits std over images %.3f, "
          "Mixed_7c mean %.3f std %.3f, distinct argmax %d" % (
              float(hl.abs().max()), float(hl.std(0).mean()), float(ho["Mixed_7c"].mean()),
              float(ho["Mixed_7c"].std()), len(set(hl.argmax(1).tolist()))))
    # f32 noise floor: the same model in float64
    m64 = copy.deepcopy(m_main).double()
    l64, o64 = run_with_hooks(m64, x.double(), ["Mixed_7c"])
    print("  float64 vs float32 torch: max|dlogits| %.2e, Mixed_7c max|d| %.2e" % (
        float((l64 - logits_main.double()).abs().max()),
        float((o64["Mixed_7c"] - run_with_hooks(m_main, x, ["Mixed_7c"])[1]["Mixed_7c"].double()).abs().max())))

    extra = args.extra_dtypes if args.extra_dtypes is not None else ("f16" if D > 1 else "")
    for dt in [d for d in extra.split(",") if d]:
        if dt not in TORCH_DTYPES:
            raise SystemExit("unknown dtype %s" % dt)
        _, lg = write(dt, "_" + dt, False)
        print("  max|logits_%s - logits_%s| = %.5f" % (dt, args.dtype,
                                                        float((lg - logits_main).abs().max())))
    for p in (test_png, small_png):
        print("%s (%d bytes)" % (p, os.path.getsize(p)))


if __name__ == "__main__":
    main()
