"""Train DigitNet on MNIST and write a timm Hub-format `weights/` folder.

    python -m training.train                          # the shipped recipe (2 min on one H200 GPU; about 145 s an epoch on 2 CPU cores)
    python -m training.train --epochs 2 --limit 2000  # a quick smoke run
    torchrun --nproc_per_node 2 -m training.train     # DistributedDataParallel (gloo on CPU, NCCL on GPUs)

Settings are chosen on a validation split cut from the training set (--val-size);
the test set is touched once, after the last epoch, for the report.
"""
import argparse
import hashlib
import os
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
import timm
from timm.utils import ModelEmaV3
from tqdm import tqdm

import digitsinsight  # noqa: F401 - registers the DigitNet family with timm
from digitsinsight.normalise import standardise, to_unit_tensor
from training import checkpoint
from training.augment import AugmentConfig, augment
from training.render import render_as_reader, render_as_sketch
from training.data import DATA_DIR, REPO_ROOT, load_mnist
from training.metrics import evaluate_arrays, fit_temperature, machine_info, write_weights


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m training.train", description=__doc__,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--model", default="digitnet_l", help="timm architecture (digitnet_s, digitnet_m, digitnet_l)")
    p.add_argument("--epochs", type=int, default=32)
    p.add_argument("--batch-size", type=int, default=128, help="global batch size, split across processes")
    p.add_argument("--lr", type=float, default=4e-3, help="peak learning rate of the OneCycle schedule")
    p.add_argument("--weight-decay", type=float, default=5e-4, help="AdamW decoupled weight decay")
    p.add_argument("--label-smoothing", type=float, default=0.1)
    p.add_argument("--ema-decay", type=float, default=0.999, help="0 turns the weight EMA off")
    p.add_argument("--drop-rate", type=float, default=0.1, help="dropout before the classifier")
    p.add_argument("--no-augment", action="store_true", help="train on the digits as they are")
    p.add_argument("--reader-style", type=float, default=0.5,
                   help="share of training digits shown as the reader prepares them: re-drawn at a random size "
                        "and pen width, binarised, and normalised by digitsinsight.normalise.normalise_digit")
    p.add_argument("--sketch-style", type=float, default=0.0,
                   help="share of training digits shown as drawn on a sketchpad: traced into strokes, redrawn "
                        "with a round brush 1/90 to 1/7 of their height wide, and normalised by the reader's code "
                        "(on top of --reader-style; rendered once, cached in the data folder)")
    p.add_argument("--extra-data", action="append", default=[], metavar="SOURCE",
                   help="people's corrections to train on too: a folder the app saved, or "
                        "hf-dataset:ORG/NAME@rev (repeatable); each is cut into digits by the reader. "
                        "They are untrusted: look through them before training on them")
    p.add_argument("--extra-repeat", type=int, default=5,
                   help="how many times per epoch each correction digit is shown (they are few)")
    p.add_argument("--val-size", type=int, default=5000, help="digits held out of training to choose settings")
    p.add_argument("--held-out", choices=("random", "last"), default="last",
                   help="which training digits are held out: a seeded random draw, or the last --val-size "
                        "(with the default 5,000: digits 55,000+, which the line reader and "
                        "bench.reader --digits validation also hold out)")
    p.add_argument("--limit", type=int, default=0, help="use only this many training digits (smoke tests)")
    p.add_argument("--test-limit", type=int, default=0, help="evaluate on only this many test digits")
    p.add_argument("--seed", type=int, default=4, help="4 gave the shipped model")
    p.add_argument("--threads", type=int, default=0, help="CPU threads per process (0: torch's default)")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda")
    p.add_argument("--output", type=Path, default=REPO_ROOT / "weights", help="where the trained model is written")
    p.add_argument("--checkpoint-dir", type=Path, default=REPO_ROOT / "checkpoints")
    p.add_argument("--resume", action="store_true", help="continue from --checkpoint-dir/last.*")
    p.add_argument("--stop-after-epoch", type=int, default=0,
                   help="checkpoint and exit after this epoch (time-sliced runs; continue with --resume)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar (logs stay)")
    return p.parse_args(argv)


