"""Notebook 3.01 (hierarchical risk parity): the book's cluster-then-allocate HRP, a reader's file.

``book_hrp`` (cell tagged ``book_hrp``, with ``ward_tree`` from the cell tagged ``ward_tree``) is
the notebook's version of Book §3.1.1: inverse volatility inside Ward clusters of the correlation
distance, long-only Kelly ``mu / sigma^2`` across the clusters. It is checked here on simulated
returns with a known block structure. The notebook itself is run in quick mode on a generated
price file of another period, and with a bad parameter.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.cluster.hierarchy import fcluster, leaves_list, linkage, optimal_leaf_ordering
from scipy.spatial.distance import squareform

NOTEBOOK = "chapter03/01_hierarchical_risk_parity.ipynb"


def _blocks(means, seed=0, n=3000):
    """Three blocks of three stocks: a block factor plus noise; vols differ inside each block."""
    rng = np.random.default_rng(seed)
    cols, data = [], []
    for b, mu in enumerate(means):
        factor = rng.normal(0, 0.01, n)
        for k, scale in enumerate([0.5, 1.0, 2.0]):
            cols.append(f"S{b}{k}")
            data.append(mu + scale * (factor + rng.normal(0, 0.004, n)))
    return pd.DataFrame(
        np.array(data).T, columns=cols, index=pd.bdate_range("2001-01-01", periods=n)
    )


@pytest.fixture(scope="module")
def book_hrp(tagged_cell):
    namespace = {"np": np, "pd": pd, "fcluster": fcluster, "linkage": linkage,
                 "leaves_list": leaves_list, "optimal_leaf_ordering": optimal_leaf_ordering,
                 "squareform": squareform, "N_CLUSTERS": 3, "PERIODS_PER_YEAR": 252,
                 "returns": _blocks([0.0005, 0.0004, 0.0003])}  # fmt: skip
    tagged_cell(NOTEBOOK, "ward_tree", namespace)
    return tagged_cell(NOTEBOOK, "book_hrp", namespace)["book_hrp"]


def test_book_hrp_inverse_vol_inside_clusters(book_hrp):
    ret = _blocks([0.0005, 0.0004, 0.0003])
    w = pd.Series(book_hrp(ret, n_clusters=3), index=ret.columns)
    assert w.sum() == pytest.approx(1.0) and (w >= 0).all()
    inv_vol = 1 / ret.std()
    for b in range(3):
        block = [f"S{b}{k}" for k in range(3)]
        np.testing.assert_allclose(w[block] / w[block].sum(), inv_vol[block] / inv_vol[block].sum())


def test_book_hrp_kelly_across_clusters(book_hrp):
    ret = _blocks([0.0006, 0.0003, -0.0004], seed=1)
    w = pd.Series(book_hrp(ret, n_clusters=3), index=ret.columns)
    inv_vol = 1 / ret.std()
    fractions = []
    for b in range(3):
        block = [f"S{b}{k}" for k in range(3)]
        cluster = ret[block] @ (inv_vol[block] / inv_vol[block].sum())
        fractions.append(max(cluster.mean() / cluster.var(), 0.0))
    fractions = np.array(fractions) / sum(fractions)
    got = [w[[f"S{b}{k}" for k in range(3)]].sum() for b in range(3)]
    np.testing.assert_allclose(got, fractions, rtol=1e-10)
    assert got[2] == 0.0  # a cluster with a negative mean return gets nothing (long only)


def test_book_hrp_falls_back_to_inverse_variance(book_hrp):
    ret = _blocks([-0.003, -0.002, -0.004], seed=2)  # every cluster loses
    w = pd.Series(book_hrp(ret, n_clusters=3), index=ret.columns)
    assert w.sum() == pytest.approx(1.0) and (w > 0).all()
    inv_vol, inv_var = 1 / ret.std(), []
    for b in range(3):
        block = [f"S{b}{k}" for k in range(3)]
        inv_var.append(1 / (ret[block] @ (inv_vol[block] / inv_vol[block].sum())).var())
    got = [w[[f"S{b}{k}" for k in range(3)]].sum() for b in range(3)]
    np.testing.assert_allclose(got, np.array(inv_var) / sum(inv_var), rtol=1e-10)


def test_notebook_runs_on_a_readers_csv(price_csv, run_quick, outputs_text):
    """SOURCE='csv' with only CSV_PATH set: the file's own period, six allocations, a verdict."""
    tickers = ["AAA", "BBB", "CCC", "DDD", "EEE", "FFF"]
    path = price_csv(tickers, "2011-01-03", "2017-06-30", layout="long", seed=5)
    text = outputs_text(run_quick(NOTEBOOK, SOURCE="csv", CSV_PATH=str(path)))
    assert "source csv: 6 stocks" in text and "..2017-06-30" in text
    for name in ["book HRP", "HRP (López de Prado)", "HERC", "minimum variance",
                 "inverse volatility", "equal weight"]:  # fmt: skip
        assert name in text
    assert "Verdict: out of sample" in text and "equal weight significantly" in text


@pytest.mark.parametrize("name, value", [("N_CLUSTERS", 1), ("COST_BPS", -5)])
def test_notebook_names_a_bad_parameter(assert_bad_parameter, name, value):
    assert_bad_parameter(NOTEBOOK, name, value)
