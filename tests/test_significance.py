"""Diebold-Mariano test, Sharpe ratio standard error and Sharpe difference test (common.significance)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from common.metrics import sharpe_ratio
from common.significance import (
    diebold_mariano,
    sharpe_difference_test,
    sharpe_ratio_standard_error,
)


def test_one_step_statistic_by_hand():
    rng = np.random.default_rng(1)
    a = rng.normal(1.0, 1.0, 200) ** 2
    b = rng.normal(1.0, 1.0, 200) ** 2 * 0.8
    d = a - b
    n = d.size
    dm = d.mean() / np.sqrt(np.mean((d - d.mean()) ** 2) / n)
    raw = diebold_mariano(a, b, hln=False)
    assert raw.statistic == pytest.approx(dm, rel=1e-12)
    assert raw.p_value == pytest.approx(2 * stats.norm.sf(abs(dm)), rel=1e-10)
    assert raw.mean_difference == pytest.approx(d.mean()) and raw.n == n
    hln = diebold_mariano(a, b)
    assert hln.statistic == pytest.approx(dm * np.sqrt((n - 1) / n), rel=1e-12)
    assert hln.p_value == pytest.approx(2 * stats.t.sf(abs(hln.statistic), n - 1), rel=1e-10)
    # swapping the forecasts flips the sign, not the p-value
    swapped = diebold_mariano(b, a)
    assert swapped.statistic == pytest.approx(-hln.statistic)
    assert swapped.p_value == pytest.approx(hln.p_value)


def test_multi_step_uses_autocovariances():
    rng = np.random.default_rng(2)
    e = rng.normal(size=301)
    d = e[1:] + 0.8 * e[:-1] + 0.3  # an MA(1) loss differential, as 2-step forecasts give
    b = rng.normal(size=d.size) ** 2
    a = b + d
    c = d - d.mean()
    n = d.size
    long_run = (c @ c + 2 * (c[1:] @ c[:-1])) / n
    expected = d.mean() / np.sqrt(long_run / n)
    assert diebold_mariano(a, b, h=2, hln=False).statistic == pytest.approx(expected, rel=1e-12)
    assert diebold_mariano(a, b, h=2).p_value < 0.05


def test_size_under_the_null_is_close_to_nominal():
    rng = np.random.default_rng(3)
    rejections = 0
    for _ in range(400):
        a, b = rng.standard_t(5, size=(2, 250)) ** 2
        rejections += diebold_mariano(a, b).p_value < 0.05
    assert 0.02 < rejections / 400 < 0.09


@pytest.mark.parametrize(
    "a, b, kwargs, message",
    [
        ([1, 2, 3], [1, 2], {}, "equal length"),
        ([1, 2, np.nan, 4], [1, 2, 3, 4], {}, "NaN"),
        ([1, 2], [2, 1], {}, "at least 3"),
        ([1, 2, 3, 4], [0, 1, 2, 3], {}, "constant"),
        ([1, 2, 3, 4], [4, 3, 2, 1], {"h": 0}, "positive integer"),
    ],
)
def test_bad_input(a, b, kwargs, message):
    with pytest.raises(ValueError, match=message):
        diebold_mariano(a, b, **kwargs)


# --------------------------------------------------------------------------------------------
# Sharpe ratio standard error (Lo 2002 / Mertens 2002)
# --------------------------------------------------------------------------------------------


def test_sharpe_standard_error_by_hand():
    rng = np.random.default_rng(4)
    x = rng.standard_t(4, 750) * 0.01 + 0.0008
    n, sr = x.size, x.mean() / x.std(ddof=1)
    z = (x - x.mean()) / x.std()
    g3, g4 = np.mean(z**3), np.mean(z**4)
    mertens = np.sqrt((1 + sr**2 / 2 - g3 * sr + (g4 - 3) / 4 * sr**2) / n * 252)
    lo = np.sqrt((1 + sr**2 / 2) / n * 252)
    assert sharpe_ratio_standard_error(x) == pytest.approx(mertens, rel=1e-12)
    assert sharpe_ratio_standard_error(x, non_normal=False) == pytest.approx(lo, rel=1e-12)
    # monthly annualization: sqrt(12) instead of sqrt(252)
    assert sharpe_ratio_standard_error(pd.Series(x), periods=12) == pytest.approx(
        mertens * np.sqrt(12 / 252), rel=1e-12
    )


def test_sharpe_standard_error_matches_the_sampling_spread():
    """Simulated iid normal years: the spread of the estimated annualized Sharpe ratios."""
    rng = np.random.default_rng(5)
    draws = rng.normal(0.0006, 0.01, size=(2000, 504))  # two years, true Sharpe ~0.95
    estimates = sharpe_ratio(pd.DataFrame(draws.T))
    errors = [sharpe_ratio_standard_error(row) for row in draws[:200]]
    assert np.mean(errors) == pytest.approx(estimates.std(), rel=0.06)
    # the rule of thumb: about sqrt(1 / years) for small Sharpe ratios
    assert np.mean(errors) == pytest.approx(np.sqrt(1 / 2), rel=0.15)


def test_negative_skew_widens_the_error_of_a_positive_sharpe():
    rng = np.random.default_rng(6)
    # short-volatility-like returns: small steady gains, rare large losses
    x = np.where(rng.random(2000) < 0.02, -0.05, 0.004) + rng.normal(0, 0.002, 2000)
    assert x.mean() > 0 and stats.skew(x) < -3
    assert sharpe_ratio_standard_error(x) > 1.3 * sharpe_ratio_standard_error(x, non_normal=False)


# --------------------------------------------------------------------------------------------
# Jobson-Korkie test with Memmel's correction
# --------------------------------------------------------------------------------------------


def _memmel_by_hand(a, b):
    """Memmel (2003) in the moments' own form: z = (s_b m_a - s_a m_b) / sqrt(theta)."""
    n = a.size
    m_a, m_b = a.mean(), b.mean()
    s_a, s_b = a.std(ddof=1), b.std(ddof=1)
    s_ab = np.cov(a, b, ddof=1)[0, 1]
    theta = (
        2 * s_a**2 * s_b**2
        - 2 * s_a * s_b * s_ab
        + 0.5 * m_a**2 * s_b**2
        + 0.5 * m_b**2 * s_a**2
        - m_a * m_b / (s_a * s_b) * s_ab**2  # Memmel's correction of this term
    ) / n
    return (s_b * m_a - s_a * m_b) / np.sqrt(theta)


