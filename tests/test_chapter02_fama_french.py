"""Unit tests of chapter 2, notebook 01 (Book §2.1, Appendix 2A): the Fama-French long-short.

Book Appendix 2A asked ChatGPT for two unit tests: the Fama-French factor values on given dates,
and a stock's next-day return (MSFT, with a tolerance of 0.01). They are here in pytest form:

- factor values parsed from the raw text of Kenneth French's file (string splitting, no pandas)
  against :func:`common.bookdata.load_ken_french_daily`;
- ``calculate_N_day_ahead_returns`` on a hand-made example, and on MSFT's real prices;
- the erratum: a tolerance of 0.01 accepts the return of the wrong day, a tight one rejects it.

The functions under test are the ones the notebook defines, so that the code a reader sees is
the code that is tested: every code cell of ``chapter02/01_fama_french_long_short.ipynb`` that
holds only function definitions is executed (after the import statements of the notebook's import
cell) into a namespace. Those cells start with the comment "tested by
tests/test_chapter02_fama_french.py"; keep them free of anything but ``def`` blocks. The
strategy itself (regressions, top/bottom-k portfolio, Sharpe ratio) is checked against an
independent vectorized implementation and against ``common.backtest``.

The last tests run the whole notebook in quick mode (papermill) on a generated price file of
another period, in the wide and in the long layout, as a reader rerunning it on their own data
would (issue 6, item 13), and with bad parameters.
"""

from __future__ import annotations

import ast
import math
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest

from common import backtest, bookdata, data

REPO_ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO_ROOT / "chapter02" / "01_fama_french_long_short.ipynb"
FF_KEY = "book/chapter02/F-F_Research_Data_Factors_daily.CSV"
FACTORS = ["Mkt-RF", "SMB", "HML"]


# ------------------------------------------------------------------------------ helpers
def _only_definitions(source: str) -> bool:
    try:
        body = ast.parse(source).body
    except SyntaxError:
        return False
    return bool(body) and all(isinstance(node, ast.FunctionDef) for node in body)


@pytest.fixture(scope="module")
def nb() -> dict:
    """Namespace holding the notebook's imports and every function it defines."""
    if not NOTEBOOK.is_file():
        pytest.fail(f"{NOTEBOOK} is missing")
    cells = [c for c in nbformat.read(NOTEBOOK, as_version=4).cells if c.cell_type == "code"]
    namespace: dict = {}
    imports = next(c for c in cells if "import statsmodels.api as sm" in c.source)
    tree = ast.parse(imports.source)  # its import statements only (no plotting style changes)
    tree.body = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
    exec(compile(tree, f"{NOTEBOOK.name}:imports", "exec"), namespace)
    for i, cell in enumerate(cells):
        if _only_definitions(cell.source):
            exec(compile(cell.source, f"{NOTEBOOK.name}:cell{i}", "exec"), namespace)
    needed = [
        "calculate_N_day_ahead_returns",
        "fit_factor_models",
        "predict_next_day",
        "long_short_book",
        "sharpe_book",
        "run_strategy",
        "test_factor_values",
        "test_next_day_returns",
    ]
    missing = [name for name in needed if name not in namespace]
    assert not missing, f"the notebook no longer defines {missing}"
    return namespace


def _raw_factor_row(text: str, yyyymmdd: str) -> list[float]:
    """The four numbers of one date in French's file, by plain string splitting (percent)."""
    for line in text.splitlines():
        if line.startswith(yyyymmdd + ","):
            return [float(v) for v in line.split(",")[1:5]]
    raise KeyError(yyyymmdd)


@pytest.fixture(scope="module")
def stocks() -> pd.DataFrame:
    """skfolio's 20 stocks on the notebook's window 2007..2013 (packaged, offline)."""
    return data.load_dataset("sp500_stocks").loc["2007-01-01":"2013-12-31"]


# ------------------------------------------------------------------ book unit test 1: factors
@pytest.mark.parametrize("day", ["19260701", "20070103", "20100601", "20131231", "20151130"])
def test_factor_values_match_raw_file(seeded_cache, day):
    text = (seeded_cache / FF_KEY).read_text(encoding="utf-8-sig")
    expected = _raw_factor_row(text, day)
    stamp = pd.Timestamp(day)
    percent = bookdata.load_ken_french_daily(units="percent").loc[stamp].tolist()
    fraction = bookdata.load_ken_french_daily(units="fraction").loc[stamp].to_numpy()
    assert percent == expected  # exact: the same decimal strings parsed
    np.testing.assert_allclose(fraction, np.array(expected) / 100, rtol=0, atol=1e-15)


