"""Notebook 7.02 (RealNVP) with its feature masks switched off, and with bad parameters.

With ``FEATURE_MASKS=False`` every coupling masks over time steps only; the notebook must still
train both flows, check the log-determinant against autograd, compare held-out likelihoods and
print a verdict that names the masks. Bad parameters stop the run in the validation cell with a
message that names them.
"""

from __future__ import annotations

import pytest

NOTEBOOK = "chapter07/02_realnvp.ipynb"


def test_time_masks_only(run_quick, outputs_text):
    nb = run_quick(NOTEBOOK, FEATURE_MASKS=False, N_COUPLINGS=4, EPOCHS_QUICK=1, DISC_EPOCHS_QUICK=1)
    text = outputs_text(nb)
    assert "log|det J| trained flow, test window[2]" in text
    assert "GARCH(1,1)-t, conditional on the past" in text
    assert "Verdict: RealNVP (4 affine couplings, masks over time steps," in text


@pytest.mark.parametrize(
    ("name", "value"),
    [("SCALE_BOUND", 0.0), ("N_COUPLINGS", 1), ("FEATURE_MASKS", "yes"), ("WINDOW", 2)],
)
def test_bad_parameter_fails_naming_it(assert_bad_parameter, name, value):
    assert_bad_parameter(NOTEBOOK, name, value)
