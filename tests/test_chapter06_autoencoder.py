"""Notebook 6.05 (conditional autoencoder): its walk-forward folds move forward in time only.

The notebook defines ``walk_forward_folds`` in the cell tagged ``folds``; it is run here on the
notebook's monthly calendar (first target month 1952-01, last 2017-03) with the notebook's default
parameters, and on other settings, to check the fold dates: in every fold training ends before
validation starts and validation ends before the test starts, with nothing skipped in between; test
blocks do not overlap, follow each other and cover the rest of the data; folds only move forward.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

NOTEBOOK = "chapter06/05_autoencoder_risk_factors.ipynb"
REPO = Path(__file__).resolve().parents[1]
DATES = pd.date_range("1952-01-01", "2017-03-01", freq="MS")  # the notebook's target months


@pytest.fixture(scope="module")
def walk_forward_folds(tagged_cell):
    return tagged_cell(NOTEBOOK, "folds", {"pd": pd})["walk_forward_folds"]


def _check(folds, dates, first_test, val_years, test_years):
    assert folds, "no folds"
    assert folds[0]["test_start"] == pd.Timestamp(first_test)
    for j, f in enumerate(folds):
        (t0, t1), (v0, v1), (s0, s1) = f["train"], f["val"], f["test"]
        assert t0 == 0 and t1 == v0 and v1 == s0 and t0 < t1 < v1 < s1  # contiguous, non-empty, in order
        assert f["train_end"] < f["val_start"] <= f["val_end"] < f["test_start"] <= f["test_end"]
        assert dates[t1 - 1] == f["train_end"] and dates[v0] == f["val_start"]
        assert dates[s0] == f["test_start"] and dates[s1 - 1] == f["test_end"]
        assert f["val_start"] == f["test_start"] - pd.DateOffset(years=val_years)
        if j:  # forward only, consecutive test blocks without overlap or gap, expanding training
            prev = folds[j - 1]
            assert f["test"][0] == prev["test"][1]
            assert f["test_start"] > prev["test_end"]
            assert f["train"][1] > prev["train"][1] and f["val"][0] > prev["val"][0]
    assert folds[-1]["test"][1] == len(dates)  # the test blocks cover the data to its end
    assert all(f["test"][1] - f["test"][0] == 12 * test_years for f in folds[:-1])


def test_notebook_default_folds(walk_forward_folds, tagged_cell):
    p = tagged_cell(NOTEBOOK, "parameters")
    folds = walk_forward_folds(DATES, p["FIRST_TEST"], p["VAL_YEARS"], p["TEST_YEARS"])
    _check(folds, DATES, p["FIRST_TEST"], p["VAL_YEARS"], p["TEST_YEARS"])
    assert [f"{f['test_start']:%Y}" for f in folds] == ["1975", "1985", "1995", "2005", "2015"]
    assert folds[0]["train_end"] == pd.Timestamp("1969-12-01")


@pytest.mark.parametrize(("first_test", "val_years", "test_years"),
                         [("1970-01-01", 3, 1), ("1990-07-01", 5, 4), ("2000-01-01", 10, 20)])
def test_other_settings(walk_forward_folds, first_test, val_years, test_years):
    folds = walk_forward_folds(DATES, first_test, val_years, test_years)
    _check(folds, DATES, first_test, val_years, test_years)


def test_no_training_history_fails(walk_forward_folds):
    with pytest.raises(ValueError, match="no training months"):
        walk_forward_folds(DATES, "1955-01-01", 5, 1)
