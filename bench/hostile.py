"""A corpus of hostile inputs, generated, and how long the reader takes over each.

    python -m bench.hostile                  # time every case through read_as_dict (p50, p95, slowest)
    python -m bench.hostile --write OUT_DIR  # write the corpus as files

Every case is (name, bytes) under an image-like file name. What they must get is the same for all:
a plain message (status "error" or "no_digits", or a reading), never a traceback or a hang
(tests/test_hostile.py checks that; speed is measured here, not in a test).

Cases: empty files, truncated PNG/JPEG/GIF/WebP, other formats under image names (text, HTML,
PDF, SVG, zip, JSON, ELF, random bytes), 1x1 and 10x10000 images, decompression bombs (a real
30000x30000 PNG of zeros and header-only ones), 16-bit, CMYK, palette with transparency,
animated GIF, all eight EXIF orientations, all white, all black, noise, photos with no digits,
letters and scribbles.
"""
import argparse
import io
import json
import struct
import time
import zipfile
import zlib
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont


def _save(im: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format=fmt, **kw)
    return buf.getvalue()


def _digits_image(text="4207", size=(480, 200)) -> Image.Image:
    """A plain printed number, so a good file of each odd mode has something to read."""
    import matplotlib
    font = ImageFont.truetype(str(Path(matplotlib.get_data_path()) / "fonts/ttf/DejaVuSans-Bold.ttf"), 110)
    im = Image.new("RGB", size, "white")
    ImageDraw.Draw(im).text((30, 30), text, fill=(20, 20, 20), font=font)
    return im


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_bomb(side=30000) -> bytes:
    """A valid greyscale PNG of side x side zero pixels: about 1 MB on disk, 900 MP decoded."""
    comp = zlib.compressobj(9)
    row = b"\0" * (side + 1)
    idat = b"".join(comp.compress(row) for _ in range(side)) + comp.flush()
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0))
            + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b""))


def png_header_only(width, height) -> bytes:
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + _png_chunk(b"IEND", b""))


def gif_header_bomb() -> bytes:
    """A GIF whose screen claims 65535x65535 pixels."""
    good = _save(Image.new("P", (4, 4)), "GIF")
    return good[:6] + struct.pack("<HH", 65535, 65535) + good[10:]


def jpeg_header_bomb() -> bytes:
    """A JPEG whose frame header claims 65000x65000 pixels."""
    data = bytearray(_save(Image.new("L", (16, 16), 255), "JPEG"))
    i = data.find(b"\xff\xc0")
    data[i + 5:i + 9] = struct.pack(">HH", 65000, 65000)
    return bytes(data)


