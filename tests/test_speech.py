"""digitsinsight.speech: the words in every language, real espeak-ng synthesis, the cache and
its thread safety, and the neural voice through coqui's public API with a tiny local model.

The neural tests build a random-weight VITS (tests/tiny_voice.py): it checks loading, the
background thread, language routing and the fallbacks, not voice quality.
"""
import io
import subprocess
import sys
import threading
import wave
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO_ROOT, subprocess_env
from digitsinsight import speech
from digitsinsight.speech import SpeechError

ZERO_SEVEN = {"en": ("zero", "seven"), "de": ("null", "sieben"), "fr": ("zéro", "sept"),
              "es": ("cero", "siete"), "it": ("zero", "sette"), "pt": ("zero", "sete")}


def rms(samples) -> float:
    x = np.asarray(samples, dtype=np.float64)
    return float(np.sqrt(np.mean(x * x)))


def same_clip(a, b) -> bool:
    """espeak-ng is not bit-exact from call to call (clip lengths vary by up to ~3%, seen in
    sequential calls too), so "the same clip" means the same length and loudness within a few
    percent; two clips mixed up or run together are far off."""
    return abs(len(a) - len(b)) <= 0.05 * len(b) + 400 and abs(rms(a) / rms(b) - 1) < 0.05


def longest_quiet(samples, rate, level=200) -> float:
    """The longest run of near-silence inside the clip, in seconds."""
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > level)
    return float(np.diff(loud).max() / rate) if loud.size > 1 else 0.0


@pytest.fixture(autouse=True)
def no_neural_config(monkeypatch):
    """Every test starts with no neural voice configured, and leaves none behind."""
    monkeypatch.delenv(speech.NEURAL_ENV, raising=False)
    monkeypatch.delenv("SPACE_ID", raising=False)
    speech._reset_neural()
    yield
    speech._reset_neural()


# ---------------------------------------------------------------- words

def test_public_constants():
    assert speech.LANGUAGES == {"en": "English", "de": "Deutsch", "fr": "Français", "es": "Español",
                                "it": "Italiano", "pt": "Português"}
    assert speech.MODES == ("number", "digits")


def test_english_number_and_digits():
    assert speech.number_words("427") == "four hundred and twenty-seven"
    assert speech.number_words("427", mode="digits") == "four, two, seven"


def test_leading_zeros_are_spoken():
    assert speech.number_words("07") == "zero seven"
    assert speech.number_words("0427") == "zero four hundred and twenty-seven"
    assert speech.number_words("000") == "zero zero zero"
    assert speech.number_words("0") == "zero"
    assert speech.number_words("007", "de") == "null null sieben"
    assert speech.number_words("07", mode="digits") == "zero, seven"


@pytest.mark.parametrize("language", list(speech.LANGUAGES))
def test_every_language_has_its_own_words(language):
    zero, seven = ZERO_SEVEN[language]
    for mode in speech.MODES:
        words = speech.number_words("0427", language, mode)
        assert words.startswith(zero + (", " if mode == "digits" else " ")) and seven in words, words
        assert words.endswith(seven) or mode == "number", words
    assert speech.number_words("7", language) == seven


def test_other_languages_say_whole_numbers():
    assert speech.number_words("427", "de") == "vierhundertsiebenundzwanzig"
    assert speech.number_words("427", "fr") == "quatre cent vingt-sept"
    assert speech.number_words("427", "es") == "cuatrocientos veintisiete"
    assert speech.number_words("427", "it") == "quattrocentoventisette"
    assert speech.number_words("427", "pt") == "quatrocentos e vinte e sete"


def test_long_numbers_are_read_in_groups():
    fifteen = "123456789012345"
    assert "trillion" in speech.number_words(fifteen)  # 15 digits: still one number
    assert speech.number_words("1234567890123456") == (
        "one hundred and twenty-three, four hundred and fifty-six, seven hundred and eighty-nine, "
        "zero twelve, thirty-four, fifty-six")  # never a lone digit at the end
    assert speech.number_words("12345678901234567", "de") == (
        "einhundertdreiundzwanzig, vierhundertsechsundfünfzig, siebenhundertneunundachtzig, "
        "null zwölf, dreihundertfünfundvierzig, siebenundsechzig")
    assert speech.number_words("1234567890123456", mode="digits").count(",") == 15


