"""Anything in -> one grey array: paths, bytes, file objects, PIL images, numpy arrays, sketchpad dicts.

Every colour mode is handled (RGBA with a transparent background, L, LA, RGB, P with
transparency, 16-bit, float, CMYK, 1-bit), EXIF orientation is applied, animated images
give their first frame, and sizes are bounded: an image over MAX_PIXELS is refused from
its header, before it is decoded (decompression bombs), and large photos are scaled down
to WORK_MAX_SIDE for speed. Problems raise ImageError with a message meant for people.
"""
import io
import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_BYTES = 30 * 1024 * 1024        # refuse bigger files outright
MAX_PIXELS = 50_000_000             # about 8,000 x 6,000: bigger is refused before decoding
WORK_MAX_SIDE = 1600                # photos are read at most this big (speed; digits stay > 20 px)
MIN_SIDE = 8                        # smaller than this cannot hold a readable digit
# uint8 -> float32 in [0, 1] by table: the same values as `a / 255.0`, about 8x faster on a photo.
_UNIT = np.arange(256, dtype=np.float32) / 255.0


class ImageError(ValueError):
    """The input cannot be read as an image; the message says why, in plain words."""


@dataclass
class LoadedImage:
    grey: np.ndarray     # float32 (H, W) luminance in [0, 1], transparency composited away
    scale: float         # working pixels per input pixel (<= 1): boxes are divided by it
    size: tuple          # the input's (width, height) after EXIF rotation
    mode: str            # the input's PIL mode, for messages and tests
    had_alpha: bool


def _open(source) -> Image.Image:
    """Open without decoding pixel data yet (PIL is lazy), so the size can be checked first."""
    if isinstance(source, Image.Image):
        return source
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise ImageError(f"No such file: {path.name}")
        if path.stat().st_size > MAX_BYTES:
            raise ImageError(f"File too large: {path.stat().st_size / 1e6:.0f} MB (limit {MAX_BYTES / 1e6:.0f} MB)")
        if path.stat().st_size == 0:
            raise ImageError("The file is empty.")
        source = path.read_bytes()
    if hasattr(source, "read"):
        source = source.read(MAX_BYTES + 1)
    if isinstance(source, (bytes, bytearray, memoryview)):
        if len(source) == 0:
            raise ImageError("The file is empty.")
        if len(source) > MAX_BYTES:
            raise ImageError(f"File too large: over {MAX_BYTES / 1e6:.0f} MB")
        try:
            return Image.open(io.BytesIO(bytes(source)))
        except Image.DecompressionBombError as e:
            raise ImageError(f"Image too large (limit {MAX_PIXELS / 1e6:.0f} megapixels). "
                             "Please send a smaller picture.") from e
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
            raise ImageError("This file is not an image we can read (PNG, JPEG, GIF, BMP, TIFF or WebP).") from e
    raise ImageError(f"Cannot read an image from a {type(source).__name__}.")


def _check_size(width: int, height: int) -> None:
    if width * height > MAX_PIXELS:
        raise ImageError(f"Image too large: {width}x{height} pixels "
                         f"(limit {MAX_PIXELS / 1e6:.0f} megapixels). Please send a smaller picture.")
    if min(width, height) < MIN_SIDE:
        raise ImageError(f"Image too small: {width}x{height} pixels.")


