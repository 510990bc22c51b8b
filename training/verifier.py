"""Train the split verifier: is this 28x28 crop exactly one digit?

    python -m training.verifier            # about 6 min on 2 CPU cores; writes weights/verifier/

The digit classifier is sure of almost anything it is shown, fragments of digits and pairs
of touching digits included, so it cannot tell the reader where to cut a blob of touching
digits. This small second model (digitnet_s with two outputs) can: it is trained on crops
made by the reader's own normalisation (digitsinsight.normalise.normalise_digit) from MNIST
*training* digits:

- positives: single digits, re-drawn at a random size and pen width;
- negatives: two or three digits touching, overlapping or close; a digit cut anywhere
  (a fragment); a digit with a sliver of its neighbour; random strokes.

The reader adds its log-probability to the classifier's when it chooses cuts, and flags
pieces it rejects.
"""
import argparse
import json
import time
from pathlib import Path

import cv2
import numpy as np
import timm
import torch
import torch.nn.functional as F
from tqdm import tqdm

import digitsinsight  # noqa: F401 - registers DigitNet with timm
from digitsinsight.normalise import normalise_digit, standardise, to_unit_tensor
from training.augment import AugmentConfig, augment
from training.data import REPO_ROOT, load_mnist
from training.metrics import sha256_file
from training.render import ink_mask
from training.train import split_train_val


def side_by_side(masks: list, gaps: list) -> np.ndarray:
    """Masks placed left to right, bottom-aligned with jitter; a negative gap overlaps them."""
    h = max(m.shape[0] for m in masks)
    xs, x = [], 0
    for i, m in enumerate(masks):
        xs.append(x)
        x += m.shape[1] + (gaps[i] if i < len(gaps) else 0)
    x_min = min(xs)
    width = max(xs[i] - x_min + m.shape[1] for i, m in enumerate(masks))
    out = np.zeros((h + 4, width), np.uint8)
    for m, x0 in zip(masks, xs):
        y0 = (h - m.shape[0]) // 2 + 2
        out[y0:y0 + m.shape[0], x0 - x_min:x0 - x_min + m.shape[1]] |= m
    return out