def test_lines_are_separate_numbers():
    assert speech.number_words("427\n12") == "four hundred and twenty-seven. twelve"
    assert speech.number_words(" 7 \n\n 12 ") == "seven. twelve"
    assert speech.number_words("42\n7", mode="digits") == "four, two. seven"


def test_unsure_digits_in_digit_mode():
    assert speech.number_words("427", mode="digits", unsure={1: "7"}) == "four, maybe two or seven, seven"
    assert speech.number_words("427", mode="digits", unsure=[1]) == "four, maybe two, seven"
    assert speech.number_words("427", mode="digits", unsure={1: 2}) == "four, maybe two, seven"
    assert speech.number_words("427", "de", "digits", {1: 7}) == "vier, vielleicht zwei oder sieben, sieben"
    assert speech.number_words("78", "es", "digits", {0: 8}) == "quizás siete u ocho, ocho"  # o -> u before o
    assert speech.number_words("427", "fr", "digits", [2]) == "quatre, deux, peut-être sept"


def test_unsure_digits_in_number_mode():
    assert speech.number_words("427", unsure={1: 7}) == (
        "four hundred and twenty-seven, or maybe four hundred and seventy-seven")
    assert speech.number_words("427", "de", unsure={1: 7}) == (
        "vierhundertsiebenundzwanzig, oder vielleicht vierhundertsiebenundsiebzig")
    assert speech.number_words("427", unsure=[0]) == "maybe four hundred and twenty-seven"
    # more doubts than MAX_ALTERNATIVES: digit by digit, each doubt marked
    assert speech.number_words("4278", unsure={0: 1, 1: 7, 3: 3}) == (
        "maybe four or one, maybe two or seven, seven, maybe eight or three")


def test_amounts_are_said_as_written():
    # The reader's "written" form: the fraction is said digit by digit after the decimal mark's word.
    assert speech.number_words("1,250.50") == "one thousand, two hundred and fifty point five zero"
    assert speech.number_words("1.250,50", "de") == "eintausendzweihundertfünfzig Komma fünf null"
    assert speech.number_words("1,000,000") == "one million"  # one kind of mark, twice: thousands
    assert speech.number_words("1.000.000", "it") == "un milione"
    # one mark before three digits: the language's own habit decides
    assert speech.number_words("1,250") == "one thousand, two hundred and fifty"
    assert speech.number_words("1,250", "de") == "eins Komma zwei fünf null"
    assert speech.number_words("1.250", "fr") == "mille deux cent cinquante"
    # Spanish, French, Italian and Portuguese name the mark that was written
    assert speech.number_words("3.5", "es") == "tres punto cinco"
    assert speech.number_words("3,5", "es") == "tres coma cinco"
    assert speech.number_words("12,50\n3", "fr") == "douze virgule cinq zéro. trois"
    assert speech.number_words("0.75", mode="digits") == "zero, point, seven, five"
    assert speech.number_words("1,250.50", mode="digits") == "one, two, five, zero, point, five, zero"
    # more than 15 digits before the point: said digit by digit, where groups of three would hide the point
    long = speech.number_words("1,234,567,890,123,456.7")
    assert long.startswith("one, two, three") and long.endswith("six, point, seven") and "thousand" not in long
    assert speech.number_words("1,234,567,890,123,456") == speech.number_words("1234567890123456")  # no point


def test_a_minus_sign_is_said():
    assert speech.number_words("-12", "fr") == "moins douze"
    assert speech.number_words("−42") == "minus forty-two"  # the minus sign proper, as well as a hyphen
    assert speech.number_words("-3,5", "de") == "minus drei Komma fünf"
    assert speech.number_words("-0.5", mode="digits") == "minus, zero, point, five"
    assert speech.number_words("-7", unsure={0: "1"}) == "minus seven, or maybe minus one"
    assert speech.number_words("-1234567890123456").startswith("minus one hundred and twenty-three, four hundred")