def test_sharpe_difference_by_hand():
    rng = np.random.default_rng(7)
    common_factor = rng.normal(0, 0.01, 1000)
    a = 0.0007 + common_factor + rng.normal(0, 0.004, 1000)
    b = 0.0002 + 0.8 * common_factor + rng.normal(0, 0.006, 1000)
    result = sharpe_difference_test(a, b)
    z = _memmel_by_hand(a, b)
    assert result.statistic == pytest.approx(z, rel=1e-10)
    assert result.p_value == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-10)
    assert result.difference == pytest.approx(sharpe_ratio(a) - sharpe_ratio(b), rel=1e-12)
    assert result.n == 1000
    swapped = sharpe_difference_test(b, a)
    assert swapped.statistic == pytest.approx(-result.statistic)
    assert swapped.p_value == pytest.approx(result.p_value)
    # the annualization only touches the reported difference, not the test
    monthly = sharpe_difference_test(a, b, periods=12)
    assert monthly.statistic == pytest.approx(result.statistic)
    assert monthly.difference == pytest.approx(result.difference * np.sqrt(12 / 252))


def test_sharpe_difference_size_and_power():
    rng = np.random.default_rng(8)
    cov = 1e-4 * np.array([[1.0, 0.6], [0.6, 1.0]])
    null_rejections = power_rejections = 0
    for _ in range(400):
        a, b = rng.multivariate_normal([0.0005, 0.0005], cov, size=500).T
        null_rejections += sharpe_difference_test(a, b).p_value < 0.05
        a, b = rng.multivariate_normal([0.0020, 0.0000], cov, size=500).T
        power_rejections += sharpe_difference_test(a, b).p_value < 0.05
    assert 0.02 < null_rejections / 400 < 0.09
    assert power_rejections / 400 > 0.8


