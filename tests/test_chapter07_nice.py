"""Notebook 7.01 (NICE and the Jacobian-cost table) with another flow depth, and with bad parameters.

A quick run with two coupling layers must still train, pass its invertibility and log-determinant
checks and print a verdict that names the depth. Bad parameters stop the run in the validation
cell with a message that names them.
"""

from __future__ import annotations

import pytest

NOTEBOOK = "chapter07/01_nice.ipynb"


def test_two_couplings_run_and_verdict(run_quick, outputs_text, tmp_path, monkeypatch):
    monkeypatch.setenv("GATAM_BUILD_DIR", str(tmp_path / "build"))  # keep the saved NICE row of real runs
    nb = run_quick(NOTEBOOK, N_COUPLINGS=2, EPOCHS_QUICK=1, DISC_EPOCHS_QUICK=1, DIMS_QUICK=[16, 32, 64])
    text = outputs_text(nb)
    assert "timing D = [16, 32, 64]" in text
    assert "Verdict: NICE (2 additive couplings + rescaling) is exactly invertible" in text


@pytest.mark.parametrize(
    ("name", "value"),
    [("N_COUPLINGS", 1), ("DIMS_QUICK", [64, 32, 128]), ("DIMS_FULL", [128, 256]), ("LR", 0),
     ("TEST_FRACTION", 0.7)],
)
def test_bad_parameter_fails_naming_it(assert_bad_parameter, name, value):
    assert_bad_parameter(NOTEBOOK, name, value)
