#!/usr/bin/env python3
"""Convert a torchvision / timm Inception-V3 checkpoint (.pth / .pt state dict)
into the safetensors file pixab reads, with the preprocessing metadata.

  /usr/bin/python3 tools/export_torchvision.py inception_v3_google-0cc3c7bd.pth inception_v3.safetensors
  /usr/bin/python3 tools/export_torchvision.py gluon.pth out.safetensors --mean 0.485,0.456,0.406 --std 0.229,0.224,0.225

torchvision's IMAGENET1K_V1 weights were trained with transform_input=True,
whose net effect is the input (x01 - 0.5) / 0.5: pixab's default mean = std =
0.5 (REFERENCE.md). Key names stay torchvision's (Conv2d_1a_3x3.conv.weight,
...); AuxLogits.* and num_batches_tracked are kept (pixab ignores them).
Runs offline: give it a file you already have (e.g. from ~/.cache/torch/hub).
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("src", help="state dict (.pth/.pt), or a pickled model with .state_dict()")
    ap.add_argument("dst", help="output .safetensors")
    ap.add_argument("--mean", default="0.5,0.5,0.5")
    ap.add_argument("--std", default="0.5,0.5,0.5")
    ap.add_argument("--input-size", default="299")
    ap.add_argument("--classes", default=None, help="file with one class name per line (optional)")
    args = ap.parse_args()
    obj = torch.load(args.src, map_location="cpu")
    sd = obj.state_dict() if hasattr(obj, "state_dict") else obj
    if isinstance(sd, dict) and "state_dict" in sd and isinstance(sd["state_dict"], dict):
        sd = sd["state_dict"]
    sd = {k[len("module."):] if k.startswith("module.") else k: v for k, v in sd.items()}
    for key in ("Conv2d_1a_3x3.conv.weight", "Mixed_7c.branch_pool.bn.running_var", "fc.weight", "fc.bias"):
        if key not in sd:
            raise SystemExit("%s: no '%s': not a torchvision/timm Inception-V3 state dict" % (args.src, key))
    meta = {"pixab.mean": args.mean, "pixab.std": args.std, "pixab.input_size": args.input_size,
            "pixab.note": "exported from %s by tools/export_torchvision.py" % os.path.basename(args.src)}
    if args.classes:
        with open(args.classes) as f:
            names = [line.strip() for line in f if line.strip()]
        if len(names) != sd["fc.weight"].shape[0]:
            raise SystemExit("%d class names for %d classes" % (len(names), sd["fc.weight"].shape[0]))
        meta["pixab.classes"] = ",".join(n.replace(",", " ") for n in names)
    tensors = {k: v.detach().contiguous() for k, v in sd.items() if torch.is_tensor(v)}
    safetensors_io.save(args.dst, tensors, meta)
    print("%s: %d tensors, %d classes" % (args.dst, len(tensors), sd["fc.weight"].shape[0]))


if __name__ == "__main__":
    main()
