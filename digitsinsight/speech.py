"""Say a reading out loud: number words in six languages, an offline voice that is always there,
and an optional neural voice that takes over once it has loaded.

    from digitsinsight import speech
    speech.number_words("0427", "en")                  # "zero four hundred and twenty-seven"
    speech.number_words("0427", "de", mode="digits")   # "null, vier, zwei, sieben"
    speech.number_words("1,250.50", "en")              # "one thousand, two hundred and fifty point five zero"
    speech.number_words("-12", "fr")                   # "moins douze"
    said = speech.speak("0427", "fr")                  # Speech: int16 mono samples + which voice spoke
    said.as_gradio(), said.to_wav_bytes(), said.voice, said.note

Voices
  offline  espeak-ng from the espeakng-loader wheel (library and data inside it), through ctypes.
           No system install, 2-5 ms for a 6-digit number here, robotic but clear.
  neural   Coqui TTS (coqui-tts), loaded in a background thread by start_neural_voice(); until it
           is ready, or for a language it does not speak, or if it fails, the offline voice answers
           and Speech.voice / Speech.note say so. Nothing here waits for it: the app shows the
           number first and fetches the audio in a second step.

Configuration, $DIGITSINSIGHT_NEURAL_VOICE (read by start_neural_voice()):
  unset           off locally; on a hosted Space ($SPACE_ID set) DEFAULT_NEURAL_VOICE is loaded.
  off             never load a neural voice (also: none, 0, false).
  a model name    a Coqui model, fetched once into coqui's cache, e.g. "tts_models/de/thorsten/vits";
                  its language comes from the name (or, multilingual, from the model itself).
  a local model   "MODEL.pth:CONFIG.json" or a folder holding both; its language comes from
                  the config, or from a prefix: "de=/models/voice.pth:/models/config.json".
  several         comma-separated, e.g. "tts_models/en/ljspeech/vits,tts_models/de/thorsten/vits":
                  each language uses the first loaded model that speaks it.
Coqui's phoneme-based voices (the VITS ones above) call the espeak-ng program: on a Space, list
espeak-ng in packages.txt, or loading fails and the offline voice keeps answering.
"""
import ctypes
import io
import logging
import os
import re
import threading
import time
import wave
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

LANGUAGES = {"en": "English", "de": "Deutsch", "fr": "Français", "es": "Español", "it": "Italiano",
             "pt": "Português"}
MODES = ("number", "digits")
VOICES = ("auto", "offline", "neural")
OFFLINE_VOICE = "espeak-ng (offline)"
MAX_NUMBER_DIGITS = 15   # longer runs of digits are said in groups: nobody follows "quadrillions"
MAX_ALTERNATIVES = 2     # a number with more unsure digits than this is said digit by digit
MAX_SPOKEN_DIGITS = 256  # a public app should not be made to talk for minutes
CACHE_SIZE = 256         # synthesised clips kept, least recently used dropped first
ESPEAK_RATE = 160        # words a minute; espeak's default 175 runs digits together
NEURAL_ENV = "DIGITSINSIGHT_NEURAL_VOICE"
# Loaded on a hosted Space unless configured: one single-speaker VITS voice per language (about
# 100 MB each, fetched one after another in the background; each language speaks as soon as its own is in).
DEFAULT_NEURAL_VOICE = ",".join(["tts_models/en/ljspeech/vits", "tts_models/de/thorsten/vits",
                                 "tts_models/fr/css10/vits", "tts_models/es/css10/vits",
                                 "tts_models/it/mai_female/vits", "tts_models/pt/cv/vits"])

_N2W = {"en": "en", "de": "de", "fr": "fr", "es": "es", "it": "it", "pt": "pt"}  # num2words codes
_ESPEAK_VOICES = {"en": "en-us", "de": "de", "fr": "fr", "es": "es", "it": "it", "pt": "pt"}
_MAYBE_OR = {"en": ("maybe", "or"), "de": ("vielleicht", "oder"), "fr": ("peut-être", "ou"),
             "es": ("quizás", "o"), "it": ("forse", "o"), "pt": ("talvez", "ou")}
