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
import logging
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
MAX_STORED = 20_000        # corrections kept locally before new ones are refused

PRIVACY_NOTICE = (
    "Only if you tick the box: the image you gave (in grey, at most 1600 px) and the number you type are "
    "stored by this app to improve the model, and may be published in a training data set. "
    "Nothing else is stored: no name, address or account. Do not send images that show personal details.")

_lock = threading.Lock()
_schedulers: dict = {}     # (folder, repo id) -> running CommitScheduler
_starting: dict = {}       # (folder, repo id) -> the thread starting one
log = logging.getLogger(__name__)


class CorrectionError(ValueError):
    """The correction cannot be saved; the message says why, in plain words."""


def folder() -> Path:
    return Path(os.environ.get(DIR_ENV) or DEFAULT_DIR).expanduser()


def clean_label(text) -> str:
    """The typed number as digits (lines kept apart by "\\n"); spaces, separators, brackets and a minus
    or plus sign people type are dropped, as the reader's text holds the digits only."""
    if text is None or not str(text).strip():
        raise CorrectionError("Type the right number first.")
    # Separators people type between digits ("1 234", "1,234", "555-1234", "12/05/2026", "3+4") go, and a
    # sign before them ("-42", "+44", as the app shows a number written with one), and brackets ("(555)").
    lines = [re.sub(r"^[-−+]\s*(?=\d)|(?<=\d)[\s.,'’_/+-]+(?=\d)", "", re.sub(r"[()]", " ", line).strip())
             for line in str(text).strip().splitlines()]
    lines = [line for line in lines if line]
    if not lines or not all(line.isascii() and line.isdigit() for line in lines):
        raise CorrectionError("Type the number with the digits 0-9 only (no letters; a minus or plus sign before "
                              "them, hyphens, slashes and plus signs between them, and brackets are fine).")
    if sum(map(len, lines)) > MAX_LABEL_DIGITS:
        raise CorrectionError(f"That is more than {MAX_LABEL_DIGITS} digits; a correction is one number.")
    return "\n".join(lines)


def start_uploads(path: Path | None = None, repo_id: str | None = None, hf_api=None):
    """Start pushing a corrections folder to its dataset repo, in a background thread, once.

    CommitScheduler creates the repo over the network when it starts: that must neither hold up
    a person's save nor lose it when the Hub is down. Corrections saved before it is ready are
    pushed by its first run. Returns the starting thread, or None when nothing is to start."""
    repo_id = repo_id if repo_id is not None else os.environ.get(REPO_ENV, "")
    if not repo_id:
        return None
    path = Path(path or folder())
    key = (str(path), repo_id)
    with _lock:
        if key in _schedulers or key in _starting:
            return _starting.get(key)
        thread = threading.Thread(target=_start_scheduler, args=(key, path, repo_id, hf_api), daemon=True)
        _starting[key] = thread
    thread.start()
    return thread


def _start_scheduler(key, path: Path, repo_id: str, hf_api) -> None:
    from huggingface_hub import CommitScheduler

    try:
        path.mkdir(parents=True, exist_ok=True)
        scheduler = CommitScheduler(repo_id=repo_id, repo_type="dataset", folder_path=path,
                                    path_in_repo="corrections", every=PUSH_EVERY_MINUTES, private=True,
                                    hf_api=hf_api)
        with _lock:
            _schedulers[key] = scheduler
    except Exception:  # the Hub is down or the token is wrong: corrections stay local, and we say so in the log
        log.exception("Cannot push corrections to %s; they are kept in %s", repo_id, path)
    finally:
        with _lock:
            _starting.pop(key, None)


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
    if float(grey.max() - grey.min()) < 0.05:
        raise CorrectionError("Nothing was saved: the image is blank.")
    path = Path(path or folder())
    repo_id = repo_id if repo_id is not None else os.environ.get(REPO_ENV, "")
    path.mkdir(parents=True, exist_ok=True)
    # The endpoint is reachable by scripts too: bound what they can make us store.
    if sum(1 for _ in path.glob("*.png")) >= MAX_STORED:
        raise CorrectionError("Nothing was saved: the corrections store is full for now. Thank you all the same.")
    if repo_id:
        start_uploads(path, repo_id, hf_api)
    scheduler = _schedulers.get((str(path), repo_id))
    name = f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:8]}.png"
    record = {"file": name, "label": label, "read_as": str(read_as or ""),
              "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    # The scheduler's lock keeps a push from catching a half-written file.
    with _lock, (scheduler.lock if scheduler else nullcontext()):
        Image.fromarray((np.clip(grey, 0, 1) * 255).astype(np.uint8)).save(path / name)
        with open(path / LOG_NAME, "a", encoding="utf-8") as log_file:
            log_file.write(json.dumps(record) + "\n")
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
            name = str(rec["file"])
            label = clean_label(rec["label"])
        except (ValueError, KeyError, TypeError):
            continue
        # A fetched data set names its own files: only plain PNG names inside the folder are read.
        if Path(name).name != name or not name.endswith(".png") or name.startswith("."):
            continue
        out.append({"file": name, "label": label})
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
        except Exception as e:  # one bad file must not stop a training run
            log.warning("skipping correction %s: %s", rec["file"], e)
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
