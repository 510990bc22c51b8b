"""Classical baselines beside the CNN, so users see what deep learning buys.

    python -m training.baselines                # k-NN and RBF SVM, both on PCA features
    python -m training.baselines --limit 5000   # quicker, on fewer training digits

Both are trained with scikit-learn on the same training split as the CNN (the
validation digits held out the same way) and scored on the 10,000 test digits.
The CNN's row is measured in the same run. Writes weights/baselines.json.
"""
import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.decomposition import PCA
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.svm import SVC

from digitsinsight.weights import BUNDLED_WEIGHTS, load_model
from training.data import load_mnist
from training.metrics import predict_proba
from training.train import recipe_split


def baseline_models() -> dict:
    return {
        "k-NN (k=4, distance-weighted, PCA 40)": make_pipeline(
            PCA(n_components=40, random_state=0), KNeighborsClassifier(n_neighbors=4, weights="distance")),
        "SVM (RBF, C=10, PCA 50)": make_pipeline(
            PCA(n_components=50, random_state=0), SVC(kernel="rbf", C=10, gamma="scale")),
    }


def timed(fn, *args):
    t0 = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - t0


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(prog="python -m training.baselines", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--limit", type=int, default=0, help="train on only the first N training digits")
    p.add_argument("--val-size", type=int, default=None, help="default: the CNN's recipe in its metrics.json")
    p.add_argument("--seed", type=int, default=None, help="default: the CNN's recipe")
    p.add_argument("--held-out", choices=("random", "last"), default=None, help="default: the CNN's recipe")
    p.add_argument("--model", default=None, help="CNN source for its row (default: bundled weights/)")
    p.add_argument("--out", type=Path, default=BUNDLED_WEIGHTS / "baselines.json")
    args = p.parse_args(argv)

    data = load_mnist(verbose=False)
    cnn = load_model(args.model)
    metrics_file = Path(cnn.pretrained_cfg["folder"]) / "metrics.json"
    metrics = json.loads(metrics_file.read_text()) if metrics_file.exists() else {}
    # The CNN's own training split, so all three learn from the same digits.
    (train_x, train_y), _ = recipe_split(data.train_images, data.train_labels, metrics.get("recipe", {}),
                                         val_size=args.val_size, seed=args.seed, held_out=args.held_out)
    if args.limit:
        train_x, train_y = train_x[:args.limit], train_y[:args.limit]
    flat_train = train_x.reshape(len(train_x), -1).astype(np.float32) / 255
    flat_test = data.test_images.reshape(len(data.test_images), -1).astype(np.float32) / 255
    test_y = data.test_labels

    rows = []
    for name, clf in baseline_models().items():
        print(f"fitting {name} on {len(train_y)} digits ...", file=sys.stderr, flush=True)
        _, fit_s = timed(clf.fit, flat_train, train_y)
        pred, predict_s = timed(clf.predict, flat_test)
        rows.append({"model": name, "test_accuracy": round(float((pred == test_y).mean()), 5),
                     "fit_seconds": round(fit_s, 2), "predict_seconds": round(predict_s, 2)})

    probs, predict_s = timed(predict_proba, cnn, data.test_images)
    rows.append({"model": f"DigitNet CNN ({metrics.get('architecture', 'digitnet')})",
                 "test_accuracy": round(float((probs.argmax(1) == test_y).mean()), 5),
                 "fit_seconds": metrics.get("training_wall_seconds"),
                 "predict_seconds": round(predict_s, 2)})

    result = {"train_digits": int(len(train_y)), "test_digits": int(len(test_y)), "rows": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    json.dump(result, sys.stdout, indent=1)
    print()
    return result


if __name__ == "__main__":
    main()
