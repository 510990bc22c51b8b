"""The functions app.py's components call, and the words its pages say.

Rendering lives in present.py (no Gradio there); this module adds what needs Gradio:
messages as gr.Error for API callers, gr.skip() to leave an output alone.
"""
import ctypes
import ctypes.util
import json
import logging
import os
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import gradio as gr
import numpy as np
import torch

from . import corrections, present, speech
from .reader import read_as_dict, read_number
from .weights import HUB_REPO_ID, load_line_reader, load_model, load_verifier

log = logging.getLogger(__name__)
EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "examples"
REPO_URL = f"https://huggingface.co/{HUB_REPO_ID}"

HOME = """
# DigitsInSight
**Draw a number or show a photo of one: every digit is read, with how sure the model is, and said out loud.**

Most sketchpad demos shrink the whole picture to 28x28 pixels and guess one digit. DigitsInSight finds the ink
(not the lines of ruled paper, nor an answer box or a form's boxes round the digits), splits the number into digits
(even when they touch), prepares each digit the way the MNIST digits the model
learnt from were made, and reads them all at once; a second model then reads each line whole, as a check on
digits that touch — on a plain CPU, in a few tens of milliseconds.

**How to use it**
1. Open **Read a number**. Draw with the mouse or a finger, or upload, paste or photograph a number.
2. The number appears as you draw. Each digit shows the 28x28 picture the model read and its confidence;
   a digit it is unsure of is marked with its second guess.
3. Pick a language and listen. If the answer is wrong, type the right number: with your consent it helps
   train the next model.
"""

ABOUT = f"""
### About DigitsInSight
DigitsInSight is an open project: a small convolutional network (timm-style, trained from scratch on MNIST),
a line reader (a CRNN trained on lines of MNIST training digits) and a reader that turns photos and drawings
of whole numbers into digits, with confidences, boxes and speech.

- **Model card and weights:** [the model card]({REPO_URL}) on the Hugging Face Hub
  (`{HUB_REPO_ID}`; also `model_card.md` in the repository). Weights are safetensors only.
- **Code:** the `digitsinsight` package (reader, model, speech), `training/` (retrains and publishes the model),
  `bench/` (every figure quoted here comes from a command there).
- **Voices:** espeak-ng (offline, always available) and Coqui TTS neural voices where they can be downloaded.
- **Team:** the DigitsInSight developers. Contributions and corrections are welcome.

**Dataset.** L. Deng, "The MNIST Database of Handwritten Digit Images for Machine Learning Research",
*IEEE Signal Processing Magazine*, 29(6):141–142, 2012. The MNIST digits were collected by NIST and
prepared by Y. LeCun, C. Cortes and C. J. C. Burges. The example images are generated from MNIST *test* digits.

**Privacy.** Images are read in memory and not kept, unless you send a correction and tick the box to agree.
"""


_TRIM_EVERY_S = 0.5
_trim_lock = threading.Lock()
_last_trim = [0.0]
try:
    _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    _malloc_trim = _libc.malloc_trim
except (OSError, AttributeError):  # not glibc: nothing to trim
    _malloc_trim = None


def release_memory() -> None:
    """Hand freed heap back to the system, at most every 0.5 s (about 1 ms each).

    Gradio runs handlers on many threads, glibc gives each its own arena, and the reader's varying
    batch sizes leave them fragmented: without this the server's RSS crept up by 100 MB over
    1,000 requests under load (bench/load.py), against 6 MB for a bare Gradio app."""
    if _malloc_trim is None:
        return
    now = time.monotonic()
    with _trim_lock:
        if now - _last_trim[0] < _TRIM_EVERY_S:
            return
        _last_trim[0] = now
    _malloc_trim(0)


def examples() -> list:
    """The example images bench/examples.py made: [{path, number, caption}]."""
    try:
        made = json.loads((EXAMPLES_DIR / "examples.json").read_text())
    except (OSError, ValueError):
        return []
    return [{**e, "path": str(EXAMPLES_DIR / e["file"])} for e in made if (EXAMPLES_DIR / e["file"]).exists()]


_CORES = os.cpu_count() or 1
_in_flight = [0]
_flight_lock = threading.Lock()


