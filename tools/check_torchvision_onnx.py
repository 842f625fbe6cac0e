#!/usr/bin/python3
"""Full-size torchvision classifiers through pixab's ONNX loader, against PyTorch.

For each of VGG-16, ResNet-50 and MobileNetV2 (torchvision's own
definitions, 1000 classes, random weights BN-calibrated on synthetic images
by make_goldens.randomise_and_calibrate), export with torch.onnx.export
(opset 13, eval mode: BatchNormalization folded by the exporter) into a
scratch directory, run `pixab classify --logits` and `pixab explain -m
gradcam,activation` on tests/data/test299.png, and print the errors against
PyTorch on the same normalised 224 x 224 input (F.interpolate bilinear,
half-pixel centres, as pixab resizes): logits max|d| relative to max|logit|,
and the maps (Grad-CAM: the score's gradient through the whole head;
Activation-CAM) at the default layer, the last spatial tensor before the
global pooling, max|d| on [0, 1]. A model pixab refuses prints its one-line
reason. Nothing is written into the repository; large files stay in --work.

  /usr/bin/python3 tools/check_torchvision_onnx.py --pixab build/pixab [--models vgg16,resnet50,mobilenet_v2]
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torch.nn.functional as F
import torchvision.models as tvm

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_cam_goldens as mcg  # noqa: E402
import make_goldens as mg  # noqa: E402
import make_onnx_goldens as mog  # noqa: E402

SIZE = 224
# the module whose output is the default layer (the last spatial tensor before global pooling)
DEFAULT_MODULE = {"vgg16": "features", "resnet50": "layer4", "mobilenet_v2": "features"}


def build(name):
    m = getattr(tvm, name)(weights=None)
    fc = m.fc if name == "resnet50" else m.classifier[-1]
    return m, fc


def npy_load(path):
    return np.load(path).astype(np.float64)


def check(name, args, img, work):
    torch.manual_seed(args.seed)
    model, fc = build(name)
    mean = torch.tensor(mog.IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(mog.IMAGENET_STD).view(1, 3, 1, 1)
    calib = mg.calibration_batch(args.seed, args.calib, size=SIZE)
    calib = (calib * 0.5 + 0.5 - mean) / std
    mg.randomise_and_calibrate(model, calib, args.seed, fc=fc)
    model.eval()
    x01 = torch.from_numpy(img.astype(np.float32) / 255.0).permute(2, 0, 1)[None]
    x01 = F.interpolate(x01, size=(SIZE, SIZE), mode="bilinear", align_corners=False)
    x = ((x01 - mean) / std).contiguous()
    path = os.path.join(work, name + ".onnx")
    t0 = time.time()
    nbytes = mog.export(model, x, path, 13, None, False)
    with torch.no_grad():
        logits = model(x)[0].double()
    print("%s: exported %.1f MB in %.0f s" % (name, nbytes / 1e6, time.time() - t0), flush=True)
    png = os.path.join(work, "input.png")
    out = os.path.join(work, name + ".out")
    r = subprocess.run([args.pixab, "classify", "-w", path, "--device", "cpu", "--logits",
                        os.path.join(work, name + ".logits.npy"), png], capture_output=True, text=True)
    if r.returncode != 0:
        print("%s: pixab refuses it: %s" % (name, r.stderr.strip()))
        return
    got = npy_load(os.path.join(work, name + ".logits.npy"))[0]
    err = float(np.abs(got - logits.numpy()).max() / np.abs(logits.numpy()).max())
    print("%s: logits max|d| / max|logit| = %.2e (top-1 pixab %d, torch %d)" % (
        name, err, int(got.argmax()), int(logits.argmax())), flush=True)
    r = subprocess.run([args.pixab, "explain", "-w", path, "--device", "cpu", "-m", "gradcam,activation",
                        "--no-png", "-o", out, png], capture_output=True, text=True)
    if r.returncode != 0:
        print("%s: explain failed: %s" % (name, r.stderr.strip()))
        return
    # PyTorch's maps at the default layer: the hooked head of make_onnx_goldens
    m64, x64 = model.double(), x.double()
    mcg.body, mcg.head = mog.hooked_split(m64, x64, {"default": DEFAULT_MODULE[name]})
    plain = mcg.Plain(m64, x64, "default", ["gradcam", "activation"], mcg.BOXES, {})
    c = int(logits.argmax())
    for method in ("gradcam", "activation"):
        raw, _, _ = plain.run(method, c, "logit")
        want = mcg.minmax_relu(raw).numpy()
        have = npy_load(os.path.join(out, "input.%s.npy" % method))
        print("%s: %s map %s max|d| = %.2e" % (name, method, "x".join(map(str, want.shape)),
                                              float(np.abs(have - want).max())), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pixab", default="build/pixab")
    ap.add_argument("--models", default="vgg16,resnet50,mobilenet_v2")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--calib", type=int, default=16, help="calibration images")
    ap.add_argument("--work", default=None, help="scratch directory (default: a temporary one)")
    args = ap.parse_args()
    torch.set_grad_enabled(False)
    img = mg.load_png(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data",
                                   mg.TEST_IMAGE))
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or tmp
        os.makedirs(work, exist_ok=True)
        from PIL import Image
        Image.fromarray(img).save(os.path.join(work, "input.png"))
        for name in args.models.split(","):
            check(name, args, img, work)


if __name__ == "__main__":
    main()
