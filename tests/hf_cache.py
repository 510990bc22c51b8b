"""Seed a Hugging Face cache by hand, the way huggingface_hub lays it out, for offline Hub tests."""
import hashlib
import os
from pathlib import Path


def seed_hf_cache(hf_home: Path, repo_id: str, files: dict[str, Path], commit: str | None = None) -> str:
    """Put `files` ({name in repo: local file}) in HF_HOME/hub as one commit of `repo_id`, also as refs/main.

    Layout: hub/models--ORG--NAME/{blobs/<sha256>, snapshots/<commit>/<name> -> ../../blobs/<sha256>,
    refs/main = <commit>}. Returns the commit id.
    """
    repo_dir = Path(hf_home) / "hub" / ("models--" + repo_id.replace("/", "--"))
    commit = commit or hashlib.sha1(repo_id.encode() + b"".join(Path(p).read_bytes() for p in files.values())).hexdigest()
    (repo_dir / "refs").mkdir(parents=True, exist_ok=True)
    (repo_dir / "refs" / "main").write_text(commit)
    for name, src in files.items():
        blob = Path(src).read_bytes()
        blob_path = repo_dir / "blobs" / hashlib.sha256(blob).hexdigest()
        blob_path.parent.mkdir(parents=True, exist_ok=True)
        blob_path.write_bytes(blob)
        link = repo_dir / "snapshots" / commit / name
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(blob_path, link.parent))
    return commit
