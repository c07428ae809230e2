"""Notebook 8.03 (RCGAN) run without the regime label, and with bad parameters.

With ``CONDITION=False`` the same networks take one constant label (an unconditional recurrent
GAN): the run must still train, score, skip the per-label volatility comparison and print a
verdict under the unconditional name. Bad parameters stop the run in the validation cell with a
message that names them.
"""

from __future__ import annotations

import pytest

NOTEBOOK = "chapter08/03_rcgan.ipynb"


def test_unconditional_run(run_quick, outputs_text, monkeypatch, tmp_path):
    monkeypatch.setenv("GATAM_BUILD_DIR", str(tmp_path))  # its saved row stays out of the build folder
    nb = run_quick(NOTEBOOK, CONDITION=False, STEPS_QUICK=20, DISC_EPOCHS_QUICK=1)
    text = outputs_text(nb)
    assert "CONDITION is False: the generator takes no label" in text
    assert "Verdict: RGAN (unconditional) after 20 steps" in text
    assert "Conditioning" not in text.split("Verdict:")[1]


@pytest.mark.parametrize(
    ("name", "value"),
    [("CONDITION", "yes"), ("THRESHOLD", 1.5), ("NOISE_DIM", 0), ("WINDOW", 4)],
)
def test_bad_parameter_fails_naming_it(assert_bad_parameter, name, value):
    assert_bad_parameter(NOTEBOOK, name, value)
