"""Notebook 5.09 (Lag-Llama-style model): its GluonTS lag rule, and parameters that must fail.

The notebook rebuilds GluonTS' ``get_lags_for_frequency`` (gluonts is not a dependency: it needs
pandas < 3) in the cell tagged ``lags``. The notebook itself checks the business-day set; here the
same function is run for the other frequencies and for Lag-Llama's union of lag sets, against the
lists printed by gluonts 0.17.0 (``get_lags_for_frequency(freq)`` with its defaults, and with
``num_default_lags=1`` for the union as ``lag_llama/gluon/estimator.py`` builds it).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

NOTEBOOK = "chapter05/09_lag_llama.ipynb"
REPO = Path(__file__).resolve().parents[1]

GLUONTS_017 = {  # gluonts 0.17.0, get_lags_for_frequency(freq)
    "B": [1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 14, 15, 16, 19, 20, 21, 22, 23, 39, 59, 258, 259, 260, 518, 519,
          520, 778, 779, 780],
    "D": [1, 2, 3, 4, 5, 6, 7, 8, 13, 14, 15, 20, 21, 22, 27, 28, 29, 30, 31, 56, 84, 363, 364, 365, 727,
          728, 729, 1091, 1092, 1093],
    "W": [1, 2, 3, 4, 5, 6, 7, 8, 12, 51, 52, 53, 103, 104, 105, 155, 156, 157],
    "M": [1, 2, 3, 4, 5, 6, 7, 11, 12, 13, 23, 24, 25, 35, 36, 37],
    "Q": [1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13],
    "H": [1, 2, 3, 4, 5, 6, 7, 23, 24, 25, 47, 48, 49, 71, 72, 73, 95, 96, 97, 119, 120, 121, 143, 144,
          145, 167, 168, 169, 335, 336, 337, 503, 504, 505, 671, 672, 673, 719, 720, 721],
}
LAG_LLAMA_UNION = [  # sorted union over Q, M, W, D, H, T, S with num_default_lags=1 (gluonts 0.17.0)
    1, 8, 9, 11, 12, 13, 14, 15, 20, 21, 22, 23, 24, 25, 27, 28, 29, 30, 31, 35, 36, 37, 47, 48, 49, 51,
    52, 53, 56, 58, 59, 60, 61, 62, 71, 72, 73, 84, 95, 96, 97, 103, 104, 105, 118, 119, 120, 121, 122,
    143, 144, 145, 155, 156, 157, 167, 168, 169, 178, 179, 180, 181, 182, 335, 336, 337, 363, 364, 365,
    503, 504, 505, 671, 672, 673, 719, 720, 721, 727, 728, 729, 1091, 1092, 1093,
]


@pytest.fixture(scope="module")
def gluonts_lags(tagged_cell):
    return tagged_cell(NOTEBOOK, "lags", {"np": np})["gluonts_lags"]


@pytest.mark.parametrize("freq", sorted(GLUONTS_017))
def test_lags_match_gluonts(gluonts_lags, freq):
    assert gluonts_lags(freq) == GLUONTS_017[freq]


def test_lag_llama_union_and_upper_bound(gluonts_lags):
    union = sorted({lag for f in "QMWDHTS" for lag in gluonts_lags(f, num_default_lags=1)})
    assert union == LAG_LLAMA_UNION
    assert len(union) == 84  # the lag count of Lag-Llama's released model
    assert gluonts_lags("B", lag_ub=23) == GLUONTS_017["B"][:18]  # lags within the 30-day context


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PRETRAINED_CKPT", "/nonexistent/lag-llama.ckpt"),
        ("D_MODEL", 30),  # not divisible by N_HEADS = 4
        ("VAL_START", "2017-01-01"),  # in the test period
    ],
)
def test_bad_parameter_fails_naming_it(assert_bad_parameter, name, value):
    assert_bad_parameter(NOTEBOOK, name, value)