def cases(with_bomb: bool = True) -> list:
    """[(name, bytes)]: at least 200 hostile inputs."""
    rng = np.random.default_rng(0)
    out = []
    digits = _digits_image()
    encoded = {"png": _save(digits, "PNG"), "jpg": _save(digits, "JPEG", quality=85),
               "gif": _save(digits.convert("P"), "GIF"), "webp": _save(digits, "WEBP"),
               "bmp": _save(digits, "BMP"), "tiff": _save(digits, "TIFF")}
    for ext in ["png", "jpg", "jpeg", "gif", "webp", "bmp", "tiff"]:
        out.append((f"empty.{ext}", b""))
    for ext in ["png", "jpg", "gif", "webp"]:  # cut at many points: header, mid-data, just short of the end
        blob = encoded[ext]
        for frac in [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99]:
            out.append((f"truncated-{frac}.{ext}", blob[:max(1, int(len(blob) * frac))]))
        out.append((f"truncated-minus1.{ext}", blob[:-1]))
    pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    svg = (b'<svg xmlns="http://www.w3.org/2000/svg" width="100" height="50">'
           b'<text x="5" y="40" font-size="40">42</text></svg>')
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w") as z:
        z.writestr("digits.png", encoded["png"])
    others = {"text": b"4207 is a number, but this is text.\n", "html": b"<!doctype html><html><body>42</body></html>",
              "pdf": pdf, "svg": svg, "zip": zbuf.getvalue(), "json": json.dumps({"number": 42}).encode(),
              "elf": b"\x7fELF\x02\x01\x01" + bytes(200), "random": rng.integers(0, 256, 5000, np.uint8).tobytes(),
              "png-magic-only": b"\x89PNG\r\n\x1a\n", "jpeg-magic-only": b"\xff\xd8\xff\xe0"}
    for kind, blob in others.items():
        for ext in ["png", "jpg", "gif"]:
            out.append((f"{kind}-as.{ext}", blob))
    for mode in ["1", "L", "LA", "P", "RGB", "RGBA", "I;16", "CMYK"]:
        im = Image.new(mode, (1, 1))
        out.append((f"one-pixel-{mode.replace(';', '')}.{'jpg' if mode == 'CMYK' else 'png' if mode != 'CMYK' else 'tiff'}",
                    _save(im, "JPEG" if mode == "CMYK" else "PNG")))
    for w, h in [(10, 10000), (10000, 10), (2, 2), (7, 7), (3, 5000), (16000, 4)]:
        out.append((f"strip-{w}x{h}.png", _save(Image.new("L", (w, h), 255), "PNG")))
    if with_bomb:
        out.append(("bomb-30000x30000.png", png_bomb()))
    out += [("bomb-header-60000x60000.png", png_header_only(60000, 60000)),
            ("bomb-header-30000x30000.png", png_header_only(30000, 30000)),
            ("bomb-header.gif", gif_header_bomb()), ("bomb-header.jpg", jpeg_header_bomb())]
    # Odd modes holding a real number.
    grey = np.asarray(digits.convert("L"))
    out += [("sixteen-bit.png", _save(Image.fromarray(grey.astype(np.uint16) * 257), "PNG")),
            ("cmyk.jpg", _save(digits.convert("CMYK"), "JPEG")),
            ("cmyk.tiff", _save(digits.convert("CMYK"), "TIFF")),
            ("float.tiff", _save(Image.fromarray(grey.astype(np.float32) / 255), "TIFF")),
            ("int32.tiff", _save(Image.fromarray(grey.astype(np.int32) * 100), "TIFF")),
            ("la.png", _save(digits.convert("LA"), "PNG")),
            ("bilevel.png", _save(digits.convert("1"), "PNG")),
            ("ycbcr.jpg", _save(digits.convert("YCbCr"), "JPEG"))]
    pal = digits.convert("P", palette=Image.ADAPTIVE, colors=8)
    out.append(("palette-transparent.png", _save(pal, "PNG", transparency=0)))
    out.append(("palette-transparent.gif", _save(pal, "GIF", transparency=0)))
    rgba = np.zeros((200, 480, 4), np.uint8)
    rgba[..., 3] = 255 - grey
    out.append(("ink-on-transparent.png", _save(Image.fromarray(rgba, "RGBA"), "PNG")))
    out.append(("all-transparent.png", _save(Image.new("RGBA", (600, 300), (0, 0, 0, 0)), "PNG")))
    frames = [digits.convert("P")] + [Image.new("P", digits.size, i) for i in (1, 2, 3)]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    out.append(("animated.gif", buf.getvalue()))
    buf = io.BytesIO()
    frames[0].convert("RGB").save(buf, "WEBP", save_all=True, append_images=[f.convert("RGB") for f in frames[1:]])
    out.append(("animated.webp", buf.getvalue()))
    for orientation in range(1, 9):
        exif = Image.Exif()
        exif[0x0112] = orientation
        out.append((f"exif-orientation-{orientation}.jpg", _save(digits, "JPEG", exif=exif)))
    exif = Image.Exif()
    exif[0x0112] = 99  # nonsense orientation
    out.append(("exif-orientation-99.jpg", _save(digits, "JPEG", exif=exif)))
    # Nothing to read.
    for size in [(64, 64), (800, 600), (1600, 1200), (4000, 3000)]:
        out.append((f"white-{size[0]}x{size[1]}.png", _save(Image.new("L", size, 255), "PNG")))
        out.append((f"black-{size[0]}x{size[1]}.png", _save(Image.new("L", size, 0), "PNG")))
        noise = rng.integers(0, 256, (size[1], size[0], 3), np.uint8)
        out.append((f"noise-{size[0]}x{size[1]}.jpg", _save(Image.fromarray(noise), "JPEG", quality=80)))
    for level in (8, 32, 96):
        noise = np.clip(255 - np.abs(rng.normal(0, level, (600, 800))), 0, 255).astype(np.uint8)
        out.append((f"faint-noise-{level}.png", _save(Image.fromarray(noise), "PNG")))
    from bench.synth import make_set
    for i, sample in enumerate(make_set("negative", 60, seed=99)):
        out.append((f"no-digits-{i:02d}.jpg", _save(Image.fromarray(sample.image[..., :3]), "JPEG", quality=88)))
    import matplotlib
    font = ImageFont.truetype(str(Path(matplotlib.get_data_path()) / "fonts/ttf/DejaVuSans.ttf"), 90)
    for i, word in enumerate(["HELLO", "abc", "XYZ", "Qwerty", "ÀÉÎ", "#@%&", "?!", "—", "mmm", "OIL"]):
        im = Image.new("RGB", (700, 220), "white")
        ImageDraw.Draw(im).text((20, 40), word, fill="black", font=font)
        out.append((f"letters-{i}.png", _save(im, "PNG")))
    for i in range(10):
        im = Image.new("L", (600, 400), 255)
        pts = [tuple(p) for p in rng.integers(20, 380, (12, 2)) * [1.5, 1]]
        ImageDraw.Draw(im).line(pts, fill=0, width=int(rng.integers(3, 20)))
        out.append((f"scribble-{i}.png", _save(im, "PNG")))
    return out


