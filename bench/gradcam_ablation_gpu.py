#!/usr/bin/env python3
"""pytorch-grad-cam's AblationCAM (pure Python ablation loop) on the GPU.

torchvision inception_v3 (full width, random weights or --weights), target
layer Mixed_7c, fp32, the library's defaults (batch_size 32 ablated copies per
forward, every channel ablated). Times --images single-image explanations after
one warm-up and prints one JSON line:
  {"impl":"pytorch-grad-cam AblationCAM","grad_cam":...,"card":...,"images":N,"s_per_image":s,"images_per_s":x}

Needs the PyPI packages grad-cam and ttach (carried as wheels to the GPU
machine: pip install --no-deps grad_cam-*.whl ttach-*.whl).
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
    ap.add_argument("--images", type=int, default=3)
    ap.add_argument("--layer", default="Mixed_7c")
    ap.add_argument("--weights", default=None)
    a = ap.parse_args()
    import pytorch_grad_cam
    from pytorch_grad_cam import AblationCAM
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    dev = torch.device("cuda")
    model = tvi.Inception3(num_classes=1000, aux_logits=False, init_weights=False, transform_input=False)
    if a.weights:
        load_weights(model, a.weights)
    model = model.eval().to(dev)
    cam = AblationCAM(model=model, target_layers=[getattr(model, a.layer)])
    g = torch.Generator().manual_seed(0)
    xs = [torch.randn(1, 3, 299, 299, generator=g).to(dev) for _ in range(a.images + 1)]
    cam(input_tensor=xs[0])  # warm-up
    times = []
    for x in xs[1:]:
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        cam(input_tensor=x)
        torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    t = statistics.median(times)
    print(json.dumps({"impl": "pytorch-grad-cam AblationCAM", "grad_cam": getattr(pytorch_grad_cam, "__version__", "?"),
                      "card": torch.cuda.get_device_name(0), "layer": a.layer, "images": a.images,
                      "s_per_image": t, "images_per_s": 1.0 / t}))


if __name__ == "__main__":
    main()
