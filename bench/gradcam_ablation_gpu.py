#!/usr/bin/env python3
"""pytorch-grad-cam's AblationCAM (pure Python ablation loop) on the GPU.

torchvision inception_v3 (full width, random weights or --weights), target
layer Mixed_7c, fp32, the library's defaults (batch_size 32 ablated copies per
forward, every channel ablated). Times --images single-image explanations after
one warm-up and prints one JSON line:
  {"impl":"pytorch-grad-cam AblationCAM","grad_cam":...,"card":...,"images":N,"s_per_image":s,"images_per_s":x}

Needs the PyPI packages grad-cam and ttach (carried as wheels to the GPU
machine: pip install --no-deps grad_cam-*.whl ttach-*.whl).

pytorch_grad_cam's __init__ imports every method and its plotting helpers, and
with them cv2, matplotlib, scipy, sklearn and tqdm, which a PyTorch-only venv
lacks (and which are too big to carry). AblationCAM's path uses only two of
them: tqdm (a progress bar) and cv2.resize (upsampling the 8x8 map to 299x299
once per image). Whichever of the five is missing is stubbed: tqdm by a
pass-through, cv2.resize by torch's bilinear interpolation (cv2's INTER_LINEAR
also uses half-pixel centres), anything else by a stand-in that raises if
called. The JSON line lists what was stubbed; the stubs cost well under 1 ms
per image against seconds of ablation forwards. --import-only: import
AblationCAM that way, print {"grad_cam", "stubbed"} and exit (no GPU needed).
"""

import argparse
import importlib.abc
import importlib.util
import json
import os
import statistics
import sys
import time

import torch
from torchvision.models import inception as tvi

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pytorch_forward import load_weights  # noqa: E402


STUBBABLE = ("cv2", "matplotlib", "scipy", "sklearn", "tqdm")


class _Missing:
    """Stand-in for anything of a stubbed module: attribute access works, calls fail."""

    def __init__(self, name):
        self._name = name

    def __getattr__(self, attr):
        return _Missing(self._name + "." + attr)

    def __call__(self, *args, **kwargs):
        raise RuntimeError(self._name + " is not installed (stubbed by gradcam_ablation_gpu.py)")


class _StubFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports of the given top-level modules (and their submodules) yield stubs."""

    def __init__(self, roots):
        self.roots = roots

    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in self.roots:
            return importlib.util.spec_from_loader(name, self, is_package=True)
        return None

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        module.__getattr__ = lambda attr: _Missing(module.__name__ + "." + attr)
        if module.__name__ == "tqdm":
            module.tqdm = lambda iterable=None, *a, **k: iterable
        if module.__name__ == "cv2":
            module.resize = _resize


def _resize(img, size, *args, **kwargs):
    """cv2.resize(img, (width, height)) of a 2-D float map, INTER_LINEAR."""
    import numpy as np
    import torch.nn.functional as F
    t = torch.from_numpy(np.ascontiguousarray(img, dtype=np.float32))[None, None]
    return F.interpolate(t, size=(size[1], size[0]), mode="bilinear", align_corners=False)[0, 0].numpy()


def import_ablation_cam():
    """(pytorch_grad_cam module, AblationCAM, the modules stubbed)."""
    missing = [m for m in STUBBABLE if importlib.util.find_spec(m) is None]
    if missing:
        sys.meta_path.append(_StubFinder(missing))
    import pytorch_grad_cam
    from pytorch_grad_cam import AblationCAM
    return pytorch_grad_cam, AblationCAM, missing


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--images", type=int, default=3)
    ap.add_argument("--layer", default="Mixed_7c")
    ap.add_argument("--weights", default=None)
    ap.add_argument("--import-only", action="store_true")
    ap.add_argument("--device", default="cuda", help="cuda (default), or cpu for a smoke test")
    a = ap.parse_args()
    pytorch_grad_cam, AblationCAM, stubbed = import_ablation_cam()
    version = getattr(pytorch_grad_cam, "__version__", None) or _dist_version("grad-cam")
    if a.import_only:
        print(json.dumps({"grad_cam": version, "stubbed": stubbed}))
        return
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    dev = torch.device(a.device)
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    model = tvi.Inception3(num_classes=1000, aux_logits=False, init_weights=False, transform_input=False)
    if a.weights:
        load_weights(model, a.weights)
    model = model.eval().to(dev)
    cam = AblationCAM(model=model, target_layers=[getattr(model, a.layer)])
    g = torch.Generator().manual_seed(0)
    xs = [torch.randn(1, 3, 299, 299, generator=g).to(dev) for _ in range(a.images + 1)]
    cam(input_tensor=xs[0], targets=None)  # warm-up; targets=None: each image's top-1 class
    times = []
    for x in xs[1:]:
        sync()
        t0 = time.perf_counter()
        cam(input_tensor=x, targets=None)
        sync()
        times.append(time.perf_counter() - t0)
    t = statistics.median(times)
    print(json.dumps({"impl": "pytorch-grad-cam AblationCAM", "grad_cam": version, "stubbed": stubbed,
                      "card": torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu", "layer": a.layer, "images": a.images,
                      "s_per_image": t, "images_per_s": 1.0 / t}))


def _dist_version(name):
    try:
        from importlib.metadata import version
        return version(name)
    except Exception:  # not installed as a distribution (e.g. on PYTHONPATH only)
        return "?"


if __name__ == "__main__":
    main()