def test_a_plus_sign_is_said_before_a_number_and_between_two():
    assert speech.number_words("+44") == "plus forty-four"
    assert speech.number_words("+4420", "es", mode="digits") == "más, cuatro, cuatro, dos, cero"
    assert speech.number_words("3+4") == "three plus four"
    assert speech.number_words("12+5", "it") == "dodici più cinque"
    assert speech.number_words("3+4", unsure={1: "9"}) == "three plus four, or maybe nine"
    assert speech.number_words("+1-555", mode="digits") == "plus, one; five, five, five"


def test_hyphenated_groups_are_said_one_after_the_other():
    # A phone number, a date: each group on its own, a pause (";") between groups; a comma stays the
    # pause inside a number ("one thousand, two hundred"), so the groups are still heard apart.
    assert speech.number_words("555-1234") == "five hundred and fifty-five; one thousand, two hundred and thirty-four"
    assert speech.number_words("555-1234", mode="digits") == "five, five, five; one, two, three, four"
    assert speech.number_words("12-05-2026", "de") == "zwölf; null fünf; zweitausendsechsundzwanzig"
    assert speech.number_words("-12−34") == "minus twelve; thirty-four"
    assert speech.number_words("555-1234", unsure={3: "7"}) == (
        "five hundred and fifty-five; one thousand, two hundred and thirty-four, "
        "or maybe seven thousand, two hundred and thirty-four")
    assert speech.number_words("12-34\n5", mode="digits", unsure={4: "6"}) == "one, two; three, four. maybe five or six"


def test_groups_joined_by_slashes_are_said_one_after_the_other():
    assert speech.number_words("12/05/2026") == "twelve; zero five; two thousand and twenty-six"
    assert speech.number_words("3/4", mode="digits") == "three; four"
    assert speech.number_words("12/05/2026", "fr", unsure={3: "6"}) == (
        "douze; zéro cinq, ou peut-être zéro six; deux mille vingt-six")
    for text in ("4//2", "/4", "4/", "4/-2", "1" * 5000 + "/"):
        with pytest.raises(SpeechError, match="between two digits"):
            speech.number_words(text)


def test_a_long_run_of_digits_with_a_stray_mark_is_refused_at_once():
    # The check of where marks stand once backtracked exponentially: "1" * 30 + "-" took about 40 s,
    # and these would not finish at all (no timing here: a regression hangs the run, and CI fails it).
    for text in ("1" * 5000 + "-", "1" * 40 + "-", "1" * 40 + ".."):
        with pytest.raises(SpeechError, match="between two digits"):
            speech.number_words(text)


def test_doubts_in_an_amount_count_its_digits_only():
    assert speech.number_words("1,250.50", mode="digits", unsure={1: "7"}) == (
        "one, maybe two or seven, five, zero, point, five, zero")
    assert speech.number_words("2.5", unsure={1: "8"}) == "two point five, or maybe two point eight"
    assert speech.number_words("1,250.50\n7", unsure={6: "1"}) == (
        "one thousand, two hundred and fifty point five zero. seven, or maybe one")


def test_unsure_indices_count_digits_only():
    # index 3 is the first digit of the second line
    assert speech.number_words("427\n12", mode="digits", unsure={3: 7}) == "four, two, seven. maybe one or seven, two"
    assert speech.unsure_from_reading(None) == {}


def test_unsure_digits_from_a_reading():
    from digitsinsight import Digit, Reading

    def digit(d, p, runner, line):
        return Digit(d, p, [(d, p), (runner, (1 - p) * 0.8), ((d + 5) % 10, 0.01)], (0, 0, 1, 1),
                     np.zeros((28, 28), np.uint8), line)

    # the reader lists line 1 before line 0 here: indices must still follow the text "427\n12"
    digits = [digit(1, 0.99, 7, 1), digit(2, 0.55, 3, 1), digit(4, 0.99, 9, 0), digit(2, 0.6, 7, 0),
              digit(7, 0.99, 1, 0)]
    reading = Reading("427\n12", digits, 0.3, "unsure")
    doubts = speech.unsure_from_reading(reading)
    assert doubts == {1: "7", 4: "3"}
    assert speech.number_words(reading.text, "en", "digits", doubts) == (
        "four, maybe two or seven, seven. one, maybe two or three")