# Amounts: the mark a language writes between whole and fraction, which decides a lone mark before
# three digits ("1,250" is 1250 in English and 1.25 in German), and the word said for a decimal mark.
# English and German have one word for either mark; the others say the mark as it was written.
_DECIMAL_MARK = {"en": ".", "de": ",", "fr": ",", "es": ",", "it": ",", "pt": ","}
_POINT_WORDS = {"en": {".": "point", ",": "point"}, "de": {".": "Komma", ",": "Komma"},
                "fr": {".": "point", ",": "virgule"}, "es": {".": "punto", ",": "coma"},
                "it": {".": "punto", ",": "virgola"}, "pt": {".": "ponto", ",": "vírgula"}}
_MINUS_WORDS = {"en": "minus", "de": "minus", "fr": "moins", "es": "menos", "it": "meno", "pt": "menos"}
_PLUS_WORDS = {"en": "plus", "de": "plus", "fr": "plus", "es": "más", "it": "più", "pt": "mais"}
MARKS = ".,"
MINUS = "-−"  # a minus sign before a number, or a hyphen between digits: as typed (-) or the sign proper (−)
PLUS = "+"    # a plus sign before a number ("+44"), or between two ("3+4"), where it is said
SIGNS = MINUS + PLUS
JOINS = MINUS + "/" + PLUS  # what joins groups of digits said one after the other: a hyphen, a slash or a plus
_ISO3 = {"eng": "en", "deu": "de", "ger": "de", "fra": "fr", "fre": "fr", "spa": "es", "ita": "it", "por": "pt"}

log = logging.getLogger(__name__)


class SpeechError(ValueError):
    """The text cannot be spoken (no digits, other characters, unknown language or mode), or no voice could."""


