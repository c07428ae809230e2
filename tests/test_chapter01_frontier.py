"""Book-number checks of chapter 1, notebooks 03 (Excel indices) and 04 (efficient frontier).

The notebooks teach the computations; these tests recompute the few numbers that matter from the
book's own files, independently of the notebooks' code, so that a change in a loader, a library
or the data cache that moves them is caught even without executing the notebooks.

- Book §1.3: returns of the four indices, the book's saved ``Indices_daily_returns.csv``, and the
  annualized Sharpe ratio of the A Index 2019-01-07..2023-07-03 (rf = 0, ddof = 1, x sqrt 252).
- Book §1.4 / Appendix A.5: the long-only frontier of EWC EWG EWJ EWQ EWU EWY, its tangency
  portfolio against Matlab's ``ef.m`` result, and the two faults of the book's SLSQP translation
  (objective x'Hx with H = 2C, i.e. quadprog's 1/2 dropped; SLSQP's default ``ftol``).
"""

from __future__ import annotations

import cvxpy as cp
import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize

from common import bookdata

MATLAB_TANGENCY = np.array([0.4513, 0.2634, 0.0, 0.0, 0.0, 0.2852])  # EWC EWG EWJ EWQ EWU EWY
MATLAB_SHARPE = 0.0283  # daily, rf = 0
EXPECTED_TANGENCY = np.array([0.4514, 0.2635, 0.0, 0.0, 0.0, 0.2851])
TICKERS = ["EWC", "EWG", "EWJ", "EWQ", "EWU", "EWY"]
N_POINTS = 21


# ------------------------------------------------------------------------------ helpers
def _exact_min_variance(mean, cov, target):
    """Long-only, fully invested minimum variance with mean == target (cvxpy + Clarabel)."""
    n = len(mean)
    s_mean, s_cov = 1.0 / np.abs(mean).max(), 1.0 / np.diag(cov).mean()
    x = cp.Variable(n)
    problem = cp.Problem(
        cp.Minimize(cp.quad_form(x, s_cov * cov)),
        [cp.sum(x) == 1, (s_mean * mean) @ x == s_mean * target, x >= 0],
    )
    problem.solve(solver=cp.CLARABEL)
    assert problem.status == cp.OPTIMAL, f"target {target}: {problem.status}"
    w = np.clip(x.value, 0.0, None)
    return w / w.sum()


def _slsqp(mean, objective_matrix, target, **options):
    n = len(mean)
    constraints = (
        {"type": "eq", "fun": lambda x: np.sum(x) - 1},
        {"type": "eq", "fun": lambda x: x @ mean - target},
    )
    return minimize(
        lambda x: x @ objective_matrix @ x,
        np.ones(n) / n,
        method="SLSQP",
        bounds=[(0, 1)] * n,
        constraints=constraints,
        options=options or None,
    )


@pytest.fixture(scope="module")
def etf_moments(seeded_cache):
    closes = bookdata.load_etf_closes(drop=("EWZ", "FXI"))
    assert list(closes.columns) == TICKERS  # the order of the book's weight vectors
    returns = closes.pct_change().iloc[1:]
    assert returns.shape == (2499, 6) and not returns.isna().any().any()
    return returns.mean().to_numpy(), returns.cov().to_numpy()


@pytest.fixture(scope="module")
def exact_frontier(etf_moments):
    mean, cov = etf_moments
    targets = np.linspace(mean.min(), mean.max(), N_POINTS)
    weights = np.array([_exact_min_variance(mean, cov, t) for t in targets])
    sd = np.sqrt(np.einsum("ij,jk,ik->i", weights, cov, weights))
    return targets, weights, sd


# ------------------------------------------------------------------------------ Book §1.4
def test_tangency_matches_matlab(etf_moments, exact_frontier):
    mean, _ = etf_moments
    targets, weights, sd = exact_frontier
    np.testing.assert_allclose(weights @ mean, targets, rtol=0, atol=1e-9)
    sharpe = (weights @ mean) / sd
    k = int(np.argmax(sharpe))
    assert k == 14
    np.testing.assert_allclose(weights[k], EXPECTED_TANGENCY, rtol=0, atol=1e-3)
    np.testing.assert_allclose(weights[k], MATLAB_TANGENCY, rtol=0, atol=1e-3)
    assert abs(sharpe[k] - MATLAB_SHARPE) < 1e-4


def test_global_minimum_variance_is_below_the_frontier(etf_moments, exact_frontier):
    mean, cov = etf_moments
    _, _, sd = exact_frontier
    x = cp.Variable(len(mean))
    cp.Problem(
        cp.Minimize(cp.quad_form(x, cov / np.diag(cov).mean())), [cp.sum(x) == 1, x >= 0]
    ).solve(solver=cp.CLARABEL)
    gmv = np.clip(x.value, 0, None) / np.clip(x.value, 0, None).sum()
    gmv_sd = np.sqrt(gmv @ cov @ gmv)
    assert gmv_sd <= sd.min() + 1e-12
    assert sd.min() - gmv_sd < 1e-4  # the grid passes close to it
    # only EWC and EWJ are held; their weights are the solution of a 2-asset problem
    assert np.all(gmv[[1, 3, 4, 5]] < 1e-6)
    c = cov[np.ix_([0, 2], [0, 2])]
    w_ewc = (c[1, 1] - c[0, 1]) / (c[0, 0] + c[1, 1] - 2 * c[0, 1])
    np.testing.assert_allclose(gmv[[0, 2]], [w_ewc, 1 - w_ewc], atol=1e-6)