@pytest.mark.parametrize("text, message", [
    ("", "no digits"), ("  \n ", "no digits"), (None, "no digits"),
    ("42a", "Only digits"), ("4×2", "Only digits"), ("٤٢", "Only digits"), ("4:2", "Only digits"),
    ("4..2", "between two digits"), (".5", "between two digits"), ("4.", "between two digits"),
    ("1 , 2", "between two digits"), (",", "between two digits"), ("4--2", "plus must stand"),
    ("--4", "minus or plus sign before"), ("- 4", "minus or plus sign before"), ("4-", "plus must stand"),
    ("++4", "minus or plus sign before"), ("4+", "plus must stand"), ("3+-4", "plus must stand"),
    ("4.-2", "between two digits"), ("4-.2", "between two digits"),
    ("1" * (speech.MAX_SPOKEN_DIGITS + 1), "Too long"),
])
def test_text_that_cannot_be_said(text, message):
    with pytest.raises(SpeechError, match=message):
        speech.number_words(text)


def test_unknown_language_mode_voice_and_bad_doubts():
    with pytest.raises(SpeechError, match="en, de, fr, es, it, pt"):
        speech.number_words("42", "nl")
    with pytest.raises(SpeechError, match="number, digits"):
        speech.number_words("42", mode="words")
    with pytest.raises(SpeechError, match="auto, offline, neural"):
        speech.speak("42", voice="robot")
    with pytest.raises(SpeechError, match="out of range"):
        speech.number_words("42", unsure=[2])
    with pytest.raises(SpeechError, match="one digit"):
        speech.number_words("42", unsure={0: "12"})
    assert issubclass(SpeechError, ValueError)


# ---------------------------------------------------------------- offline voice

@pytest.mark.parametrize("language", list(speech.LANGUAGES))
@pytest.mark.parametrize("mode", speech.MODES)
def test_offline_voice_speaks_every_language(language, mode):
    said = speech.speak("0427", language, mode, voice="offline", cache=False)
    assert said.voice == speech.OFFLINE_VOICE and said.note == ""
    assert said.language == language and said.mode == mode
    assert said.words == speech.number_words("0427", language, mode)
    assert said.samples.dtype == np.int16 and said.samples.ndim == 1
    assert said.sample_rate == 22050
    assert rms(said.samples) > 1000, "silent"
    assert 0.8 < said.duration < 4.0  # four or five words: measured 1.4-2.4 s
    rate, samples = said.as_gradio()
    assert rate == said.sample_rate and samples is said.samples
    with wave.open(io.BytesIO(said.to_wav_bytes())) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 22050)
        assert np.array_equal(np.frombuffer(w.readframes(w.getnframes()), "<i2"), said.samples)


@pytest.mark.parametrize("language", ["en", "de", "pt"])
def test_duration_grows_with_the_text(language):
    for mode, texts in (("number", ["7", "427", "4271234"]), ("digits", ["7", "42", "4271", "42719"])):
        durations = [speech.speak(t, language, mode, voice="offline", cache=False).duration for t in texts]
        assert durations == sorted(durations) and len(set(durations)) == len(durations), (mode, durations)
    # about 2 to 6 words a second
    said = speech.speak("4271", language, "digits", cache=False)
    assert 4 / 6 < said.duration < 4 / 1.5


def test_a_pause_between_lines():
    said = speech.speak("7\n12", voice="offline", cache=False)
    assert longest_quiet(said.samples, said.sample_rate) > 0.25  # a sentence break, not a word gap
    assert speech._sentences("seven. twelve") == "Seven. Twelve"


