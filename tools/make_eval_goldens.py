#!/usr/bin/python3
"""Golden values for pixab's evaluation metrics (DESIGN.md §7, host/eval/metrics.h).

One real case: the demo model (models/pixab-demo.safetensors, torchvision
Inception3 at 1/8 width, 8 classes; loaded with make_cam_goldens.load_model)
on examples/images/00000.png (299 x 299, one annotated object), with a fixed
smooth 8 x 8 map made here, independently of pixab: a Gaussian (sigma 1.5
cells) centred on the annotated box, min-max normalised to [0, 1]. The map is
upsampled to 299 x 299 with F.interpolate (bilinear, align_corners=False) in
float32, as pixab_map_upsample does, so both sides order the pixels alike; the
network then runs in float64.

Computed in PyTorch / numpy / scipy (float64):
  y, o, ad, iic      Chattopadhay et al.: Y = softmax prob of class c for x,
                     O = for x * M (normalised input times the upsampled map),
                     AD = relu(Y - O)/Y * 100, IIC = [Y < O] * 100
  compactness        mean of the upsampled map
  deletion/*, insertion/*
                     RISE's evaluation.py (CausalMetric.single_run, auc): pixels
                     by the map descending (stable argsort: ties by index
                     ascending, where RISE's flipped argsort takes them by index
                     descending), step = ceil(HW / n_steps), n_steps + 1 states,
                     deletion substrate zeros, insertion substrate RISE's
                     blur = conv2d(x, gkern(11, 5), padding=5), gkern from
                     scipy.ndimage.gaussian_filter of a delta, as RISE's
                     Evaluation notebook; AUC = RISE's auc
  blur_kernel        the 11 x 11 gkern(11, 5) kernel (float32, as RISE's)
  blur_samples       the insertion substrate at blur_pixels (y, x), 3 channels
  pg/<box>, ol       pointing game (first argmax in raster order, hit when a
                     disc of radius 15 px around it meets the box, TorchRay's
                     protocol), energy share inside the annotated box
  doa, spearman      cosine distance and scipy.stats.spearmanr of map8 and
                     map8_b (a second Gaussian, away from the object,
                     quantised to quarters so that it has ties)
  o_b, ad_b, iic_b, deletion_b/*, insertion_b/*
                     the same with map8_c (a second smooth Gaussian, sigma
                     1.8 cells, away from the object) upsampled, then
                     quantised to ninths (round(v * 9) / 9, no value within
                     2e-5 / 9 of a rounding boundary): curves that fall and
                     rise slowly, and large exact ties for the tie rule

Run: /usr/bin/python3 tools/make_eval_goldens.py  (writes
tests/data/eval_golden.safetensors; a few KB).
"""

import argparse
import json
import math
import os
import sys

import numpy as np
import scipy.ndimage
import scipy.stats
import torch
import torch.nn.functional as F
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import safetensors_io  # noqa: E402
from make_cam_goldens import load_input, load_model  # noqa: E402

SIZE = 299
N_STEPS = 20
KLEN, KSIG = 11, 5
TOLERANCE = 15
LEVELS = 9  # map b for the curves: round(upsampled map8_c * LEVELS) / LEVELS


def gaussian_map(cx, cy, sigma, n=8):
    """n x n map exp(-d^2 / 2 sigma^2) around (cx, cy) in cell units, min-max to [0, 1]."""
    yy, xx = np.meshgrid(np.arange(n, dtype=np.float64), np.arange(n, dtype=np.float64), indexing="ij")
    m = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * sigma ** 2))
    return (m - m.min()) / (m.max() - m.min())


def box_to_cells(box, n=8, size=SIZE):
    """Centre of a pixel box [x0, y0, x1, y1) in cell coordinates of an n x n map."""
    cx = 0.5 * (box[0] + box[2]) * n / size - 0.5
    cy = 0.5 * (box[1] + box[3]) * n / size - 0.5
    return cx, cy


