"""Train the line reader (digitsinsight/sequence.py) with CTC on synthesised lines of MNIST
*training* digits, and save it as safetensors in weights/sequence/.

    python -m training.sequence --more 40000:2          # the shipped reader (digitline_m)
    python -m training.sequence --model digitline_s --epochs 8 --batch-size 64 --lr 2e-3   # CPU-sized
    python -m training.sequence --samples 2000 --epochs 1 --output /tmp/seq   # a quick try

The shipped reader was trained by the first command on one H200 GPU: 16 epochs of 83,738 lines
took 3 min there, after the 80,000 images were made (about 17 min per 40,000 on 2 CPU cores,
3 min on 4; `--workers`). On 2 CPU cores, digitline_m takes hours; digitline_s (the
second command, 40,000 images) about 40 min and reads about 1 point fewer hard numbers.

The lines are made the way the benchmark makes its sets (bench/synth.py: clean and hard
numbers, sketched digits), but from MNIST's training digits; the benchmark only ever uses
test digits. Every image goes through the reader's own front end (reader.find_lines, then
segment.line_image), so the model trains on exactly what it will see. Images whose layout
does not split into as many lines as the text has are left out.

Digits 0-54,999 of MNIST's training split make the training lines; 55,000-59,999 the
validation lines, scored by whole-line exact match after every epoch.
"""
import argparse
import copy
import json
import math
import multiprocessing as mp
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from digitsinsight import sequence  # noqa: E402
from digitsinsight.image import load_image  # noqa: E402
from digitsinsight.reader import find_lines  # noqa: E402
from digitsinsight.segment import line_image  # noqa: E402

MIX = (("hard", 0.55), ("clean", 0.30), ("sketch", 0.15))
SPLIT = 55_000


def _worker_init(lo: int, hi: int):
    global _POOL
    from bench.synth import training_pool
    _POOL = training_pool(lo, hi)


def _lines_of(job):
    """(kind, index, seed) -> [(uint8 line image, its digits)] for one synthesised image."""
    from bench.synth import clean_number, hard_number, sketch_digit
    kind, i, seed = job
    rng = np.random.default_rng([seed, 7, i])
    sample = {"clean": clean_number, "hard": hard_number, "sketch": sketch_digit}[kind](rng, _POOL)
    page = find_lines(load_image(sample.image))
    texts = sample.text.split("\n")
    if isinstance(page, str) or len(page.layout.lines) != len(texts):
        return []
    return [(line_image(page.layout.labels, line).pixels, text) for line, text in zip(page.layout.lines, texts)]


def generate(n: int, seed: int, digits: tuple, workers: int = 2) -> dict:
    """n images -> {"pixels": (32, total width) uint8, "widths", "texts"}: lines packed side by side."""
    rng = np.random.default_rng(seed)
    kinds = rng.choice([k for k, _ in MIX], size=n, p=[p for _, p in MIX])
    jobs = [(str(k), i, seed) for i, k in enumerate(kinds)]
    ctx = mp.get_context("fork")
    lines = []
    t0 = time.time()
    with ctx.Pool(workers, initializer=_worker_init, initargs=digits) as pool:
        for k, out in enumerate(pool.imap(_lines_of, jobs, chunksize=32)):
            lines.extend(out)
            if (k + 1) % 2000 == 0:
                print(f"  {k + 1}/{n} images, {len(lines)} lines, {time.time() - t0:.0f} s", flush=True)
    return {"pixels": np.concatenate([p for p, _ in lines], axis=1),
            "widths": np.array([p.shape[1] for p, _ in lines], np.int64),
            "texts": np.array([t for _, t in lines])}


def unpack(data) -> tuple[list, list]:
    ends = np.cumsum(data["widths"])
    starts = ends - data["widths"]
    pixels = data["pixels"]
    return [pixels[:, a:b] for a, b in zip(starts, ends)], [str(t) for t in data["texts"]]


def load_or_generate(path: Path, n: int, seed: int, digits: tuple, workers: int = 2) -> tuple[list, list]:
    if path.exists():
        with np.load(path, allow_pickle=False) as data:
            return unpack(data)
    print(f"generating {n} images -> {path}", flush=True)
    data = generate(n, seed, digits, workers)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **data)
    return unpack(data)


def augment(pixels: np.ndarray, rng) -> np.ndarray:
    """Width jitter: people write narrower and wider than the synthesiser does."""
    f = float(np.exp(rng.uniform(-0.2, 0.2)))
    w = max(8, int(round(pixels.shape[1] * f)))
    return cv2.resize(pixels, (w, pixels.shape[0]), interpolation=cv2.INTER_LINEAR)


def batches(pixels, texts, batch_size, rng, train=True):
    """Batches of similar width (little padding), in random order."""
    order = np.argsort([p.shape[1] + (rng.uniform(0, 24) if train else 0) for p in pixels])
    groups = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    if train:
        rng.shuffle(groups)
    for g in groups:
        imgs = [augment(pixels[i], rng) if train else pixels[i] for i in g]
        yield imgs, [texts[i] for i in g]


