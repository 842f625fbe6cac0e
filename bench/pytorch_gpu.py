#!/usr/bin/env python3
"""PyTorch GPU baseline: torchvision inception_v3 plain inference throughput.

Full width, 1000 classes, eval(), inference_mode, 299x299 inputs,
channels_last, batch 64 by default, random weights (or --weights
FILE.safetensors with torchvision key names). --precision: fp32 (TF32 off),
tf32 (TF32 matmul/conv on), fp16 / bf16 (torch.autocast). cudnn.benchmark on.
Prints one JSON line:
  {"impl":"pytorch","torch":...,"card":...,"precision":P,"batch":B,"images_per_s":x,"s_per_image":y}
Timing: --warmup untimed batches, then --runs timed batches (CUDA-synchronised);
the median is reported.

Run with the GPU machine's torch: /opt/torch/.venv/bin/python3.
"""

import argparse
import json
import os
import statistics
import sys
import time

import torch
from torchvision.models import inception as tvi

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pytorch_forward import load_weights  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--precision", choices=["fp32", "tf32", "fp16", "bf16"], default="fp32")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--weights", default=None)
    a = ap.parse_args()
    dev = torch.device("cuda")
    tf32 = a.precision == "tf32"
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32
    torch.backends.cudnn.benchmark = True
    model = tvi.Inception3(num_classes=1000, aux_logits=False, init_weights=False, transform_input=False)
    if a.weights:
        load_weights(model, a.weights)
    model = model.eval().to(dev).to(memory_format=torch.channels_last)
    x = torch.randn(a.batch, 3, 299, 299, device=dev).to(memory_format=torch.channels_last)
    dtype = {"fp16": torch.float16, "bf16": torch.bfloat16}.get(a.precision)

    def run():
        with torch.inference_mode(), torch.autocast("cuda", dtype=dtype or torch.float32, enabled=dtype is not None):
            return model(x)

    for _ in range(a.warmup):
        run()
    torch.cuda.synchronize()
    times = []
    for _ in range(a.runs):
        t0 = time.perf_counter()
        run()
        torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    t = statistics.median(times)
    print(json.dumps({"impl": "pytorch", "torch": torch.__version__, "card": torch.cuda.get_device_name(0),
                      "precision": a.precision, "batch": a.batch, "images_per_s": a.batch / t,
                      "s_per_image": t / a.batch}))


if __name__ == "__main__":
    main()