def test_notebook_factor_test_catches_a_wrong_value(seeded_cache, nb):
    text = (seeded_cache / FF_KEY).read_text(encoding="utf-8-sig")
    ff = bookdata.load_ken_french_daily()
    nb["test_factor_values"](ff, text, ["2007-01-03", "2013-12-31"])  # passes on the real table
    broken = ff.copy()
    broken.loc["2013-12-31", "SMB"] += 0.0001  # one basis point off on one date
    with pytest.raises(AssertionError, match="2013-12-31 SMB"):
        nb["test_factor_values"](broken, text, ["2007-01-03", "2013-12-31"])
    percent_by_mistake = ff * 100  # units not converted
    with pytest.raises(AssertionError):
        nb["test_factor_values"](percent_by_mistake, text, ["2007-01-03"])


# --------------------------------------------------------- book unit test 2: N-day-ahead returns
def test_n_day_ahead_returns_hand_example(nb):
    f = nb["calculate_N_day_ahead_returns"]
    idx = pd.bdate_range("2024-01-01", periods=4, name="date")
    prices = pd.DataFrame({"A": [100.0, 110.0, 99.0, 99.0], "B": [50.0, 50.0, 55.0, 44.0]}, idx)
    one = f(prices, 1)
    expected_one = pd.DataFrame(
        {"A": [0.10, -0.10, 0.0, np.nan], "B": [0.0, 0.10, -0.20, np.nan]}, idx
    )
    pd.testing.assert_frame_equal(one, expected_one, rtol=0, atol=1e-15)
    two = f(prices, 2)
    expected_two = pd.DataFrame(
        {"A": [-0.01, -0.10, np.nan, np.nan], "B": [0.10, -0.12, np.nan, np.nan]}, idx
    )
    pd.testing.assert_frame_equal(two, expected_two, rtol=0, atol=1e-15)
    series = f(prices["A"], 1)  # a Series works too, stamped at the decision date
    assert series.index.equals(idx) and math.isclose(series.iloc[0], 0.10, abs_tol=1e-15)


@pytest.mark.parametrize("bad", [0, -1, 1.0, True, "1"])
def test_n_day_ahead_returns_rejects_bad_horizon(nb, bad):
    prices = pd.DataFrame({"A": [1.0, 2.0]}, pd.bdate_range("2024-01-01", periods=2))
    with pytest.raises(ValueError, match="positive integer"):
        nb["calculate_N_day_ahead_returns"](prices, bad)


def test_msft_next_day_return_by_hand(nb, stocks):
    msft = stocks["MSFT"]
    day = pd.Timestamp("2010-06-02")
    i = msft.index.get_loc(day)
    by_hand = msft.iloc[i + 1] / msft.iloc[i] - 1  # close 2010-06-03 / close 2010-06-02 - 1
    got = nb["calculate_N_day_ahead_returns"](stocks)["MSFT"].loc[day]
    assert msft.index[i + 1] == pd.Timestamp("2010-06-03")
    assert abs(got - by_hand) < 1e-15
    nb["test_next_day_returns"](nb["calculate_N_day_ahead_returns"], stocks, "MSFT", day, 1e-12)


def test_book_tolerance_accepts_the_wrong_day(nb, stocks):
    """Erratum: with the book's 0.01 the test passes a function that returns the previous day's
    return (t-1 -> t instead of t -> t+1); a tight tolerance rejects it."""

    def wrong_day(prices):
        return prices.pct_change()

    check = nb["test_next_day_returns"]
    day = "2010-06-02"
    right = nb["calculate_N_day_ahead_returns"](stocks)["MSFT"].loc[day]
    wrong = wrong_day(stocks)["MSFT"].loc[day]
    assert abs(wrong - right) > 0.005  # a genuinely different number (right 1.51 %, wrong 2.20 %)
    check(wrong_day, stocks, "MSFT", day, 0.01)  # the book's tolerance: passes, wrongly
    with pytest.raises(AssertionError, match="MSFT"):
        check(wrong_day, stocks, "MSFT", day, 1e-12)
    # and not by a lucky choice of day: over 2007-2013 the wrong function is within 0.01 of the
    # right one on about a third of the days
    gap = (wrong_day(stocks)["MSFT"] - nb["calculate_N_day_ahead_returns"](stocks)["MSFT"]).abs()
    assert (gap.dropna() < 0.01).mean() > 0.25


