"""Notebook 9.04 (speech to text): the quick run transcribes its bars, prints the WER per bar and
the embargo join, and its assertions hold with another embargo (no bar uses audio after its
timestamp; no bar is joined to a price inside its embargo); bad parameters stop with a message."""

from __future__ import annotations

import re

NOTEBOOK = "chapter09/04_speech_to_text_pipeline.ipynb"


def test_quick_run_embargo_join(run_quick, outputs_text):
    text = outputs_text(run_quick(NOTEBOOK, EMBARGO_S=20.0))
    assert "no bar uses audio after its timestamp (2 bars checked)" in text
    lag = float(re.search(r"every bar joined at least ([\d.]+) s after its timestamp \(embargo 20 s\)", text)[1])
    assert 20 <= lag < 25  # the first 5-second tick at or after timestamp + 20 s
    wer = float(re.search(r"overall WER ([\d.]+)", text)[1])
    assert 0 <= wer <= 0.25  # quick mode: greedy decoding of 2 bars; the default run meets 0.10
    assert "Verdict:" in text


def test_bad_parameters(assert_bad_parameter):
    assert_bad_parameter(NOTEBOOK, "STEP_S", 90.0)  # a step longer than the bar leaves audio unheard
    assert_bad_parameter(NOTEBOOK, "COMPUTE_TYPE", "int4")
