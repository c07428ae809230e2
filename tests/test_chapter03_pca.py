"""Notebook 3.02 (PCA statistical factors): a reader's own price file, and a bad parameter.

The notebook asserts its own linear algebra (eigenvectors of the covariance = right singular
vectors of the centred data = scikit-learn's components); here it is run in quick mode on a
generated price file of another period, where the market is the stocks' equal-weight average.
"""

from __future__ import annotations

import pytest

NOTEBOOK = "chapter03/02_pca_statistical_factors.ipynb"


def test_notebook_runs_on_a_readers_csv(price_csv, run_quick, outputs_text):
    tickers = ["AAA", "BBB", "CCC", "DDD", "EEE"]
    path = price_csv(tickers, "2005-01-03", "2009-12-31", layout="wide", seed=7)
    text = outputs_text(run_quick(NOTEBOOK, SOURCE="csv", CSV_PATH=str(path)))
    assert "source csv: 5 stocks" in text and "..2009-12-31" in text
    assert "equal-weight average of the stocks (proxy)" in text
    assert "Verdict: eigenvectors of the covariance equal the right singular vectors" in text


def test_notebook_runs_with_a_chosen_pair(price_csv, run_quick, outputs_text):
    path = price_csv(["AAA", "BBB", "CCC"], "2012-01-02", "2014-12-31", seed=8)
    text = outputs_text(run_quick(NOTEBOOK, SOURCE="csv", CSV_PATH=str(path), PAIR=["CCC", "AAA"]))
    assert "CCC and AAA: correlation" in text


@pytest.mark.parametrize("name, value", [("TEST_FRACTION", 0.9), ("PAIR", ["AAPL"])])
def test_notebook_names_a_bad_parameter(assert_bad_parameter, name, value):
    assert_bad_parameter(NOTEBOOK, name, value)
