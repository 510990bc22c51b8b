"""python -m training.train end to end on a small subset: output folder, checkpoints, resume, DDP, augmentation."""
import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from conftest import REPO_ROOT, subprocess_env
from training.augment import AugmentConfig, augment, jitter_stroke_width

SMALL = ["--limit", "768", "--val-size", "500", "--test-limit", "500", "--batch-size", "128",
         "--no-progress", "--threads", "1"]


def train(tmp_path, name, *args, launcher=(sys.executable, "-m")):
    cmd = [*launcher, "training.train", *SMALL, "--output", str(tmp_path / name / "weights"),
           "--checkpoint-dir", str(tmp_path / name / "ckpt"), *args]
    run = subprocess.run(cmd, env=subprocess_env(), capture_output=True, text=True, timeout=600, cwd=REPO_ROOT)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    return run


def test_help_lists_the_recipe_options():
    run = subprocess.run([sys.executable, "-m", "training.train", "--help"], capture_output=True, text=True,
                         env=subprocess_env(), cwd=REPO_ROOT, timeout=120)
    assert run.returncode == 0
    for option in ("--epochs", "--lr", "--label-smoothing", "--ema-decay", "--resume", "--val-size", "--seed"):
        assert option in run.stdout


def test_training_writes_a_loadable_hub_folder_and_resumes_exactly(tmp_path):
    full = train(tmp_path, "full", "--epochs", "2")
    assert "epoch   1/2" in full.stdout and "val acc" in full.stdout
    weights = tmp_path / "full" / "weights"
    assert sorted(p.name for p in weights.iterdir()) == ["config.json", "metrics.json", "model.safetensors"]
    metrics = json.loads((weights / "metrics.json").read_text())
    assert len(metrics["history"]) == 2 and metrics["test_digits"] == 500
    assert metrics["recipe"]["epochs"] == 2 and metrics["recipe"]["augment"]["rotate_deg"] > 0
    assert metrics["parameters"] > 100_000 and metrics["training_wall_seconds"] > 0
    assert np.array(metrics["confusion_matrix"]).sum() == 500
    import digitsinsight
    model = digitsinsight.load_model(f"local-dir:{weights}")
    assert model(torch.zeros(1, 1, 28, 28)).shape == (1, 10)

    # Same run cut in two: stop after epoch 1, then --resume. The result is the uninterrupted run's.
    half = train(tmp_path, "split", "--epochs", "2", "--stop-after-epoch", "1")
    assert "stopping after epoch 1" in half.stdout
    assert not (tmp_path / "split" / "weights").exists()
    resumed = train(tmp_path, "split", "--epochs", "2", "--resume")
    assert "resumed after epoch 1" in resumed.stdout
    a = load_file(weights / "model.safetensors")
    b = load_file(tmp_path / "split" / "weights" / "model.safetensors")
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)

    # Resuming with a different schedule is refused rather than silently mixing recipes.
    bad = subprocess.run([sys.executable, "-m", "training.train", *SMALL, "--epochs", "3", "--resume",
                          "--checkpoint-dir", str(tmp_path / "split" / "ckpt"), "--output", str(tmp_path / "x")],
                         env=subprocess_env(), capture_output=True, text=True, timeout=300, cwd=REPO_ROOT)
    assert bad.returncode != 0 and "epochs" in bad.stderr
    # ... and so is resuming with other digits shown reader-style, or another hold-out.
    for option, value, key in (("--reader-style", "0", "reader_style"), ("--sketch-style", "0.3", "sketch_style"),
                               ("--held-out", "random", "held_out")):
        other = subprocess.run([sys.executable, "-m", "training.train", *SMALL, "--epochs", "2", "--resume",
                                option, value, "--checkpoint-dir", str(tmp_path / "split" / "ckpt"),
                                "--output", str(tmp_path / "y")],
                               env=subprocess_env(), capture_output=True, text=True, timeout=300, cwd=REPO_ROOT)
        assert other.returncode != 0 and key in other.stderr