def test_tight_slsqp_agrees_with_cvxpy(etf_moments, exact_frontier):
    mean, cov = etf_moments
    targets, weights, _ = exact_frontier
    for k in (2, 10, 14, 18):
        res = _slsqp(mean, cov, targets[k], ftol=1e-12, maxiter=1000)
        assert res.success
        np.testing.assert_allclose(res.x, weights[k], atol=1e-4)


def test_translation_reports_sd_sqrt2_too_large(etf_moments, exact_frontier):
    """Minimizing x'Hx with H = 2C (quadprog's 1/2 dropped) leaves the minimizer unchanged but
    sqrt(objective) is sqrt(2) x the portfolio's standard deviation."""
    mean, cov = etf_moments
    targets, weights, sd = exact_frontier
    k = 14
    res = _slsqp(mean, 2 * cov, targets[k], ftol=1e-12, maxiter=1000)
    np.testing.assert_allclose(res.x, weights[k], atol=1e-4)
    np.testing.assert_allclose(np.sqrt(res.fun) / sd[k], np.sqrt(2), rtol=1e-6)


def test_default_slsqp_tolerance_stops_early(etf_moments, exact_frontier):
    """With daily-scale numbers, SLSQP's default ftol=1e-6 ends the search while still far from
    the optimum, and reports success; in percent units the same defaults converge."""
    mean, cov = etf_moments
    targets, weights, sd = exact_frontier
    worst = 0.0
    for k, target in enumerate(targets):
        res = _slsqp(mean, 2 * cov, target)
        assert res.success
        true_sd = np.sqrt(res.x @ cov @ res.x)
        worst = max(worst, true_sd / sd[k] - 1)
    assert worst > 0.01  # at least one point is more than 1 % above the frontier
    k = 14
    res_pct = _slsqp(100 * mean, 2 * 1e4 * cov, 100 * targets[k])
    np.testing.assert_allclose(res_pct.x, weights[k], atol=1e-3)


# ------------------------------------------------------------------------------ Book §1.3
@pytest.fixture(scope="module")
def index_returns(seeded_cache):
    return bookdata.load_indices().pct_change(fill_method=None)


def test_index_returns_equal_the_books_file(index_returns):
    book = bookdata.load_indices_daily_returns()
    assert index_returns.index.equals(book.index)
    assert index_returns.isna().equals(book.isna())
    assert (index_returns - book).abs().max().max() == 0.0


def test_returns_on_2023_11_06(index_returns):
    day = index_returns.loc[pd.Timestamp("2023-11-06")]
    np.testing.assert_allclose(
        day.to_numpy(),
        [
            0.0013780098636495541,
            -0.0043209807621450436,
            -0.0031292323045121195,
            -0.00033287302169660027,
        ],
        rtol=0,
        atol=1e-15,
    )
    prices = bookdata.load_indices().loc[["2023-11-03", "2023-11-06"], "A Index"]
    assert day["A Index"] == pytest.approx(276.14 / 275.76 - 1, abs=1e-15)
    assert prices.iloc[1] == 276.14


def test_sharpe_of_a_index_in_the_books_window(index_returns):
    window = index_returns["A Index"].loc["2019-01-07":"2023-07-03"]
    assert len(window) == 1171 and not window.isna().any()
    sharpe = window.mean() / window.std(ddof=1) * np.sqrt(252)
    assert sharpe == pytest.approx(0.7316, abs=5e-5)
    # cutting the prices to the window first loses the 2019-01-07 return and moves the answer
    cut = bookdata.load_indices()["A Index"].loc["2019-01-07":"2023-07-03"].pct_change().dropna()
    assert len(cut) == 1170
    assert abs(cut.mean() / cut.std() * np.sqrt(252) - sharpe) > 1e-3


# ------------------------------------------------------------------------------ own data
NB_FRONTIER = "chapter01/04_efficient_frontier.ipynb"


@pytest.mark.parametrize("layout", ["wide", "long"])
def test_frontier_notebook_runs_on_a_readers_csv(price_csv, run_quick, outputs_text, layout):
    """Item 13: SOURCE='csv' and CSV_PATH alone (no dates) run on a file of another period."""
    path = price_csv(TICKERS, "2016-01-01", "2019-12-31", layout=layout, seed=3)
    text = outputs_text(run_quick(NB_FRONTIER, SOURCE="csv", CSV_PATH=str(path)))
    assert "2016-01-01 .. 2019-12-31" in text
    assert "book checks off" in text and "Verdict: on 2016-01-01" in text


def test_frontier_notebook_names_a_bad_parameter(run_quick):
    import papermill

    with pytest.raises(papermill.PapermillExecutionError, match="N_POINTS"):
        run_quick(NB_FRONTIER, N_POINTS=1)