def test_unsure_digits_are_spoken():
    plain = speech.speak("427", mode="digits", cache=False)
    doubt = speech.speak("427", mode="digits", unsure={1: 7}, cache=False)
    assert "maybe" in doubt.words and doubt.duration > plain.duration + 0.3


def test_cache_shares_clips_and_is_bounded(monkeypatch):
    speech.clear_cache()
    first = speech.speak("31", "it")
    again = speech.speak("31", "it")
    assert again.samples is first.samples  # from the cache
    assert not first.samples.flags.writeable  # so nobody can spoil the shared copy
    fresh = speech.speak("31", "it", cache=False)
    assert fresh.samples is not first.samples and same_clip(fresh.samples, first.samples)
    assert speech.speak("31", "it", mode="digits").samples is not first.samples
    monkeypatch.setattr(speech, "CACHE_SIZE", 5)
    for n in range(12):
        speech.speak(str(n), "es")
    assert len(speech._cache) == 5
    assert ("once", "es", "number", speech.OFFLINE_VOICE) in speech._cache  # the newest stay
    speech.clear_cache()


def test_threads_get_the_same_audio_as_one_caller():
    jobs = [(t, lang) for t in ("7", "427", "90210") for lang in ("en", "de", "fr", "es")]
    expected = {job: speech.speak(*job, cache=False).samples for job in jobs}
    results, errors = {}, []

    def worker(k):
        try:
            for job in jobs[k:] + jobs[:k]:
                results[(k, job)] = speech.speak(*job, cache=False).samples
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(results) == 4 * len(jobs)
    for (k, job), samples in results.items():
        assert same_clip(samples, expected[job]), job


def test_import_is_cheap():
    code = ("import sys, digitsinsight.speech; "
            "print(sorted(m for m in ('TTS', 'torchaudio', 'torchcodec', 'gradio', 'num2words') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT,
                         env=subprocess_env(), timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


# ---------------------------------------------------------------- neural voice configuration

def test_neural_voice_is_off_unless_configured(monkeypatch):
    assert speech._configured_specs() == []
    speech.start_neural_voice()
    assert speech.neural_voice_status()["state"] == "off"
    said = speech.speak("12", voice="neural")
    assert said.voice == speech.OFFLINE_VOICE and speech.NEURAL_ENV in said.note
    assert speech.speak("12").note == ""  # "auto" does not complain

    monkeypatch.setenv("SPACE_ID", "someone/digitsinsight")
    assert speech._configured_specs() == speech.DEFAULT_NEURAL_VOICE.split(",")  # on a Space: on by default
    assert len(speech._configured_specs()) == len(speech.LANGUAGES)  # a neural voice per language
    monkeypatch.setenv(speech.NEURAL_ENV, "off")
    assert speech._configured_specs() == []
    monkeypatch.setenv(speech.NEURAL_ENV, "tts_models/de/thorsten/vits, tts_models/fr/css10/vits")
    assert speech._configured_specs() == ["tts_models/de/thorsten/vits", " tts_models/fr/css10/vits"]


def test_spec_parsing(tmp_path):
    assert speech._parse_spec("tts_models/de/thorsten/vits")["model_path"] is None
    local = speech._parse_spec("de=/m/voice/model.pth:/m/voice/config.json")
    assert local["languages"] == ["de"] and local["model_path"] == "/m/voice/model.pth"
    assert local["config_path"] == "/m/voice/config.json" and local["name"] == "voice"
    with pytest.raises(SpeechError, match="Unknown language"):
        speech._parse_spec("xx=/m/model.pth:/m/config.json")
    assert speech._our_language("pt-br") == "pt" and speech._our_language("fra") == "fr"
    assert speech._our_language("nl") is None


# ---------------------------------------------------------------- neural voice through coqui, tiny local model

@pytest.fixture(scope="session")
def tiny_voice(tmp_path_factory):
    pytest.importorskip("TTS.api", reason="coqui-tts (with torchaudio, torchcodec, six) is not installed")
    from tiny_voice import build_tiny_voice
    return build_tiny_voice(tmp_path_factory.mktemp("tiny_voice"))


def load(spec: str) -> dict:
    speech.start_neural_voice(spec)
    status = speech._wait_neural(timeout=120)
    assert status["state"] != "loading"
    return status


def test_neural_voice_loads_in_the_background_and_speaks(tiny_voice):
    model_path, config_path = tiny_voice
    speech.start_neural_voice(f"{model_path}:{config_path}")  # returns at once ...
    early = speech.speak("427", voice="neural")                # ... and speech does not wait for it
    if early.voice == speech.OFFLINE_VOICE:
        assert "loading" in early.note
    status = speech._wait_neural(timeout=120)
    assert status["state"] == "ready", status
    assert status["languages"] == ["en"]  # from the model's config
    assert status["models"][0]["seconds"] > 0

    said = speech.speak("427", "en", voice="auto", cache=False)
    assert said.voice == f"coqui:{Path(model_path).parent.name}" and said.note == ""
    assert said.samples.dtype == np.int16 and said.samples.ndim == 1 and said.sample_rate == 22050
    assert rms(said.samples) > 100 and said.duration > 0.1
    with wave.open(io.BytesIO(said.to_wav_bytes())) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 22050)
    assert speech.speak("427815", cache=False).duration > speech.speak("7", cache=False).duration  # grows with text
    assert speech.speak("427", "en", voice="neural").voice == said.voice
    assert speech.speak("427", "en", voice="offline").voice == speech.OFFLINE_VOICE

    # a language the model does not speak: the offline voice, and "neural" says why
    assert speech.speak("427", "de").voice == speech.OFFLINE_VOICE
    german = speech.speak("427", "de", voice="neural")
    assert german.voice == speech.OFFLINE_VOICE and "does not speak Deutsch" in german.note

    speech.start_neural_voice("/elsewhere/model.pth:/elsewhere/config.json")  # once: ignored now
    assert speech.neural_voice_status()["state"] == "ready"