def ctc_batch(imgs, texts, model, device="cpu"):
    x, frames = sequence.to_line_input(imgs)
    log_probs = F.log_softmax(model(x.to(device)).float(), dim=2)   # (N, T, C)
    targets = torch.tensor([int(c) + 1 for t in texts for c in t], dtype=torch.long)
    target_lengths = torch.tensor([len(t) for t in texts], dtype=torch.long)
    input_lengths = torch.tensor(frames, dtype=torch.long)
    return F.ctc_loss(log_probs.transpose(0, 1), targets.to(device), input_lengths, target_lengths,
                      blank=sequence.BLANK, zero_infinity=True)


@torch.no_grad()
def exact_match(model, pixels, texts) -> float:
    model.eval()
    right = 0
    for i in range(0, len(pixels), 128):
        decoded = sequence.read_lines(pixels[i:i + 128], model)
        right += sum(d.text == t for d, t in zip(decoded, texts[i:i + 128]))
    return right / max(1, len(pixels))


def save(model, args, argv, history, training_lines: int, validation_lines: int, device) -> dict:
    """The model as safetensors with its config, and metrics.json (history, command, SHA-256)."""
    from timm.models import save_for_hf

    from digitsinsight.weights import sha256_file
    from training.metrics import machine_info

    args.output.mkdir(parents=True, exist_ok=True)
    save_for_hf(copy.deepcopy(model).eval().cpu(), args.output, safe_serialization=True)
    metrics = {"architecture": model.pretrained_cfg.get("architecture", args.model), "device": str(device),
               "training_lines": training_lines, "validation_lines": validation_lines,
               "validation_exact_match": history[-1]["val_exact_match"] if history else None,
               "epochs": len(history), "training_seconds": round(sum(h["seconds"] for h in history), 1),
               "history": history, "mix": dict(MIX), "machine": machine_info(device),
               "command": "python -m training.sequence " + " ".join(argv if argv is not None else sys.argv[1:]),
               "weights_sha256": sha256_file(args.output / "model.safetensors")}
    if args.init and (args.init / "metrics.json").exists():  # how the starting point was made, for the record
        started = json.loads((args.init / "metrics.json").read_text())
        metrics["init"] = {k: started.get(k) for k in ("command", "training_lines", "history", "init")}
    (args.output / "metrics.json").write_text(json.dumps(metrics, indent=1) + "\n")
    return metrics


def main(argv=None) -> dict:
    import timm

    p = argparse.ArgumentParser(prog="python -m training.sequence", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="digitline_m", choices=("digitline_s", "digitline_m"))
    p.add_argument("--device", default="auto", help="auto (a GPU if there is one), cpu or cuda")
    p.add_argument("--workers", type=int, default=2, help="processes that synthesise the lines")
    p.add_argument("--samples", type=int, default=40_000, help="synthesised training images")
    p.add_argument("--val-samples", type=int, default=1_500)
    p.add_argument("--epochs", type=int, default=16)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--more", nargs="*", default=[], metavar="N:SEED",
                   help="further generated sets (N images, generator seed SEED) to train on as well")
    p.add_argument("--init", type=Path, help="start from this saved line reader (a folder) instead of at random")
    p.add_argument("--data-dir", type=Path, default=REPO_ROOT / "data")
    p.add_argument("--output", type=Path, default=REPO_ROOT / "weights" / "sequence")
    args = p.parse_args(argv)

    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    train_x, train_y = load_or_generate(args.data_dir / f"lines_train_{args.samples}_{args.seed}.npz",
                                        args.samples, 1000 + args.seed, (0, SPLIT), args.workers)
    val_x, val_y = load_or_generate(args.data_dir / f"lines_val_{args.val_samples}_{args.seed}.npz",
                                    args.val_samples, 2000 + args.seed, (SPLIT, 60_000), args.workers)
    for spec in args.more:
        n, seed = (int(v) for v in spec.split(":"))
        more_x, more_y = load_or_generate(args.data_dir / f"lines_train_{n}_{seed}.npz", n, 1000 + seed, (0, SPLIT),
                                          args.workers)
        train_x, train_y = train_x + more_x, train_y + more_y
    print(f"{len(train_x)} training lines, {len(val_x)} validation lines", flush=True)

    model = (timm.create_model(f"local-dir:{args.init}", pretrained=True) if args.init
             else timm.create_model(args.model))
    device = torch.device("cuda" if args.device == "auto" and torch.cuda.is_available()
                          else "cpu" if args.device == "auto" else args.device)
    model.to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    steps = args.epochs * math.ceil(len(train_x) / args.batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=steps, pct_start=0.15)
    history, metrics = [], {}
    for epoch in range(args.epochs):
        model.train()
        t0, losses = time.time(), []
        for imgs, texts in batches(train_x, train_y, args.batch_size, rng):
            loss = ctc_batch(imgs, texts, model, device)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            sched.step()
            losses.append(loss.detach())  # no GPU sync per step
        acc = exact_match(model, val_x, val_y)
        history.append({"epoch": epoch + 1, "loss": float(torch.stack(losses).mean()), "val_exact_match": acc,
                        "seconds": round(time.time() - t0, 1)})
        print(json.dumps(history[-1]), flush=True)
        # Saved after every epoch, so a run stopped early (a time limit, a lost machine) leaves a reader.
        metrics = save(model, args, argv, history, len(train_x), len(val_x), device)
    print(f"saved {args.output}", flush=True)
    return metrics


if __name__ == "__main__":
    main()