@dataclass
class Speech:
    sample_rate: int
    samples: np.ndarray      # int16, mono; read-only (it may be shared with the cache)
    voice: str               # which voice spoke: OFFLINE_VOICE or "coqui:<model>"
    words: str
    language: str
    mode: str
    note: str = ""           # why the neural voice did not speak, when it was asked for

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sample_rate

    def to_wav_bytes(self) -> bytes:
        """A RIFF WAV file, 16-bit PCM mono: the one format every browser plays."""
        buf = io.BytesIO()
        with wave.open(buf, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(self.sample_rate)
            w.writeframes(np.asarray(self.samples, dtype="<i2").tobytes())
        return buf.getvalue()

    def as_gradio(self) -> tuple:
        """(sample_rate, samples) for gr.Audio(type="numpy")."""
        return self.sample_rate, self.samples


# ---------------------------------------------------------------- words

def _check_language(language: str) -> None:
    if language not in LANGUAGES:
        raise SpeechError(f"Unknown language {language!r}; choose one of: {', '.join(LANGUAGES)}.")


def _digit_word(d: str, language: str) -> str:
    from num2words import num2words
    return num2words(int(d), lang=_N2W[language])


def _or(language: str, following: str) -> str:
    """The word for "or"; Spanish says "u" before an o-sound ("siete u ocho")."""
    word = _MAYBE_OR[language][1]
    if language == "es" and re.match(r"h?o", following):
        return "u"
    return word


def _say_number(digits: str, language: str) -> str:
    """A run of digits as one number, leading zeros spoken: "0427" -> "zero four hundred and twenty-seven"."""
    from num2words import num2words
    zeros = len(digits) - len(digits.lstrip("0"))
    if zeros == len(digits):
        zeros -= 1  # "000": two leading zeros, then the number zero
    return " ".join([_digit_word("0", language)] * zeros + [num2words(int(digits), lang=_N2W[language])])


def _split_amount(number: str, language: str) -> tuple:
    """(whole digits, fraction digits or None, decimal mark) of a number that may be written with points
    and commas, each between two digits. "1,250.50" -> ("1250", "50", "."); "1.000.000" -> ("1000000", None, "").
    Both marks: the last one is the decimal mark if it is written once, after the other kind.
    One kind written more than once groups thousands. Written once, before three digits, it is the
    language's decision ("1,250" in English, "1.250" in German: 1250); before any other count, a decimal mark."""
    marks = re.findall(r"[.,]", number)
    if not marks:
        return number, None, ""
    runs = re.split(r"[.,]", number)
    last = marks[-1]
    if len(set(marks)) == 2:
        decimal = last if marks.count(last) == 1 else None
    elif len(marks) > 1:
        decimal = None
    elif len(runs[-1]) == 3:
        decimal = last if last == _DECIMAL_MARK[language] else None
    else:
        decimal = last
    if decimal is None:
        return "".join(runs), None, ""
    return "".join(runs[:-1]), runs[-1], decimal


def _sign_word(sign: str, language: str) -> str:
    return _PLUS_WORDS[language] if sign in PLUS else _MINUS_WORDS[language]


def _say_amount(number: str, language: str) -> str:
    """A number as one number, with any fraction after its decimal mark said digit by digit:
    "1,250.50" -> "one thousand, two hundred and fifty point five zero"; "-7" -> "minus seven"."""
    if number[0] in SIGNS:
        return f"{_sign_word(number[0], language)} {_say_amount(number[1:], language)}"
    whole, fraction, mark = _split_amount(number, language)
    said = _say_number(whole, language)
    if fraction is None:
        return said
    return " ".join([said, _POINT_WORDS[language][mark]] + [_digit_word(d, language) for d in fraction])


def _say_digits(number: str, language: str, unsure: dict) -> str:
    """Digit by digit: "four, two, seven"; an unsure digit as "maybe two or seven" (or "maybe two").
    A decimal mark is said where it stands ("one, point, five"); marks that group thousands are not."""
    if number[0] in SIGNS:
        return f"{_sign_word(number[0], language)}, {_say_digits(number[1:], language, unsure)}"
    maybe = _MAYBE_OR[language][0]
    _, fraction, mark = _split_amount(number, language)
    point_at = number.rfind(mark) if fraction is not None else -1
    words, i = [], 0
    for at, d in enumerate(number):
        if d in MARKS:
            if at == point_at:
                words.append(_POINT_WORDS[language][mark])
            continue
        word = _digit_word(d, language)
        if i in unsure:
            other = unsure[i]
            word = f"{maybe} {word}"
            if other is not None:
                other_word = _digit_word(other, language)
                word += f" {_or(language, other_word)} {other_word}"
        words.append(word)
        i += 1
    return ", ".join(words)


def _with_digit(number: str, index: int, digit: str) -> str:
    """`number` with its index-th digit (marks and sign not counted) replaced by `digit`."""
    at = [k for k, c in enumerate(number) if c.isdigit()][index]
    return number[:at] + digit + number[at + 1:]


def _say_chunk(number: str, language: str, mode: str, unsure: dict) -> str:
    """One number (digits, maybe with a minus sign, points and commas) said as one unit; `unsure`
    maps digit positions in it (sign and marks not counted) to a runner-up or None."""
    if mode == "digits" or len(unsure) > MAX_ALTERNATIVES:
        return _say_digits(number, language, unsure)
    said = _say_amount(number, language)
    if not unsure:
        return said
    maybe = _MAYBE_OR[language][0]
    if any(other is None for other in unsure.values()):
        said = f"{maybe} {said}"
    for i, other in sorted(unsure.items()):
        if other is not None:
            alternative = _say_amount(_with_digit(number, i, other), language)
            said += f", {_or(language, maybe)} {maybe} {alternative}"
    return said


def _groups(n: int) -> list:
    """Group sizes for a long number: threes, but never a lone digit at the end (…, 2, 2)."""
    sizes = [3] * (n // 3)
    if n % 3 == 2:
        sizes.append(2)
    elif n % 3 == 1:
        sizes[-1:] = [2, 2]
    return sizes


def _unsure_map(unsure, digits: str) -> dict:
    """{digit index: runner-up digit str or None} from a dict or an iterable of indices."""
    n_digits = len(digits)
    if unsure is None:
        return {}
    items = unsure.items() if isinstance(unsure, dict) else ((i, None) for i in unsure)
    out = {}
    for i, other in items:
        try:
            i = int(i)
        except (TypeError, ValueError):
            raise SpeechError(f"Unsure digit positions must be whole numbers, not {i!r}.") from None
        if not 0 <= i < n_digits:
            raise SpeechError(f"Unsure digit position {i} is out of range: the text has {n_digits} digits.")
        if other is not None:
            other = str(other).strip()
            if len(other) != 1 or other not in "0123456789":
                raise SpeechError(f"The runner-up for digit {i} must be one digit, not {other!r}.")
            if other == digits[i]:
                other = None  # "maybe two or two" says nothing more than "maybe two"
        out[i] = other
    return out


def number_words(text: str, language: str = "en", mode: str = "number", unsure=None) -> str:
    """The words to say for a reading's text.

    text: digits; lines (or any whitespace) separate numbers, each said on its own, with a
    full stop between them so that every voice pauses. A number may be written as an amount, with
    points and commas between its digits and a minus or plus sign before them (a reading's "written" form):
    see _split_amount for which mark is the decimal one; the fraction is said digit by digit.
    Groups joined by hyphens or slashes (a phone number, a date: "555-1234", "12/05/2026") are said one after
    the other, each on its own, with a pause (";") between them: "five hundred and fifty-five; one
    thousand, two hundred and thirty-four", "five, five, five; one, two, three, four"; groups joined by a
    plus sign, with the word for it between them: "3+4" -> "three plus four"; brackets round a group are a
    pause too: "(555)123-4567" is said as "555-123-4567". A doubted
    digit's alternative repeats its group only: "twelve; thirty-four, or maybe seventy-four".
    mode "number": "0427" -> "zero four hundred and twenty-seven" (leading zeros are spoken);
    "1,250.50" -> "one thousand, two hundred and fifty point five zero"; "-7" -> "minus seven"; "+44" -> "plus forty-four".
    A number longer than MAX_NUMBER_DIGITS is said in groups of three (the last two groups of
    two rather than a lone digit): "1234567890123456" -> "one hundred and twenty-three, …, fifty-six",
    and so is "1,234,567,890,123,456"; such a number with a fraction is said digit by digit, where
    groups would hide its decimal mark.
    mode "digits": "four, two, seven"; "one, point, five".

    unsure: the digits the reader doubts, as {index: runner-up digit} or an iterable of indices;
    an index counts digits only (newlines, spaces, signs, points, commas, hyphens and slashes are not counted).
    In "digits" mode such a digit is said as "maybe two or seven" ("maybe two" without a runner-up).
    In "number" mode the number is said as read and then, for each doubted digit, the number
    with its runner-up: "four hundred and twenty-seven, or maybe four hundred and seventy-seven";
    a doubted digit without a runner-up puts "maybe" in front of the number. A number (or group)
    with more than MAX_ALTERNATIVES doubted digits is said digit by digit instead, since a list
    of alternative numbers would be longer and harder to follow than the digits.
    The words for "maybe" and "or" are the language's own (vielleicht/oder, peut-être/ou, …).
    """
    _check_language(language)
    if mode not in MODES:
        raise SpeechError(f"Unknown mode {mode!r}; choose one of: {', '.join(MODES)}.")
    # Brackets round a group ("(555)123-4567", a reading's written form) are said as a pause between groups.
    text = "" if text is None else re.sub(r"[()]", "", re.sub(r"(?<=\d)[()]+(?=\d)", "-", str(text)))
    stray = sorted(set(re.sub(r"[0-9.,\s" + re.escape(JOINS + SIGNS) + "]", "", text)))
    if stray:
        raise SpeechError(f"Only digits (with points, commas, hyphens, slashes or plus signs between them, and a minus "
                          f"or plus sign before them) can be spoken; the text also holds {''.join(stray[:10])!r}.")
    numbers = text.split()
    dash, join = f"[{re.escape(SIGNS)}]", f"[{re.escape(JOINS)}]"
    # Each mark between two runs of digits; no nested repeats, which backtrack for ages on "1111…1-".
    loose = [n for n in numbers if not re.fullmatch(f"{dash}?[0-9]+(?:(?:[.,]|{join})[0-9]+)*", n)]
    if loose:
        raise SpeechError(f"A point, comma, hyphen, slash or plus must stand between two digits, and a minus or plus sign "
                          f"before them, as in -1,250.50, 555-1234, 12/05/2026 or +44; not {loose[0][:20]!r}.")
    digits_only = [re.sub(r"[^0-9]", "", n) for n in numbers]
    n_digits = sum(map(len, digits_only))
    if n_digits == 0:
        raise SpeechError("Nothing to say: the text has no digits.")
    if n_digits > MAX_SPOKEN_DIGITS:
        raise SpeechError(f"Too long to say: {n_digits} digits (at most {MAX_SPOKEN_DIGITS}).")
    doubts = _unsure_map(unsure, "".join(digits_only))

    said, start = [], 0
    for number in numbers:
        # Groups joined by hyphens, slashes or plus signs (a phone number, a date, a sum: "555-1234",
        # "12/05/2026", "3+4") are said one after the other, each as a number of its own (or digit by
        # digit), the sign with the first.
        sign = number[0] if number[0] in SIGNS else ""
        pieces = re.split(f"({join})", number[len(sign):])  # groups, and the marks between them
        pieces[0] = sign + pieces[0]
        spoken = ""
        for k, group in enumerate(pieces[::2]):
            if k:  # a plus is said; a hyphen or a slash is a pause
                mark = pieces[2 * k - 1]
                spoken += f" {_PLUS_WORDS[language]} " if mark in PLUS else "; "
            spoken += _say_group(group, language, mode, doubts, start)
            start += sum(c.isdigit() for c in group)
        said.append(spoken)
    return ". ".join(said)


def _say_group(number: str, language: str, mode: str, doubts: dict, start: int) -> str:
    """One number, or one group of a number in groups (joined by hyphens, slashes or plus signs), whose first digit is digit `start` of the
    text; `doubts` holds the text's unsure digits. A long one is said in groups of three."""
    digits = re.sub(r"[^0-9]", "", number)
    whole, fraction, _ = _split_amount(number.lstrip(SIGNS), language)
    long = mode == "number" and len(whole) > MAX_NUMBER_DIGITS
    if long and fraction is not None:
        chunks, chunk_mode = [number], "digits"
    elif long:
        chunks, at = [], 0
        for size in _groups(len(digits)):
            chunks.append(digits[at:at + size])
            at += size
        chunks[0] = (number[0] if number[0] in SIGNS else "") + chunks[0]  # the sign, if any
        chunk_mode = mode
    else:
        chunks, chunk_mode = [number], mode
    parts, offset = [], start
    for chunk in chunks:
        size = sum(c.isdigit() for c in chunk)
        chunk_doubts = {i - offset: o for i, o in doubts.items() if offset <= i < offset + size}
        parts.append(_say_chunk(chunk, language, chunk_mode, chunk_doubts))
        offset += size
    return ", ".join(parts)


def unsure_from_reading(reading) -> dict:
    """{digit index in reading.text: runner-up} for the digits a Reading flags as unsure, for
    speak(unsure=...). Indices follow the text as the reader builds it: lines in order, digits in
    each line in the order the reading lists them."""
    digits = list(getattr(reading, "digits", None) or [])
    by_line = {}
    for d in digits:
        by_line.setdefault(getattr(d, "line", 0), []).append(d)
    out, index = {}, 0
    for line in sorted(by_line):
        for d in by_line[line]:
            if getattr(d, "unsure", False):
                # A 1 that may be a slash has no digit to offer instead: "maybe", no more.
                others = [] if getattr(d, "maybe_slash", False) else [
                    a for a, _ in getattr(d, "alternatives", []) if a != d.digit]
                out[index] = str(others[0]) if others else None
            index += 1
    return out


# ---------------------------------------------------------------- offline voice: espeak-ng via ctypes

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_DONT_EXIT = 0x8000   # report errors instead of calling exit()
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_PARAM_RATE = 1
_SynthCallback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)

_espeak_lock = threading.Lock()  # espeak-ng is one global synthesiser: one caller at a time
_espeak = {"lib": None, "rate": 0, "voice": None, "error": None}
_chunks: list = []


def _collect(wav, n, events):
    if wav and n > 0:
        _chunks.append(ctypes.string_at(wav, 2 * n))
    return 0  # 0: go on


_collect_c = _SynthCallback(_collect)  # kept alive here: espeak holds the pointer


def _espeak_lib():
    """Load and initialise libespeak-ng once (call with _espeak_lock held)."""
    if _espeak["lib"] is not None:
        return _espeak["lib"]
    if _espeak["error"]:
        raise SpeechError(_espeak["error"])
    try:
        import espeakng_loader
        lib = ctypes.CDLL(espeakng_loader.get_library_path())
        data_parent = str(Path(espeakng_loader.get_data_path()).parent)  # the folder holding espeak-ng-data
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetSynthCallback.argtypes = [_SynthCallback]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_Synth.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint,
                                     ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
        rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data_parent.encode(), _INITIALIZE_DONT_EXIT)
        if rate <= 0:
            raise RuntimeError(f"espeak_Initialize returned {rate}")
        lib.espeak_SetSynthCallback(_collect_c)
    except Exception as e:
        _espeak["error"] = f"The offline voice (espeak-ng) could not start: {type(e).__name__}: {e}"
        raise SpeechError(_espeak["error"]) from e
    _espeak.update(lib=lib, rate=rate)
    return lib


