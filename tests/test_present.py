"""What the app shows for a reading, built by digitsinsight.present and digitsinsight.ui."""
import numpy as np
import pytest

from digitsinsight import present


@pytest.fixture(scope="module")
def hard_sample():
    from bench.synth import make_set
    return make_set("hard", 1, seed=21)[0]


def test_show_gives_answer_cards_boxes_and_reading(hard_sample, bundled_model):
    answer, cards, boxed, notes, reading = present.show(hard_sample.image, bundled_model)
    assert reading["number"] and reading["number"].replace("\n", "") in answer.replace("</div><div", "")
    assert cards.count("<figure") == len(reading["digits"])
    picture, boxes = boxed
    h, w = picture.shape[:2]
    assert len(boxes) == len(reading["digits"])
    for (x0, y0, x1, y1), label in boxes:
        assert 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h
    for i, d in enumerate(reading["digits"]):
        assert f'data-digit="{d["digit"]}"' in cards
        assert boxes[i][1].startswith(f"{i + 1}: {d['digit']}")


def test_unsure_digit_shows_its_runner_up(bundled_model):
    from bench.synth import make_set
    for sample in make_set("hard", 200, seed=3):
        reading, _ = present.read_for_display(sample.image, bundled_model)
        unsure = [d for d in reading.digits if d.unsure and not d.maybe_not_a_digit and not d.maybe_slash
                  and not d.disputed and not d.other_line] if reading else []
        if unsure:
            cards = present.digit_cards_html(reading)
            assert f"or {unsure[0].alternatives[1][0]}?" in cards and "di-card-unsure" in cards
            assert present.unsure_runners(reading.to_dict())
            return
    pytest.fail("no unsure digit in 200 hard images: the test needs one")


def test_digits_the_readers_disagree_on_are_flagged(bundled_model):
    from bench.synth import make_set
    for sample in make_set("hard", 100, seed=4):
        reading, _ = present.read_for_display(sample.image, bundled_model)
        flagged = [d for d in reading.digits if (d.disputed or d.other_line) and not d.maybe_slash] if reading else []
        if flagged:
            cards = present.digit_cards_html(reading)
            assert "readers differ" in cards and "di-card-unsure" in cards
            if flagged[0].disputed:  # speech says the other reader's digit as the "maybe"
                i = reading.digits.index(flagged[0])
                assert present.unsure_runners(reading.to_dict())[i] == flagged[0].disputed
            return
    pytest.fail("the readers never disagreed on 100 hard images: the test needs one")


def test_blank_canvas_shows_the_prompt_not_a_warning():
    blank = {"background": np.full((400, 1000, 4), 255, np.uint8),
             "layers": [np.zeros((400, 1000, 4), np.uint8)], "composite": np.full((400, 1000, 4), 255, np.uint8)}
    answer, cards, boxed, notes, reading = present.show(blank)
    assert "Draw a number" in answer and cards == "" and boxed is None and notes == "" and reading == {}


def test_messages_are_escaped_and_plain():
    answer = present.number_html(None, "<script>alert(1)</script>")
    assert "<script>" not in answer and "&lt;script&gt;" in answer
    answer, _, _, notes, reading = present.show(b"GIF89a broken")
    assert "Cannot read" in answer and reading == {} and notes == ""  # said once, in the headline


def test_percent_never_claims_certainty():
    assert present.percent(0.99996) == "99.9%" and present.percent(0.9994) == "99.9%"
    assert present.percent(0.42) == "42%" and present.percent(1.0) == "99.9%"


def test_send_correction_messages(tmp_path, monkeypatch):
    from digitsinsight import corrections, ui
    monkeypatch.setenv(corrections.DIR_ENV, str(tmp_path))
    monkeypatch.delenv(corrections.REPO_ENV, raising=False)
    image = np.full((100, 200), 255, np.uint8)
    image[30:70, 90:95] = 0
    assert "draw or upload" in ui.send_correction("draw", None, None, "1", True, {})
    assert "tick the box" in ui.send_correction("draw", image, None, "1", False, {})
    assert "digits 0-9" in ui.send_correction("draw", image, None, "one", True, {})
    assert "Thank you" in ui.send_correction("draw", image, None, "1", True, {"number": "7"})
    assert len(corrections.records(tmp_path)) == 1


def test_speech_follows_only_new_readings():
    from digitsinsight import ui
    reading = {"number": "42", "digits": []}
    audio, key = ui.say_new(reading, "en", "number", True, "")
    rate, samples = audio["value"]
    assert rate > 0 and len(samples) > rate // 4 and key
    assert "espeak-ng" in audio["label"]  # no neural voice is configured in the tests
    again, same = ui.say_new(reading, "en", "number", True, key)
    assert same == key and again == ui.gr.skip()
    assert ui.say_new(reading, "en", "number", False, "") == (None, "")
    assert ui.say_new({}, "en", "number", True, "") == (None, "")


def test_an_amount_is_said_as_written(bundled_model):
    # A reading of "1,250.50" is said as an amount, not as the number its digits make, 125050.
    from bench.synth import make_set
    from digitsinsight import speech, ui
    sample = next(s for s in make_set("punctuated", 12, seed=13) if "." in s.meta["written"])
    reading = present.show(sample.image, bundled_model)[-1]
    assert reading["number"] == sample.text and reading["written"] == sample.meta["written"]
    audio, _ = ui.say_new(reading, "en", "number", True, "")
    unsure = present.unsure_runners(reading)
    as_written = speech.speak(sample.meta["written"], "en", "number", unsure=unsure)
    assert " point " in as_written.words
    assert np.array_equal(audio["value"][1], as_written.samples)
    assert not np.array_equal(audio["value"][1], speech.speak(sample.text, "en", "number", unsure=unsure).samples)


def test_reads_share_the_cores(monkeypatch):
    import torch

    from digitsinsight import ui
    before = torch.get_num_threads()
    monkeypatch.setattr(ui, "_CORES", 4)
    try:
        with ui.fair_share_of_cores() as alone:
            with ui.fair_share_of_cores() as second:  # a second read while the first runs
                assert (alone, second) == (4, 2) and torch.get_num_threads() == 2
        with ui.fair_share_of_cores() as again:
            assert again == 4 and ui._in_flight[0] == 1
        assert ui._in_flight[0] == 0
    finally:
        torch.set_num_threads(before)
