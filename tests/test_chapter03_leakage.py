"""Notebook 3.13 (wavelet leakage): bad parameters stop the quick run naming the parameter.

The causal transform's no-look-ahead property itself is tested in ``tests/test_wavelets.py``;
the notebook asserts it again on the real S&P 500 closes. A window count that reaches back
before the data's first usable month fails in the windows cell with a message naming it.
"""

from __future__ import annotations

import pytest

NOTEBOOK = "chapter03/13_leakage_wavelets_autoencoders.ipynb"


@pytest.mark.parametrize(
    ("name", "value"),
    [("N_WINDOWS_QUICK", 0), ("DWT_LEVEL", 0), ("CAUSAL_WINDOW", 4), ("CONFIDENCE", 1.5),
     ("LEARNING_RATE", -0.1), ("SAE_UNITS", "10")],
)
def test_bad_parameter_fails_naming_it(assert_bad_parameter, name, value):
    assert_bad_parameter(NOTEBOOK, name, value)


def test_too_many_windows_fail_naming_the_parameter(assert_bad_parameter):
    assert_bad_parameter(NOTEBOOK, "N_WINDOWS_QUICK", 200)
