"""digitsinsight.image: any input, any mode, bounded sizes, and plain-language errors."""
import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from digitsinsight.image import MAX_PIXELS, WORK_MAX_SIDE, ImageError, load_image


def ink_square(mode_size=(64, 48)):
    """A dark square 'stroke' on white, as RGB."""
    a = np.full((mode_size[1], mode_size[0], 3), 255, np.uint8)
    a[10:30, 20:28] = 0
    return a


def png_bytes(im: Image.Image, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format="PNG", **kw)
    return buf.getvalue()


def assert_dark_stroke_on_white(grey):
    assert grey.dtype == np.float32 and grey.min() >= 0 and grey.max() <= 1
    assert grey[20, 24] < 0.1 and grey[40, 5] > 0.9


@pytest.mark.parametrize("mode", ["RGB", "L", "CMYK", "1", "P", "I;16", "I", "F", "LA", "RGBA"])
def test_every_colour_mode_reads_the_same(mode):
    im = Image.fromarray(ink_square())
    if mode in ("I;16", "I", "F"):
        im = Image.fromarray((np.asarray(im.convert("L")).astype(np.uint16) * 257).astype(
            {"I;16": np.uint16, "I": np.int32, "F": np.float32}[mode]), mode if mode != "I;16" else None)
    else:
        im = im.convert(mode)
    assert_dark_stroke_on_white(load_image(im).grey)


