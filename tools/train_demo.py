#!/usr/bin/python3
"""Train pixab's demo model: a reduced-width Inception-V3 on `pixab synth` data.

Generates (or reuses) a training set and a held-out set with the built
binary (`build/pixab synth`), trains torchvision's Inception3 at width
divisor D (tools/make_goldens.py's build_model; 299 input, so the last block
is 8x8 as in the full model) as multi-label classification (BCEWithLogits over
the 8 classes; images hold 1-3 objects) with AdamW on the CPU for a wall-clock
budget, evaluates on the held-out set (an image with k objects is correct when
its k classes are exactly the k largest logits), and, when the held-out
accuracy reaches --min-acc, exports a safetensors checkpoint with all
torchvision state-dict keys and pixab metadata. Finally it checks that
`pixab classify` gives the same top-k as torch on held-out images.

Preprocessing is DESIGN.md §3: uint8/255, (x - 0.5)/0.5 (the images are
already 299x299, so no resize). See tools/README.md for the commands.
"""

import argparse
import copy
import datetime
import json
import math
import os
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import safetensors_io  # noqa: E402
from make_goldens import build_model, check_topology, normalise  # noqa: E402

INPUT_SIZE = 299


# ----------------------------------------------------------------- data

def ensure_set(pixab, outdir, n, seed):
    """Run `pixab synth` unless outdir already holds >= n images of that seed."""
    stamp = os.path.join(outdir, "synth.json")
    ann = os.path.join(outdir, "annotations.jsonl")
    ok = False
    if os.path.exists(stamp) and os.path.exists(ann):
        with open(stamp) as f:
            st = json.load(f)
        ok = st.get("seed") == seed and st.get("n", 0) >= n
    if not ok:
        os.makedirs(outdir, exist_ok=True)
        t0 = time.time()
        subprocess.run([pixab, "synth", "-o", outdir, "-n", str(n), "--seed", str(seed)],
                       check=True)
        with open(stamp, "w") as f:
            json.dump({"seed": seed, "n": n}, f)
        print("synth: %d images (seed %d) in %.1f s -> %s" % (n, seed, time.time() - t0, outdir),
              flush=True)
    with open(os.path.join(outdir, "classes.txt")) as f:
        classes = [l.strip() for l in f if l.strip()]
    recs = []
    with open(ann) as f:
        for line in f:
            if line.strip():
                recs.append(json.loads(line))
    recs = recs[:n]
    if len(recs) < n:
        raise SystemExit("%s: %d annotations, need %d" % (ann, len(recs), n))
    return classes, recs


def load_set(outdir, recs, ncls):
    """uint8 [N,299,299,3] images (cached as .npy next to the PNGs) and
    multi-hot float32 [N,ncls] labels."""
    n = len(recs)
    cache = os.path.join(outdir, "images_u8_%d.npy" % n)
    if os.path.exists(cache):
        x = np.load(cache, mmap_mode=None)
    else:
        t0 = time.time()
        x = np.empty((n, INPUT_SIZE, INPUT_SIZE, 3), dtype=np.uint8)
        for i, r in enumerate(recs):
            im = np.asarray(Image.open(os.path.join(outdir, r["image"])).convert("RGB"),
                            dtype=np.uint8)
            assert im.shape == (INPUT_SIZE, INPUT_SIZE, 3), (r["image"], im.shape)
            x[i] = im
        np.save(cache, x)
        print("decoded %d PNGs in %.1f s (cached %s)" % (n, time.time() - t0, cache), flush=True)
    y = np.zeros((n, ncls), dtype=np.float32)
    for i, r in enumerate(recs):
        for o in r["objects"]:
            y[i, o["class"]] = 1.0
    return x, y


def augment(xb, rng):
    """Label-preserving flips / transposes of a uint8 NHWC batch (no boxes used)."""
    out = np.empty_like(xb)
    for i in range(xb.shape[0]):
        im = xb[i]
        if rng.random() < 0.5:
            im = im[:, ::-1]
        if rng.random() < 0.5:
            im = im[::-1, :]
        if rng.random() < 0.5:
            im = im.transpose(1, 0, 2)
        out[i] = im
    return out


# ----------------------------------------------------------------- eval