def _trim(samples: np.ndarray, rate: int, pad_s: float = 0.04, level: int = 200) -> np.ndarray:
    """Cut espeak's leading and trailing silence down to a short pad."""
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > level)
    if loud.size == 0:
        return samples
    pad = int(pad_s * rate)
    return samples[max(0, loud[0] - pad):loud[-1] + 1 + pad]


def _sentences(words: str) -> str:
    """Capitalise each number's first word for the voices: espeak-ng reads ". t" as an abbreviation
    and does not pause there, but pauses at ". T" as at the end of a sentence."""
    return re.sub(r"(^|\. )(\w)", lambda m: m.group(1) + m.group(2).upper(), words)


def _espeak_say(words: str, language: str) -> tuple:
    """(sample_rate, int16 samples) for `words` in the espeak-ng voice of `language`."""
    data = _sentences(words).encode("utf-8") + b"\0"
    with _espeak_lock:
        lib = _espeak_lib()
        name = _ESPEAK_VOICES[language]
        if _espeak["voice"] != name:
            if lib.espeak_SetVoiceByName(name.encode()) != 0:
                raise SpeechError(f"espeak-ng has no voice {name!r}.")
            lib.espeak_SetParameter(_PARAM_RATE, ESPEAK_RATE, 0)
            _espeak["voice"] = name
        _chunks.clear()
        try:
            err = lib.espeak_Synth(data, len(data), 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
            lib.espeak_Synchronize()
            audio = b"".join(_chunks)
        finally:
            _chunks.clear()
        rate = _espeak["rate"]
    if err != 0 or not audio:
        raise SpeechError(f"espeak-ng could not say {words!r} (error {err}).")
    return rate, _trim(np.frombuffer(audio, dtype=np.int16), rate)


# ---------------------------------------------------------------- neural voice: Coqui TTS, loaded in the background

@dataclass
class _NeuralVoice:
    label: str               # "coqui:<model>"
    tts: object              # TTS.api.TTS
    languages: dict          # our code -> the model's language id (None for a one-language model)
    speaker: str | None
    lock: threading.Lock


_neural_lock = threading.Lock()  # guards the state below; each voice has its own lock for synthesis
_neural = {"state": "off", "model": None, "error": None, "models": []}
_neural_voices: dict = {}        # language -> _NeuralVoice, filled as models finish loading
_neural_thread = None


def _our_language(tag) -> str | None:
    """"en-us" / "pt_BR" / "fra" / "French"? -> our code, or None."""
    tag = str(tag or "").strip().lower()
    head = re.split(r"[-_]", tag)[0]
    head = _ISO3.get(head, head)
    return head if head in LANGUAGES else None


def _parse_spec(spec: str) -> dict:
    """One entry of $DIGITSINSIGHT_NEURAL_VOICE -> {"name", "languages", "model_path", "config_path"}."""
    spec = spec.strip()
    langs = []
    m = re.match(r"^([a-z]{2}(?:\+[a-z]{2})*)=(.+)$", spec)
    if m:
        langs = m.group(1).split("+")
        spec = m.group(2).strip()
        bad = [lang for lang in langs if lang not in LANGUAGES]
        if bad:
            raise SpeechError(f"Unknown language {bad[0]!r} in {NEURAL_ENV}; choose from: {', '.join(LANGUAGES)}.")
    out = {"name": spec, "languages": langs, "model_path": None, "config_path": None}
    path = Path(spec).expanduser()
    if path.is_dir():
        models = sorted(path.glob("*.pth"))
        if not models or not (path / "config.json").exists():
            raise SpeechError(f"{path} needs a *.pth model and a config.json.")
        out.update(model_path=str(models[0]), config_path=str(path / "config.json"), name=path.name)
    elif ":" in spec and not spec.startswith("tts_models/"):
        model_path, config_path = spec.rsplit(":", 1)
        out.update(model_path=model_path, config_path=config_path, name=Path(model_path).parent.name or model_path)
    return out


def _configured_specs(model_name=None) -> list:
    value = model_name if model_name is not None else os.environ.get(NEURAL_ENV, "").strip()
    if value.lower() in ("off", "none", "0", "false", "no"):
        return []
    if not value:
        value = DEFAULT_NEURAL_VOICE if os.environ.get("SPACE_ID") else ""
    return [s for s in value.split(",") if s.strip()]


def _model_languages(spec: dict, tts) -> dict:
    """Which of our languages the loaded model speaks: {code: its language id or None}."""
    if getattr(tts, "is_multi_lingual", False):
        found = {}
        for lid in tts.languages or []:
            code = _our_language(lid)
            if code and code not in found and (not spec["languages"] or code in spec["languages"]):
                found[code] = lid
        return found
    if spec["languages"]:
        return {code: None for code in spec["languages"]}
    parts = spec["name"].split("/")
    if len(parts) >= 2 and parts[0] == "tts_models" and _our_language(parts[1]):
        return {_our_language(parts[1]): None}
    config = getattr(getattr(tts, "synthesizer", None), "tts_config", None) or {}
    tags = list(config.get("languages") or []) + [d.get("language") for d in config.get("datasets") or []]
    tags.append(config.get("phoneme_language"))
    codes = {_our_language(t) for t in tags} - {None}
    if len(codes) == 1:
        return {codes.pop(): None}
    raise SpeechError("Cannot tell which language this voice speaks; prefix it with the language, e.g. 'de=…'.")


def _load_one(spec: dict) -> _NeuralVoice:
    from TTS.api import TTS  # ~2 s and ~20 MB over torch (measured): only ever imported in the loader thread

    if spec["model_path"]:
        tts = TTS(model_path=spec["model_path"], config_path=spec["config_path"], progress_bar=False)
    else:
        tts = TTS(model_name=spec["name"], progress_bar=False)  # downloads into coqui's cache the first time
    languages = _model_languages(spec, tts)
    if not languages:
        raise SpeechError(f"The model speaks none of: {', '.join(LANGUAGES)}.")
    speakers = tts.speakers if getattr(tts, "is_multi_speaker", False) else None
    return _NeuralVoice(f"coqui:{spec['name']}", tts, languages, speakers[0] if speakers else None,
                        threading.Lock())


def _load_neural() -> None:
    """The loader thread: each configured model in turn; a failure leaves the others to load."""
    for entry in _neural["models"]:
        t0 = time.perf_counter()
        try:
            voice = _load_one(_parse_spec(entry["model"]))
        except BaseException as e:  # noqa: BLE001 - a thread must not die silently; SystemExit from input() too
            with _neural_lock:
                entry.update(state="failed", error=f"{type(e).__name__}: {e}", seconds=time.perf_counter() - t0)
            log.warning("Neural voice %s failed to load: %s", entry["model"], entry["error"])
            continue
        with _neural_lock:
            for code in voice.languages:
                _neural_voices.setdefault(code, voice)
            entry.update(state="ready", languages=sorted(voice.languages), seconds=time.perf_counter() - t0)
        log.info("Neural voice %s ready for %s", entry["model"], ", ".join(sorted(voice.languages)))
    with _neural_lock:
        ready = [e for e in _neural["models"] if e["state"] == "ready"]
        _neural["state"] = "ready" if ready else "failed"
        if not ready:
            _neural["error"] = "; ".join(f"{e['model']}: {e['error']}" for e in _neural["models"])


def start_neural_voice(model_name: str | None = None) -> None:
    """Begin loading the neural voice in a background daemon thread, once; returns at once, never raises.

    model_name: a spec as in $DIGITSINSIGHT_NEURAL_VOICE (see the module docstring); None reads
    the environment (unset: off locally, DEFAULT_NEURAL_VOICE on a Space). Errors land in
    neural_voice_status(); until a model is ready, speak() uses the offline voice.
    """
    global _neural_thread
    try:
        with _neural_lock:
            if _neural["state"] != "off":
                return
            specs = _configured_specs(model_name)
            if not specs:
                return
            _neural.update(state="loading", model=",".join(s.strip() for s in specs), error=None,
                           models=[{"model": s.strip(), "state": "loading", "languages": [], "error": None,
                                    "seconds": None} for s in specs])
            _neural_thread = threading.Thread(target=_load_neural, name="neural-voice", daemon=True)
            _neural_thread.start()
    except Exception as e:  # noqa: BLE001 - promised never to raise
        with _neural_lock:
            _neural.update(state="failed", error=f"{type(e).__name__}: {e}")


def neural_voice_status() -> dict:
    """{"state": "off"|"loading"|"ready"|"failed", "model", "error", "languages" ready now, "models": per model}."""
    with _neural_lock:
        return {"state": _neural["state"], "model": _neural["model"], "error": _neural["error"],
                "languages": sorted(_neural_voices), "models": [dict(e) for e in _neural["models"]]}


def _wait_neural(timeout: float | None = None) -> dict:
    """Block until the loader thread ends (tests and the benchmark); the status afterwards."""
    thread = _neural_thread
    if thread is not None:
        thread.join(timeout)
    return neural_voice_status()


def _reset_neural() -> None:
    """Forget any neural voice, so that start_neural_voice() starts afresh (tests)."""
    global _neural_thread
    _wait_neural()
    with _neural_lock:
        _neural.update(state="off", model=None, error=None, models=[])
        _neural_voices.clear()
        _neural_thread = None
    clear_cache()


def _neural_for(language: str) -> tuple:
    """(voice or None, why not) for `language`."""
    with _neural_lock:
        voice = _neural_voices.get(language)
        state, error = _neural["state"], _neural["error"]
    if voice is not None:
        return voice, ""
    if state == "off":
        return None, f"No neural voice is configured (set {NEURAL_ENV}); the offline voice spoke."
    if state == "loading":
        return None, "The neural voice is still loading; the offline voice spoke."
    if state == "failed":
        return None, f"The neural voice failed to load ({error}); the offline voice spoke."
    return None, f"The neural voice does not speak {LANGUAGES[language]}; the offline voice spoke."


def _neural_say(voice: _NeuralVoice, words: str, language: str) -> tuple:
    lid = voice.languages[language]
    with voice.lock:
        wav = voice.tts.tts(text=_sentences(words), speaker=voice.speaker, language=lid if lid is not None else None)
        rate = int(voice.tts.synthesizer.output_sample_rate)
    wav = np.asarray(wav, dtype=np.float32).reshape(-1)
    if wav.size == 0 or not np.all(np.isfinite(wav)):
        raise SpeechError("the neural voice returned no usable audio")
    peak = float(np.abs(wav).max())
    if peak > 1.0:  # coqui's own writer normalises louder output the same way
        wav = wav / peak
    return rate, np.round(wav * 32767).astype(np.int16)


# ---------------------------------------------------------------- speak, with a bounded cache

_cache: OrderedDict = OrderedDict()
_cache_lock = threading.Lock()


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()


def _synthesise(key: tuple, make, use_cache: bool) -> tuple:
    """(rate, samples) from the cache or from make(); samples are made read-only so sharing them is safe."""
    if use_cache:
        with _cache_lock:
            if key in _cache:
                _cache.move_to_end(key)
                return _cache[key]
    rate, samples = make()
    samples = np.ascontiguousarray(samples, dtype=np.int16)
    samples.flags.writeable = False
    if use_cache:
        with _cache_lock:
            _cache[key] = (rate, samples)
            _cache.move_to_end(key)
            while len(_cache) > CACHE_SIZE:
                _cache.popitem(last=False)
    return rate, samples


def speak(text: str, language: str = "en", mode: str = "number", unsure=None, voice: str = "auto",
          *, cache: bool = True) -> Speech:
    """Say a reading's text; see number_words() for what is said.

    voice "auto": the neural voice if it is loaded and speaks `language`, else the offline one.
    voice "offline": espeak-ng. voice "neural": the neural voice, or the offline one with
    Speech.note saying why (not configured, still loading, failed, other language, synthesis error).
    Speech.voice always names the voice that spoke. cache=False bypasses the clip cache.
    Raises SpeechError for text it cannot say, or if even the offline voice fails.
    """
    words = number_words(text, language, mode, unsure)
    if voice not in VOICES:
        raise SpeechError(f"Unknown voice {voice!r}; choose one of: {', '.join(VOICES)}.")
    note, neural = "", None
    if voice != "offline":
        start_neural_voice()  # no-op unless configured (or on a Space), and only the first time
        neural, why = _neural_for(language)
        if voice == "neural":
            note = why
    if neural is not None:
        try:
            rate, samples = _synthesise((words, language, mode, neural.label),
                                        lambda: _neural_say(neural, words, language), cache)
            return Speech(rate, samples, neural.label, words, language, mode)
        except Exception as e:  # noqa: BLE001 - any failure of the neural voice: the offline one answers
            log.warning("Neural voice failed, using the offline voice: %s", e)
            note = f"The neural voice failed ({type(e).__name__}: {e}); the offline voice spoke."
    rate, samples = _synthesise((words, language, mode, OFFLINE_VOICE), lambda: _espeak_say(words, language), cache)
    return Speech(rate, samples, OFFLINE_VOICE, words, language, mode, note)