def _to_grey(im: Image.Image) -> tuple[np.ndarray, bool]:
    """PIL image of any mode -> float32 luminance in [0, 1] with transparency composited away."""
    if im.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        a = np.asarray(im, dtype=np.float32)
        lo, hi = np.percentile(a, 0.5), np.percentile(a, 99.5)
        return np.clip((a - lo) / max(hi - lo, 1e-6), 0, 1), False
    has_alpha = im.mode in ("RGBA", "LA", "PA", "La", "RGBa") or (im.mode == "P" and "transparency" in im.info)
    if not has_alpha:
        return cv2.LUT(np.asarray(im.convert("L")), _UNIT), False
    rgba = np.asarray(im.convert("RGBA"))
    lum = cv2.LUT(rgba, _UNIT)[..., :3] @ np.array([0.299, 0.587, 0.114], np.float32)
    # The alpha tests are done on its bytes: alpha > 0.99 is a byte of 253 or more, alpha > 0.5 one of 128.
    alpha_u8 = cv2.extractChannel(rgba, 3)
    if alpha_u8.min() >= 253:
        return lum, False
    # Sketchpad layers are ink on transparent pixels whose colour is arbitrary (often black).
    # Lay the image on a backdrop that contrasts with what is drawn: white under dark ink,
    # black under light ink.
    drawn = alpha_u8 >= 128
    ink_level = float(np.median(lum[drawn])) if drawn.any() else 0.0
    alpha = cv2.LUT(alpha_u8, _UNIT)
    # lum * alpha + backdrop * (1 - alpha), in place: with a backdrop of 1 or 0 the same floats.
    np.multiply(lum, alpha, out=lum)
    if ink_level < 0.5:
        lum += np.subtract(1.0, alpha, out=alpha)
    return lum, True


def _from_array(a: np.ndarray) -> Image.Image:
    a = np.asarray(a)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[..., 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (3, 4)):
        raise ImageError(f"An image array must be HxW, HxWx3 or HxWx4, not {a.shape}.")
    if a.dtype == bool:
        a = a.astype(np.uint8) * 255
    elif a.dtype != np.uint8:
        a = a.astype(np.float32)
        if a.size and np.nanmax(a) <= 1.0:
            a = a * 255.0
        a = np.clip(np.nan_to_num(a), 0, 255).astype(np.uint8)
    return Image.fromarray(a)


def _from_sketchpad(value: dict):
    """Gradio's ImageEditor/Sketchpad value: {background, layers, composite}."""
    if value.get("composite") is not None:
        return value["composite"]
    layers = [layer for layer in value.get("layers") or [] if layer is not None]
    if layers:
        return layers[0]
    if value.get("background") is not None:
        return value["background"]
    raise ImageError("The canvas is empty: draw a number first.")


def load_image(source, max_side: int = WORK_MAX_SIDE) -> LoadedImage:
    """Read `source` as a grey float image, scaled down so its longer side is at most `max_side`."""
    if isinstance(source, dict):
        source = _from_sketchpad(source)
    if source is None:
        raise ImageError("No image was given.")
    if isinstance(source, np.ndarray):
        if source.size == 0:
            raise ImageError("The image is empty.")
        _check_size(source.shape[1], source.shape[0])
        source = _from_array(source)
    opened_here = not isinstance(source, Image.Image)  # a caller's own image is not changed (draft below)
    im = _open(source)
    _check_size(*im.size)  # header only: nothing decoded yet
    try:
        if getattr(im, "is_animated", False):
            im.seek(0)
        size = im.size
        orientation = im.getexif().get(0x0112, 1)
        if orientation in (5, 6, 7, 8):  # EXIF says: rotated by 90 degrees
            size = size[::-1]
        mode = im.mode
        # A JPEG's decoder gives its luminance channel as is, without making colours first (only luminance
        # is read: a 1600x1200 photo decodes 1.4x faster), and, for a large image, at a reduced size.
        if im.format == "JPEG" and opened_here:
            im.draft("L" if mode == "RGB" else mode,
                     (im.size[0] // 2, im.size[1] // 2) if max(im.size) > 2 * max_side else im.size)
        if orientation in (2, 3, 4, 5, 6, 7, 8):  # else exif_transpose only copies (4 ms for a photo)
            im = ImageOps.exif_transpose(im)
        grey, had_alpha = _to_grey(im)
    except ImageError:
        raise
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError, EOFError) as e:
        raise ImageError("The image file is damaged or truncated and cannot be read.") from e
    h, w = grey.shape
    scale = min(1.0, max_side / max(h, w))
    if scale < 1.0:
        grey = cv2.resize(grey, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    # PIL's draft may already have shrunk a JPEG: report the scale against the original size.
    scale = grey.shape[1] / size[0]
    return LoadedImage(grey=np.ascontiguousarray(grey, dtype=np.float32), scale=scale, size=size,
                       mode=mode, had_alpha=had_alpha)
