"""python -m bench.examples: make the app's example images in examples/.

Drawn numbers (sketched MNIST test digits side by side on a wide canvas, as on the app's
sketchpad), photos of numbers on paper (the hard set's conditions), a scan, printed
digits, a date written with slashes and a number in a form's boxes, all from bench/synth.py and so from MNIST *test* digits only. Candidates are
generated from fixed seeds and the first ones the reader reads right are kept: the gallery
shows what the reader does, while bench/reader.py measures how often it does it.
examples/examples.json records each file's true number.
"""
import argparse
import json
from pathlib import Path

import numpy as np
from PIL import Image

from .synth import REPO_ROOT, DigitPool, default_pool, make_sample, sketch_digit

OUT = REPO_ROOT / "examples"
WANTED = [("drawn", 2, "A number drawn with the mouse"), ("hard", 3, "A photo of a number on paper"),
          ("clean", 1, "A scanned number"), ("printed", 1, "Printed digits"), ("dated", 1, "A date written with slashes"),
          ("boxed", 1, "A number written in a form's boxes")]


def plausible_date(written: str) -> bool:
    """A day and a month that exist, in a date written d/m/y or y/m/d ("14/13/4257" makes an odd example)."""
    groups = written.split("/")
    if len(groups) != 3:
        return False
    if len(groups[0]) == 4:
        groups = groups[::-1]
    return 1 <= int(groups[0]) <= 31 and 1 <= int(groups[1]) <= 12


def drawn_number(seed: int, pool: DigitPool, length: int) -> tuple:
    """Sketched digits side by side on a white 1000x400 canvas, the size of the app's sketchpad."""
    rng = np.random.default_rng(seed)
    canvas = np.full((400, 1000), 255, np.uint8)
    text, x = "", 60
    for _ in range(length):
        s = sketch_digit(rng, pool)
        a = s.image[..., 3] if s.image.shape[2] == 4 else 255 - s.image[..., 0]
        ys, xs = np.nonzero(a > 0)
        glyph = a[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
        h = int(rng.integers(200, 260))
        w = max(8, int(glyph.shape[1] * h / glyph.shape[0]))
        glyph = np.asarray(Image.fromarray(glyph).resize((w, h), Image.LANCZOS))
        y = int(rng.integers(50, 400 - h - 40))
        if x + w > 960:
            break
        region = canvas[y:y + h, x:x + w]
        np.minimum(region, 255 - glyph, out=region)
        text += s.text
        x += w + int(rng.integers(25, 60))
    return canvas, text


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=OUT)
    args = p.parse_args(argv)

    import digitsinsight

    model = digitsinsight.load_model()
    pool = default_pool()
    args.out.mkdir(parents=True, exist_ok=True)
    for old in args.out.glob("*.png"):
        old.unlink()
    made = []
    for kind, count, caption in WANTED:
        kept, seed = 0, 0
        while kept < count and seed < 200:
            written, style = None, None  # the number as written, where it has marks besides digits
            if kind == "drawn":
                image, text = drawn_number(seed, pool, length=3 + seed % 3)
            else:
                s = make_sample(kind, seed, seed=7, pool=pool)
                image, text, written, style = s.image, s.text, s.meta.get("written"), s.meta.get("style")
            seed += 1
            if len(text.replace("\n", "")) < (4 if kind in ("hard", "dated", "boxed") else 1):
                continue  # a photo of one digit makes a dull example
            if kind == "boxed" and style != "row of boxes":
                continue
            if kind == "dated" and not plausible_date(written):
                continue
            reading = digitsinsight.read_number(image, model)
            if reading.text != text or (written and reading.to_dict()["written"] != written):
                continue
            kept += 1
            name = f"{kind}-{kept}.png"
            Image.fromarray(image).save(args.out / name, optimize=True)
            made.append({"file": name, "number": text, "kind": kind, "caption": caption, "seed": seed - 1}
                        | ({"written": written} if written else {}))
    (args.out / "examples.json").write_text(json.dumps(made, indent=1) + "\n")
    for m in made:
        print(f"{m['file']}: {m.get('written', m['number'])!r} ({m['caption']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