def test_neural_language_from_a_prefix_and_a_folder(tiny_voice):
    folder = Path(tiny_voice[0]).parent
    status = load(f"de={folder}")
    assert status["state"] == "ready" and status["languages"] == ["de"]
    assert speech.speak("427", "de").voice == f"coqui:{folder.name}"
    assert speech.speak("427", "en").voice == speech.OFFLINE_VOICE


def test_fallback_when_the_neural_model_cannot_load(tiny_voice, tmp_path):
    broken = tmp_path / "model.pth"
    broken.write_bytes(b"not a checkpoint")
    status = load(f"{broken}:{tiny_voice[1]}")
    assert status["state"] == "failed" and status["error"] and status["languages"] == []
    auto = speech.speak("427", cache=False)
    assert auto.voice == speech.OFFLINE_VOICE and auto.note == ""
    asked = speech.speak("427", voice="neural", cache=False)
    assert asked.voice == speech.OFFLINE_VOICE and "failed to load" in asked.note
    assert rms(asked.samples) > 1000


def test_bad_specs_never_raise(tiny_voice):
    assert load("xx=/nowhere/model.pth:/nowhere/config.json")["state"] == "failed"
    speech._reset_neural()
    status = load(f"/nowhere/model.pth:{tiny_voice[1]},{tiny_voice[0]}:{tiny_voice[1]}")  # second one loads
    assert status["state"] == "ready" and [m["state"] for m in status["models"]] == ["failed", "ready"]


def test_fallback_when_neural_synthesis_fails(tiny_voice, monkeypatch):
    assert load(f"{tiny_voice[0]}:{tiny_voice[1]}")["state"] == "ready"
    voice = speech._neural_voices["en"]

    def broken(*args, **kwargs):
        raise RuntimeError("out of memory")

    monkeypatch.setattr(voice.tts, "tts", broken)
    said = speech.speak("427", voice="neural", cache=False)
    assert said.voice == speech.OFFLINE_VOICE and "out of memory" in said.note
    assert rms(said.samples) > 1000
