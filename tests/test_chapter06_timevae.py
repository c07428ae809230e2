"""Notebook 6.04 (TimeVAE) run with its decoder blocks switched, and with bad parameters.

The decoder is a sum of switchable blocks (level, polynomial trend, seasonal cycles); a run with
every block off except the convolutional residual, and one with a cubic trend and two seasonal
cycles, must still train, score and print a verdict that names the chosen blocks. Bad parameters
stop the run in the validation cell with a message that names them.
"""

from __future__ import annotations

import pytest

NOTEBOOK = "chapter06/04_timevae.ipynb"


@pytest.mark.parametrize(
    ("params", "blocks", "verdict"),
    [
        ({"USE_LEVEL": False, "TREND_DEGREE": 0, "N_SEASONS": []}, "['residual']",
         "level off, trend degree 0, seasons []"),
        ({"TREND_DEGREE": 3, "N_SEASONS": [5, 10]},
         "['residual', 'level', 'trend', 'season (5 days)', 'season (10 days)']",
         "level on, trend degree 3, seasons [5, 10]"),
    ],
)
def test_blocks_switch(run_quick, outputs_text, params, blocks, verdict):
    nb = run_quick(NOTEBOOK, EPOCHS_QUICK=1, DISC_EPOCHS_QUICK=1, **params)
    text = outputs_text(nb)
    assert f"blocks: {blocks}" in text
    assert f"Verdict: TimeVAE ({verdict})" in text


@pytest.mark.parametrize(
    ("name", "value"),
    [("N_SEASONS", [1]), ("TREND_DEGREE", -1), ("USE_LEVEL", "yes"), ("WINDOW", 4)],
)
def test_bad_parameter_fails_naming_it(assert_bad_parameter, name, value):
    assert_bad_parameter(NOTEBOOK, name, value)