def test_sharpe_difference_variance_matches_simulation():
    """The Memmel variance of SR_a - SR_b against the spread over simulated samples."""
    rng = np.random.default_rng(9)
    cov = 1e-4 * np.array([[1.0, 0.9], [0.9, 1.0]])
    diffs, stats_ = [], []
    for _ in range(1000):
        a, b = rng.multivariate_normal([0.0008, 0.0003], cov, size=400).T
        res = sharpe_difference_test(a, b, periods=1)
        diffs.append(res.difference)
        stats_.append(res.statistic)
    implied_sd = np.mean(np.array(diffs) / np.array(stats_))
    assert implied_sd == pytest.approx(np.std(diffs), rel=0.08)


def test_memmel_variance_with_large_sharpe_ratios():
    """Where Memmel's correction matters: per-period Sharpe ratios of 1 and 0.5, correlation 0.8.

    The corrected variance of SR_a - SR_b is (2 (1 - rho) + (SR_a^2 + SR_b^2) / 2 - SR_a SR_b
    rho^2) / n = 0.705 / n; Jobson and Korkie's original last term would give 0.615 / n.
    """
    rng = np.random.default_rng(11)
    cov = np.array([[1.0, 0.8], [0.8, 1.0]])
    n, diffs, implied = 500, [], []
    for _ in range(3000):
        a, b = rng.multivariate_normal([1.0, 0.5], cov, size=n).T
        res = sharpe_difference_test(a, b, periods=1)
        diffs.append(res.difference)
        implied.append(res.difference / res.statistic)
    assert np.median(implied) ** 2 * n == pytest.approx(0.705, rel=0.03)
    assert np.var(diffs) * n == pytest.approx(0.705, rel=0.08)
    assert abs(np.var(diffs) * n - 0.615) > 0.04


def test_sharpe_difference_pairs_series_on_common_dates():
    rng = np.random.default_rng(10)
    dates = pd.bdate_range("2020-01-01", periods=300)
    a = pd.Series(rng.normal(0.001, 0.01, 300), index=dates)
    b = pd.Series(rng.normal(0.0, 0.01, 300), index=dates)
    b.iloc[:20] = np.nan  # b starts later
    shifted = b.iloc[5:]  # and is given on fewer dates
    result = sharpe_difference_test(a, shifted)
    expected = sharpe_difference_test(a.iloc[20:].to_numpy(), b.iloc[20:].to_numpy())
    assert result.n == 280
    assert result.statistic == pytest.approx(expected.statistic, rel=1e-12)


@pytest.mark.parametrize(
    "func, args, kwargs, message",
    [
        (sharpe_ratio_standard_error, ([0.01, 0.02],), {}, "at least 3"),
        (sharpe_ratio_standard_error, ([0.01, np.nan, 0.02, 0.0],), {}, "NaN"),
        (sharpe_ratio_standard_error, ([0.01, 0.01, 0.01, 0.01],), {}, "constant"),
        (sharpe_ratio_standard_error, ([0.01, 0.02, 0.0],), {"periods": 0}, "positive"),
        (sharpe_difference_test, ([0.01, 0.02, 0.0], [0.01, 0.02]), {}, "equal length"),
        (sharpe_difference_test, ([0.01, 0.02, 0.0], [0.01, 0.02, 0.0]), {}, "zero"),
        (
            sharpe_difference_test,
            (pd.Series([0.01, 0.02], index=[0, 1]), pd.Series([0.01, 0.0], index=[2, 3])),
            {},
            "no common dates",
        ),
    ],
)
def test_sharpe_bad_input(func, args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        func(*args, **kwargs)
