#!/usr/bin/python3
"""Golden localisation boxes for pixab's WSOL code (host/eval/wsol.c, docs/evaluation.md), from numpy/scipy.

Box of a map at threshold t: pixels >= t * max, the largest 8-connected
component (scipy.ndimage.label with a 3x3 structure of ones), of equal ones the
lowest label (scipy labels in raster order of first pixels), its bounding box
[x0, y0, x1, y1) in pixels.

Cases (each: sal (h, w) already at image size, t, box):
  constant      a constant map: every pixel kept, the whole image
  zeros         an all-zero map: every pixel kept (0 >= 0), the whole image
  tie           two equal 2x2 components: the first in raster order
  tie_later_row two equal components, the right one starting on an earlier row
  border        the largest component touching the right and bottom borders
  diagonal      pixels joined only diagonally form one component (8-connected)
  threshold     a gradient map at t = 0.5 and 0.2
Upsampled: an 8 x 8 map (pseudo-random, fixed seed) resized to 53 x 37
(torch bilinear, align_corners=False, float32, as pixab_map_upsample) at
t = 0.3 and 0.6, every pixel at least 1e-5 away from the threshold so float32
rounding cannot move a pixel across it.

  tools/make_wsol_goldens.py tests/data/wsol_goldens.safetensors
"""

import os
import sys

import numpy as np
import scipy.ndimage as ndi
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402


def box_of(sal, t):
    keep = sal >= t * sal.max()
    lab, n = ndi.label(keep, structure=np.ones((3, 3), int))
    sizes = np.bincount(lab.ravel())[1:]
    k = int(np.argmax(sizes)) + 1  # first of equal sizes: the lowest label
    ys, xs = np.nonzero(lab == k)
    return np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], np.float32)


def cases():
    c = {}
    c["constant"] = (np.full((5, 7), 0.3, np.float32), 0.2)
    c["zeros"] = (np.zeros((4, 6), np.float32), 0.2)
    s = np.zeros((8, 10), np.float32)
    s[1:3, 1:3] = 1.0
    s[4:6, 6:8] = 1.0
    c["tie"] = (s, 0.2)
    s = np.zeros((8, 10), np.float32)
    s[3:5, 1:3] = 0.9
    s[1:3, 6:8] = 1.0
    c["tie_later_row"] = (s, 0.5)
    s = np.zeros((9, 11), np.float32)
    s[0:2, 0:2] = 1.0
    s[5:9, 8:11] = 0.6
    c["border"] = (s, 0.5)
    s = np.zeros((6, 6), np.float32)
    for i in range(5):
        s[i, i] = 1.0
    s[0, 5] = 1.0
    c["diagonal"] = (s, 0.5)
    g = np.add.outer(np.arange(6), np.arange(9)).astype(np.float32) / 13.0
    c["threshold_05"] = (g, 0.5)
    c["threshold_02"] = (g, 0.2)
    return c


def main():
    out = {}
    for name, (sal, t) in cases().items():
        out["case/%s/sal" % name] = sal
        out["case/%s/t" % name] = np.array([t], np.float32)
        out["case/%s/box" % name] = box_of(sal, t)
        print(name, t, out["case/%s/box" % name])
    rng = np.random.default_rng(17)
    for attempt in range(100):
        m = rng.random((8, 8), dtype=np.float32) ** 6  # a few peaks
        up = F.interpolate(torch.from_numpy(m)[None, None], size=(37, 53), mode="bilinear",
                           align_corners=False)[0, 0].numpy()
        if all(np.abs(up - t * up.max()).min() > 1e-5 for t in (0.3, 0.6)):
            break
    else:
        raise SystemExit("no map with a margin")
    out["up/map"] = m
    for t in (0.3, 0.6):
        out["up/box/%g" % t] = box_of(up, t)
        print("upsampled", t, out["up/box/%g" % t])
    path = sys.argv[1]
    safetensors_io.save(path, out, {"source": "tools/make_wsol_goldens.py", "up_size": "53x37"})
    back, _ = safetensors_io.load(path)
    for k, v in out.items():
        assert np.array_equal(back[k], v), k


if __name__ == "__main__":
    main()
