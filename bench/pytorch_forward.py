#!/usr/bin/python3
"""PyTorch CPU baseline: torchvision inception_v3 forward throughput.

Full width, 1000 classes, eval(), no_grad, 299x299 inputs, random weights
(or --weights FILE.safetensors with torchvision key names).  For each batch
size prints one JSON line:
  {"impl":"pytorch","torch":...,"threads":N,"batch":B,"images_per_s":x,"s_per_image":y}
Timing: --warmup untimed forwards, then --runs timed forwards; the median
run time is reported.

Run with Debian's /usr/bin/python3 (python3-torch, python3-torchvision).
"""

import argparse
import json
import os
import statistics
import sys
import time

import torch
from torchvision.models import inception as tvi


def load_weights(model, path):
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
    import safetensors_io  # noqa: E402
    import numpy as np
    arrays, _ = safetensors_io.load(path, float32=True)
    sd = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in arrays.items()}
    # files without AuxLogits.* load into the main path only
    missing, unexpected = model.load_state_dict(sd, strict=False)
    missing = [k for k in missing if not k.startswith("AuxLogits.")]
    if missing or unexpected:
        raise SystemExit("weights mismatch: missing %s unexpected %s" % (missing[:5], unexpected[:5]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--batch", default="1,8", help="comma list of batch sizes")
    ap.add_argument("--runs", type=int, default=7, help="timed runs per batch (>= 5)")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--weights", default=None, help="optional .safetensors (torchvision names)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if args.runs < 5:
        raise SystemExit("--runs must be >= 5")

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    torch.set_grad_enabled(False)
    model = tvi.Inception3(num_classes=1000, aux_logits=True, transform_input=False,
                           init_weights=False)
    if args.weights:
        load_weights(model, args.weights)
    model.eval()

    for b in [int(s) for s in args.batch.split(",") if s]:
        x = torch.randn(b, 3, 299, 299)
        for _ in range(args.warmup):
            model(x)
        times = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            model(x)
            times.append(time.perf_counter() - t0)
        t = statistics.median(times)
        print(json.dumps({"impl": "pytorch", "torch": torch.__version__,
                          "threads": args.threads, "batch": b,
                          "images_per_s": round(b / t, 4),
                          "s_per_image": round(t / b, 6)}), flush=True)


if __name__ == "__main__":
    main()
