"""Is one forecast better than another? The Diebold-Mariano test of equal predictive accuracy.

Chapter 5 compares forecasters on the same test dates (``14_model_comparison``) and volatility
forecasts on the same days (``08_chronos``); a lower average loss on one sample is not yet
evidence that a model is better. The Diebold-Mariano (1995) test asks whether the mean of the
loss differential ``d_t = L(a)_t - L(b)_t`` is zero, with a variance that allows for the
autocorrelation of ``d_t`` that ``h``-step forecasts create; the Harvey, Leybourne & Newbold
(1997) correction scales the statistic for small samples and compares it with a Student t with
n - 1 degrees of freedom.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from scipy import stats

__all__ = ["DieboldMarianoResult", "diebold_mariano"]


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