def test_grey_levels_are_the_pixel_values_over_255():
    # load_image turns bytes into [0, 1] by a table: the same float32 values as dividing by 255.
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (40, 50, 3), dtype=np.uint8)
    expected = np.asarray(Image.fromarray(rgb).convert("L"), dtype=np.float32) / 255.0
    assert np.array_equal(load_image(rgb).grey, expected)
    rgba = np.dstack([rgb, np.full((40, 50), 255, np.uint8)])   # opaque: the luminance, unrounded
    lum = (np.asarray(Image.fromarray(rgba).convert("RGBA"), dtype=np.float32) / 255.0)[..., :3]
    assert np.array_equal(load_image(rgba).grey, lum @ np.array([0.299, 0.587, 0.114], np.float32))
    # Partly transparent (alpha tested on its bytes, composited in place): the same floats as the
    # formula, on white under dark ink and on black under light ink. 252 and 253 straddle "opaque"
    # (alpha > 0.99), 127 and 128 "drawn" (alpha > 0.5).
    for ink in (rgb // 4, 255 - rgb // 4):
        alpha = rng.choice(np.array([0, 127, 128, 252, 253, 255], np.uint8), (40, 50))
        lum = (np.dstack([ink, alpha]).astype(np.float32) / 255.0)[..., :3] @ np.array([0.299, 0.587, 0.114],
                                                                                     np.float32)
        a = alpha.astype(np.float32) / 255.0
        backdrop = 1.0 if np.median(lum[a > 0.5]) < 0.5 else 0.0
        loaded = load_image(np.dstack([ink, alpha]))
        assert loaded.had_alpha and np.array_equal(loaded.grey, lum * a + backdrop * (1 - a))


def test_sketchpad_layer_ink_on_transparent_black_pixels():
    """Gradio's layers: ink alpha on fully transparent pixels whose RGB is black."""
    rgba = np.zeros((48, 64, 4), np.uint8)
    rgba[10:30, 20:28] = (0, 0, 0, 255)
    loaded = load_image(rgba)
    assert loaded.had_alpha
    assert_dark_stroke_on_white(loaded.grey)
    # White chalk on a transparent layer reads as light ink on a dark backdrop.
    rgba[10:30, 20:28] = (255, 255, 255, 255)
    g = load_image(rgba).grey
    assert g[20, 24] > 0.9 and g[40, 5] < 0.1


def test_palette_with_transparency_and_sketchpad_dict():
    im = Image.fromarray(ink_square()).convert("P")
    im.info["transparency"] = int(np.asarray(im)[0, 0])  # the white background becomes transparent
    assert_dark_stroke_on_white(load_image(png_bytes(im, transparency=im.info["transparency"])).grey)
    value = {"background": None, "layers": [ink_square()], "composite": None}
    assert_dark_stroke_on_white(load_image(value).grey)
    with pytest.raises(ImageError, match="canvas is empty"):
        load_image({"background": None, "layers": [], "composite": None})


def test_exif_orientation_is_applied():
    a = ink_square((64, 48))
    im = Image.fromarray(a)
    exif = Image.Exif()
    exif[0x0112] = 6  # the camera was turned: display rotated 90 degrees clockwise
    buf = io.BytesIO()
    im.save(buf, format="JPEG", exif=exif.tobytes(), quality=95)
    loaded = load_image(buf.getvalue())
    assert loaded.size == (48, 64) and loaded.grey.shape == (64, 48)


def test_large_photos_are_scaled_down_and_report_their_scale(tmp_path):
    big = np.full((2400, 3200, 3), 255, np.uint8)
    path = tmp_path / "big.png"
    Image.fromarray(big).save(path)
    loaded = load_image(path)
    assert max(loaded.grey.shape) == WORK_MAX_SIDE and loaded.size == (3200, 2400)
    assert loaded.scale == pytest.approx(WORK_MAX_SIDE / 3200)


def test_a_colour_jpeg_is_read_from_its_luminance_and_a_callers_image_is_left_as_it_was():
    """JPEGs are decoded straight to their luminance channel (faster than making colours first): the grey
    is PIL's own RGB-to-L conversion to within rounding (and clipping, where saturated ink made R, G or B
    overflow), blue and red ink included; the input's mode is still reported as RGB; and a PIL image
    handed in by a caller is not changed."""
    rng = np.random.default_rng(5)
    a = np.full((120, 160, 3), (236, 232, 220), np.uint8)
    a[20:60, 20:30] = (30, 40, 160)   # blue ink
    a[20:60, 60:70] = (200, 30, 30)   # red ink
    a[70:110, 100:110] = (20, 20, 20)
    a = np.clip(a + rng.normal(0, 6, a.shape), 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, format="JPEG", quality=80)
    loaded = load_image(buf.getvalue())
    made_in_colour = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("L"), np.float32) / 255
    diff = np.abs(loaded.grey - made_in_colour)
    assert loaded.mode == "RGB", loaded.mode
    assert diff.max() <= 16 / 255 and diff.mean() < 0.5 / 255, (diff.max() * 255, diff.mean() * 255)
    assert loaded.grey[40, 25] < 0.35 and loaded.grey[40, 65] < 0.5 and loaded.grey[5, 5] > 0.85

    theirs = Image.open(io.BytesIO(buf.getvalue()))
    load_image(theirs)
    assert theirs.mode == "RGB" and np.asarray(theirs).shape == (120, 160, 3)


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height, with a tiny (truncated) body: a decompression bomb's shape."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 100)) + chunk(b"IEND", b"")


def test_decompression_bombs_are_refused_before_decoding():
    with pytest.raises(ImageError, match="too large"):
        load_image(png_header_only(30000, 30000))
    side = int(np.sqrt(MAX_PIXELS)) + 10
    with pytest.raises(ImageError, match="too large"):
        load_image(png_header_only(side, side))


@pytest.mark.parametrize("payload, message", [
    (b"", "empty"),
    (b"hello, this is text", "not an image"),
    (b"<html><body>hi</body></html>", "not an image"),
    (b"%PDF-1.4\n1 0 obj\n", "not an image"),
])
def test_not_an_image(payload, message):
    with pytest.raises(ImageError, match=message):
        load_image(payload)


def test_truncated_and_tiny_images():
    whole = png_bytes(Image.fromarray(ink_square((400, 300))))
    with pytest.raises(ImageError, match="damaged or truncated"):
        load_image(whole[: len(whole) // 2])
    with pytest.raises(ImageError, match="too small"):
        load_image(np.zeros((1, 1), np.uint8))
    with pytest.raises(ImageError):
        load_image(12345)
    with pytest.raises(ImageError, match="No such file"):
        load_image("/nonexistent/file.png")
