"""A reading, shown to people: the number in large type, each digit's evidence, the boxes.

The app wires these to its components; they hold no Gradio code, so they are tested on
their own. HTML is built from numbers and fixed strings only (no user text is echoed
unescaped).
"""
import base64
import html
import math

import cv2
import numpy as np

from .image import ImageError, load_image
from .reader import Reading, read_or_explain

DISPLAY_MAX_SIDE = 1200   # the annotated image is shown at most this big

STATUS_TEXT = {"ok": "Read", "unsure": "Unsure", "no_digits": "No digits", "error": "Cannot read"}


read_for_display = read_or_explain  # (Reading or None, message): see reader.read_or_explain


def percent(p: float) -> str:
    """42.4% reads as 42%, 99.96% and 100% as 99.9% (rounded down, capped): never "100%" for a guess."""
    v = 100 * p
    return f"{min(99.9, math.floor(v * 10) / 10):.1f}%" if v >= 99.5 else f"{v:.0f}%"


def number_html(reading: Reading | None, message: str = "") -> str:
    """The answer block: the number in large type, a status chip, confidence and time."""
    if reading is None and not message:
        return ('<div class="di-answer di-empty"><div class="di-number">&nbsp;</div>'
                '<div class="di-meta">Draw a number or upload a photo of one.</div></div>')
    if reading is None or not reading.text:
        status = "error" if reading is None else "no_digits"
        text = message or (reading.warnings[0] if reading.warnings else "No digits found.")
        return (f'<div class="di-answer di-{status}"><span class="di-chip">{STATUS_TEXT[status]}</span>'
                f'<div class="di-message">{html.escape(text)}</div></div>')
    longest = max(len(line) for line in reading.written_lines)
    size = "" if longest <= 6 else " di-long" if longest <= 10 else " di-xlong"  # one line where it fits
    lines = "".join(f'<div class="di-number{size}" aria-label="number">{html.escape(line)}</div>'
                    for line in reading.written_lines)
    return (f'<div class="di-answer di-{reading.status}">'
            f'<span class="di-chip">{STATUS_TEXT[reading.status]}</span>{lines}'
            f'<div class="di-meta">{len(reading.digits)} digit{"s" if len(reading.digits) != 1 else ""}'
            f' · confidence {percent(reading.confidence)} · {1000 * reading.seconds:.0f} ms</div></div>')