def test_distributed_training_on_two_cpu_processes(tmp_path):
    run = train(tmp_path, "ddp", "--epochs", "3", "--ema-decay", "0",
                launcher=(sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
                          "--master_port", "29531", "-m"))
    assert "2 process(es)" in run.stdout and "parameters identical on all 2 processes" in run.stdout
    metrics = json.loads((tmp_path / "ddp" / "weights" / "metrics.json").read_text())
    assert metrics["recipe"]["processes"] == 2
    losses = [h["train_loss"] for h in metrics["history"]]
    assert losses[-1] < 0.85 * losses[0]  # it learns
    assert metrics["test_accuracy"] > 0.2  # 18 steps on 768 digits: above chance (0.1), far from done


def test_augmentation_keeps_shape_range_and_is_seeded(mnist):
    x = torch.from_numpy(mnist.train_images[:64]).float()[:, None] / 255
    a = augment(x, AugmentConfig(), torch.Generator().manual_seed(1))
    b = augment(x, AugmentConfig(), torch.Generator().manual_seed(1))
    assert a.shape == x.shape and a.min() >= 0 and a.max() <= 1
    assert torch.equal(a, b)
    assert not torch.allclose(a, x)
    still = AugmentConfig(rotate_deg=0, scale=0, aspect=0, shear=0, shift_px=0, elastic_p=0, stroke_p=0)
    assert torch.allclose(augment(x, still, torch.Generator().manual_seed(1)), x, atol=1e-5)


def test_stroke_width_jitter_thickens_and_thins(mnist):
    x = torch.from_numpy(mnist.train_images[:256]).float()[:, None] / 255
    thick = jitter_stroke_width(x, AugmentConfig(stroke_p=1.0, thin_max=0.0), torch.Generator().manual_seed(0))
    thin = jitter_stroke_width(x, AugmentConfig(stroke_p=1.0, thicken_max=0.0), torch.Generator().manual_seed(0))
    ink = x.sum(dim=(1, 2, 3))
    assert (thick.sum(dim=(1, 2, 3)) >= ink - 1e-4).all() and (thin.sum(dim=(1, 2, 3)) <= ink + 1e-4).all()
    assert thick.sum() > 1.1 * ink.sum() and thin.sum() < 0.95 * ink.sum()


def test_held_out_last_keeps_the_validation_benchmarks_digits_unseen():
    from training.sequence import SPLIT
    from training.train import split_train_val
    images = np.arange(60_000, dtype=np.int64)  # each "image" is its own index
    (train_x, _), (val_x, _) = split_train_val(images, images, 5000, seed=0, held_out="last")
    assert val_x.min() == SPLIT == 55_000 and train_x.max() == SPLIT - 1   # bench.reader --digits validation
    assert len(train_x) == 55_000 and len(np.intersect1d(train_x, val_x)) == 0
    (train_r, _), (val_r, _) = split_train_val(images, images, 5000, seed=0)
    assert len(val_r) == 5000 and (val_r >= SPLIT).mean() < 0.2             # the older random draw
    with pytest.raises(ValueError):
        split_train_val(images, images, 5000, seed=0, held_out="lats")


def test_sketch_style_digits_are_brush_strokes_the_classifier_reads_and_are_cached(mnist, tmp_path):
    from digitsinsight.reader import classify
    from digitsinsight.weights import load_model
    from training.render import render_as_sketch
    images, labels = mnist.train_images[:120], mnist.train_labels[:120]
    sketched = render_as_sketch(images, labels, seed=3, processes=2, cache_dir=tmp_path)
    assert sketched.shape == images.shape and sketched.dtype == np.uint8
    assert list(tmp_path.glob("sketch_*_3.npz"))                       # kept for the next run
    assert np.array_equal(render_as_sketch(images, labels, seed=3, cache_dir=tmp_path), sketched)
    again = render_as_sketch(images, labels, seed=3, processes=1)       # no cache: drawn again, same seed
    assert np.array_equal(again, sketched)
    assert not np.array_equal(render_as_sketch(images, labels, seed=4, processes=1), sketched)
    # Redrawn, not copied: a round brush of one width leaves few grey levels inside the strokes
    # and moves the ink, yet every digit stays in MNIST's frame and reads as itself.
    assert (np.abs(sketched.astype(int) - images.astype(int)) > 128).mean() > 0.02
    for digit in sketched:  # MNIST's frame: the longer side of the ink fills the 20x20 box
        ys, xs = np.nonzero(digit > 0)
        assert 19 <= max(np.ptp(ys), np.ptp(xs)) + 1 <= 21
    read = classify(sketched, load_model()).argmax(axis=1)
    assert (read == labels).mean() >= 0.95