@contextmanager
def fair_share_of_cores():
    """Torch threads for this read: all the cores when it runs alone, an equal share when others run.

    Two reads of two threads each on two cores ran about 4x slower than one thread each, while a
    lone photo reads 25% faster on two in a script. (In the served app a lone read took the same time on
    one thread or two, 0.98-0.99x over HTTP: worker threads' OpenMP teams sleep between parallel steps,
    see sequence.read_lines.) torch.set_num_threads acts on the calling thread (OpenMP), and Gradio
    runs each read on a worker thread, so each read sets its own.
    """
    with _flight_lock:
        _in_flight[0] += 1
        share = max(1, _CORES // _in_flight[0])
    torch.set_num_threads(share)
    try:
        yield share
    finally:
        with _flight_lock:
            _in_flight[0] -= 1


def warm_up() -> None:
    """Load the models and read one example, so the first visitor does not wait for them."""
    model = load_model()
    load_verifier()
    load_line_reader()
    found = examples()
    read_number(found[0]["path"] if found else np.full((64, 64), 255, np.uint8), model)


def show(image):
    """What the Read screen shows for one input (see present.show)."""
    try:
        with fair_share_of_cores():
            return present.show(image)
    finally:
        release_memory()


def show_active(active: str, sketch, upload):
    """The Read button: read whichever input the person is using."""
    return show(upload if active == "upload" else sketch)


def go_to_read():
    return gr.Tabs(selected="read")


def go_to_read_upload():
    """A home-page example: show the reader with the example in its upload tab."""
    return gr.Tabs(selected="read"), gr.Tabs(selected="upload"), "upload"


def use_input(name: str):
    """An event handler that records which input (draw or upload) the person is using."""
    def remember():
        return name
    return remember


def _said(reading: dict) -> str:
    """What is said: the number as written, so "1,250.50" is said as an amount, not as 125050."""
    return reading.get("written") or reading.get("number", "")


def _speech_key(reading: dict, language: str, mode: str) -> str:
    return json.dumps([_said(reading), language, mode, present.unsure_runners(reading)])


def say_new(reading: dict, language: str, mode: str, enabled: bool, last: str):
    """The spoken answer, after the number is on screen; nothing new when the same would be said again."""
    if not enabled or not reading or not reading.get("number"):
        return None, ""
    key = _speech_key(reading, language, mode)
    if key == last:
        return gr.skip(), last
    try:
        spoken = speech.speak(_said(reading), language, mode, unsure=present.unsure_runners(reading))
    except speech.SpeechError as e:
        log.warning("speech failed: %s", e)
        return None, ""
    # The player's label says which voice spoke: the neural one once it has loaded, else espeak-ng.
    return gr.update(value=spoken.as_gradio(), label=f"Spoken answer · {spoken.voice}"), key


def say_again(reading: dict, language: str, mode: str, enabled: bool, last: str):
    """The Read button, or a new language or mode: say it even if it was said before."""
    return say_new(reading, language, mode, enabled, "")


def send_correction(active: str, sketch, upload, label: str, consent: bool, reading: dict) -> str:
    image = upload if active == "upload" else sketch
    if image is None:
        return "Nothing to correct yet: draw or upload a number first."
    try:
        record = corrections.save_correction(image, label, consent, read_as=(reading or {}).get("number", ""))
    except corrections.CorrectionError as e:
        return f"⚠️ {e}"
    return f"✅ Thank you: saved as **{record['label']}**. It will help train the next model."


def api_read_number(image) -> dict:
    """Read the handwritten number in an image file. Returns the reading as JSON: "number" (the digits as a
    string, lines joined by newlines, "" when none), "written" (the same with any points, commas, hyphens, slashes or
    plus signs written between the digits and a minus or plus sign before them, "-1,250.50", "555-1234", "12/05/2026",
    "+44", "3+4"), "status" (ok, unsure, no_digits or error), "confidence",
    "digits" (per digit: digit, confidence, top-3 alternatives, box, unsure), "warnings" (plain-language)."""
    try:
        with fair_share_of_cores():
            return read_as_dict(image)
    finally:
        release_memory()


def api_speak(text: str, language: str = "en", mode: str = "number"):
    """Say a number. text: digits (lines separated by newlines), or a number as written, with points, commas,
    hyphens, slashes or plus signs between its digits and a minus or plus sign before them ("-1,250.50", "555-1234",
    "12/05/2026", "+44", "3+4", a reading's "written"); language:
    en, de, fr, es, it or pt; mode: "number" (four hundred and twenty-seven) or "digits" (four, two, seven).
    Returns WAV audio."""
    try:
        return speech.speak(text or "", language or "en", mode or "number").as_gradio()
    except speech.SpeechError as e:
        raise gr.Error(str(e), print_exception=False) from None
