"""Notebook 5.03 (WaveNet) run with an architecture a reader might try instead of the default.

The notebook's receptive-field formula, its gradient measurement and its causality test (with
the non-causal control that must fail it) are written for any kernel size and dilations, so a
run with kernel 3 and dilations [1, 2, 4] (receptive field 1 + 2 x 7 = 15 days, shorter than
the 30-day context) tests them on a second case. Bad parameters stop the run in the validation
cell with a message that names them.
"""

from __future__ import annotations

import pytest

NOTEBOOK = "chapter05/03_wavenet.ipynb"


def test_other_kernel_and_dilations(run_quick, outputs_text):
    nb = run_quick(NOTEBOOK, KERNEL_SIZE=3, DILATIONS=[1, 2, 4], CHANNELS=8, SKIP_CHANNELS=8, EPOCHS_QUICK=1)
    text = outputs_text(nb)
    assert "R = 1 + (3-1) x 7 = 15 days" in text
    assert "the last output sees only its last 15 days" in text
    assert "non-zero gradient at every lag 0..14, exactly zero at lags 15..29" in text
    assert "FAIL" not in text
    assert "Verdict: receptive field 15 days by formula and by gradient, causal" in text


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DILATIONS", [1, 0, 2]),
        ("KERNEL_SIZE", 1),  # a 1x1 convolution sees no past
        ("VAL_START", "2017-01-01"),  # in the test period
    ],
)
def test_bad_parameter_fails_naming_it(assert_bad_parameter, name, value):
    assert_bad_parameter(NOTEBOOK, name, value)