def setup_distributed(device_arg: str):
    """Returns (rank, world_size, device). Under torchrun, joins the process group."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = device_arg == "cuda" or (device_arg == "auto" and torch.cuda.is_available())
    device = torch.device(f"cuda:{local_rank}" if use_cuda else "cpu")
    if use_cuda:
        torch.cuda.set_device(device)
    if world > 1:
        dist.init_process_group(backend="nccl" if use_cuda else "gloo")
    return rank, world, device


def split_train_val(images, labels, val_size: int, seed: int, held_out: str = "random"):
    """A fixed split of the 60,000 training digits: a seeded random draw is held out, or the last
    `val_size` digits, so that one set of digits stays unseen by every model the reader uses."""
    if held_out == "last":
        cut = len(labels) - val_size
        val, train = np.arange(cut, len(labels)), np.arange(cut)
    elif held_out == "random":
        order = np.random.default_rng(seed).permutation(len(labels))
        val, train = order[:val_size], order[val_size:]
    else:
        raise ValueError(f"held_out must be 'random' or 'last', not {held_out!r}")
    return (images[train], labels[train]), (images[val], labels[val])


def recipe_split(images, labels, recipe: dict, **overrides):
    """The split a trained model's recipe (its metrics.json) used, unless `overrides` (val_size, seed,
    held_out) say otherwise; recipes from before --held-out drew the validation digits at random."""
    def setting(key, default):
        return overrides[key] if overrides.get(key) is not None else recipe.get(key, default)
    return split_train_val(images, labels, setting("val_size", 5000), setting("seed", 0),
                           setting("held_out", "random"))


@torch.no_grad()
def accuracy(model, images, labels, device, batch_size: int = 1000) -> float:
    return evaluate_arrays(model, images, labels, device, batch_size)["accuracy"]


def add_corrections(sources: list, repeat: int, log) -> tuple:
    """(digits uint8 (N, 28, 28), labels) from corrections people sent, each repeated `repeat` times.
    The reader (bundled or $DIGITSINSIGHT_MODEL weights) cuts them into digits, in the very
    normalisation it reads with."""
    from digitsinsight.corrections import digit_crops
    from digitsinsight.weights import load_model

    xs, ys = [], []
    for source in sources:
        crops, labels, used, skipped = digit_crops(source, load_model())
        log(f"extra data {source}: {len(labels)} digits from {used} corrections "
            f"({skipped} skipped: unreadable, or the reader found a different number of digits)")
        xs.append(crops)
        ys.append(labels)
    x, y = np.concatenate(xs), np.concatenate(ys)
    return np.repeat(x, repeat, axis=0), np.repeat(y, repeat)


def main(argv=None) -> dict:
    args = parse_args(argv)
    rank, world, device = setup_distributed(args.device)
    main_process = rank == 0
    if args.threads:
        torch.set_num_threads(args.threads)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)

    log = (lambda *a: print(*a, flush=True)) if main_process else (lambda *a: None)
    data = load_mnist(verbose=main_process)
    log(f"data: {data.source}")
    (train_x, train_y), (val_x, val_y) = split_train_val(
        data.train_images, data.train_labels, args.val_size, args.seed, args.held_out)
    if args.limit:
        train_x, train_y = train_x[:args.limit], train_y[:args.limit]
    extra = add_corrections(args.extra_data, args.extra_repeat, log) if args.extra_data else None
    args.extra_fingerprint = None
    if extra is not None:
        train_x = np.concatenate([train_x, extra[0]])
        train_y = np.concatenate([train_y.astype(np.int64), extra[1]])
        # A corrections folder keeps growing and a Hub data set moves on: --resume must see the same digits.
        args.extra_fingerprint = hashlib.sha256(extra[0].tobytes() + extra[1].tobytes()).hexdigest()[:16]
    test_x, test_y = data.test_images, data.test_labels
    if args.test_limit:
        test_x, test_y = test_x[:args.test_limit], test_y[:args.test_limit]

    model = timm.create_model(args.model, num_classes=10, drop_rate=args.drop_rate)
    model.to(device=device, memory_format=torch.channels_last)
    n_params = sum(p.numel() for p in model.parameters())
    ema = ModelEmaV3(model, decay=args.ema_decay, use_warmup=True) if args.ema_decay > 0 else None
    ddp_model = torch.nn.parallel.DistributedDataParallel(model) if world > 1 else model

    per_rank_batch = max(1, args.batch_size // world)
    steps_per_epoch = len(train_y) // (per_rank_batch * world)
    if steps_per_epoch < 1:
        raise SystemExit(f"--batch-size {args.batch_size} is larger than the {len(train_y)} training digits")
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=args.lr, total_steps=args.epochs * steps_per_epoch, pct_start=0.15)
    aug_cfg = AugmentConfig()
    gen = torch.Generator(device=device).manual_seed(args.seed * 1000 + rank)

    start_epoch, history, wall_before = 0, [], 0.0
    if args.resume:
        state = checkpoint.load(args.checkpoint_dir, model, ema, optimizer, scheduler, gen)
        saved = state["args"]
        # Checkpoints older than these keys ran with these values.
        before = {"extra_data": [], "held_out": "random", "reader_style": 0.0, "sketch_style": 0.0}
        changed = [k for k in ("model", "epochs", "batch_size", "lr", "val_size", "held_out", "reader_style",
                               "sketch_style", "limit", "seed", "extra_data", "extra_fingerprint")
                   if saved.get(k, before.get(k)) != getattr(args, k)]
        if changed:  # the schedule, the split and the digits shown are fixed at the start of a run
            raise SystemExit(f"--resume: {', '.join(changed)} differ from the checkpointed run; "
                             f"use the same settings ({ {k: saved.get(k, before.get(k)) for k in changed} })")
        start_epoch, history, wall_before = state["epoch"], state["history"], state["wall_seconds"]
        log(f"resumed after epoch {start_epoch} from {args.checkpoint_dir}")

    # The reader shows the model digits it has cut out, binarised and normalised itself; show the
    # model such digits in training too (one rendering per digit, drawn once, seeded).
    reader_x_t = sketch_x_t = None
    if args.reader_style > 0:
        reader_x_t = torch.from_numpy(render_as_reader(train_x, seed=args.seed))
    if args.sketch_style > 0:
        t0 = time.time()
        sketch_x_t = torch.from_numpy(render_as_sketch(train_x, train_y, seed=args.seed, cache_dir=DATA_DIR))
        log(f"sketch-style digits ready in {time.time() - t0:.0f} s")
    train_x_t = torch.from_numpy(train_x)
    train_y_t = torch.from_numpy(train_y.astype(np.int64))
    log(f"model {args.model}: {n_params:,} parameters; {len(train_y)} train / {len(val_y)} val digits; "
        f"{world} process(es) on {device}; {steps_per_epoch} steps per epoch")

    t_run = time.time()
    for epoch in range(start_epoch, args.epochs):
        t0 = time.time()
        ddp_model.train()
        # Every rank draws the same permutation and takes its own slice of each batch.
        perm = torch.randperm(len(train_y), generator=torch.Generator().manual_seed(args.seed + epoch))
        # Which digits are shown reader-style: drawn per epoch, so a run resumed at an epoch sees the same.
        pick_gen = torch.Generator().manual_seed((args.seed * 1000 + rank + 1) * 1000 + epoch)
        total_loss, seen = 0.0, 0
        bar = tqdm(range(steps_per_epoch), desc=f"epoch {epoch + 1}/{args.epochs}", leave=False,
                   disable=args.no_progress or not main_process, file=sys.stderr)
        for step in bar:
            idx = perm[step * per_rank_batch * world:(step + 1) * per_rank_batch * world]
            idx = idx[rank * per_rank_batch:(rank + 1) * per_rank_batch]
            raw = train_x_t[idx]
            if reader_x_t is not None or sketch_x_t is not None:
                u = torch.rand(len(idx), generator=pick_gen)
                if reader_x_t is not None:
                    raw = torch.where((u < args.reader_style)[:, None, None], reader_x_t[idx], raw)
                if sketch_x_t is not None:
                    sketch = (u >= args.reader_style) & (u < args.reader_style + args.sketch_style)
                    raw = torch.where(sketch[:, None, None], sketch_x_t[idx], raw)
            x = to_unit_tensor(raw).to(device)
            y = train_y_t[idx].to(device)
            if not args.no_augment:
                x = augment(x, aug_cfg, gen)
            x = standardise(x).contiguous(memory_format=torch.channels_last)
            loss = F.cross_entropy(ddp_model(x), y, label_smoothing=args.label_smoothing)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            if ema is not None:
                ema.update(model, step=epoch * steps_per_epoch + step)
            total_loss += loss.item() * len(y)
            seen += len(y)
            if step % 20 == 0:
                bar.set_postfix(loss=f"{total_loss / seen:.4f}", lr=f"{scheduler.get_last_lr()[0]:.2e}")

        eval_model = ema.module if ema is not None else model
        val_acc = accuracy(eval_model, val_x, val_y, device) if len(val_y) else float("nan")
        seconds = time.time() - t0
        history.append({"epoch": epoch + 1, "train_loss": round(total_loss / max(seen, 1), 5),
                        "val_accuracy": round(val_acc, 5), "seconds": round(seconds, 1),
                        "lr": scheduler.get_last_lr()[0]})
        log(f"epoch {epoch + 1:3d}/{args.epochs}  loss {total_loss / max(seen, 1):.4f}  "
            f"val acc {100 * val_acc:.2f}%  {seconds:.1f}s")
        if main_process:
            checkpoint.save(args.checkpoint_dir, model, ema, optimizer, scheduler, gen, {
                "epoch": epoch + 1, "history": history, "args": vars(args),
                "wall_seconds": wall_before + time.time() - t_run})
        if args.stop_after_epoch and epoch + 1 == args.stop_after_epoch and epoch + 1 < args.epochs:
            log(f"stopping after epoch {epoch + 1} as asked; continue with --resume")
            if world > 1:
                dist.destroy_process_group()
            return {}

    wall = wall_before + time.time() - t_run
    if world > 1:
        # DDP keeps replicas identical by averaging gradients; check it rather than trust it.
        flat = torch.cat([p.detach().flatten() for p in model.parameters()])
        copies = [torch.empty_like(flat) for _ in range(world)]
        dist.all_gather(copies, flat)
        if not all(torch.equal(copies[0], c) for c in copies):
            raise RuntimeError("DDP replicas diverged")
        log(f"parameters identical on all {world} processes")
    result = {}
    if main_process:
        final = ema.module if ema is not None else model
        recipe = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()
                  if k not in ("output", "checkpoint_dir", "resume", "no_progress", "stop_after_epoch")}
        recipe.update(augment=None if args.no_augment else vars(aug_cfg), optimizer="AdamW",
                      schedule="OneCycleLR(pct_start=0.15)", ema="timm ModelEmaV3 with warmup",
                      processes=world)
        calibration = fit_temperature(final.eval().cpu(), val_x, val_y) if len(val_y) else None
        result = write_weights(
            final, args.model, args.output, test_x, test_y, device,
            extra={"calibration": calibration, "parameters": n_params, "training_wall_seconds": round(wall, 1),
                   "train_digits": int(len(train_y)), "val_digits": int(len(val_y)),
                   "val_accuracy": history[-1]["val_accuracy"] if history else None,
                   "recipe": recipe, "history": history,
                   "machine": machine_info(device)})
        log(f"test accuracy {100 * result['test_accuracy']:.2f}% on {result['test_digits']} digits; "
            f"wall time {wall / 60:.1f} min; wrote {args.output}")
    if world > 1:
        dist.barrier()
        dist.destroy_process_group()
    return result


if __name__ == "__main__":
    main()
