"""Corrections people choose to send: "Wrong? Type the right number".

Nothing is stored without the person's consent. With it, the input (as the grey image the
reader saw, at most 1600 px) is saved as a PNG and one JSON line is appended to
corrections.jsonl in a local folder (default `corrections/`, git-ignored; set
DIGITSINSIGHT_CORRECTIONS_DIR). When DIGITSINSIGHT_CORRECTIONS_REPO names a Hugging Face
dataset repo, huggingface_hub's CommitScheduler pushes the folder there in batches from a
background thread, so saving never waits for the network.

`python -m training.train --extra-data <folder or hf-dataset:ORG/NAME@rev>` trains on them:
`digit_crops()` turns each correction into per-digit 28x28 crops with the reader's own
segmentation.
"""
import json
import os
import re
import threading
import time
import uuid
from contextlib import nullcontext
from pathlib import Path

import numpy as np
from PIL import Image

from .image import ImageError, load_image

DIR_ENV = "DIGITSINSIGHT_CORRECTIONS_DIR"
REPO_ENV = "DIGITSINSIGHT_CORRECTIONS_REPO"
DEFAULT_DIR = Path(__file__).resolve().parent.parent / "corrections"
LOG_NAME = "corrections.jsonl"
MAX_LABEL_DIGITS = 64
PUSH_EVERY_MINUTES = 5

PRIVACY_NOTICE = (
    "Only if you tick the box: the image you gave (in grey, at most 1600 px) and the number you type are "
    "stored by this app to improve the model, and may be published in a training data set. "
    "Nothing else is stored: no name, address or account. Do not send images that show personal details.")

_lock = threading.Lock()
_schedulers: dict = {}


class CorrectionError(ValueError):
    """The correction cannot be saved; the message says why, in plain words."""


def folder() -> Path:
    return Path(os.environ.get(DIR_ENV) or DEFAULT_DIR).expanduser()


def clean_label(text) -> str:
    """The typed number as digits (lines kept apart by "\\n"); spaces and separators people type are dropped."""
    if text is None or not str(text).strip():
        raise CorrectionError("Type the right number first.")
    # Separators people type between digits ("1 234", "1,234", "555-1234") go; a leading sign stays and fails.
    lines = [re.sub(r"(?<=\d)[\s.,'’_-]+(?=\d)", "", line.strip()) for line in str(text).strip().splitlines()]
    lines = [line for line in lines if line]
    if not lines or not all(line.isascii() and line.isdigit() for line in lines):
        raise CorrectionError("Type the number with the digits 0-9 only (no letters or signs).")
    if sum(map(len, lines)) > MAX_LABEL_DIGITS:
        raise CorrectionError(f"That is more than {MAX_LABEL_DIGITS} digits; a correction is one number.")
    return "\n".join(lines)


def _scheduler(path: Path, repo_id: str, hf_api=None):
    """One CommitScheduler per (folder, repo), started on first use."""
    from huggingface_hub import CommitScheduler

    key = (str(path), repo_id)
    if key not in _schedulers:
        _schedulers[key] = CommitScheduler(repo_id=repo_id, repo_type="dataset", folder_path=path,
                                           path_in_repo="corrections", every=PUSH_EVERY_MINUTES,
                                           private=True, hf_api=hf_api)
    return _schedulers[key]


def save_correction(image, label, consent: bool, read_as: str = "", path: Path | None = None,
                    repo_id: str | None = None, hf_api=None) -> dict:
    """Store one correction; returns its JSON record. Raises CorrectionError with a plain message."""
    if not consent:
        raise CorrectionError("Nothing was saved: tick the box to agree to sending the image first.")
    label = clean_label(label)
    try:
        grey = load_image(image).grey
    except ImageError as e:
        raise CorrectionError(f"Nothing was saved: {e}") from None
    path = Path(path or folder())
    repo_id = repo_id if repo_id is not None else os.environ.get(REPO_ENV, "")
    path.mkdir(parents=True, exist_ok=True)
    scheduler = _scheduler(path, repo_id, hf_api) if repo_id else None
    name = f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:8]}.png"
    record = {"file": name, "label": label, "read_as": str(read_as or ""),
              "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    # The scheduler's lock keeps a push from catching a half-written file.
    with _lock, (scheduler.lock if scheduler else nullcontext()):
        Image.fromarray((np.clip(grey, 0, 1) * 255).astype(np.uint8)).save(path / name)
        with open(path / LOG_NAME, "a", encoding="utf-8") as log:
            log.write(json.dumps(record) + "\n")
    return record


def records(path: Path) -> list:
    """Every correction in a folder, oldest first; unreadable lines are skipped."""
    log = Path(path) / LOG_NAME
    if not log.exists():
        return []
    out = []
    for line in log.read_text(encoding="utf-8").splitlines():
        try:
            rec = json.loads(line)
            out.append({"file": str(rec["file"]), "label": clean_label(rec["label"])})
        except (ValueError, KeyError, TypeError):
            continue
    return out


def dataset_folder(source: str) -> Path:
    """A folder of corrections: a local path, or `hf-dataset:ORG/NAME[@revision]` fetched from the Hub."""
    if source.startswith("hf-dataset:"):
        from huggingface_hub import snapshot_download

        repo_id, _, revision = source[len("hf-dataset:"):].partition("@")
        root = Path(snapshot_download(repo_id, repo_type="dataset", revision=revision or None,
                                      allow_patterns=["corrections/*"]))
        return root / "corrections"
    return Path(source).expanduser()


def digit_crops(source: str, model=None) -> tuple:
    """(crops uint8 (N, 28, 28), labels int64 (N,), used, skipped) from a corrections folder.

    Each image is read by the reader; when it finds as many digits as the label has, its
    crops (the reader's MNIST-style normalisation) get the label's digits in order.
    Otherwise the correction is skipped: a wrong split would teach wrong labels.
    """
    from .reader import read_number

    path = dataset_folder(source)
    crops, labels, used, skipped = [], [], 0, 0
    for rec in records(path):
        digits = rec["label"].replace("\n", "")
        try:
            reading = read_number(path / rec["file"], model)
        except ImageError:
            skipped += 1
            continue
        if len(reading.digits) != len(digits):
            skipped += 1
            continue
        crops.extend(d.crop for d in reading.digits)
        labels.extend(int(c) for c in digits)
        used += 1
    if not crops:
        return np.zeros((0, 28, 28), np.uint8), np.zeros(0, np.int64), used, skipped
    return np.stack(crops).astype(np.uint8), np.asarray(labels, np.int64), used, skipped
