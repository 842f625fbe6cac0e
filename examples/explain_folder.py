#!/usr/bin/env python3
"""explain_folder.py: explain every image of a folder with the pixab Python
package and show a grid (one row per image: the image, then each method's
overlay) with matplotlib when it is installed, the way pytorch-grad-cam's
users work; without matplotlib (or with --out) the overlays are written as
PNG files instead (with Pillow). Example, after `python3 -m pip install .`:

    python3 examples/explain_folder.py examples/images -m pixab,ablation,gradcam
"""
import argparse
import os
import sys

import pixab

EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tga", ".ppm", ".pgm")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder")
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("-w", "--weights", default=os.path.join(here, "..", "models", "pixab-demo.safetensors"))
    ap.add_argument("-m", "--methods", default="pixab,ablation,gradcam", help="comma-separated, from %s"
                    % ", ".join(pixab.METHODS))
    ap.add_argument("-l", "--layer", default=None, help="target layer (default: the model's last spatial layer)")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--out", default=None, help="write the grid (or, without matplotlib, the overlays) here")
    a = ap.parse_args()

    paths = sorted(os.path.join(a.folder, f) for f in os.listdir(a.folder) if f.lower().endswith(EXTENSIONS))
    if not paths:
        sys.exit("explain_folder: no images in %s" % a.folder)
    methods = a.methods.split(",")
    model = pixab.Model(a.weights)
    engine = pixab.Engine(model, device=a.device)
    names = model.class_names
    print("%s on %s, %d images, layer %s" % (os.path.basename(a.weights), engine.device, len(paths),
                                             a.layer or model.default_layer))
    results = engine.explain(paths, methods=methods, layer=a.layer)  # batched: one body pass per engine batch
    rows = []
    for path, per in zip(paths, results):
        first = per[methods[0]]
        label = names[first.cls] if names else "class %d" % first.cls
        print("%-40s %-16s %s %.3f" % (os.path.basename(path), label, first.score_kind, first.score))
        rows.append((path, label, [pixab.overlay(path, per[m].map) for m in methods]))

    try:
        import matplotlib
        if a.out:
            matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        plt = None
    if plt is None:
        from PIL import Image
        out = a.out or "pixab-out"
        os.makedirs(out, exist_ok=True)
        for path, _, overlays in rows:
            stem = os.path.splitext(os.path.basename(path))[0]
            for m, rgb in zip(methods, overlays):
                Image.fromarray(rgb).save(os.path.join(out, "%s.%s.png" % (stem, m)))
        print("matplotlib is not installed: overlays written to %s/" % out)
        return
    fig, axes = plt.subplots(len(rows), 1 + len(methods), figsize=(2.2 * (1 + len(methods)), 2.2 * len(rows)),
                             squeeze=False)
    for r, (path, label, overlays) in enumerate(rows):
        axes[r][0].imshow(pixab.load_image(path))
        axes[r][0].set_title("%s\n%s" % (os.path.basename(path), label), fontsize=8)
        for c, (m, rgb) in enumerate(zip(methods, overlays)):
            axes[r][1 + c].imshow(rgb)
            if r == 0:
                axes[r][1 + c].set_title(m, fontsize=9)
    for ax in axes.flat:
        ax.axis("off")
    fig.tight_layout()
    if a.out:
        fig.savefig(a.out, dpi=100)
        print("grid written to %s" % a.out)
    else:
        plt.show()


if __name__ == "__main__":
    main()
