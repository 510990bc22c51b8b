"""python -m digitsinsight PATH... [--json]: read the numbers in image files or whole folders.

Prints one result per image: CSV (file, number, written, status, confidence, warnings) by default,
or JSON lines with --json (each the reading's to_dict() plus "file"). A progress bar shows
on stderr when there are many files. Exit status: 0 if every file could be read as an
image, 1 otherwise.
"""
import argparse
import csv
import json
import sys
from pathlib import Path

from tqdm import tqdm

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp"}


def expand(paths: list) -> list:
    files = []
    for p in map(Path, paths):
        if p.is_dir():
            files.extend(sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES))
        else:
            files.append(p)
    return files


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m digitsinsight", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("paths", nargs="+", help="image files or folders (searched recursively)")
    p.add_argument("--json", action="store_true", help="JSON lines instead of CSV")
    p.add_argument("--model", default=None, help="model source (default: bundled weights/ or $DIGITSINSIGHT_MODEL)")
    args = p.parse_args(argv)

    from .reader import read_as_dict  # after argparse: --help stays instant
    from .weights import load_model

    files = expand(args.paths)
    if not files:
        print("no image files found", file=sys.stderr)
        return 1
    model = load_model(args.model)
    writer = None if args.json else csv.writer(sys.stdout)
    if writer:
        writer.writerow(["file", "number", "written", "status", "confidence", "warnings"])
    failures = 0
    for f in tqdm(files, disable=len(files) < 10, file=sys.stderr, unit="image"):
        row = read_as_dict(f, model)
        failures += row["status"] == "error"
        if args.json:
            print(json.dumps({"file": str(f), **row}), flush=True)
        else:
            writer.writerow([str(f), row["number"].replace("\n", " "), row["written"].replace("\n", " "),
                             row["status"], f"{row['confidence']:.4f}", " | ".join(row["warnings"])])
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
