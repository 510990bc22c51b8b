"""The app in a real browser: Debian's Chromium driven by Playwright, as a person uses it.

Draws a number with the mouse on the sketchpad, uploads a photo, checks the answer and the
audio player, and saves screenshots at desktop and phone widths in tests/artifacts/.
"""
import json
import os
import time
from pathlib import Path

import pytest

from conftest import REPO_ROOT

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO_ROOT / "tests" / "artifacts"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
# Strokes of three digits in a unit cell (x right, y down); a few points each, since every mouse step
# costs a software-rendered frame.
STROKES = {"1": [[(0.55, 0.05), (0.55, 0.95)]],
           "4": [[(0.6, 0.05), (0.1, 0.62), (0.95, 0.62)], [(0.68, 0.3), (0.68, 0.97)]],
           "7": [[(0.1, 0.08), (0.9, 0.08), (0.4, 0.95)]]}
WIDTHS = {"desktop": (1366, 900), "phone": (390, 844)}

if not CHROMIUM.exists():
    reason = "Debian's chromium is not installed (apt-get install chromium); .ci/run installs it"
    if os.environ.get("CI"):
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason, allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="the browser tests need the playwright package")


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


def _open(browser, app_url, width="desktop"):
    w, h = WIDTHS[width]
    page = browser.new_page(viewport={"width": w, "height": h})
    page.goto(app_url)
    page.wait_for_selector("#home-text", timeout=60_000)
    return page


def _answer(page, expected: str, timeout=60_000) -> str:
    """The number on screen once it shows `expected` (it is read as the person draws, so earlier
    answers pass by), or whatever it shows when the time is up."""
    script = ("(want) => { const n = document.querySelectorAll('#answer .di-number');"
              " return Array.from(n).map(e => e.textContent.trim()).join('\\n') === want }")
    try:
        page.wait_for_function(script, arg=expected, timeout=timeout)
    except sync_api.TimeoutError:
        pass
    return "\n".join(t.strip() for t in page.locator("#answer .di-number").all_inner_texts())


def _audio_bytes(page, timeout=60_000) -> int:
    """The size of the WAV file the audio player received (its player fetches it; so do we)."""
    page.wait_for_selector("#voice a[download]", timeout=timeout)
    href = page.locator("#voice a[download]").first.get_attribute("href")
    response = page.request.get(href)
    assert response.ok and response.body()[:4] == b"RIFF", href
    return len(response.body())


def draw(page, number: str) -> None:
    canvas = page.locator("#sketchpad canvas").first
    canvas.wait_for(timeout=30_000)
    page.wait_for_timeout(800)
    box = canvas.bounding_box()
    # The drawable area is the canvas's centre part; keep well inside it.
    h = box["height"] * 0.45
    w = h * 0.6
    x, y = box["x"] + box["width"] * 0.25, box["y"] + box["height"] * 0.27
    for digit in number:
        for stroke in STROKES[digit]:
            points = [(x + u * w, y + v * h) for u, v in stroke]
            page.mouse.move(*points[0])
            page.mouse.down()
            for q in points[1:]:
                page.mouse.move(*q, steps=4)
            page.mouse.up()
        x += w * 1.45


def test_draw_a_number_with_the_mouse(browser, app_url):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = _open(browser, app_url)
    page.screenshot(path=str(ARTIFACTS / "home-desktop.png"), full_page=True)
    page.get_by_role("tab", name="Read a number").click()
    t0 = time.perf_counter()
    draw(page, "147")
    assert _answer(page, "147") == "147"
    assert _audio_bytes(page) > 10_000, "the spoken answer never reached the audio player"
    page.wait_for_timeout(500)
    page.screenshot(path=str(ARTIFACTS / "drawn-desktop.png"), full_page=True)
    cards = page.locator("#digit-cards figure")
    assert cards.count() == 3
    assert [c.get_attribute("data-digit") for c in cards.all()] == ["1", "4", "7"]
    print(f"drawn and read in {time.perf_counter() - t0:.1f} s")


def test_upload_a_photo(browser, app_url):
    example = next(e for e in json.loads((REPO_ROOT / "examples" / "examples.json").read_text())
                   if e["kind"] == "hard")
    page = _open(browser, app_url)
    page.get_by_role("tab", name="Read a number").click()
    page.get_by_role("tab", name="Upload or take a photo").click()
    page.locator("#upload input[type=file]").set_input_files(str(REPO_ROOT / "examples" / example["file"]))
    assert _answer(page, example["number"]) == example["number"]
    assert _audio_bytes(page) > 10_000
    page.wait_for_timeout(500)
    page.screenshot(path=str(ARTIFACTS / "upload-desktop.png"), full_page=True)


def test_home_example_opens_the_reader(browser, app_url):
    page = _open(browser, app_url, "phone")
    page.screenshot(path=str(ARTIFACTS / "home-phone.png"), full_page=True)
    examples = json.loads((REPO_ROOT / "examples" / "examples.json").read_text())
    page.locator("#home-examples button").first.click()
    assert _answer(page, examples[0]["number"]) == examples[0]["number"]
    assert page.locator("#upload").is_visible(), "the example's image should be in view, in the upload tab"
    page.wait_for_timeout(500)
    page.screenshot(path=str(ARTIFACTS / "example-phone.png"), full_page=True)


def test_insights_and_about_render(browser, app_url):
    page = _open(browser, app_url)
    page.get_by_role("tab", name="Model insights").click()
    page.wait_for_selector("#insight-plots img", timeout=30_000)
    page.wait_for_timeout(500)
    page.screenshot(path=str(ARTIFACTS / "insights-desktop.png"), full_page=True)
    page.get_by_role("tab", name="About").click()
    assert page.get_by_text("The MNIST Database of Handwritten Digit Images").count() >= 1
