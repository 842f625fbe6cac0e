#!/usr/bin/env python3
"""python_overhead.py: what the Python package adds to the C library's time
for one image's explanation (default: Pixab-CAM at Mixed_7c, demo model, CPU).
In one run, alternating round by round (the machine may be busy: compare the
ratios, not the times), three ways of doing the same work:
  C        build/explain_one (a C program on the static library: decode +
           pixab_explain_images, or pixab_explain of a preprocessed input);
  ctypes   the same calls made directly through ctypes on the very libpixab.so
           the package loads (the library's own time plus a few microseconds);
  package  pixab.Engine.explain(path or float32 array): argument checks,
           ImageBatch, the same calls, and the results copied into numpy.
Each figure is the median per call of --runs calls; the table gives the
median over --rounds rounds. Writes markdown to --out (and stdout).
Needs the package installed (python3 -m pip install .) or PIXAB_LIBRARY set."""
import argparse
import ctypes
import os
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone

os.environ.setdefault("OPENBLAS_CORETYPE", "Haswell")  # as tools/test.sh and the pixab command here

import pixab  # noqa: E402
from pixab._lib import ExplainOpts, Image, Map, f32_ptr, lib  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def median_ms(fn, runs):
    fn()  # warm-up
    t = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        t.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(t)


def raw_call(engine, path, x, method, layer):
    """The package's C calls for one image, made directly through ctypes."""
    h, pre = engine._ptr, lib.pixab_model_preproc(engine.model._ptr)
    meth = (ctypes.c_int * 1)(lib.pixab_method_from_name(method.encode()))
    opts = ExplainOpts(layer=engine.model.layer_index(layer), cls=-1)
    maps = (Map * 1)()
    img = Image()
    bpath = path.encode()

    def call():
        if x is None:
            if lib.pixab_image_load(bpath, ctypes.byref(img)):
                raise RuntimeError(pixab._lib.last_error())
            s = lib.pixab_explain_images(h, ctypes.byref(img), 1, pre, meth, 1, ctypes.byref(opts), None, maps)
            lib.pixab_image_free(ctypes.byref(img))
        else:
            s = lib.pixab_explain_batch(h, f32_ptr(x), 1, meth, 1, ctypes.byref(opts), None, maps)
        if s:
            raise RuntimeError(pixab._lib.last_error())
        lib.pixab_map_free(ctypes.byref(maps[0]))
    return call


def machine():
    out = subprocess.run(["bash", "-c", ". bench/machine.sh; bench_machine; echo; bench_busy"], cwd=ROOT,
                         capture_output=True, text=True).stdout.split("\n")
    return out[0], (out[1] if len(out) > 1 else "")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=os.path.join(ROOT, "models", "pixab-demo.safetensors"))
    ap.add_argument("--image", default=os.path.join(ROOT, "examples", "images", "00000.png"))
    ap.add_argument("--layer", default="Mixed_7c")
    ap.add_argument("--method", default="pixab")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--c-program", default=os.path.join(ROOT, "build", "explain_one"))
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "python_cpu.md"))
    a = ap.parse_args()

    engine = pixab.Engine(pixab.Model(a.model), a.device, max_batch=1)
    x = engine.model.preprocess(a.image)
    rows = {}
    for mode, item in (("file", a.image), ("array", x)):
        t = {"C": [], "ctypes": [], "package": []}
        raw = raw_call(engine, a.image, None if mode == "file" else x, a.method, a.layer)
        for _ in range(a.rounds):
            out = subprocess.run([a.c_program, a.model, a.image, "--device", a.device, "-l", a.layer, "-m", a.method,
                                  "--input", mode, "--runs", str(a.runs)], check=True, capture_output=True, text=True)
            t["C"].append(float(out.stdout.split('"ms":')[1].rstrip("}\n")))
            t["ctypes"].append(median_ms(raw, a.runs))
            t["package"].append(median_ms(lambda: engine.explain(item, methods=a.method, layer=a.layer), a.runs))
        rows[mode] = {k: statistics.median(v) for k, v in t.items()}

    cpu, busy = machine()
    lines = [
        "# Python package overhead over the C library (one image, %s at %s, %s)" % (a.method, a.layer, engine.device),
        "",
        "Machine: %s. Date: %s. Command: `/usr/bin/python3 bench/python_overhead.py` (rounds %d x runs %d; "
        "model %s, image %s, engine batch 1)." % (cpu, datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                                                  a.rounds, a.runs, os.path.basename(a.model),
                                                  os.path.relpath(a.image, ROOT)),
        "Other processes busy on the CPU during the run: %s. The machine is shared with other agents: the times "
        "move from run to run; the ratios, measured round by round in the same run, are the figure." % (busy or "none"),
        "",
        "| input | C program (ms) | ctypes, same libpixab.so (ms) | package (ms) | package / ctypes | package / C |",
        "|---|---|---|---|---|---|",
    ]
    for mode, r in rows.items():
        what = "file path (decode + explain)" if mode == "file" else "preprocessed float32 (S, S, 3)"
        lines.append("| %s | %.2f | %.2f | %.2f | %+.1f %% | %+.1f %% |" % (
            what, r["C"], r["ctypes"], r["package"], 100 * (r["package"] / r["ctypes"] - 1),
            100 * (r["package"] / r["C"] - 1)))
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
