#!/usr/bin/env python3
"""python_overhead.py: what the Python package adds to the C library's time
for one image's explanation (default: Pixab-CAM at Mixed_7c, demo model, CPU),
in one run, three ways:
  package  pixab.Engine.explain(path or float32 array), with the time spent
           inside the library's functions clocked around each foreign call
           (the package's own ctypes function objects, wrapped): the
           overhead is the rest of the call, measured in the very same call,
           so a busy machine moves both alike;
  ctypes   the package's C calls made directly through ctypes on the same
           libpixab.so (decode + pixab_explain_images, or pixab_explain_batch
           of a preprocessed input, then pixab_map_free), alternating call by
           call with the package's;
  C        build/explain_one, a C program on the static library doing the
           same, before and after (a separate process: a reference only).
Writes markdown to --out (and stdout). Needs the package installed (python3
-m pip install .) or PIXAB_LIBRARY set."""
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
# The library functions an explanation of one image calls.
WORK = ["pixab_image_load", "pixab_image_free", "pixab_image_preprocess", "pixab_explain_images",
        "pixab_explain_batch", "pixab_map_free"]


class InLibrary:
    """Wraps the library's functions (on the ctypes library object the
    package calls through) so that the time inside them adds up in .s."""

    def __init__(self, names):
        self.s = 0.0
        self.saved = {name: getattr(lib, name) for name in names}
        for name, fn in self.saved.items():
            setattr(lib, name, self._timed(fn))

    def restore(self):
        for name, fn in self.saved.items():
            setattr(lib, name, fn)

    def _timed(self, fn):
        def call(*args):
            t0 = time.perf_counter()
            try:
                return fn(*args)
            finally:
                self.s += time.perf_counter() - t0
        return call


def alternate(raw, package, clock, runs):
    """runs calls of each, alternating (order swapped every pair), after a
    warm-up: ms of the raw calls, of the package's, and of the package's
    time inside the library."""
    raw(), package()
    t_raw, t_pkg, t_in = [], [], []
    for i in range(runs):
        for fn in (raw, package) if i % 2 == 0 else (package, raw):
            clock.s = 0.0
            t0 = time.perf_counter()
            fn()
            dt = 1e3 * (time.perf_counter() - t0)
            if fn is raw:
                t_raw.append(dt)
            else:
                t_pkg.append(dt)
                t_in.append(1e3 * clock.s)
    return t_raw, t_pkg, t_in


def c_program_ms(a, mode):
    out = subprocess.run([a.c_program, a.model, a.image, "--device", a.device, "-l", a.layer, "-m", a.method,
                          "--input", mode, "--runs", str(max(5, a.runs // 4))], check=True, capture_output=True,
                         text=True)
    return float(out.stdout.split('"ms":')[1].rstrip("}\n"))


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
    ap.add_argument("--runs", type=int, default=40, help="calls of each (default 40)")
    ap.add_argument("--c-program", default=os.path.join(ROOT, "build", "explain_one"))
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "python_cpu.md"))
    a = ap.parse_args()

    engine = pixab.Engine(pixab.Model(a.model), a.device, max_batch=1)
    x = engine.model.preprocess(a.image)
    rows = {}
    for mode, item in (("file", a.image), ("array", x)):
        raw = raw_call(engine, a.image, None if mode == "file" else x, a.method, a.layer)  # before the wrapping
        clock = InLibrary(WORK)
        c0 = c_program_ms(a, mode)
        t_raw, t_pkg, t_in = alternate(raw, lambda: engine.explain(item, methods=a.method, layer=a.layer), clock,
                                       a.runs)
        c1 = c_program_ms(a, mode)
        clock.restore()
        over = [p - i for p, i in zip(t_pkg, t_in)]
        rows[mode] = {"C": (c0, c1), "ctypes": statistics.median(t_raw), "package": statistics.median(t_pkg),
                      "in": statistics.median(t_in), "over": statistics.median(over),
                      "share": statistics.median([o / p for o, p in zip(over, t_pkg)])}

    cpu, busy = machine()
    lines = [
        "# Python package overhead over the C library (one image, %s at %s, %s)" % (a.method, a.layer, engine.device),
        "",
        "Machine: %s. Date: %s. Command: `python3 bench/python_overhead.py`, the package installed by pip (%d calls of each; "
        "model %s, image %s, engine batch 1)." % (cpu, datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                                                  a.runs, os.path.basename(a.model), os.path.relpath(a.image, ROOT)),
        "Other processes busy on the CPU during the run (from ps): %s; load average at the end %.1f on %d cores. "
        "The machine is shared with other agents (in other containers, not in ps): times move from run to run "
        "and between the columns; the overhead, measured inside each call, is the figure."
        % (busy or "none", os.getloadavg()[0], os.cpu_count()),
        "",
        "| input | package call (ms) | of it inside the library (ms) | Python overhead (ms) | overhead / call "
        "| ctypes direct (ms) | C program before / after (ms) |",
        "|---|---|---|---|---|---|---|",
    ]
    for mode, r in rows.items():
        what = "file path (decode + explain)" if mode == "file" else "preprocessed float32 (S, S, 3)"
        lines.append("| %s | %.2f | %.2f | %.3f | %.2f %% | %.2f | %.1f / %.1f |" % (
            what, r["package"], r["in"], r["over"], 100 * r["share"], r["ctypes"], r["C"][0], r["C"][1]))
    lines += ["", "Medians of %d calls each; the overhead and its share are medians over the package's calls of "
              "(call - time inside the library), each within one call." % a.runs]
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