def make_example(kind: str, images: np.ndarray, rng) -> np.ndarray:
    h = int(rng.integers(24, 90))

    def digit():
        return ink_mask(images[rng.integers(len(images))], h, rng)

    if kind == "one":
        return normalise_digit(digit())
    if kind in ("two", "three"):
        masks = [digit() for _ in range(2 if kind == "two" else 3)]
        gaps = [int(rng.uniform(-0.2, 0.08) * h) for _ in masks[1:]]
        return normalise_digit(side_by_side(masks, gaps))
    if kind == "fragment":
        m = digit()
        w = m.shape[1]
        if w < 6:
            m = side_by_side([m, digit()], [int(rng.uniform(-0.1, 0.05) * h)])
            w = m.shape[1]
        cut = int(rng.uniform(0.25, 0.75) * w)
        part = m[:, :cut] if rng.random() < 0.5 else m[:, cut:]
        return normalise_digit(part) if part.any() else normalise_digit(m[:, : w // 2])
    if kind == "sliver":
        a, b = digit(), digit()
        keep = max(1, int(rng.uniform(0.15, 0.45) * b.shape[1]))
        gap = int(rng.uniform(-0.1, 0.03) * h)
        if rng.random() < 0.5:
            return normalise_digit(side_by_side([a, b[:, :keep]], [gap]))
        return normalise_digit(side_by_side([a[:, -keep:], b], [gap]))
    # "scribble": a few random thick strokes
    canvas = np.zeros((h, int(h * rng.uniform(0.4, 1.6))), np.uint8)
    pts = rng.uniform([0, 0], [canvas.shape[1], h], size=(int(rng.integers(2, 6)), 2)).astype(np.int32)
    cv2.polylines(canvas, [pts], False, 1, thickness=max(1, h // 12))
    return normalise_digit(canvas)


KINDS = {"one": 0.5, "two": 0.17, "three": 0.05, "fragment": 0.15, "sliver": 0.1, "scribble": 0.03}


def make_dataset(images: np.ndarray, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    kinds = rng.choice(list(KINDS), size=n, p=list(KINDS.values()))
    x = np.stack([make_example(k, images, rng) for k in tqdm(kinds, desc="crops", leave=False)])
    return x, (kinds == "one").astype(np.int64)


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(prog="python -m training.verifier", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n-train", type=int, default=80000)
    p.add_argument("--n-val", type=int, default=8000)
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--held-out", choices=("random", "last"), default="last",
                   help="training digits kept out (as training.train): the last 5,000 (55,000+, which the "
                        "classifier, the line reader and bench.reader --digits validation also hold out), "
                        "or a seeded random draw (verifiers trained before this option)")
    p.add_argument("--threads", type=int, default=0, help="CPU threads (0: torch's default)")
    p.add_argument("--output", type=Path, default=REPO_ROOT / "weights" / "verifier")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    t_start = time.time()

    data = load_mnist(verbose=False)
    (train_x, _), (val_x, _) = split_train_val(data.train_images, data.train_labels, 5000, 0, args.held_out)
    x_train, y_train = make_dataset(train_x, args.n_train, args.seed)
    x_val, y_val = make_dataset(val_x, args.n_val, args.seed + 1)

    model = timm.create_model("digitnet_s", num_classes=2, drop_rate=0.1)
    steps = args.epochs * (len(y_train) // args.batch_size)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=steps, pct_start=0.2)
    gen = torch.Generator().manual_seed(args.seed)
    mild = AugmentConfig(rotate_deg=8, scale=0.05, aspect=0.05, shear=0.15, shift_px=1.0, stroke_p=0.2)
    xt, yt = torch.from_numpy(x_train), torch.from_numpy(y_train)
    history = []
    for epoch in range(args.epochs):
        model.train()
        t0 = time.time()
        perm = torch.randperm(len(yt), generator=gen)
        total = 0.0
        for k in tqdm(range(len(yt) // args.batch_size), desc=f"epoch {epoch + 1}", leave=False):
            idx = perm[k * args.batch_size:(k + 1) * args.batch_size]
            x = standardise(augment(to_unit_tensor(xt[idx]), mild, gen))
            loss = F.cross_entropy(model(x), yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item()
        model.eval()
        with torch.no_grad():
            pred = torch.cat([model(standardise(to_unit_tensor(x_val[i:i + 1000]))).argmax(1)
                              for i in range(0, len(x_val), 1000)]).numpy()
        acc = float((pred == y_val).mean())
        history.append({"epoch": epoch + 1, "loss": round(total / max(1, k + 1), 4), "val_accuracy": round(acc, 4),
                        "seconds": round(time.time() - t0, 1)})
        print(json.dumps(history[-1]), flush=True)

    from timm.models import save_for_hf

    args.output.mkdir(parents=True, exist_ok=True)
    model.pretrained_cfg = dict(model.pretrained_cfg, label_names=("not one digit", "one digit"))
    save_for_hf(model, args.output, safe_serialization=True)
    config = json.loads((args.output / "config.json").read_text())
    config.get("model_args", {}).pop("num_classes", None)
    config["label_names"] = ["not one digit", "one digit"]
    (args.output / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    metrics = {"architecture": "digitnet_s", "task": "one digit vs not (split verifier)",
               "val_accuracy": history[-1]["val_accuracy"], "val_crops": len(y_val),
               "history": history, "kinds": KINDS, "train_crops": len(y_train),
               "training_wall_seconds": round(time.time() - t_start, 1),
               "weights_sha256": sha256_file(args.output / "model.safetensors"),
               "recipe": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}}
    (args.output / "metrics.json").write_text(json.dumps(metrics, indent=1) + "\n")
    return metrics


if __name__ == "__main__":
    main()
