"""Tests of common.metrics: hand-computed cases, empyrical agreement, the book's Sharpe, bad input."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from common import metrics as m

DATES3 = pd.DatetimeIndex(["2024-01-02", "2024-01-03", "2024-01-04"])


@pytest.fixture
def r3() -> pd.Series:
    return pd.Series([0.1, -0.5, 0.2], index=DATES3, name="toy")


@pytest.fixture
def noisy() -> pd.Series:
    rng = np.random.default_rng(42)
    idx = pd.bdate_range("2015-01-01", periods=1500)
    return pd.Series(rng.normal(4e-4, 0.012, size=len(idx)), index=idx, name="noisy")


# ------------------------------------------------------------------------------ prices -> returns


def test_simple_and_log_returns_by_hand():
    prices = pd.Series([100.0, 110.0, 99.0], index=DATES3)
    simple = m.simple_returns(prices)
    assert list(simple.index) == list(DATES3[1:])
    np.testing.assert_allclose(simple.to_numpy(), [0.1, -0.1], rtol=0, atol=1e-15)
    logr = m.log_returns(prices)
    np.testing.assert_allclose(logr.to_numpy(), [math.log(1.1), math.log(0.9)], atol=1e-15)
    # log returns add up to the log of the total gross return
    assert logr.sum() == pytest.approx(math.log(99 / 100), abs=1e-15)


def test_simple_returns_dataframe_keeps_columns_and_nan():
    prices = pd.DataFrame({"A": [1.0, 2.0, 3.0], "B": [np.nan, 4.0, 2.0]}, index=DATES3)
    out = m.simple_returns(prices)
    assert list(out.columns) == ["A", "B"]
    assert out["A"].tolist() == pytest.approx([1.0, 0.5])
    assert np.isnan(out["B"].iloc[0]) and out["B"].iloc[1] == pytest.approx(-0.5)


@pytest.mark.parametrize("bad", [0.0, -1.0])
def test_non_positive_prices_raise(bad):
    prices = pd.Series([100.0, bad, 101.0], index=DATES3)
    with pytest.raises(ValueError, match="strictly positive"):
        m.simple_returns(prices)
    with pytest.raises(ValueError, match="strictly positive"):
        m.log_returns(prices)


def test_prices_need_two_rows_and_sorted_dates():
    with pytest.raises(ValueError, match="at least 2"):
        m.simple_returns(pd.Series([1.0], index=DATES3[:1]))
    with pytest.raises(ValueError, match="sorted"):
        m.simple_returns(pd.Series([1.0, 2.0, 3.0], index=DATES3[::-1]))
    with pytest.raises(ValueError, match="duplicate"):
        m.simple_returns(pd.Series([1.0, 2.0, 3.0], index=DATES3[[0, 0, 1]]))
    with pytest.raises(TypeError, match="numeric"):
        m.simple_returns(pd.Series(["1", "2", "3"], index=DATES3))


# ------------------------------------------------------------------------------ risk-free rate


def test_annual_to_periodic_is_simple_division():
    assert m.annual_to_periodic(0.0504) == pytest.approx(0.0002)
    assert m.annual_to_periodic(0.12, periods=12) == pytest.approx(0.01)
    s = pd.Series([0.0252, 0.0504])
    pd.testing.assert_series_equal(m.annual_to_periodic(s), s / 252)
    with pytest.raises(ValueError, match="positive"):
        m.annual_to_periodic(0.05, periods=0)


def test_excess_returns_inner_join_on_dates_when_allowed(r3):
    rf = pd.Series(
        [0.01, 0.02, 0.03], index=pd.DatetimeIndex(["2024-01-01", "2024-01-03", "2024-01-04"])
    )
    ex = m.excess_returns(r3, rf, allow_partial_risk_free=True)
    assert list(ex.index) == list(DATES3[1:])
    np.testing.assert_allclose(ex.to_numpy(), [-0.52, 0.17], atol=1e-15)
    df = pd.DataFrame({"a": r3, "b": 2 * r3})
    exdf = m.excess_returns(df, rf, allow_partial_risk_free=True)
    np.testing.assert_allclose(exdf["b"].to_numpy(), [-1.02, 0.37], atol=1e-15)
    np.testing.assert_allclose(m.excess_returns(r3, 0.1).to_numpy(), [0.0, -0.6, 0.1], atol=1e-15)


def test_excess_returns_no_common_dates_raises(r3):
    rf = pd.Series([0.01], index=pd.DatetimeIndex(["2030-01-01"]))
    with pytest.raises(ValueError, match="no date in common"):
        m.excess_returns(r3, rf)
    # tz-aware vs naive dates do not match either, and the message says so
    rf_tz = pd.Series([0.0] * 3, index=DATES3.tz_localize("America/New_York"))
    with pytest.raises(ValueError, match="time zone"):
        m.sharpe_ratio(r3, rf_tz)


def test_excess_returns_bad_risk_free(r3):
    with pytest.raises(TypeError):
        m.excess_returns(r3, "0.01")
    with pytest.raises(TypeError):
        m.excess_returns(r3, pd.DataFrame({"rf": [0.0] * 3}, index=DATES3))
    with pytest.raises(ValueError, match="finite"):
        m.excess_returns(r3, float("nan"))


def test_partial_risk_free_raises_unless_allowed(noisy):
    """A risk_free Series missing return dates silently shortened the sample (issue 6)."""
    rf = pd.Series(1e-4, index=noisy.index[:-30])  # the last 30 return dates have no rate
    with pytest.raises(ValueError, match="only 1470 of the 1500") as err:
        m.sharpe_ratio(noisy, rf)
    text = str(err.value)
    first, last = noisy.index[-30].date(), noisy.index[-1].date()
    assert f"30 date(s) from {first} to {last}" in text and "allow_partial_risk_free" in text
    for func in (m.excess_returns, m.sortino_ratio, m.performance_table):
        with pytest.raises(ValueError, match="have no risk-free rate"):
            func(noisy, rf)
    short = m.sharpe_ratio(noisy, rf, allow_partial_risk_free=True)
    assert short == pytest.approx(m.sharpe_ratio(noisy.iloc[:-30], 1e-4), rel=1e-12)
    assert m.sortino_ratio(noisy, rf, allow_partial_risk_free=True) == pytest.approx(
        m.sortino_ratio(noisy.iloc[:-30], 1e-4), rel=1e-12
    )
    # a longer risk-free series is fine, and leading NaN returns (pct_change) need no rate
    wide = pd.Series(1e-4, index=pd.bdate_range("2014-01-01", "2030-01-01"))
    assert math.isfinite(m.sharpe_ratio(noisy, wide))
    prices = pd.Series(100 * np.cumprod(1 + noisy.to_numpy()), index=noisy.index)
    rf_from_second = pd.Series(1e-4, index=noisy.index[1:])
    assert math.isfinite(m.sharpe_ratio(prices.pct_change(), rf_from_second))
    df = pd.DataFrame({"a": prices.pct_change(), "b": prices.pct_change()})
    assert len(m.excess_returns(df, rf_from_second)) == len(noisy) - 1


def test_nan_risk_free_on_used_date_raises(r3):
    rf = pd.Series([0.0, np.nan, 0.0], index=DATES3)
    with pytest.raises(ValueError, match="risk_free is NaN"):
        m.sharpe_ratio(r3, rf)


# ------------------------------------------------------------------------------ hand-computed cases


def test_max_drawdown_by_hand(r3):
    # wealth 1 -> 1.1 -> 0.55 -> 0.66: the peak 1.1 (day 1) falls 50 % to 0.55 (day 2)
    mdd = m.max_drawdown(r3)
    assert mdd.value == pytest.approx(-0.5, abs=1e-15)
    assert mdd.peak == DATES3[0]
    assert mdd.trough == DATES3[1]
    assert mdd.recovery is None
    np.testing.assert_allclose(m.drawdown(r3).to_numpy(), [0.0, -0.5, -0.4], atol=1e-15)


def test_max_drawdown_recovery_and_first_day_loss():
    idx = pd.bdate_range("2024-01-01", periods=5)
    # loss on day 1: the peak is the starting wealth, before any date
    r = pd.Series([-0.2, 0.1, 0.2, -0.05, 0.01], index=idx)
    mdd = m.max_drawdown(r)
    assert mdd.value == pytest.approx(-0.2)
    assert mdd.peak is None and mdd.trough == idx[0]
    assert mdd.recovery == idx[2]  # 0.8 * 1.1 * 1.2 = 1.056 >= 1
    # never below a previous peak
    up = pd.Series([0.01, 0.0, 0.02], index=DATES3)
    assert m.max_drawdown(up) == m.MaxDrawdown(0.0, None, None, None)
    with pytest.warns(m.UndefinedRatioWarning, match="calmar_ratio"):
        assert math.isnan(m.calmar_ratio(up))


def test_max_drawdown_dataframe():
    df = pd.DataFrame({"a": [0.1, -0.5, 0.2], "b": [-0.1, 0.2, 0.0]}, index=DATES3)
    out = m.max_drawdown(df)
    assert list(out.columns) == ["value", "peak", "trough", "recovery"]
    assert out.loc["a", "value"] == pytest.approx(-0.5)
    assert out.loc["b", "value"] == pytest.approx(-0.1)
    assert out.loc["b", "trough"] == DATES3[0] and out.loc["b", "recovery"] == DATES3[1]


def test_cagr_and_annualized_return_by_hand(r3):
    # total growth 1.1 * 0.5 * 1.2 = 0.66 over 3 periods, 3 periods a year -> 1 year
    assert m.cagr(r3, periods=3) == pytest.approx(0.66 - 1, abs=1e-14)
    # 3 periods of a 252-day year
    assert m.cagr(r3) == pytest.approx(0.66 ** (252 / 3) - 1, rel=1e-12)
    assert m.annualized_return(r3, periods=3) == pytest.approx(-0.2, abs=1e-14)
    two_years = pd.Series([0.21, 0.0], index=DATES3[:2])
    assert m.cagr(two_years, periods=1) == pytest.approx(0.1, abs=1e-14)
    assert m.calmar_ratio(r3, periods=3) == pytest.approx(-0.34 / 0.5, abs=1e-14)


def test_sharpe_ddof_0_vs_1_by_hand():
    r = pd.Series([0.01, 0.03, -0.01, 0.05], index=pd.bdate_range("2024-01-01", periods=4))
    mean = 0.02
    ss = sum((x - mean) ** 2 for x in r)  # 0.002
    sd1, sd0 = math.sqrt(ss / 3), math.sqrt(ss / 4)
    assert m.sharpe_ratio(r, annualize=False) == pytest.approx(mean / sd1, rel=1e-12)
    assert m.sharpe_ratio(r, ddof=0, annualize=False) == pytest.approx(mean / sd0, rel=1e-12)
    assert m.sharpe_ratio(r, ddof=0) == pytest.approx(mean / sd0 * math.sqrt(252), rel=1e-12)
    assert m.sharpe_ratio(r, periods=12) == pytest.approx(mean / sd1 * math.sqrt(12), rel=1e-12)
    # the two conventions differ by sqrt(n / (n - 1))
    ratio = m.sharpe_ratio(r, ddof=0) / m.sharpe_ratio(r, ddof=1)
    assert ratio == pytest.approx(math.sqrt(4 / 3), rel=1e-12)
    assert m.volatility(r, annualize=False) == pytest.approx(sd1, rel=1e-12)
    assert m.volatility(r, ddof=0) == pytest.approx(sd0 * math.sqrt(252), rel=1e-12)
    # a constant risk-free rate lowers the mean only
    assert m.sharpe_ratio(r, 0.01, annualize=False) == pytest.approx(0.01 / sd1, rel=1e-12)


def test_sortino_by_hand():
    r = pd.Series([0.02, -0.01, 0.03, -0.02], index=pd.bdate_range("2024-01-01", periods=4))
    dd = math.sqrt((0.01**2 + 0.02**2) / 4)  # all 4 periods in the mean
    assert m.downside_deviation(r, annualize=False) == pytest.approx(dd, rel=1e-12)
    assert m.sortino_ratio(r, annualize=False) == pytest.approx(0.005 / dd, rel=1e-12)
    dd_t = math.sqrt((0.02**2 + 0.03**2) / 4)  # target 1 % a period
    assert m.sortino_ratio(r, target=0.01, annualize=False) == pytest.approx(-0.005 / dd_t)


def test_zero_dispersion_gives_nan_with_warning(recwarn):
    flat = pd.Series([0.001] * 10, index=pd.bdate_range("2024-01-01", periods=10))
    with pytest.warns(m.UndefinedRatioWarning, match="sharpe_ratio.*standard deviation"):
        assert math.isnan(m.sharpe_ratio(flat))
    with pytest.warns(m.UndefinedRatioWarning, match="sortino_ratio.*downside"):
        assert math.isnan(m.sortino_ratio(flat))  # nothing below the target
    with pytest.warns(m.UndefinedRatioWarning, match="calmar_ratio.*drawdown"):
        assert math.isnan(m.calmar_ratio(flat))
    assert m.volatility(flat) == 0.0
    # only our warning: no numpy "invalid value" or "divide by zero" RuntimeWarning
    assert all(issubclass(w.category, m.UndefinedRatioWarning) for w in recwarn)


def test_constant_up_to_rounding_counts_as_zero_dispersion():
    """pct_change of 100 * 1.01**n is 0.01 up to a few ulps: Sharpe was ~1.46e15 (issue 6)."""
    idx = pd.bdate_range("2020-01-01", periods=300)
    r = pd.Series(100 * 1.01 ** np.arange(300), index=idx).pct_change()
    assert 0 < np.std(r.dropna(), ddof=1) < 1e-15  # rounding noise, not a real spread
    assert m.volatility(r) == 0.0
    with pytest.warns(m.UndefinedRatioWarning, match="zero \\(up to rounding\\)"):
        assert math.isnan(m.sharpe_ratio(r))
    with pytest.warns(m.UndefinedRatioWarning):
        assert math.isnan(m.sharpe_ratio(r, ddof=0, annualize=False))
    # the same returns in a DataFrame: nan for that column only
    df = pd.DataFrame({"flat": r, "noisy": r + np.sin(np.arange(300)) * 1e-3})
    with pytest.warns(m.UndefinedRatioWarning, match="'flat'"):
        out = m.sharpe_ratio(df)
    assert math.isnan(out["flat"]) and math.isfinite(out["noisy"])
    # excess returns equal to the risk-free rate up to rounding: a zero downside deviation
    tiny = pd.Series(0.01 + np.array([1e-18, -1e-18] * 150), index=idx)
    with pytest.warns(m.UndefinedRatioWarning):
        assert math.isnan(m.sortino_ratio(tiny, target=0.01))
    # a cash strategy earning the risk-free rate up to rounding: Sharpe undefined, not noise
    rf = pd.Series(0.0002 + np.arange(300) * 1e-7, index=idx)
    cash = rf + np.array([2e-20, -3e-20, 0.0] * 100)
    assert cash.sub(rf).abs().max() > 0  # the difference is a few ulps, not exactly zero
    with pytest.warns(m.UndefinedRatioWarning):
        assert math.isnan(m.sharpe_ratio(cash, rf))
    # a small but real spread is kept
    real = pd.Series(0.01 + np.array([1e-9, -1e-9] * 150), index=idx)
    assert m.sharpe_ratio(real) == pytest.approx(0.01 / 1e-9 * math.sqrt(252), rel=1e-2)


def test_dataframe_gives_series_per_column(noisy):
    df = pd.DataFrame({"x": noisy, "y": -noisy})
    s = m.sharpe_ratio(df)
    assert isinstance(s, pd.Series) and list(s.index) == ["x", "y"]
    assert s["x"] == pytest.approx(m.sharpe_ratio(noisy), rel=1e-14)
    assert s["y"] == pytest.approx(-s["x"], rel=1e-14)


def test_leading_nans_dropped_per_column(noisy):
    late = noisy.copy()
    late.iloc[:100] = np.nan
    df = pd.DataFrame({"full": noisy, "late": late})
    assert m.cagr(df)["late"] == pytest.approx(m.cagr(noisy.iloc[100:]), rel=1e-13)
    dd = m.drawdown(df)
    assert dd["late"].iloc[:100].isna().all() and dd["full"].notna().all()
    assert dd["late"].iloc[100] == pytest.approx(min(noisy.iloc[100], 0.0))
    table = m.performance_table(df)
    assert table.loc["late", "Periods"] == len(noisy) - 100
    assert table.loc["late", "Start"] == noisy.index[100]


# ------------------------------------------------------------------------------ empyrical


def test_agrees_with_empyrical(noisy):
    ep = pytest.importorskip("empyrical")
    tol = dict(rel=1e-10, abs=1e-12)
    assert m.sharpe_ratio(noisy) == pytest.approx(ep.sharpe_ratio(noisy), **tol)
    assert m.sortino_ratio(noisy) == pytest.approx(ep.sortino_ratio(noisy), **tol)
    assert m.sortino_ratio(noisy, target=2e-4) == pytest.approx(
        ep.sortino_ratio(noisy, required_return=2e-4), **tol
    )
    assert m.downside_deviation(noisy) == pytest.approx(ep.downside_risk(noisy), **tol)
    assert m.volatility(noisy) == pytest.approx(ep.annual_volatility(noisy), **tol)
    assert m.cagr(noisy) == pytest.approx(ep.cagr(noisy), **tol)
    assert m.cagr(noisy) == pytest.approx(ep.annual_return(noisy), **tol)
    assert m.max_drawdown(noisy).value == pytest.approx(ep.max_drawdown(noisy), **tol)
    assert m.calmar_ratio(noisy) == pytest.approx(ep.calmar_ratio(noisy), **tol)
    pd.testing.assert_series_equal(
        m.drawdown(noisy), ep.stats.drawdown_series(noisy), rtol=1e-10, check_names=False
    )
    monthly = noisy.iloc[:120] * 4
    assert m.sharpe_ratio(monthly, periods=12) == pytest.approx(
        ep.sharpe_ratio(monthly, period="monthly"), **tol
    )
    assert m.sharpe_ratio(noisy, 1e-4) == pytest.approx(ep.sharpe_ratio(noisy, 1e-4), **tol)


def test_max_drawdown_dates_are_consistent(noisy):
    mdd = m.max_drawdown(noisy)
    wealth = (1 + noisy).cumprod()
    assert mdd.trough == m.drawdown(noisy).idxmin()
    assert mdd.recovery is None or wealth.loc[mdd.recovery] >= wealth.loc[mdd.peak]
    assert wealth.loc[mdd.trough] / wealth.loc[mdd.peak] - 1 == pytest.approx(mdd.value)
    assert wealth.loc[mdd.peak] == wealth.loc[: mdd.trough].max()


# ------------------------------------------------------------------------------ book number


def test_book_sharpe_spy_vs_bil_ma():
    """Book §1.2 / A.4 (BOOK.md chapter 1, notebook 02): daily 0.0682667..., annualized 1.0837..."""
    from common.data import fetch

    def read(key):
        raw = pd.read_csv(fetch(key))
        return pd.Series(
            raw.iloc[:, 1].to_numpy(), index=pd.to_datetime(raw["Date"].str[:10]), name=key
        )

    spy = read("book/chapter01/SPY_last_100_days.csv")
    rf = m.annual_to_periodic(read("book/chapter01/BIL_annualized_returns_20_day_MA.csv"))
    ret = m.simple_returns(spy)
    assert m.sharpe_ratio(ret, rf, annualize=False) == pytest.approx(0.06826677308094933, abs=1e-9)
    assert m.sharpe_ratio(ret, rf) == pytest.approx(1.0837014262864237, abs=1e-9)


# ------------------------------------------------------------------------------ table


def test_performance_table_columns_and_values(noisy):
    df = pd.DataFrame({"a": noisy, "b": noisy * 0.5})
    table = m.performance_table(df, risk_free=1e-4, ddof=0)
    assert list(table.index) == ["a", "b"]
    assert list(table.columns) == m.TABLE_COLUMNS
    row = table.loc["b"]
    assert row["CAGR"] == pytest.approx(m.cagr(df["b"]))
    assert row["Ann. vol"] == pytest.approx(m.volatility(df["b"], ddof=0))
    assert row["Sharpe (ann.)"] == pytest.approx(m.sharpe_ratio(df["b"], 1e-4, ddof=0))
    assert row["Sortino (ann.)"] == pytest.approx(m.sortino_ratio(df["b"], 1e-4))
    assert row["Max drawdown"] == pytest.approx(m.max_drawdown(df["b"]).value)
    assert row["Periods"] == len(noisy) and row["End"] == noisy.index[-1]
    one = m.performance_table(noisy)
    assert list(one.index) == ["noisy"]


def test_performance_table_series_risk_free_uses_common_dates(noisy):
    rf = pd.Series(1e-4, index=noisy.index[10:])
    with pytest.raises(ValueError, match="allow_partial_risk_free"):
        m.performance_table(noisy, rf)
    table = m.performance_table(noisy, rf, allow_partial_risk_free=True)
    assert table.loc["noisy", "Periods"] == len(noisy) - 10
    assert table.loc["noisy", "CAGR"] == pytest.approx(m.cagr(noisy.iloc[10:]))


# ------------------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    "func",
    [
        m.cagr,
        m.annualized_return,
        m.volatility,
        m.sharpe_ratio,
        m.sortino_ratio,
        m.drawdown,
        m.max_drawdown,
        m.calmar_ratio,
        m.performance_table,
        m.cumulative_returns,
    ],
)
def test_empty_and_interior_nan_raise(func):
    with pytest.raises(ValueError, match="empty"):
        func(pd.Series([], dtype=float))
    with pytest.raises(ValueError, match="only NaN"):
        func(pd.Series([np.nan, np.nan], index=DATES3[:2]))
    gap = pd.Series(
        [np.nan, 0.01, np.nan, 0.02, -0.01], index=pd.bdate_range("2024-01-01", periods=5)
    )
    with pytest.raises(ValueError, match="NaN value"):
        func(gap)
    func(gap, dropna=True)  # explicit choice: skip the missing period


def test_dropna_skips_interior_nan():
    gap = pd.Series(
        [np.nan, 0.01, np.nan, 0.02, -0.01], index=pd.bdate_range("2024-01-01", periods=5)
    )
    assert m.sharpe_ratio(gap, dropna=True) == pytest.approx(m.sharpe_ratio(gap.dropna()))
    assert m.cagr(gap, dropna=True) == pytest.approx(m.cagr(gap.dropna()))


def test_other_bad_inputs(r3):
    with pytest.raises(TypeError):
        m.sharpe_ratio(0.01)
    with pytest.raises(TypeError, match="numeric"):
        m.sharpe_ratio(pd.Series(["a", "b"]))
    with pytest.raises(ValueError, match="infinite"):
        m.sharpe_ratio(pd.Series([0.01, np.inf, 0.02]))
    with pytest.raises(ValueError, match="ddof=1 needs at least 2"):
        m.sharpe_ratio(r3.iloc[:1])
    with pytest.raises(ValueError, match="ddof"):
        m.volatility(r3, ddof=-1)
    with pytest.raises(ValueError, match="periods"):
        m.sharpe_ratio(r3, periods=-252)
    with pytest.raises(ValueError, match="percent"):
        m.cagr(pd.Series([5.0, -2.0, 1.0]))  # percent passed as fractions
    with pytest.raises(ValueError, match="sorted"):
        m.drawdown(r3.iloc[::-1])


def test_numpy_input_accepted():
    arr = np.array([0.1, -0.5, 0.2])
    mdd = m.max_drawdown(arr)
    assert mdd.value == pytest.approx(-0.5) and (mdd.peak, mdd.trough) == (0, 1)
    assert m.sharpe_ratio(np.column_stack([arr, arr])).shape == (2,)