def gkern(klen, nsig):
    """RISE's evaluation.gkern: a delta smoothed by scipy's gaussian_filter, per channel."""
    inp = np.zeros((klen, klen))
    inp[klen // 2, klen // 2] = 1
    k = scipy.ndimage.gaussian_filter(inp, nsig)
    kern = np.zeros((3, 3, klen, klen))
    for c in range(3):
        kern[c, c] = k
    return torch.from_numpy(kern.astype("float32"))


def rise_auc(arr):
    return (arr.sum() - arr[0] / 2 - arr[-1] / 2) / (arr.shape[0] - 1)


def prob(model, x, c):
    with torch.no_grad():
        return torch.softmax(model(x), dim=1)[:, c]


def causal_curve(model, x, sal, c, n_steps, mode, blur):
    """RISE's CausalMetric.single_run, the states batched; x (1,3,S,S) float64."""
    hw = SIZE * SIZE
    step = (hw + n_steps - 1) // n_steps
    assert (hw + step - 1) // step == n_steps  # RISE's own step count agrees
    if mode == "del":
        start, finish = x.clone(), torch.zeros_like(x)
    else:
        start, finish = blur(x), x.clone()
    order = np.argsort(-sal.reshape(-1), kind="stable")  # descending, ties by index ascending
    states = []
    for i in range(n_steps + 1):
        states.append(start.clone())
        coords = torch.from_numpy(order[step * i:step * (i + 1)].copy())
        start.view(1, 3, hw)[0, :, coords] = finish.view(1, 3, hw)[0, :, coords]
    scores = torch.cat([prob(model, torch.cat(states[i:i + 7]), c) for i in range(0, len(states), 7)])
    return scores.numpy()


def pointing_hit(sal, box, tol):
    """Zhang et al. with TorchRay's tolerance: a disc of radius tol around the
    first argmax meets the box mask."""
    py, px = np.unravel_index(np.argmax(sal), sal.shape)
    yy, xx = np.meshgrid(np.arange(SIZE), np.arange(SIZE), indexing="ij")
    disc = (yy - py) ** 2 + (xx - px) ** 2 <= tol ** 2
    mask = np.zeros((SIZE, SIZE), dtype=bool)
    mask[box[1]:box[3], box[0]:box[2]] = True
    return int((disc & mask).any()), (int(px), int(py))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=os.path.join(ROOT, "models", "pixab-demo.safetensors"))
    ap.add_argument("--images", default=os.path.join(ROOT, "examples", "images"))
    ap.add_argument("--image", default="00000.png")
    ap.add_argument("--out", default=os.path.join(ROOT, "tests", "data", "eval_golden.safetensors"))
    args = ap.parse_args()

    with open(os.path.join(args.images, "annotations.jsonl")) as f:
        rec = next(r for r in map(json.loads, f) if r["image"] == args.image)
    assert len(rec["objects"]) == 1, rec
    obj = rec["objects"][0]
    path = os.path.join(args.images, args.image)
    assert Image.open(path).size == (SIZE, SIZE), Image.open(path).size
    box = obj["box"]

    model, _, classes, _ = load_model(args.model)
    m64 = model.double()
    x = load_input(path).double()  # float32 normalised input, exactly representable
    c = int(torch.argmax(m64(x)[0]))
    assert c == obj["class"], (c, obj["class"])

    map8 = gaussian_map(*box_to_cells(box), 1.5).astype(np.float32)
    up = F.interpolate(torch.from_numpy(map8)[None, None], size=(SIZE, SIZE), mode="bilinear",
                       align_corners=False)[0, 0]  # float32, as pixab_map_upsample
    up_np = up.numpy()
    up64 = up.double()

    y = float(prob(m64, x, c)[0])
    o = float(prob(m64, x * up64[None, None], c)[0])
    ad = max(y - o, 0.0) / y * 100
    iic = 100.0 * (y < o)
    compactness = float(up64.mean())

    kern = gkern(KLEN, KSIG)
    blur = lambda t: F.conv2d(t, kern.double(), padding=KLEN // 2)  # noqa: E731
    del_curve = causal_curve(m64, x, up_np, c, N_STEPS, "del", blur)
    ins_curve = causal_curve(m64, x, up_np, c, N_STEPS, "ins", blur)

    blurred = blur(x)[0]  # (3, S, S)
    blur_pixels = [(0, 0), (0, 150), (3, 298), (150, 150), (298, 7), (298, 298), (80, 200), (5, 5)]
    blur_samples = np.array([[float(blurred[ch, py, px]) for ch in range(3)] for py, px in blur_pixels])

    pg, (px, py) = pointing_hit(up_np, box, TOLERANCE)
    box_near = [px + 12, py - 3, px + 40, py + 9]   # 12 px right of the point: a hit by tolerance
    box_edge = [px + 16, py - 3, px + 40, py + 9]   # 16 px: a miss
    box_diag = [px + 11, py + 11, px + 30, py + 30]  # sqrt(242) > 15: a miss
    boxes = {"box": box, "box_near": box_near, "box_edge": box_edge, "box_diag": box_diag}
    pgs = {k: pointing_hit(up_np, b, TOLERANCE)[0] for k, b in boxes.items()}
    inside = np.zeros((SIZE, SIZE), dtype=bool)
    inside[box[1]:box[3], box[0]:box[2]] = True
    up_d = up_np.astype(np.float64)
    ol = float(up_d[inside].sum() / up_d.sum())

    map8_b = np.round(gaussian_map(2.0, 5.5, 2.0) * 4) / 4
    map8_b = map8_b.astype(np.float32)
    map8_c = gaussian_map(2.0, 5.5, 1.8).astype(np.float32)
    up_b = F.interpolate(torch.from_numpy(map8_c)[None, None], size=(SIZE, SIZE), mode="bilinear",
                         align_corners=False)[0, 0]
    # Quantised after upsampling, so that the ties are exact on both sides
    # (bilinear results may differ by an ulp between implementations, which
    # would reorder near-ties); no value may lie near a rounding boundary.
    frac = (up_b.double() * LEVELS) % 1.0
    assert float((frac - 0.5).abs().min()) > 2e-5
    up_b = torch.round(up_b * LEVELS) / LEVELS
    o_b = float(prob(m64, x * up_b.double()[None, None], c)[0])
    del_curve_b = causal_curve(m64, x, up_b.numpy(), c, N_STEPS, "del", blur)
    ins_curve_b = causal_curve(m64, x, up_b.numpy(), c, N_STEPS, "ins", blur)
    a64, b64 = map8.astype(np.float64).ravel(), map8_b.astype(np.float64).ravel()
    doa = 1 - a64 @ b64 / (np.linalg.norm(a64) * np.linalg.norm(b64))
    spearman = scipy.stats.spearmanr(a64, b64).correlation

    t = lambda v: np.asarray(v, dtype=np.float32).reshape(-1)  # noqa: E731
    out = {
        "class": t([c]), "map8": map8, "map8_b": map8_b, "map8_c": map8_c,
        "y": t([y]), "o": t([o]), "ad": t([ad]), "iic": t([iic]), "compactness": t([compactness]),
        "deletion/curve": t(del_curve), "deletion/auc": t([rise_auc(del_curve)]),
        "insertion/curve": t(ins_curve), "insertion/auc": t([rise_auc(ins_curve)]),
        "o_b": t([o_b]), "ad_b": t([max(y - o_b, 0.0) / y * 100]), "iic_b": t([100.0 * (y < o_b)]),
        "deletion_b/curve": t(del_curve_b), "deletion_b/auc": t([rise_auc(del_curve_b)]),
        "insertion_b/curve": t(ins_curve_b), "insertion_b/auc": t([rise_auc(ins_curve_b)]),
        "blur_kernel": kern[0, 0].numpy(), "blur_pixels": t(blur_pixels), "blur_samples": t(blur_samples),
        "point": t([px, py]), "ol": t([ol]), "doa": t([doa]), "spearman": t([spearman]),
    }
    for k, b in boxes.items():
        out[k] = t(b)
        out["pg/" + k] = t([pgs[k]])
    meta = {"image": args.image, "model": os.path.relpath(args.model, ROOT), "n_steps": str(N_STEPS),
            "tolerance": str(TOLERANCE), "note": "tools/make_eval_goldens.py; see its docstring"}
    safetensors_io.save(args.out, out, meta)
    print("class %d  y %.6f  o %.6f  AD %.4f  IIC %.0f  compactness %.6f" % (c, y, o, ad, iic, compactness))
    print("deletion  AUC %.6f  curve %s" % (rise_auc(del_curve), np.array2string(del_curve, precision=4)))
    print("insertion AUC %.6f  curve %s" % (rise_auc(ins_curve), np.array2string(ins_curve, precision=4)))
    print("map b: o %.6f  deletion AUC %.6f  %s" % (o_b, rise_auc(del_curve_b), np.array2string(del_curve_b, precision=4)))
    print("map b: insertion AUC %.6f  %s" % (rise_auc(ins_curve_b), np.array2string(ins_curve_b, precision=4)))
    print("point (%d, %d)  PG %s  OL %.6f  DOA %.6f  Spearman %.6f" % (px, py, pgs, ol, doa, spearman))
    print("wrote %s (%d bytes)" % (args.out, os.path.getsize(args.out)))


if __name__ == "__main__":
    main()
