"""Publish the trained model to the Hugging Face Hub.

    python -m training.push_to_hub --repo-id ORG/NAME              # push to main
    python -m training.push_to_hub --repo-id ORG/NAME --create-pr  # open a pull request instead
    python -m training.push_to_hub --repo-id ORG/NAME --dry-run    # build the exact folder, upload nothing

The folder holds config.json + model.safetensors (timm's Hub format), metrics.json,
baselines.json, the insight plots and README.md (the model card rendered for this
repo id). The token comes from --token, else huggingface_hub's usual sources
($HF_TOKEN, `hf auth login`). Afterwards, pin the app to the new commit with
DIGITSINSIGHT_MODEL=hf-hub:ORG/NAME@<commit>.
"""
import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

from training.card import load_bench_summary, render
from training.data import REPO_ROOT

FILES = ["config.json", "model.safetensors", "metrics.json", "baselines.json"]


def build_folder(weights: Path, dest: Path, repo_id: str) -> list[str]:
    """Copy what gets published into `dest`; return the relative paths."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("config.json", "model.safetensors", "metrics.json"):
        if not (weights / name).exists():
            raise SystemExit(f"{weights / name} is missing: run python -m training.train first")
    for name in FILES:
        if (weights / name).exists():
            shutil.copy2(weights / name, dest / name)
    # The reader's companion models (split verifier, line reader) travel with the classifier,
    # so a reader loading from the Hub works like the bundled one.
    for folder in ("insights", "verifier", "sequence"):
        if (weights / folder).is_dir():
            shutil.copytree(weights / folder, dest / folder, dirs_exist_ok=True)
    metrics = json.loads((weights / "metrics.json").read_text())
    baselines_file = weights / "baselines.json"
    baselines = json.loads(baselines_file.read_text()) if baselines_file.exists() else None
    (dest / "README.md").write_text(render(metrics, baselines, repo_id, load_bench_summary()))
    return sorted(str(p.relative_to(dest)) for p in dest.rglob("*") if p.is_file())


def push(folder: Path, repo_id: str, revision: str | None = None, create_pr: bool = False,
         private: bool = False, token: str | None = None, message: str = "Upload DigitNet weights"):
    from huggingface_hub import HfApi

    api = HfApi(token=token)
    api.create_repo(repo_id, repo_type="model", private=private, exist_ok=True)
    if revision and revision != "main" and not create_pr:
        api.create_branch(repo_id, branch=revision, exist_ok=True)
    return api.upload_folder(repo_id=repo_id, folder_path=folder, repo_type="model", revision=revision,
                             create_pr=create_pr, commit_message=message)


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m training.push_to_hub", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repo-id", required=True, help="ORG/NAME on the Hub")
    p.add_argument("--weights", type=Path, default=REPO_ROOT / "weights")
    p.add_argument("--revision", default=None, help="branch to push to (created if missing; default main)")
    p.add_argument("--create-pr", action="store_true", help="open a pull request instead of committing")
    p.add_argument("--private", action="store_true", help="create the repo as private")
    p.add_argument("--token", default=None, help="Hub token (default: $HF_TOKEN or the stored login)")
    p.add_argument("--message", default="Upload DigitNet weights", help="commit message")
    p.add_argument("--dry-run", action="store_true", help="build the folder, print it, upload nothing")
    p.add_argument("--stage-dir", type=Path, default=None, help="where to build the folder (default: temporary)")
    args = p.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        stage = args.stage_dir or Path(tmp) / "upload"
        files = build_folder(args.weights, stage, args.repo_id)
        print(json.dumps({"repo_id": args.repo_id, "folder": str(stage), "files": files}, indent=1))
        if args.dry_run:
            if args.stage_dir is None:
                print("dry run: nothing uploaded (pass --stage-dir to keep the folder)", file=sys.stderr)
            return None
        info = push(stage, args.repo_id, args.revision, args.create_pr, args.private, args.token, args.message)
        print(json.dumps({"commit_url": info.commit_url, "commit": info.oid,
                          "pr_url": getattr(info, "pr_url", None)}, indent=1))
        return info


if __name__ == "__main__":
    main()