# ------------------------------------------------------------------------------ the strategy
def test_long_short_book_hand_example(nb):
    idx = pd.bdate_range("2024-01-01", periods=3, name="date")
    predicted = pd.DataFrame(
        {"A": [0.3, 0.1, np.nan], "B": [0.2, 0.4, 0.1], "C": [0.1, 0.2, 0.2], "D": [0.0, 0.3, 0.3]},
        idx,
    )
    nxt = pd.DataFrame(
        {
            "A": [0.01, 0.02, 0.0],
            "B": [0.02, np.nan, -0.01],
            "C": [-0.01, 0.0, 0.0],
            "D": [0.03, 0.0, 0.05],
        },
        idx,
    )
    ls = nb["long_short_book"](predicted, nxt, 1)
    assert math.isclose(ls.iloc[0], 0.01 - 0.03, abs_tol=1e-15)  # long A, short D
    assert math.isclose(ls.iloc[1], 0.0 - 0.02, abs_tol=1e-15)  # long B (NaN -> 0), short A
    assert math.isclose(ls.iloc[2], 0.05 + 0.01, abs_tol=1e-15)  # A has no prediction: D vs B
    assert np.isnan(nb["long_short_book"](predicted, nxt, 2).iloc[2])  # fewer than 2k names
    with pytest.raises(ValueError, match="positive integer"):
        nb["long_short_book"](predicted, nxt, 0)


def _vectorized_strategy(prices: pd.DataFrame, factors: pd.DataFrame, n_train: int, k: int):
    """Independent implementation: numpy least squares, ranks by argsort, no statsmodels/loops."""
    nxt = prices.shift(-1) / prices - 1
    X = np.column_stack([np.ones(len(factors)), factors.to_numpy()])
    fit = slice(0, n_train - 1)
    B = np.linalg.lstsq(X[fit], nxt.to_numpy()[fit], rcond=None)[0]  # all stocks at once
    pred = X @ B
    order = np.argsort(-pred, axis=1, kind="stable")
    R = nxt.to_numpy()
    top = np.take_along_axis(R, order[:, :k], axis=1).mean(axis=1)
    bottom = np.take_along_axis(R, order[:, -k:], axis=1).mean(axis=1)
    return pd.Series(top - bottom, index=prices.index)


def test_strategy_matches_independent_implementation(seeded_cache, nb, stocks):
    ff = bookdata.load_ken_french_daily()[FACTORS]
    prices = stocks.loc[stocks.index.isin(ff.index)]
    factors = ff.reindex(prices.index)
    n_train, k = len(prices) // 2, 5
    result = nb["run_strategy"](prices, factors, n_train, k, 100)
    ours = result["ls"]
    ref = _vectorized_strategy(prices, factors, n_train, k)
    both = ours.notna() & ref.notna()
    assert both.sum() == len(prices) - 1 and np.isnan(ours.iloc[-1])  # last date: no next day
    np.testing.assert_allclose(ours[both], ref[both], rtol=0, atol=1e-12)
    train, test = ours.iloc[:n_train], ours.iloc[n_train:]
    for part in (train, test):  # book convention: rf 0, ddof 0, sqrt(252)
        x = part.dropna().to_numpy()
        assert math.isclose(nb["sharpe_book"](part), x.mean() / x.std() * math.sqrt(252))
    assert nb["sharpe_book"](train) > nb["sharpe_book"](test)  # in sample flatters


def test_book_loop_equals_common_backtest(nb):
    rng = np.random.default_rng(7)
    idx = pd.bdate_range("2024-01-01", periods=60, name="date")
    cols = [f"S{i}" for i in range(8)]
    prices = pd.DataFrame(100 * np.exp(np.cumsum(rng.normal(0, 0.02, (60, 8)), axis=0)), idx, cols)
    predicted = pd.DataFrame(rng.normal(size=(60, 8)), idx, cols)
    nxt = nb["calculate_N_day_ahead_returns"](prices, 1)
    ls = nb["long_short_book"](predicted, nxt, 2)
    weights = backtest.top_bottom_weights(predicted, 2, gross=2.0)
    res = backtest.backtest(weights, prices.pct_change().fillna(0.0), lag=1)
    earned = pd.Series(ls.to_numpy(), index=idx).shift(1).dropna()
    np.testing.assert_allclose(res.gross.loc[earned.index], earned, rtol=0, atol=1e-15)


