"""Fit the confidence temperature of a trained model on the validation digits, and record it.

    python -m training.calibrate                 # the bundled weights/: updates weights/metrics.json

Uses the same validation split as training (held out of the training digits, never the test
set). The reader divides logits by this temperature, so a digit read at 99% is right about
99% of the time. training.train runs this at the end of every run.
"""
import argparse
import json
import sys
from pathlib import Path

from digitsinsight.weights import BUNDLED_WEIGHTS, load_model
from training.data import load_mnist
from training.metrics import fit_temperature


def calibrate_folder(folder: Path, val_size: int | None = None, seed: int | None = None) -> dict:
    from training.train import recipe_split

    metrics_file = folder / "metrics.json"
    metrics = json.loads(metrics_file.read_text())
    data = load_mnist(verbose=False)
    # By default, the very split the model was trained with.
    _, (val_x, val_y) = recipe_split(data.train_images, data.train_labels, metrics.get("recipe", {}),
                                     val_size=val_size, seed=seed)
    result = fit_temperature(load_model(f"local-dir:{folder}"), val_x, val_y)
    metrics["calibration"] = result
    metrics_file.write_text(json.dumps(metrics, indent=1) + "\n")
    return result


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(prog="python -m training.calibrate", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--weights", type=Path, default=BUNDLED_WEIGHTS)
    p.add_argument("--val-size", type=int, default=None, help="default: the recipe's in metrics.json")
    p.add_argument("--seed", type=int, default=None, help="default: the recipe's in metrics.json")
    args = p.parse_args(argv)
    result = calibrate_folder(args.weights, args.val_size, args.seed)
    json.dump(result, sys.stdout, indent=1)
    print()
    return result


if __name__ == "__main__":
    main()