RESULTS = Path(__file__).resolve().parent / "results"


def time_cases(model, corpus: list, repeats: int = 3) -> dict:
    """Seconds per case through the Python API (the median of `repeats` calls), slowest first."""
    from digitsinsight import read_as_dict

    read_as_dict(corpus[0][1], model)  # first call pays for lazy imports, not any case
    rows = []
    for name, blob in corpus:
        times, status = [], None
        for _ in range(repeats):
            t0 = time.perf_counter()
            status = read_as_dict(blob, model)["status"]
            times.append(time.perf_counter() - t0)
        rows.append({"case": name, "ms": round(1000 * float(np.median(times)), 1), "status": status})
    ms = np.array([r["ms"] for r in rows])
    statuses = {s: sum(r["status"] == s for r in rows) for s in sorted({r["status"] for r in rows})}
    return {"cases": len(rows), "p50_ms": round(float(np.median(ms)), 1),
            "p95_ms": round(float(np.percentile(ms, 95)), 1), "max_ms": round(float(ms.max()), 1),
            "statuses": statuses, "slowest": sorted(rows, key=lambda r: -r["ms"])[:5]}


def to_markdown(t: dict) -> str:
    lines = [f"{t['cases']} hostile cases through read_as_dict: p50 {t['p50_ms']} ms, p95 {t['p95_ms']} ms, "
             f"slowest {t['max_ms']} ms. Answers: " + ", ".join(f"{k} {v}" for k, v in t["statuses"].items()) + ".",
             "", "| slowest cases | ms | status |", "|---|---|---|"]
    lines += [f"| {r['case']} | {r['ms']} | {r['status']} |" for r in t["slowest"]]
    return "\n".join(lines) + "\n"


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(prog="python -m bench.hostile", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--write", type=Path, metavar="OUT_DIR", help="write the corpus as files and stop")
    p.add_argument("--out", type=Path, default=RESULTS)
    args = p.parse_args(argv)
    made = cases()
    if args.write:
        args.write.mkdir(parents=True, exist_ok=True)
        for name, blob in made:
            (args.write / name).write_bytes(blob)
        print(f"{len(made)} cases in {args.write}")
        return {}
    from digitsinsight import load_model

    timing = time_cases(load_model(), made)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "hostile.json").write_text(json.dumps(timing, indent=1) + "\n")
    (args.out / "hostile.md").write_text(to_markdown(timing))
    print(to_markdown(timing))
    return timing


if __name__ == "__main__":
    main()