@torch.no_grad()
def predict(model, x_u8, batch=50, channels_last=False):
    model.eval()
    outs = []
    for i in range(0, x_u8.shape[0], batch):
        x = normalise(x_u8[i:i + batch])
        if channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        outs.append(model(x))
    return torch.cat(outs).numpy()


def topk_accuracy(logits, y):
    """An image with k objects is correct when its k classes are the k largest logits.
    Returns (overall, {k: (correct, count)})."""
    per_k = {}
    correct = 0
    order = np.argsort(-logits, axis=1, kind="stable")
    for i in range(logits.shape[0]):
        truth = set(np.nonzero(y[i] > 0.5)[0].tolist())
        k = len(truth)
        ok = set(order[i, :k].tolist()) == truth
        c, t = per_k.get(k, (0, 0))
        per_k[k] = (c + ok, t + 1)
        correct += ok
    return correct / logits.shape[0], dict(sorted(per_k.items()))


def fmt_acc(acc, per_k):
    return "%.2f%% (%s)" % (100 * acc, ", ".join(
        "k=%d %d/%d %.1f%%" % (k, c, t, 100 * c / t) for k, (c, t) in per_k.items()))


# ----------------------------------------------------------------- export / verify

def export(model, path, dtype, classes, note):
    sd = model.state_dict()
    tensors = {}
    for k, v in sd.items():
        if v.is_floating_point():
            tensors[k] = v.detach().to(torch.float16 if dtype == "f16" else torch.float32).contiguous()
        else:
            tensors[k] = v.detach().to(torch.int64)  # num_batches_tracked: I64 scalar
    meta = {
        "pixab.mean": "0.5,0.5,0.5",
        "pixab.std": "0.5,0.5,0.5",
        "pixab.input_size": str(INPUT_SIZE),
        "pixab.classes": ",".join(classes),
        "pixab.note": note,
    }
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    safetensors_io.save(path, tensors, meta)


def load_export(path, width_div, ncls):
    arrays, meta = safetensors_io.load(path, float32=True)
    model = build_model(width_div, ncls)
    model.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v))
                           for k, v in arrays.items()}, strict=True)
    model.eval()
    return model, meta


def verify_pixab(pixab, model_path, width_div, classes, test_dir, recs, x_test, n):
    """pixab classify vs torch (the exported file read back) on n held-out images."""
    model, _ = load_export(model_path, width_div, len(classes))
    ref = predict(model, x_test[:n])
    paths = [os.path.join(test_dir, r["image"]) for r in recs[:n]]
    npy = os.path.join(ROOT, "build", "demo-train", "pixab_logits.npy")
    os.makedirs(os.path.dirname(npy), exist_ok=True)
    k = len(classes)
    r = subprocess.run([pixab, "classify", "--device", "cpu", "-w", model_path, "--top", str(k),
                        "--logits", npy] + paths, check=True, capture_output=True, text=True)
    got = np.load(npy)
    lines = [json.loads(l) for l in r.stdout.splitlines() if l.strip()]
    assert len(lines) == n and got.shape == ref.shape, (len(lines), got.shape, ref.shape)
    same_order = 0
    same_top3 = 0
    for i in range(n):
        t_order = np.argsort(-ref[i], kind="stable").tolist()
        p_order = [int(c) for c, _ in lines[i]["top"]]
        same_order += p_order == t_order
        same_top3 += p_order[:3] == t_order[:3]
    diff = float(np.abs(got - ref).max())
    print("pixab vs torch on %d held-out images: full ranking identical %d/%d, top-3 identical "
          "%d/%d, max |logit diff| %.3g (logit range %.2f..%.2f)"
          % (n, same_order, n, same_top3, n, diff, ref.min(), ref.max()), flush=True)
    print("first pixab line:", r.stdout.splitlines()[0], flush=True)
    return same_top3 == n and diff < 1e-3 * max(1.0, float(np.abs(ref).max()))


