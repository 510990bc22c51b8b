"""README.md's promises: the two commands, the Space's front matter, and CI running the same test line."""
import re

import yaml

from conftest import REPO_ROOT

README = (REPO_ROOT / "README.md").read_text()


def _commands() -> list:
    return re.findall(r"```bash\n(.+?)\n```", README)


def test_first_command_runs_the_app_and_second_runs_the_tests():
    run, test = _commands()[:2]
    assert run.endswith("pip install -r requirements.txt && python app.py")
    assert test.endswith("python -m pytest -q")
    ci = (REPO_ROOT / ".ci" / "run").read_text().strip().splitlines()
    assert ci[-1] == test, ".ci/run must run exactly README's test command"
    assert "set -euo pipefail" in ci


def test_spaces_front_matter():
    import gradio

    from digitsinsight.weights import HUB_REPO_ID

    assert README.startswith("---\n")
    meta = yaml.safe_load(README.split("---\n")[1])
    assert meta["sdk"] == "gradio" and meta["app_file"] == "app.py"
    assert meta["sdk_version"] == gradio.__version__
    assert f"gradio=={gradio.__version__}" in (REPO_ROOT / "requirements.txt").read_text()
    assert HUB_REPO_ID in meta["models"] and meta["license"]
    assert meta["title"] and meta["emoji"] and meta["colorFrom"] and meta["colorTo"]
    assert 0 < len(meta["short_description"]) <= 60