def _png_data_uri(grey: np.ndarray, scale: int = 4) -> str:
    """A 28x28 crop as a PNG data URI, ink dark on light as it was drawn, scaled up crisply."""
    big = cv2.resize(255 - grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
    ok, buf = cv2.imencode(".png", big)
    return "data:image/png;base64," + base64.b64encode(buf.tobytes()).decode("ascii")


def digit_cards_html(reading: Reading | None) -> str:
    """Per digit: the 28x28 crop the model read, the digit, its confidence, a bar per class,
    and for an unsure digit the runner-up."""
    if reading is None or not reading.digits:
        return ""
    cards = []
    for i, d in enumerate(reading.digits):
        probs = {k: 0.0 for k in range(10)}
        probs.update({k: p for k, p in d.alternatives})
        bars = "".join(
            f'<div class="di-bar{" di-top" if k == d.digit else ""}" title="{k}: {percent(p)}">'
            f'<span style="height:{max(2.0, 100 * p):.0f}%"></span><em>{k}</em></div>'
            for k, p in probs.items())
        if d.shape:
            note = f'<div class="di-flag">looks like {html.escape(d.shape)}</div>'
        elif d.maybe_slash:
            note = '<div class="di-flag">or a slash?</div>'
        elif d.maybe_not_a_digit:
            note = '<div class="di-flag">may not be a digit</div>'
        elif d.disputed:
            note = f'<div class="di-flag">or {d.disputed}? (readers differ)</div>'
        elif d.other_line:
            note = '<div class="di-flag">readers differ</div>'
        elif d.unsure:
            r, rp = d.alternatives[1]
            note = f'<div class="di-flag">or {r}? ({percent(rp)})</div>'
        else:
            note = '<div class="di-sure">sure</div>'
        cards.append(
            f'<figure class="di-card{" di-card-unsure" if d.unsure else ""}" data-digit="{d.digit}">'
            f'<img src="{_png_data_uri(d.crop)}" alt="digit {i + 1} as the model saw it" width="84" height="84">'
            f'<figcaption><b>{d.digit}</b> <span>{percent(d.confidence)}</span></figcaption>{note}'
            f'<div class="di-bars" role="img" aria-label="probabilities for digit {i + 1}">{bars}</div>'
            f'</figure>')
    return f'<div class="di-cards">{"".join(cards)}</div>'


def warnings_markdown(reading: Reading | None, message: str = "") -> str:
    """The warnings not already in the answer block's headline."""
    if reading is None:
        return ""  # the message is the headline
    notes = list(reading.warnings)
    if not reading.text:
        notes = notes[1:]
    return "\n".join(f"- {html.escape(n)}" for n in notes)


def boxed_image(image, reading: Reading | None):
    """(picture, [(box, label)]) for gr.AnnotatedImage: the input as the reader saw it (grey,
    at most DISPLAY_MAX_SIDE) with a box and label per digit; None when there is nothing to show."""
    if reading is None or not reading.digits:
        return None
    try:
        loaded = load_image(image, max_side=DISPLAY_MAX_SIDE)
    except ImageError:
        return None
    picture = np.repeat((np.clip(loaded.grey, 0, 1) * 255).astype(np.uint8)[..., None], 3, axis=2)
    h, w = picture.shape[:2]
    boxes = []
    for i, d in enumerate(reading.digits):
        x0, y0, x1, y1 = (int(round(v * loaded.scale)) for v in d.box)
        x0, y0 = max(0, min(x0, w - 1)), max(0, min(y0, h - 1))
        x1, y1 = max(x0 + 1, min(x1, w)), max(y0 + 1, min(y1, h))
        label = f"{i + 1}: {d.digit}" + (" ?" if d.unsure else "")
        boxes.append(((x0, y0, x1, y1), label))
    return picture, boxes


def unsure_runners(reading: dict) -> dict:
    """{digit index: runner-up digit} for the unsure digits of a reading's to_dict(), for speech; None
    for a 1 that may be a slash, which has no digit to offer instead ("maybe", no more)."""
    return {i: None if d.get("maybe_slash") else (d.get("disputed") or str(d["alternatives"][1]["digit"]))
            for i, d in enumerate(reading.get("digits", []))
            if d.get("unsure") and len(d.get("alternatives", [])) > 1}


def show(image, model=None) -> tuple:
    """Everything the "Read a number" screen shows for one input:
    (answer HTML, digit cards HTML, boxed image, warnings Markdown, reading dict)."""
    if image is None or (isinstance(image, dict) and _blank_sketch(image)):
        return number_html(None), "", None, "", {}
    reading, message = read_for_display(image, model)
    as_dict = reading.to_dict() if reading is not None else {}
    return (number_html(reading, message), digit_cards_html(reading), boxed_image(image, reading),
            warnings_markdown(reading, message), as_dict)


def _blank_sketch(value: dict) -> bool:
    """A sketchpad with nothing drawn yet (or just cleared): show the prompt, not a warning."""
    layers = [layer for layer in value.get("layers") or [] if layer is not None]
    if not layers:
        return value.get("composite") is None and value.get("background") is None
    for layer in layers:
        a = np.asarray(layer)
        if a.dtype.kind not in "uif" or a.ndim != 3 or a.shape[2] != 4 or a[..., 3].any():
            return False  # ink, or a layer we cannot judge: let the reader look
    return _plain(value.get("background"))


def _plain(background) -> bool:
    if background is None:
        return True
    a = np.asarray(background)
    return a.dtype.kind in "uif" and (a.size == 0 or int(a.max()) == int(a.min()))
