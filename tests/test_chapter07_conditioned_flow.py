"""Notebook 7.03 (conditioned flow): the forecast at a date uses no data from that date on.

The model (a GRU summary of the past conditioning a RealNVP) lives in the notebook. The notebook
checks look-ahead twice and asserts both: the GRU summary h_t of a sequence is unchanged when
x_t, x_t+1, ... change (and h_t+1 does change), and on the chapter-5 protocol every return from
``CAUSALITY_DATE`` on is replaced by large noise, the test windows are rebuilt from the altered
data, and the forecast draws for that date are identical while those of the next date move.
Here the notebook runs in quick mode at another date (the first test date, where ALL test-period
data are altered) and the printed differences are read back; bad parameters stop the run in the
validation cell with a message that names them.
"""

from __future__ import annotations

import re

import pytest

NOTEBOOK = "chapter07/03_conditioned_flow.ipynb"
NUMBER = r"([0-9.]+(?:e[+-]?[0-9]+)?)"


def test_forecast_at_t_uses_no_data_from_t_on(run_quick, outputs_text):
    nb = run_quick(
        NOTEBOOK, CAUSALITY_DATE="2016-01-04", SPX_EPOCHS_QUICK=1, DISC_EPOCHS_QUICK=1, N_SAMPLES=20
    )
    text = outputs_text(nb)
    same = re.search(
        rf"causality check: .*h_t \(model\) {NUMBER}, forecast 2016-01-04 \(protocol\) {NUMBER}",
        text,
    )
    later = re.search(
        rf"control: .*h_t\+1 \(model\) {NUMBER}, forecast 2016-01-05 \(protocol\) {NUMBER}", text
    )
    assert same and later, "the notebook did not print its causality check"
    assert float(same[1]) == 0.0 and float(same[2]) == 0.0, same[0]
    assert float(later[1]) > 0.0 and float(later[2]) > 0.0, later[0]
    assert "Verdict: as a forecaster the GRU-conditioned RealNVP" in text


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CAUSALITY_DATE", "2015-06-01"),
        ("N_COUPLINGS", 1),
        ("SCALE_BOUND", -1.0),
        ("VAL_START", "tomorrow"),
    ],
)
def test_bad_parameter_fails_naming_it(assert_bad_parameter, name, value):
    assert_bad_parameter(NOTEBOOK, name, value)