def test_predictions_use_no_future_data(seeded_cache, nb, stocks):
    """Changing every price after a test date leaves that date's predictions unchanged (they use
    the training fit and the factors of the day only), and the training fit ignores the test
    half entirely."""
    ff = bookdata.load_ken_french_daily()[FACTORS]
    prices = stocks.loc[stocks.index.isin(ff.index)]
    factors = ff.reindex(prices.index)
    n_train = len(prices) // 2
    cut = prices.index[n_train + 100]
    shocked = prices.copy()
    shocked.loc[shocked.index > cut] *= np.linspace(0.5, 2.0, prices.shape[1])
    a = nb["run_strategy"](prices, factors, n_train, 5, 100)
    b = nb["run_strategy"](shocked, factors, n_train, 5, 100)
    pd.testing.assert_frame_equal(a["coefs"], b["coefs"])
    pd.testing.assert_frame_equal(a["predicted"].loc[:cut], b["predicted"].loc[:cut])
    # the label of the last training day ends on the first test day: purged from the fit
    shocked_first = prices.copy()
    shocked_first.iloc[n_train] *= 1.5
    c = nb["run_strategy"](shocked_first, factors, n_train, 5, 100)
    pd.testing.assert_frame_equal(a["coefs"], c["coefs"])


def test_fit_skips_stocks_with_too_few_observations(nb):
    rng = np.random.default_rng(3)
    idx = pd.bdate_range("2020-01-01", periods=150, name="date")
    factors = pd.DataFrame(rng.normal(0, 0.01, (150, 3)), idx, FACTORS)
    nxt = pd.DataFrame(rng.normal(0, 0.02, (150, 2)), idx, ["LONG", "SHORT"])
    nxt.iloc[:60, 1] = np.nan  # SHORT has 90 observations
    coefs = nb["fit_factor_models"](nxt, factors, idx, min_obs=100)
    assert list(coefs.index) == ["LONG"] and coefs.loc["LONG", "nobs"] == 150
    with pytest.raises(ValueError, match="more than 200"):
        nb["fit_factor_models"](nxt, factors, idx, min_obs=200)


# ------------------------------------------------------------- the notebook on the reader's data
NOTEBOOK_REL = "chapter02/01_fama_french_long_short.ipynb"
OWN_TICKERS = [f"S{i:02d}" for i in range(12)]


@pytest.mark.parametrize("layout", ["wide", "long"])
def test_notebook_runs_on_own_csv(seeded_cache, price_csv, run_quick, outputs_text, layout):
    """Only SOURCE and CSV_PATH are set: dates come from the file (2009-2012, inside the factor
    file's 1926-2015), K adapts to 12 stocks (3 per leg) and the scorecard prints a verdict."""
    path = price_csv(OWN_TICKERS, "2009-01-01", "2012-12-31", layout=layout, seed=1)
    text = outputs_text(run_quick(NOTEBOOK_REL, SOURCE="csv", CSV_PATH=str(path)))
    assert "csv: 12 stocks, prices 2009-01-01 .. 2012-12-31" in text  # the file's own range
    assert "k = 3 per leg" in text
    assert "Verdict: " in text and "evidence of an edge" in text


def test_notebook_csv_outside_factor_range_names_the_parameters(seeded_cache, price_csv, run_quick):
    import papermill

    path = price_csv(OWN_TICKERS[:4], "2020-01-01", "2021-06-30", seed=2)
    with pytest.raises(papermill.PapermillExecutionError) as err:
        run_quick(NOTEBOOK_REL, SOURCE="csv", CSV_PATH=str(path))
    message = str(err.value)
    assert "START" in message and "END" in message
    assert "1926-07-01..2015-11-30" in message and "2020-01-01..2021-06-30" in message


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [("K", 0, "K must be an integer >= 1"), ("TRAIN_FRACTION", 1.0, "TRAIN_FRACTION must be")],
)
def test_notebook_rejects_bad_parameters(run_quick, name, value, expected):
    import papermill

    with pytest.raises(papermill.PapermillExecutionError, match=expected):
        run_quick(NOTEBOOK_REL, **{name: value})
