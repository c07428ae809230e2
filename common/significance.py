"""Is one forecast better than another? The Diebold-Mariano test of equal predictive accuracy.

Chapter 5 compares forecasters on the same test dates (``14_model_comparison``) and volatility
forecasts on the same days (``08_chronos``); a lower average loss on one sample is not yet
evidence that a model is better. The Diebold-Mariano (1995) test asks whether the mean of the
loss differential ``d_t = L(a)_t - L(b)_t`` is zero, with a variance that allows for the
autocorrelation of ``d_t`` that ``h``-step forecasts create; the Harvey, Leybourne & Newbold
(1997) correction scales the statistic for small samples and compares it with a Student t with
n - 1 degrees of freedom.

The same question for Sharpe ratios: :func:`sharpe_ratio_standard_error` gives the sampling error
of one annualized Sharpe ratio (Mertens 2002: Lo's 2002 iid formula corrected for skewness and
kurtosis), and :func:`sharpe_difference_test` tests whether two strategies measured on the same
dates have equal Sharpe ratios (Jobson & Korkie 1981 with Memmel's 2003 correction). Chapter 3
uses them to ask whether hierarchical risk parity beats equal weight.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from scipy import stats

from common.metrics import _check_periods

__all__ = [
    "DieboldMarianoResult",
    "SharpeDifferenceResult",
    "diebold_mariano",
    "sharpe_difference_test",
    "sharpe_ratio_standard_error",
]


class DieboldMarianoResult(NamedTuple):
    """Result of :func:`diebold_mariano`.

    Attributes:
        statistic: DM statistic (HLN-corrected when requested); positive when forecast ``a``
            has the larger mean loss, i.e. ``b`` is more accurate.
        p_value: two-sided p-value of "equal expected loss".
        mean_difference: mean of ``loss_a - loss_b`` (in the loss's units).
        n: number of paired losses used.
    """

    statistic: float
    p_value: float
    mean_difference: float
    n: int


def diebold_mariano(
    loss_a: Any, loss_b: Any, *, h: int = 1, hln: bool = True
) -> DieboldMarianoResult:
    """Diebold-Mariano test that two forecasts have the same expected loss.

    Args:
        loss_a, loss_b: 1-D arrays (or Series) of the per-period losses of forecasts ``a`` and
            ``b`` on the SAME target dates, in time order (e.g. absolute errors, squared
            errors, quantile losses, QLIKE). For a panel (several series per date) pass the
            cross-sectional mean loss per date, so that ``d_t`` is one time series.
        h: forecast horizon in periods; the long-run variance of ``d_t`` uses its
            autocovariances up to lag ``h - 1`` (rectangular kernel, as Diebold & Mariano 1995).
        hln: apply the Harvey, Leybourne & Newbold (1997) small-sample correction and use a
            Student t(n - 1) reference; else the standard normal of the original test.

    Returns:
        :class:`DieboldMarianoResult` (statistic > 0: ``b`` has the lower mean loss).

    Raises:
        ValueError: the inputs differ in length, are not 1-D, contain NaN or infinite values,
            have fewer than 3 pairs or h + 1 pairs, ``h`` is not a positive integer, the loss
            differential is constant (the test is undefined), or the estimated long-run
            variance is not positive (possible for h > 1 with the rectangular kernel).
    """
    a = np.asarray(loss_a, dtype="float64")
    b = np.asarray(loss_b, dtype="float64")
    if a.ndim != 1 or b.ndim != 1 or a.shape != b.shape:
        raise ValueError(
            f"loss_a and loss_b must be 1-D of equal length, got {a.shape} and {b.shape}"
        )
    if isinstance(h, bool) or not isinstance(h, (int, np.integer)) or h < 1:
        raise ValueError(f"h must be a positive integer, got {h!r}")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError("the losses contain NaN or infinite values")
    n = a.size
    if n < max(3, h + 1):
        raise ValueError(f"need at least {max(3, h + 1)} paired losses, got {n}")
    d = a - b
    mean = float(d.mean())
    centred = d - mean
    if np.allclose(centred, 0.0, atol=1e-15 * max(1.0, float(np.abs(d).max()))):
        raise ValueError("the loss differential is constant: the DM test is undefined")
    gamma = [float(centred @ centred) / n]
    for lag in range(1, h):
        gamma.append(float(centred[lag:] @ centred[:-lag]) / n)
    long_run = gamma[0] + 2.0 * sum(gamma[1:])
    if long_run <= 0:
        raise ValueError(
            f"the long-run variance estimate is {long_run:.3g} (not positive) for h={h}; "
            "use a smaller h"
        )
    statistic = mean / np.sqrt(long_run / n)
    if hln:
        statistic *= np.sqrt((n + 1 - 2 * h + h * (h - 1) / n) / n)
        p_value = 2.0 * stats.t.sf(abs(statistic), df=n - 1)
    else:
        p_value = 2.0 * stats.norm.sf(abs(statistic))
    return DieboldMarianoResult(float(statistic), float(p_value), mean, int(n))


# --------------------------------------------------------------------------------------------
# Sharpe ratios
# --------------------------------------------------------------------------------------------


class SharpeDifferenceResult(NamedTuple):
    """Result of :func:`sharpe_difference_test`.

    Attributes:
        statistic: z statistic of ``SR_a - SR_b`` (standard normal under equal Sharpe ratios);
            positive when ``a`` has the higher Sharpe ratio.
        p_value: two-sided p-value of "equal Sharpe ratios".
        difference: annualized ``SR_a - SR_b`` (same units as ``common.metrics.sharpe_ratio``).
        n: number of paired returns used.
    """

    statistic: float
    p_value: float
    difference: float
    n: int


def _as_1d(values: Any, what: str) -> np.ndarray:
    if isinstance(values, pd.DataFrame):
        if values.shape[1] != 1:
            raise ValueError(
                f"{what} must be one series, got a DataFrame with {values.shape[1]} columns"
            )
        values = values.iloc[:, 0]
    arr = np.asarray(values, dtype="float64")
    if arr.ndim != 1:
        raise ValueError(f"{what} must be 1-D, got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{what} contains NaN or infinite values")
    return arr


def _moments(x: np.ndarray, what: str) -> tuple[float, float]:
    """Mean and ddof=1 standard deviation; raise when the spread is zero up to rounding."""
    mean = float(x.mean())
    sd = float(x.std(ddof=1))
    if sd <= 1e-12 * max(float(np.abs(x).max()), 1e-300):
        raise ValueError(f"{what} is constant: its Sharpe ratio is undefined")
    return mean, sd


def sharpe_ratio_standard_error(
    returns: Any, periods: float = 252, *, non_normal: bool = True
) -> float:
    """Standard error of the annualized Sharpe ratio of one return series.

    Mertens (2002): for iid returns with per-period Sharpe ratio ``SR``, skewness ``g3`` and
    (non-excess) kurtosis ``g4``, ``Var(SR_hat) = (1 + SR^2 / 2 - g3 SR + (g4 - 3) / 4 SR^2) / n``.
    With ``non_normal=False`` the skewness and kurtosis terms are dropped, which is Lo's (2002)
    iid-normal formula ``(1 + SR^2 / 2) / n``. The per-period error is annualized by
    ``sqrt(periods)``, as the Sharpe ratio of ``common.metrics.sharpe_ratio`` is (mean over the
    ``ddof=1`` standard deviation times ``sqrt(periods)``; no risk-free rate is subtracted here:
    pass excess returns if you want one). Skewness and kurtosis are the plain moment estimators.
    Serial correlation is ignored (Lo's autocorrelation correction is not applied).

    Args:
        returns: 1-D array or Series of periodic simple returns (fractions), without NaN.
        periods: periods per year (252 daily, 12 monthly).
        non_normal: include Mertens' skewness and kurtosis correction (default).

    Returns:
        the standard error, in the units of the annualized Sharpe ratio.

    Raises:
        ValueError: not 1-D, NaN or infinite values, fewer than 3 returns, constant returns,
            bad ``periods``.
    """
    p = _check_periods(periods)
    x = _as_1d(returns, "returns")
    n = x.size
    if n < 3:
        raise ValueError(f"need at least 3 returns, got {n}")
    mean, sd = _moments(x, "returns")
    sr = mean / sd
    variance = 1.0 + 0.5 * sr**2
    if non_normal:
        z = (x - mean) / float(x.std(ddof=0))
        skew, kurt = float(np.mean(z**3)), float(np.mean(z**4))
        variance += -skew * sr + 0.25 * (kurt - 3.0) * sr**2
    # a heavy negative skew can make the Mertens variance tiny or negative in small samples
    variance = max(variance, 1e-12)
    return float(math.sqrt(variance / n) * math.sqrt(p))


def _paired(returns_a: Any, returns_b: Any) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(returns_a, pd.Series | pd.DataFrame) and isinstance(
        returns_b, pd.Series | pd.DataFrame
    ):
        a = returns_a.iloc[:, 0] if isinstance(returns_a, pd.DataFrame) else returns_a
        b = returns_b.iloc[:, 0] if isinstance(returns_b, pd.DataFrame) else returns_b
        if isinstance(returns_a, pd.DataFrame) and returns_a.shape[1] != 1:
            raise ValueError("returns_a must be one series, got a DataFrame with several columns")
        if isinstance(returns_b, pd.DataFrame) and returns_b.shape[1] != 1:
            raise ValueError("returns_b must be one series, got a DataFrame with several columns")
        joined = pd.concat([a.rename("a"), b.rename("b")], axis=1, join="inner").dropna()
        if joined.empty:
            raise ValueError("returns_a and returns_b have no common dates with values in both")
        return _as_1d(joined["a"], "returns_a"), _as_1d(joined["b"], "returns_b")
    a, b = _as_1d(returns_a, "returns_a"), _as_1d(returns_b, "returns_b")
    if a.shape != b.shape:
        raise ValueError(
            f"returns_a and returns_b must have equal length (or be Series to pair on dates), "
            f"got {a.size} and {b.size}"
        )
    return a, b


def sharpe_difference_test(
    returns_a: Any, returns_b: Any, periods: float = 252
) -> SharpeDifferenceResult:
    """Jobson-Korkie (1981) test of equal Sharpe ratios with Memmel's (2003) correction.

    For paired returns with per-period Sharpe ratios ``SR_a``, ``SR_b`` and correlation
    ``rho``, the asymptotic variance of ``SR_a - SR_b`` under iid normal returns is
    ``(2 (1 - rho) + (SR_a^2 + SR_b^2) / 2 - SR_a SR_b rho^2) / n``, and
    ``z = (SR_a - SR_b) / sqrt(Var)`` is compared with the standard normal (two-sided). This is
    Jobson & Korkie's ``theta = (2 s_a^2 s_b^2 - 2 s_a s_b s_ab + m_a^2 s_b^2 / 2 + m_b^2 s_a^2 / 2
    - m_a m_b s_ab^2 / (s_a s_b)) / n`` for ``z = (s_b m_a - s_a m_b) / sqrt(theta)`` with the
    last term as Memmel (2003) corrected it (the 1981 paper has ``m_a m_b (s_ab^2 + s_a^2 s_b^2)
    / (2 s_a s_b)``), divided through by ``s_a^2 s_b^2``; it is the delta-method variance. Highly correlated strategies have a small variance of the
    difference, so small Sharpe gaps between them can still be significant. Means and standard
    deviations use ``ddof=1`` as :func:`common.metrics.sharpe_ratio`; no risk-free rate is
    subtracted (pass excess returns for one). The test assumes iid returns; fat tails make it
    somewhat liberal (Ledoit & Wolf 2008 give a robust alternative).

    Args:
        returns_a, returns_b: periodic simple returns of the two strategies. Two Series (or
            one-column DataFrames) are paired on their common index, and dates where either is
            NaN are dropped (e.g. a strategy that starts later); arrays must have equal length
            and no NaN.
        periods: periods per year, used only to annualize ``difference``.

    Returns:
        :class:`SharpeDifferenceResult` (statistic > 0: ``a`` has the higher Sharpe ratio).

    Raises:
        ValueError: unequal lengths (arrays), no common dates (Series), NaN or infinite values
            in arrays, fewer than 3 pairs, a constant series, identical series (the difference
            has zero variance), bad ``periods``.
    """
    p = _check_periods(periods)
    a, b = _paired(returns_a, returns_b)
    n = a.size
    if n < 3:
        raise ValueError(f"need at least 3 paired returns, got {n}")
    mean_a, sd_a = _moments(a, "returns_a")
    mean_b, sd_b = _moments(b, "returns_b")
    sr_a, sr_b = mean_a / sd_a, mean_b / sd_b
    rho = float(np.corrcoef(a, b)[0, 1])
    variance = (2.0 * (1.0 - rho) + 0.5 * (sr_a**2 + sr_b**2) - sr_a * sr_b * rho**2) / n
    if variance <= 1e-15 / n:
        raise ValueError(
            "the two return series are (almost) perfectly correlated with equal Sharpe "
            "ratios: the variance of the difference is zero and the test is undefined"
        )
    statistic = (sr_a - sr_b) / math.sqrt(variance)
    p_value = 2.0 * stats.norm.sf(abs(statistic))
    return SharpeDifferenceResult(
        float(statistic), float(p_value), float((sr_a - sr_b) * math.sqrt(p)), int(n)
    )
