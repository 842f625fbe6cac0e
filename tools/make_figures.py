#!/usr/bin/python3
"""The Pixab-CAM paper's qualitative figures, regenerated with pixab (README, "Guided maps, ...").

From a model and an annotated set (the JSON lines of `pixab synth`), into OUTDIR:
  fig8_maps.png       rows: images; columns: the image, then every method's map
                      (jet over the image, alpha 0.5) of the image's top-1 class
  fig9_guided.png     the same grid of guided maps (`pixab explain --guided`)
  fig10_boxes.png     the localisation box of every map (`--wsol`, white) against
                      the annotated boxes of the explained class (green)
  fig11_sanity.png    one image: rows: methods; columns: the trained model's map,
                      then the maps under cascading randomisation from the logits
                      down (`pixab explain --randomize LAYER`, the sanity check's
                      models), all of the trained model's top-1 class
Every map comes from the `pixab` binary (explain on the CPU); this script only
lays them out (Debian's python3-numpy and python3-pil).

  tools/make_figures.py --pixab build/pixab -w models/pixab-demo.safetensors \\
      --data examples/images/annotations.jsonl -o docs/figures
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image, ImageDraw

METHODS = ["pixab", "ablation", "activation", "gradcam", "gradcampp", "xgradcam", "scorecam"]
RANDOMIZE = ["fc", "Mixed_7c", "Mixed_7a", "Mixed_6e", "Mixed_6a", "Mixed_5b"]
# matplotlib's _jet_data: (x, y) knots per channel
JET = [([0, 0.35, 0.66, 0.89, 1], [0, 0, 1, 1, 0.5]),
       ([0, 0.125, 0.375, 0.64, 0.91, 1], [0, 0, 1, 1, 0, 0]),
       ([0, 0.11, 0.34, 0.65, 1], [0.5, 1, 1, 0, 0])]
LABEL_H = 14
ROW_W = 78


def run(cmd):
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, env=dict(os.environ, OPENBLAS_CORETYPE=os.environ.get("OPENBLAS_CORETYPE",
                                                                                            "Haswell")))


def explain(args, out, images, extra):
    """pixab explain of every method into out (kept from an earlier run with --work)."""
    if not os.path.exists(os.path.join(out, "results.jsonl")):
        run([args.pixab, "explain", "-w", args.weights, "-m", ",".join(METHODS), "--device", "cpu", "-o", out]
            + extra + images)
    with open(os.path.join(out, "results.jsonl")) as f:
        return [json.loads(line) for line in f if line.strip()]


def jet_overlay(img, m):
    """The map (h, w) upsampled (bilinear) to the image and coloured with jet over it, alpha 0.5."""
    w, h = img.size
    up = np.asarray(Image.fromarray(m.astype(np.float32), "F").resize((w, h), Image.BILINEAR))
    col = np.stack([np.interp(np.clip(up, 0, 1), xs, ys) for xs, ys in JET], -1) * 255
    return Image.fromarray((0.5 * col + 0.5 * np.asarray(img, np.float32) + 0.5).astype(np.uint8))


def grid(cells, col_names, row_names, size):
    """cells[r][c]: PIL images, resized to size x size, with labels."""
    rows, cols = len(cells), len(cells[0])
    out = Image.new("RGB", (ROW_W + cols * (size + 2), LABEL_H + rows * (size + 2)), "white")
    d = ImageDraw.Draw(out)
    for c, name in enumerate(col_names):
        d.text((ROW_W + c * (size + 2) + 2, 1), name, fill="black")
    for r, name in enumerate(row_names):
        d.text((2, LABEL_H + r * (size + 2) + size // 2 - 5), name, fill="black")
        for c, cell in enumerate(cells[r]):
            out.paste(cell.resize((size, size), Image.BILINEAR), (ROW_W + c * (size + 2), LABEL_H + r * (size + 2)))
    return out


def save(img, path):
    """A 256-colour PNG: the figures stay small."""
    img.quantize(colors=256, dither=Image.Dither.NONE).save(path, optimize=True)
    print("wrote %s (%d bytes)" % (path, os.path.getsize(path)))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pixab", default="build/pixab")
    ap.add_argument("-w", "--weights", default="models/pixab-demo.safetensors")
    ap.add_argument("--data", default="examples/images/annotations.jsonl")
    ap.add_argument("-o", "--outdir", default="docs/figures")
    ap.add_argument("--strip-image", type=int, default=0, help="the image of Figure 11 (index in the set)")
    ap.add_argument("--size", type=int, default=112, help="cell side in pixels")
    ap.add_argument("--work", help="keep pixab's outputs here (and reuse those already there) instead of a "
                                   "temporary directory")
    args = ap.parse_args()
    base = os.path.dirname(os.path.abspath(args.data))
    with open(args.data) as f:
        items = [json.loads(line) for line in f if line.strip()]
    paths = [os.path.join(base, it["image"]) for it in items]
    stems = [os.path.splitext(os.path.basename(p))[0] for p in paths]
    os.makedirs(args.outdir, exist_ok=True)
    work = args.work or tempfile.mkdtemp(prefix="pixab-figures-")
    lines = explain(args, os.path.join(work, "maps"), paths, ["--guided", "--wsol"])
    by = {(os.path.splitext(os.path.basename(l["image"]))[0], l["method"]): l for l in lines}
    imgs = [Image.open(p).convert("RGB") for p in paths]
    names = ["%s (c%d)" % (s, by[(s, "pixab")]["class"]) for s in stems]
    cols = ["image"] + METHODS

    cells = [[im] + [jet_overlay(im, np.load(by[(s, m)]["map"])) for m in METHODS] for s, im in zip(stems, imgs)]
    save(grid(cells, cols, names, args.size), os.path.join(args.outdir, "fig8_maps.png"))

    cells = [[im] + [Image.open(os.path.splitext(by[(s, m)]["map"])[0] + ".guided.png").convert("RGB")
                     for m in METHODS] for s, im in zip(stems, imgs)]
    save(grid(cells, cols, names, args.size), os.path.join(args.outdir, "fig9_guided.png"))

    cells = []
    for s, im, it in zip(stems, imgs, items):
        row = [im]
        for m in METHODS:
            l = by[(s, m)]
            ov = Image.open(l["png"]).convert("RGB")  # the overlay with its --wsol box in white
            d = ImageDraw.Draw(ov)
            for o in it["objects"]:
                if o["class"] == l["class"]:
                    x0, y0, x1, y1 = o["box"]
                    d.rectangle([x0, y0, x1 - 1, y1 - 1], outline=(0, 255, 0), width=2)
            row.append(ov)
        cells.append(row)
    save(grid(cells, cols, names, args.size), os.path.join(args.outdir, "fig10_boxes.png"))

    k = args.strip_image
    cls = by[(stems[k], "pixab")]["class"]
    strip = [[jet_overlay(imgs[k], np.load(by[(stems[k], m)]["map"]))] for m in METHODS]
    for layer in RANDOMIZE:
        rl = explain(args, os.path.join(work, "rand_" + layer), [paths[k]],
                     ["--randomize", layer, "-c", str(cls), "--no-png"])
        maps = {l["method"]: l["map"] for l in rl}
        for i, m in enumerate(METHODS):
            strip[i].append(jet_overlay(imgs[k], np.load(maps[m])))
    save(grid(strip, ["trained"] + ["<- " + l for l in RANDOMIZE], METHODS, args.size),
         os.path.join(args.outdir, "fig11_sanity.png"))
    print("work files in", work)


if __name__ == "__main__":
    sys.exit(main())