# ----------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pixab", default=os.path.join(ROOT, "build", "pixab"))
    ap.add_argument("--data-dir", default=os.path.join(ROOT, "build", "demo-data"))
    ap.add_argument("--n-train", type=int, default=6000)
    ap.add_argument("--n-test", type=int, default=500)
    ap.add_argument("--train-seed", type=int, default=1)
    ap.add_argument("--test-seed", type=int, default=2)
    ap.add_argument("--width-div", type=int, default=8)
    ap.add_argument("--minutes", type=float, default=30.0,
                    help="wall-clock training budget (data generation excluded)")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--wd", type=float, default=1e-4)
    ap.add_argument("--warmup", type=float, default=0.03, help="fraction of the budget")
    ap.add_argument("--eval-every", type=float, default=180.0, help="seconds between evaluations")
    ap.add_argument("--target-acc", type=float, default=0.95, help="stop early at this accuracy")
    ap.add_argument("--min-acc", type=float, default=0.90, help="export only at this accuracy")
    ap.add_argument("--out", default=os.path.join(ROOT, "models", "pixab-demo.safetensors"))
    ap.add_argument("--ckpt", default=os.path.join(ROOT, "build", "demo-train", "best.pt"))
    ap.add_argument("--resume", action="store_true", help="start from --ckpt")
    ap.add_argument("--dtype", choices=["auto", "f32", "f16"], default="auto",
                    help="auto: f32 if the file stays <= 8 MB, else f16")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-channels-last", dest="channels_last", action="store_false",
                    help="train in NCHW (channels_last is ~30%% faster on the CPU)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--verify-only", action="store_true",
                    help="only run the pixab-vs-torch check on --out")
    ap.add_argument("--verify-n", type=int, default=20)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    if not os.path.exists(args.pixab):
        subprocess.run(["sh", os.path.join(HERE, "setup.sh")], check=True, cwd=ROOT)

    train_dir = os.path.join(args.data_dir, "train")
    test_dir = os.path.join(args.data_dir, "test")
    classes, test_recs = ensure_set(args.pixab, test_dir, args.n_test, args.test_seed)
    ncls = len(classes)
    x_test, y_test = load_set(test_dir, test_recs, ncls)

    if args.verify_only:
        ok = verify_pixab(args.pixab, args.out, args.width_div, classes, test_dir, test_recs,
                          x_test, args.verify_n)
        sys.exit(0 if ok else 1)

    classes_tr, train_recs = ensure_set(args.pixab, train_dir, args.n_train, args.train_seed)
    assert classes_tr == classes, (classes_tr, classes)
    x_train, y_train = load_set(train_dir, train_recs, ncls)
    print("train %d images, test %d images, classes %s" % (len(x_train), len(x_test),
                                                            ",".join(classes)), flush=True)

    model = build_model(args.width_div, ncls)
    check_topology(model, args.width_div, ncls)
    if args.resume:
        model.load_state_dict(torch.load(args.ckpt)["state_dict"])
    if args.channels_last:
        model = model.to(memory_format=torch.channels_last)
    aux = model.AuxLogits
    model.AuxLogits = None      # not computed while training (its loss would be ignored)
    model.aux_logits = False
    nparam = sum(p.numel() for p in model.parameters())
    print("model: Inception3 width/%d, %d trainable parameters" % (args.width_div, nparam),
          flush=True)

    decay, no_decay = [], []
    for n_, p in model.named_parameters():
        (no_decay if p.dim() == 1 else decay).append(p)
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.wd},
                             {"params": no_decay, "weight_decay": 0.0}], lr=args.lr)
    pos_weight = None
    budget = args.minutes * 60.0
    t_start = time.time()
    t_last_eval = t_start
    seen = 0
    step = 0
    best = {"acc": -1.0}
    history = []
    run_loss = None
    perm = rng.permutation(len(x_train))
    pi = 0

    def evaluate(final=False):
        logits = predict(model, x_test, channels_last=args.channels_last)
        acc, per_k = topk_accuracy(logits, y_test)
        el = time.time() - t_start
        history.append((round(el / 60, 2), seen, round(acc, 4)))
        print("[%6.1f min] seen %d (%.2f epochs) loss %.4f held-out %s%s"
              % (el / 60, seen, seen / len(x_train), run_loss or float("nan"),
                 fmt_acc(acc, per_k), " FINAL" if final else ""), flush=True)
        if acc > best["acc"]:
            best.update(acc=acc, per_k=per_k, seen=seen, minutes=el / 60,
                        state=copy.deepcopy(model.state_dict()))
            os.makedirs(os.path.dirname(args.ckpt), exist_ok=True)
            torch.save({"state_dict": best["state"], "acc": acc, "per_k": per_k, "seen": seen,
                        "width_div": args.width_div, "classes": classes}, args.ckpt)
        model.train()
        return acc

    model.train()
    stop_reason = "budget"
    while True:
        el = time.time() - t_start
        if el >= budget:
            break
        frac = el / budget
        if frac < args.warmup:
            lr = args.lr * max(frac / args.warmup, 0.02)
        else:
            lr = args.lr * 0.5 * (1 + math.cos(math.pi * (frac - args.warmup) / (1 - args.warmup)))
        for g in opt.param_groups:
            g["lr"] = lr
        if pi + args.batch > len(perm):
            perm = rng.permutation(len(x_train))
            pi = 0
        idx = np.sort(perm[pi:pi + args.batch])
        pi += args.batch
        xb = normalise(augment(x_train[idx], rng))
        if args.channels_last:
            xb = xb.contiguous(memory_format=torch.channels_last)
        yb = torch.from_numpy(y_train[idx])
        out = model(xb)
        loss = F.binary_cross_entropy_with_logits(out, yb, pos_weight=pos_weight)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        seen += len(idx)
        step += 1
        lv = float(loss)
        run_loss = lv if run_loss is None else 0.98 * run_loss + 0.02 * lv
        if step % 20 == 0:
            print("  step %d seen %d lr %.2e loss %.4f  %.1f img/s"
                  % (step, seen, lr, run_loss, seen / (time.time() - t_start)), flush=True)
        if time.time() - t_last_eval >= args.eval_every:
            t_last_eval = time.time()
            if evaluate() >= args.target_acc:
                stop_reason = "target accuracy"
                break
    train_s = time.time() - t_start
    ips = seen / train_s
    if stop_reason == "budget":
        evaluate(final=True)
    print("stopped (%s) after %.1f min, %d images seen (%.2f epochs), %.1f img/s; "
          "best held-out %s at %.1f min" % (stop_reason, train_s / 60, seen,
                                             seen / len(x_train), ips,
                                             fmt_acc(best["acc"], best["per_k"]),
                                             best["minutes"]), flush=True)
    print("history (min, seen, acc):", history, flush=True)

    # restore the full topology (AuxLogits keeps its initial weights: pixab ignores it)
    model.AuxLogits = aux
    model.aux_logits = True
    model.load_state_dict(best["state"], strict=False)
    model = model.to(memory_format=torch.contiguous_format)
    model.eval()
    if best["acc"] < args.min_acc:
        print("held-out accuracy %.2f%% < %.0f%%: not exporting; best checkpoint in %s"
              % (100 * best["acc"], 100 * args.min_acc, args.ckpt), flush=True)
        sys.exit(2)

    date = datetime.date.today().isoformat()
    per_k_s = ", ".join("k=%d %.1f%% (%d/%d)" % (k, 100 * c / t, c, t)
                        for k, (c, t) in best["per_k"].items())
    note = ("pixab demo model: torchvision Inception3 at width/%d, %d classes, trained by "
            "tools/train_demo.py on %d 'pixab synth --seed %d' images (multi-label "
            "BCEWithLogits, AdamW lr %g wd %g, batch %d, flips/transposes, cosine schedule) "
            "for %.1f min on %d CPU threads (%d images seen, %.1f img/s); held-out accuracy "
            "(%d images, seed %d; k objects -> all k in the top k) %.1f%%: %s; %s. "
            "AuxLogits untrained." % (
                args.width_div, ncls, len(x_train), args.train_seed, args.lr, args.wd,
                args.batch, train_s / 60, args.threads, seen, ips, len(x_test),
                args.test_seed, 100 * best["acc"], per_k_s, date))
    dtype = args.dtype
    if dtype == "auto":
        nbytes = sum(v.numel() * 4 for v in model.state_dict().values())
        dtype = "f32" if nbytes <= 7.5e6 else "f16"
    export(model, args.out, dtype, classes, note)
    m2, meta = load_export(args.out, args.width_div, ncls)
    acc2, per_k2 = topk_accuracy(predict(m2, x_test), y_test)
    print("exported %s (%s, %d bytes); read back: held-out %s"
          % (args.out, dtype, os.path.getsize(args.out), fmt_acc(acc2, per_k2)), flush=True)
    print("note:", meta["pixab.note"], flush=True)
    ok = verify_pixab(args.pixab, args.out, args.width_div, classes, test_dir, test_recs,
                      x_test, args.verify_n)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
