"""Notebook 2.04 (iron condor, book exercise 2.6.4) run with parameters a reader would pass.

Papermill turns a tuple into a list (``-y``/YAML and ``-p`` alike), so every parameter of the
notebook must work when it arrives as a list or a plain number, and a bad value must stop the
run in the validation cell with a message that names the parameter. The notebook's own checks
(pieces vs formulas, closed form vs quadrature, simulation within ``N_SE`` standard errors,
zero edge under the pricing distribution) are written to hold for any valid parameters, so a
run on other strikes and volatilities is a test of them too.
"""

from __future__ import annotations

import pytest

NOTEBOOK = "chapter02/04_iron_condor.ipynb"


def test_runs_with_list_parameters_and_other_values(run_quick, outputs_text):
    nb = run_quick(
        NOTEBOOK,
        REALIZED_VOLS=[0.25, 0.18],  # lists as papermill passes them
        EXPECTED_RETURNS=[0.0],
        IMPLIED_VOL=0.2,
        MAIN_REALIZED_VOL=0.16,  # not in REALIZED_VOLS: simulated separately
        MAIN_EXPECTED_RETURN=0.05,
        SHORT_PUT_MONEYNESS=0.9,
        SHORT_CALL_MONEYNESS=1.08,
        WING_WIDTH=150,  # an int where the default is a float
        HOLDING_DAYS=42,
        FINANCE_PREMIUM=False,
        T_DOF=6,
    )
    text = outputs_text(nb)
    assert "Iron condor 4350/4500/5400/5550" in text
    assert "FAIL" not in text
    assert "Verdict: an edge: at 16% realized vs 20% implied vol (mu 5%)" in text


def test_tuple_parameter_passed_as_list_by_papermill(run_quick, outputs_text):
    """The old ``MAIN_CASE = (vol, mu)`` tuple failed as a dict key once papermill made it a list;
    the lists of scenarios now arrive as lists and a single number is accepted as well."""
    nb = run_quick(NOTEBOOK, REALIZED_VOLS=0.12, EXPECTED_RETURNS=[0.08], SIM_N_QUICK=20_000)
    assert "Verdict:" in outputs_text(nb)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SHORT_PUT_MONEYNESS", 1.02),  # the short put would be in the money
        ("IMPLIED_VOL", -0.15),
        ("REALIZED_VOLS", [0.12, 0.12]),
        ("WING_WIDTH", 5000.0),  # K1 <= 0
        ("T_DOF", 2),  # infinite variance
        ("HOLDING_DAYS", 21.5),
    ],
)
def test_bad_parameter_fails_naming_it(run_quick, name, value):
    import papermill

    with pytest.raises(papermill.PapermillExecutionError) as info:
        run_quick(NOTEBOOK, **{name: value})
    assert info.value.ename == "ValueError"
    assert name in info.value.evalue
