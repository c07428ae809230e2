"""Returns and performance measures: CAGR, volatility, Sharpe, Sortino, drawdown, Calmar.

Conventions used by every function here:

- Returns are periodic **simple returns as fractions** (0.01 means 1 %), one row per period,
  in a pandas Series (one strategy) or DataFrame (one column per strategy). 1-D/2-D numpy
  arrays and lists are accepted and wrapped (their index is then 0..n-1).
- ``periods`` is the number of periods per year used to annualize (252 trading days by default;
  12 for monthly data, 52 for weekly).
- Leading NaNs are dropped (a series that has not started yet, e.g. the first row of
  ``pct_change`` or an ETF launched later than its neighbours). Each column of a DataFrame is
  cleaned on its own, so columns may start on different dates. A NaN *after* the first valid
  value raises :class:`ValueError`, unless ``dropna=True`` is passed, which drops those periods
  (they are then treated as absent, not as zero returns). Infinite values always raise.
- Scalar measures return a float for a Series and a Series (indexed by column) for a DataFrame.
- Standard deviations take an explicit ``ddof``: the book's §1.2 Sharpe ratio uses pandas'
  default ``ddof=1``, while chapter 2 uses ``np.std`` (``ddof=0``).
- Zero up to rounding counts as zero: a standard deviation (or downside deviation) at most
  ``ZERO_SPREAD_RTOL`` (1e-12) times the largest absolute value of the series is floating-point
  noise (``pct_change`` of ``100 * 1.01**n`` has a std of ~1e-18 around a mean of 0.01) and is
  treated as exactly 0. A ratio whose denominator is zero (Sharpe, Sortino, Calmar) is
  undefined: it returns ``nan`` and emits an :class:`UndefinedRatioWarning` (a
  ``RuntimeWarning``; silence it with ``warnings.simplefilter("ignore",
  UndefinedRatioWarning)``). It never returns a huge finite number such as 1e15.
- A ``risk_free`` Series must cover every return date: a partial one raises
  :class:`ValueError` naming the uncovered dates, unless ``allow_partial_risk_free=True`` is
  passed, which keeps only the dates present in both (the book's inner merge, Book §1.2) and so
  shortens the sample.

The formulas follow the book (Book §1.2, Appendix A.4) and agree with the reference library
`empyrical-reloaded <https://github.com/stefan-jansen/empyrical-reloaded>`_ (checked in
``tests/test_metrics.py``).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from numbers import Real
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

__all__ = [
    "ZERO_SPREAD_RTOL",
    "MaxDrawdown",
    "UndefinedRatioWarning",
    "annual_to_periodic",
    "annualized_return",
    "cagr",
    "calmar_ratio",
    "cumulative_returns",
    "downside_deviation",
    "drawdown",
    "excess_returns",
    "log_returns",
    "max_drawdown",
    "performance_table",
    "sharpe_ratio",
    "simple_returns",
    "sortino_ratio",
    "volatility",
]

PandasData = pd.Series | pd.DataFrame

#: A dispersion at most this fraction of the series' largest absolute value counts as zero.
ZERO_SPREAD_RTOL = 1e-12


class UndefinedRatioWarning(RuntimeWarning):
    """A ratio (Sharpe, Sortino, Calmar) has a zero denominator and is returned as ``nan``."""


def _is_zero_spread(spread: float, *arrays: Any) -> bool:
    """True when ``spread`` is zero up to rounding, relative to the largest |value| in ``arrays``.

    Pass the raw returns as well as the excess returns: ``returns - risk_free`` can cancel to a
    few ulps, whose spread is rounding noise relative to the returns, not to their difference.
    """
    scale = max((float(np.max(np.abs(np.asarray(a, dtype=float)))) for a in arrays), default=0.0)
    return spread <= ZERO_SPREAD_RTOL * scale


def _day(label: Any) -> Any:
    """A date label for messages: ``2024-01-02`` rather than ``Timestamp('2024-01-02 00:00:00')``."""
    return label.date() if isinstance(label, pd.Timestamp) and label == label.normalize() else label


def _undefined(func: str, s: pd.Series, what: str) -> float:
    """Warn that ``func`` is undefined for ``s`` (zero ``what``) and return ``nan``."""
    label = f" (column {s.name!r})" if s.name is not None else ""
    warnings.warn(
        f"{func}{label}: {what} is zero (up to rounding) over {_day(s.index[0])}.."
        f"{_day(s.index[-1])} ({len(s)} periods), "
        "so the ratio is undefined; returning nan",
        UndefinedRatioWarning,
        stacklevel=5,
    )
    return float("nan")


# --------------------------------------------------------------------------------------------
# Input validation
# --------------------------------------------------------------------------------------------


def as_numeric_pandas(data: Any, what: str) -> PandasData:
    """Return ``data`` as a float64 Series/DataFrame with a sorted, unique index.

    Shared input check of :mod:`common.metrics` and :mod:`common.backtest`. Arrays and lists
    (1-D or 2-D) are wrapped in pandas objects with a positional index.

    Raises:
        TypeError: not pandas/array-like, more than 2-D, or a non-numeric (or bool) column.
        ValueError: empty, duplicate or unsorted index labels, or infinite values; the message
            names ``what``.
    """
    if isinstance(data, pd.Series | pd.DataFrame):
        obj = data
    elif isinstance(data, np.ndarray | list | tuple):
        arr = np.asarray(data)
        if arr.ndim == 1:
            obj = pd.Series(arr, name=what)
        elif arr.ndim == 2:
            obj = pd.DataFrame(arr)
        else:
            raise TypeError(f"{what} must be 1-D or 2-D, got an array with shape {arr.shape}")
    else:
        raise TypeError(
            f"{what} must be a pandas Series or DataFrame (or a 1-D/2-D array), "
            f"got {type(data).__name__}"
        )
    if obj.size == 0:
        raise ValueError(f"{what} is empty: at least one value is needed")
    dtypes = [obj.dtype] if isinstance(obj, pd.Series) else list(obj.dtypes)
    for dt in dtypes:
        if pd.api.types.is_bool_dtype(dt) or not pd.api.types.is_numeric_dtype(dt):
            raise TypeError(
                f"{what} must be numeric, got dtype {dt}; convert it first, e.g. with "
                "pd.to_numeric(..., errors='coerce')"
            )
    if not obj.index.is_unique:
        dupes = obj.index[obj.index.duplicated()].unique()[:3].tolist()
        raise ValueError(f"{what} has duplicate index labels (e.g. {dupes}); remove them first")
    if not obj.index.is_monotonic_increasing:
        raise ValueError(f"{what} must be sorted by its index (oldest first); call .sort_index()")
    obj = obj.astype("float64")
    if np.isinf(obj.to_numpy()).any():
        raise ValueError(f"{what} contains infinite values")
    return obj


def _clean_series(s: pd.Series, what: str, dropna: bool) -> pd.Series:
    """Drop leading NaNs; raise on (or, with ``dropna``, drop) NaNs after the first value."""
    label = f"{what} (column {s.name!r})" if s.name is not None else what
    first = s.first_valid_index()
    if first is None:
        raise ValueError(f"{label} holds only NaN values")
    s = s.loc[first:]
    nan_mask = s.isna()
    if nan_mask.any():
        if dropna:
            s = s[~nan_mask]
        else:
            where = s.index[nan_mask.to_numpy()]
            raise ValueError(
                f"{label} has {len(where)} NaN value(s) after its first valid value "
                f"(first at {where[0]!r}). Decide what they mean: pass dropna=True to skip "
                "those periods, or fill them (e.g. .fillna(0.0) for flat periods) before calling"
            )
    return s


def _check_periods(periods: Any) -> float:
    if isinstance(periods, bool) or not isinstance(periods, Real):
        raise TypeError(f"periods must be a number (e.g. 252 for daily data), got {periods!r}")
    if not math.isfinite(periods) or periods <= 0:
        raise ValueError(f"periods must be a positive number (e.g. 252), got {periods!r}")
    return float(periods)


def _check_ddof(ddof: Any) -> int:
    if isinstance(ddof, bool) or not isinstance(ddof, int | np.integer) or ddof < 0:
        raise ValueError(f"ddof must be a non-negative integer (0 or 1), got {ddof!r}")
    return int(ddof)


def _check_wealth_returns(s: pd.Series, what: str) -> None:
    """Compounding needs 1 + r >= 0; r < -1 usually means percent were passed as fractions."""
    if (s < -1.0).any():
        bad = s[s < -1.0]
        raise ValueError(
            f"{what} has returns below -100% (e.g. {bad.iloc[0]!r} at {bad.index[0]!r}), so "
            "wealth would turn negative. Are these percent? This module expects fractions "
            "(0.01 = 1%): divide by 100."
        )


def _per_column(
    returns: Any,
    func: Callable[[pd.Series], Any],
    *,
    what: str = "returns",
    dropna: bool = False,
) -> Any:
    """Validate, clean and apply a Series -> scalar ``func`` to a Series or to each column."""
    obj = as_numeric_pandas(returns, what)
    if isinstance(obj, pd.Series):
        return func(_clean_series(obj, what, dropna))
    values = {col: func(_clean_series(obj[col], what, dropna)) for col in obj.columns}
    return pd.Series(values, dtype="float64").rename_axis(obj.columns.name)


def _risk_free_for(
    s: pd.Series, risk_free: Any, what: str = "returns", *, allow_partial: bool = False
) -> pd.Series:
    """Excess returns of one clean series, validated to contain no NaN."""
    excess = excess_returns(s, risk_free, allow_partial_risk_free=allow_partial)
    if excess.isna().any():
        where = excess.index[excess.isna().to_numpy()]
        raise ValueError(
            f"risk_free is NaN on {len(where)} date(s) where {what} has values "
            f"(first at {where[0]!r}); fill or trim the risk-free series first"
        )
    return excess


def _constant(x: np.ndarray) -> bool:
    return bool(np.max(x) == np.min(x))


# --------------------------------------------------------------------------------------------
# Prices -> returns
# --------------------------------------------------------------------------------------------


def _check_prices(prices: Any) -> PandasData:
    obj = as_numeric_pandas(prices, "prices")
    if len(obj) < 2:
        raise ValueError("prices needs at least 2 rows to form a return")
    values = obj.to_numpy()
    bad = ~np.isnan(values) & (values <= 0)
    if bad.any():
        row = int(np.argwhere(bad)[0][0])
        raise ValueError(
            f"prices must be strictly positive; found {int(bad.sum())} value(s) <= 0 "
            f"(first at {obj.index[row]!r})"
        )
    return obj


def simple_returns(prices: PandasData) -> PandasData:
    """Simple (arithmetic) returns ``p_t / p_{t-1} - 1`` from prices, as fractions.

    Same as ``prices.pct_change(fill_method=None)`` (Book §1.1 uses ``pct_change``) with the
    first row, NaN by construction, dropped. A NaN price is not filled: the returns next to it
    stay NaN, and the metrics of this module then raise unless told what to do.

    Args:
        prices: Series or DataFrame (columns = assets) of prices, oldest first, shape (n, ...).

    Returns:
        Same type, n - 1 rows (index = dates of the later price of each pair).

    Raises:
        TypeError: non-numeric or non-pandas input.
        ValueError: fewer than 2 rows, a price <= 0, unsorted or duplicate dates.
    """
    obj = _check_prices(prices)
    return (obj / obj.shift(1) - 1.0).iloc[1:]


def log_returns(prices: PandasData) -> PandasData:
    """Log (continuously compounded) returns ``ln(p_t / p_{t-1})`` from prices.

    Log returns add up over time (the sum over a window is the log of the window's gross
    return); the simple return is ``exp(log return) - 1``. The first row (NaN) is dropped.

    Args:
        prices: Series or DataFrame of prices, oldest first, shape (n, ...).

    Returns:
        Same type, n - 1 rows.

    Raises:
        TypeError: non-numeric or non-pandas input.
        ValueError: fewer than 2 rows, a price <= 0, unsorted or duplicate dates.
    """
    obj = _check_prices(prices)
    return np.log(obj).diff().iloc[1:]


def annual_to_periodic(rate: Any, periods: float = 252) -> Any:
    """Convert an annualized rate (fraction) to a per-period rate by simple division.

    This is the book's convention for turning an annualized T-bill yield (BIL's 20-day moving
    average) into a daily risk-free rate: ``rate / 252`` (Book §1.2, Appendix A.4). The
    compounding-consistent conversion would be ``(1 + rate) ** (1 / periods) - 1``; for a
    5 % yield the two differ by about 4.8e-6 per day (1.984e-4 vs 1.936e-4), much less than
    a daily return's noise.

    Args:
        rate: annualized rate as a fraction (0.05 = 5 % a year): scalar, array, Series or
            DataFrame.
        periods: periods per year (252 trading days).

    Returns:
        The per-period rate, same type as ``rate``.

    Raises:
        TypeError/ValueError: ``periods`` not a positive number.
    """
    p = _check_periods(periods)
    if isinstance(rate, list | tuple):
        rate = np.asarray(rate, dtype=float)
    return rate / p


def excess_returns(
    returns: PandasData, risk_free: Any = 0.0, *, allow_partial_risk_free: bool = False
) -> PandasData:
    """Returns minus a per-period risk-free rate: ``r_t - rf_t``.

    Args:
        returns: Series or DataFrame of periodic simple returns (fractions).
        risk_free: risk-free return **per period** (same frequency as ``returns``; convert an
            annual yield with :func:`annual_to_periodic`): a finite scalar, or a Series indexed
            by date, subtracted from every column of a DataFrame. A Series must cover every
            return date (rows where all returns are NaN, such as the first row of
            ``pct_change``, do not count); extra risk-free dates are ignored.
        allow_partial_risk_free: accept a ``risk_free`` Series that misses some return dates
            and keep only the dates present in both (an inner join, the book's merge on the
            date, Book §1.2): the sample is then shorter than ``returns``.

    Returns:
        Same type as ``returns``; NaNs are passed through (not validated here).

    Raises:
        TypeError: ``risk_free`` is neither a number nor a Series.
        ValueError: empty ``returns``; non-finite scalar; no date in common (the message shows
            both date ranges, which often reveals a time-zone or date-type mismatch); a
            ``risk_free`` Series that misses return dates without ``allow_partial_risk_free``
            (the message names how many and their range).
    """
    obj = as_numeric_pandas(returns, "returns")
    if isinstance(risk_free, pd.Series):
        rf = as_numeric_pandas(risk_free, "risk_free")
        common = obj.index.intersection(rf.index, sort=False)
        if len(common) and not allow_partial_risk_free:
            _check_risk_free_coverage(obj, rf)
        if len(common) == 0:
            raise ValueError(
                "returns and risk_free have no date in common: returns cover "
                f"{obj.index[0]!r}..{obj.index[-1]!r} ({obj.index.dtype}), risk_free "
                f"{rf.index[0]!r}..{rf.index[-1]!r} ({rf.index.dtype}). Check the time zone "
                "and type of both indexes (e.g. tz-aware vs naive dates)"
            )
        common = common.sort_values()
        obj, rf = obj.loc[common], rf.loc[common]
        if isinstance(obj, pd.DataFrame):
            return obj.sub(rf, axis=0)
        return obj - rf
    if isinstance(risk_free, pd.DataFrame):
        raise TypeError("risk_free must be a scalar or a Series, not a DataFrame")
    if isinstance(risk_free, bool) or not isinstance(risk_free, Real):
        raise TypeError(f"risk_free must be a number or a Series, got {type(risk_free).__name__}")
    if not math.isfinite(risk_free):
        raise ValueError(f"risk_free must be finite, got {risk_free!r}")
    return obj - float(risk_free)


def _check_risk_free_coverage(obj: PandasData, rf: pd.Series) -> None:
    """Raise unless ``rf`` has a row for every date on which ``obj`` has a value."""
    has_value = obj.notna() if isinstance(obj, pd.Series) else obj.notna().any(axis=1)
    used = obj.index[has_value.to_numpy()]
    uncovered = used.difference(rf.index)
    if len(uncovered) == 0:
        return

    raise ValueError(
        f"risk_free covers only {len(used) - len(uncovered)} of the {len(used)} return dates: "
        f"{len(uncovered)} date(s) from {_day(uncovered[0])} to {_day(uncovered[-1])} have no "
        f"risk-free rate (risk_free covers {_day(rf.index[0])}..{_day(rf.index[-1])}, returns "
        f"{_day(used[0])}..{_day(used[-1])}). Extend or fill the risk-free series, trim the "
        "returns to its dates, or pass allow_partial_risk_free=True to use only the dates in "
        "both (a shorter sample)"
    )


# --------------------------------------------------------------------------------------------
# Return and risk
# --------------------------------------------------------------------------------------------


def cumulative_returns(returns: PandasData, *, dropna: bool = False) -> PandasData:
    """Cumulative compounded return ``prod(1 + r) - 1`` at each date (fractions).

    Wealth is 1 before the first return, so the first value equals the first return.

    Args:
        returns: Series or DataFrame of periodic simple returns (fractions).
        dropna: drop NaNs after the first valid value instead of raising.

    Returns:
        Same type; leading NaNs dropped (per column for a DataFrame, which keeps NaN there).

    Raises:
        ValueError: empty input, interior NaN (without ``dropna``), a return below -100 %.
    """

    def one(s: pd.Series) -> pd.Series:
        _check_wealth_returns(s, "returns")
        return (1.0 + s).cumprod() - 1.0

    return _map_columns(returns, one, dropna)


def _map_columns(returns: Any, func: Callable[[pd.Series], pd.Series], dropna: bool):
    obj = as_numeric_pandas(returns, "returns")
    if isinstance(obj, pd.Series):
        return func(_clean_series(obj, "returns", dropna))
    cols = [func(_clean_series(obj[c], "returns", dropna)) for c in obj.columns]
    out = pd.concat(cols, axis=1)
    out.columns = obj.columns
    return out.loc[obj.index[obj.index.isin(out.index)]]  # keep the input's date order


def cagr(returns: PandasData, periods: float = 252, *, dropna: bool = False) -> Any:
    """Compound annual growth rate: ``prod(1 + r) ** (periods / n) - 1`` (fraction per year).

    ``n / periods`` is the length in years (n = number of returns). Same definition as
    ``empyrical.cagr`` / ``empyrical.annual_return``. A total loss gives -1.

    Args:
        returns: Series or DataFrame of periodic simple returns (fractions).
        periods: periods per year (252 for daily data).
        dropna: drop NaNs after the first valid value instead of raising.

    Returns:
        float for a Series, Series (one value per column) for a DataFrame.

    Raises:
        ValueError: empty input, interior NaN, a return below -100 %, bad ``periods``.
    """
    p = _check_periods(periods)

    def one(s: pd.Series) -> float:
        _check_wealth_returns(s, "returns")
        wealth = float(np.prod(1.0 + s.to_numpy()))
        return wealth ** (p / len(s)) - 1.0

    return _per_column(returns, one, dropna=dropna)


def annualized_return(returns: PandasData, periods: float = 252, *, dropna: bool = False) -> Any:
    """Arithmetic annualized return: mean periodic return x ``periods`` (fraction per year).

    This is how the book annualizes BIL's daily return (x 252, Book §1.1) and the numerator
    scale of the annualized Sharpe ratio. It exceeds :func:`cagr` by roughly vol^2 / 2.

    Returns:
        float for a Series, Series for a DataFrame.

    Raises:
        ValueError: empty input, interior NaN, bad ``periods``.
    """
    p = _check_periods(periods)
    return _per_column(returns, lambda s: float(s.mean()) * p, dropna=dropna)


def _std(s: pd.Series, ddof: int, what: str = "returns") -> float:
    if len(s) <= ddof:
        raise ValueError(
            f"{what} has {len(s)} value(s); a standard deviation with ddof={ddof} needs at "
            f"least {ddof + 1}"
        )
    x = s.to_numpy()
    if _constant(x):  # avoid a 1e-18 residue from the floating-point mean
        return 0.0
    sd = float(np.std(x, ddof=ddof))
    return 0.0 if _is_zero_spread(sd, x) else sd  # constant up to rounding


def volatility(
    returns: PandasData,
    periods: float = 252,
    ddof: int = 1,
    annualize: bool = True,
    *,
    dropna: bool = False,
) -> Any:
    """Standard deviation of periodic returns, annualized by ``sqrt(periods)`` by default.

    Args:
        returns: Series or DataFrame of periodic simple returns (fractions).
        periods: periods per year (252 for daily data).
        ddof: delta degrees of freedom (1 = sample std as pandas' ``.std()``; 0 = ``np.std``).
        annualize: multiply by ``sqrt(periods)`` (fraction per sqrt-year); False gives the
            per-period std.
        dropna: drop NaNs after the first valid value instead of raising.

    Returns:
        float for a Series, Series for a DataFrame. ``empyrical.annual_volatility`` is the
        ``ddof=1`` case. Exactly 0.0 for a series constant up to rounding (see the module
        notes).

    Raises:
        ValueError: empty input, interior NaN, not more than ``ddof`` values.
    """
    p, d = _check_periods(periods), _check_ddof(ddof)
    scale = math.sqrt(p) if annualize else 1.0
    return _per_column(returns, lambda s: _std(s, d) * scale, dropna=dropna)


def sharpe_ratio(
    returns: PandasData,
    risk_free: Any = 0.0,
    periods: float = 252,
    ddof: int = 1,
    annualize: bool = True,
    *,
    dropna: bool = False,
    allow_partial_risk_free: bool = False,
) -> Any:
    """Sharpe ratio: ``mean(excess) / std(excess, ddof)``, x ``sqrt(periods)`` if annualized.

    Book §1.2 / Appendix A.4: excess return = daily return - daily risk-free rate, Sharpe =
    mean / std with pandas' ``ddof=1``, annualized by ``sqrt(252)``. Chapter 2 uses ``np.std``,
    i.e. ``ddof=0``. With ``ddof=1`` this equals ``empyrical.sharpe_ratio``.

    Args:
        returns: Series or DataFrame of periodic simple returns (fractions).
        risk_free: risk-free return per period (scalar or date-indexed Series covering every
            return date, see :func:`excess_returns`).
        periods: periods per year.
        ddof: delta degrees of freedom of the standard deviation.
        annualize: multiply the per-period ratio by ``sqrt(periods)``.
        dropna: drop NaNs in ``returns`` after the first valid value instead of raising.
        allow_partial_risk_free: accept a ``risk_free`` Series missing some return dates and
            use only the dates in both (a shorter sample).

    Returns:
        float for a Series, Series for a DataFrame. ``nan`` with an
        :class:`UndefinedRatioWarning` when the excess returns are constant, exactly or up to
        rounding (zero standard deviation: the ratio is undefined; see the module notes).

    Raises:
        ValueError: empty input, interior NaN, NaN risk-free on a used date, no common dates,
            a partial ``risk_free`` Series, not more than ``ddof`` values.
    """
    p, d = _check_periods(periods), _check_ddof(ddof)
    scale = math.sqrt(p) if annualize else 1.0

    def one(s: pd.Series) -> float:
        ex = _risk_free_for(s, risk_free, allow_partial=allow_partial_risk_free)
        sd = _std(ex, d, "excess returns")
        if sd == 0.0 or _is_zero_spread(sd, s.to_numpy(), ex.to_numpy()):
            return _undefined("sharpe_ratio", s, "the standard deviation of the excess returns")
        return float(ex.mean()) / sd * scale

    return _per_column(returns, one, dropna=dropna)


def downside_deviation(
    returns: PandasData,
    target: float = 0.0,
    periods: float = 252,
    annualize: bool = True,
    *,
    dropna: bool = False,
) -> Any:
    """Downside deviation ``sqrt(mean(min(r - target, 0)^2))`` over all periods.

    Periods above the target count as zeros (the mean divides by all n periods), the
    convention of Sortino & Price (1994) and of ``empyrical.downside_risk``.

    Args:
        returns: Series or DataFrame of periodic simple returns (fractions).
        target: minimum acceptable return per period (fraction).
        periods: periods per year; annualize multiplies by ``sqrt(periods)``.

    Returns:
        float for a Series, Series for a DataFrame.

    Raises:
        ValueError: empty input, interior NaN, bad ``periods`` or ``target``.
    """
    p = _check_periods(periods)
    tgt = _check_target(target)
    scale = math.sqrt(p) if annualize else 1.0

    def one(s: pd.Series) -> float:
        return _downside(s.to_numpy() - tgt) * scale

    return _per_column(returns, one, dropna=dropna)


def _check_target(target: Any) -> float:
    if isinstance(target, bool) or not isinstance(target, Real) or not math.isfinite(target):
        raise ValueError(f"target must be a finite number (per-period return), got {target!r}")
    return float(target)


def _downside(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.minimum(x, 0.0) ** 2)))


def sortino_ratio(
    returns: PandasData,
    risk_free: Any = 0.0,
    target: float = 0.0,
    periods: float = 252,
    annualize: bool = True,
    *,
    dropna: bool = False,
    allow_partial_risk_free: bool = False,
) -> Any:
    """Sortino ratio: ``mean(x) / sqrt(mean(min(x, 0)^2))`` with ``x = excess - target``.

    ``excess = returns - risk_free``; the downside deviation is taken over all periods (see
    :func:`downside_deviation`). Annualized by ``sqrt(periods)`` (mean x periods over downside
    deviation x sqrt(periods)). With ``risk_free=0`` this equals
    ``empyrical.sortino_ratio(returns, required_return=target)``. Source: Sortino & Price,
    "Performance measurement in a downside risk framework", J. of Investing (1994).

    Args:
        returns: Series or DataFrame of periodic simple returns (fractions).
        risk_free: risk-free return per period (scalar or Series, see :func:`excess_returns`).
        target: minimum acceptable excess return per period.
        periods: periods per year.
        annualize: multiply by ``sqrt(periods)``.
        dropna: drop NaNs in ``returns`` after the first valid value instead of raising.
        allow_partial_risk_free: as in :func:`sharpe_ratio`.

    Returns:
        float for a Series, Series for a DataFrame; ``nan`` with an
        :class:`UndefinedRatioWarning` when no period falls below the target, exactly or up to
        rounding (zero downside deviation: the ratio is undefined).

    Raises:
        ValueError: as :func:`sharpe_ratio`.
    """
    p = _check_periods(periods)
    tgt = _check_target(target)
    scale = math.sqrt(p) if annualize else 1.0

    def one(s: pd.Series) -> float:
        ex = _risk_free_for(s, risk_free, allow_partial=allow_partial_risk_free).to_numpy()
        x = ex - tgt
        dd = _downside(x)
        if dd == 0.0 or _is_zero_spread(dd, s.to_numpy(), ex, [tgt]):
            return _undefined("sortino_ratio", s, "the downside deviation below the target")
        return float(np.mean(x)) / dd * scale

    return _per_column(returns, one, dropna=dropna)


# --------------------------------------------------------------------------------------------
# Drawdowns
# --------------------------------------------------------------------------------------------


def _drawdown_one(s: pd.Series) -> pd.Series:
    _check_wealth_returns(s, "returns")
    wealth = (1.0 + s).cumprod()
    peak = np.maximum(wealth.cummax(), 1.0)  # wealth is 1 before the first return
    return wealth / peak - 1.0


def drawdown(returns: PandasData, *, dropna: bool = False) -> PandasData:
    """Drawdown at each date: ``wealth / running peak - 1`` (fractions, <= 0).

    Wealth is ``prod(1 + r)`` and starts at 1 *before* the first return, so a loss on the first
    day is already a drawdown (same anchor as ``empyrical``). Multiply by 100 for percent.

    Args:
        returns: Series or DataFrame of periodic simple returns (fractions).
        dropna: drop NaNs after the first valid value instead of raising.

    Returns:
        Same type and index as the cleaned input (leading NaNs dropped; for a DataFrame each
        column keeps NaN before its own start).

    Raises:
        ValueError: empty input, interior NaN, a return below -100 %.
    """
    return _map_columns(returns, _drawdown_one, dropna)


class MaxDrawdown(NamedTuple):
    """Largest peak-to-trough loss of a return series.

    Attributes:
        value: the maximum drawdown as a negative fraction (-0.25 = 25 % below the peak);
            0.0 when wealth never fell below a previous peak.
        peak: index label (date) of the last peak before the trough; None when the peak is the
            starting wealth before the first return (the first return was already a loss) or
            when there is no drawdown.
        trough: index label of the lowest point (the first one if tied); None if no drawdown.
        recovery: first index label after the trough at which wealth is back at the peak;
            None if it never recovered within the sample (or no drawdown).
    """

    value: float
    peak: Any
    trough: Any
    recovery: Any


def _max_drawdown_one(s: pd.Series) -> MaxDrawdown:
    dd = _drawdown_one(s).to_numpy()
    i_trough = int(np.argmin(dd))
    value = float(dd[i_trough])
    if value >= 0.0:
        return MaxDrawdown(0.0, None, None, None)
    at_peak = np.flatnonzero(dd[:i_trough] == 0.0)
    peak = s.index[at_peak[-1]] if at_peak.size else None
    recovered = np.flatnonzero(dd[i_trough + 1 :] == 0.0)
    recovery = s.index[i_trough + 1 + recovered[0]] if recovered.size else None
    return MaxDrawdown(value, peak, s.index[i_trough], recovery)


def max_drawdown(returns: PandasData, *, dropna: bool = False) -> MaxDrawdown | pd.DataFrame:
    """Maximum drawdown with its peak, trough and recovery dates.

    The value equals ``empyrical.max_drawdown`` (wealth anchored at 1 before the first return).
    Book §1.2 suggests it (with the Calmar ratio) as a complement to the Sharpe ratio.

    Args:
        returns: Series or DataFrame of periodic simple returns (fractions).
        dropna: drop NaNs after the first valid value instead of raising.

    Returns:
        :class:`MaxDrawdown` for a Series; for a DataFrame, a DataFrame with one row per column
        and columns ``value``, ``peak``, ``trough``, ``recovery``.

    Raises:
        ValueError: empty input, interior NaN, a return below -100 %.
    """
    obj = as_numeric_pandas(returns, "returns")
    if isinstance(obj, pd.Series):
        return _max_drawdown_one(_clean_series(obj, "returns", dropna))
    rows = {c: _max_drawdown_one(_clean_series(obj[c], "returns", dropna)) for c in obj.columns}
    out = pd.DataFrame.from_dict(
        {c: r._asdict() for c, r in rows.items()}, orient="index", columns=MaxDrawdown._fields
    )
    out["value"] = out["value"].astype("float64")
    return out.rename_axis(obj.columns.name)


def calmar_ratio(returns: PandasData, periods: float = 252, *, dropna: bool = False) -> Any:
    """Calmar ratio: ``CAGR / |max drawdown|`` over the whole sample (dimensionless).

    Same definition as ``empyrical.calmar_ratio`` (which uses the whole sample, not the
    classic trailing 36 months). Book §1.2 suggests it next to the Sharpe ratio.

    Returns:
        float for a Series, Series for a DataFrame; ``nan`` with an
        :class:`UndefinedRatioWarning` when there is no drawdown (beyond rounding).

    Raises:
        ValueError: as :func:`cagr`.
    """
    p = _check_periods(periods)

    def one(s: pd.Series) -> float:
        mdd = _max_drawdown_one(s).value
        if abs(mdd) <= ZERO_SPREAD_RTOL:
            return _undefined("calmar_ratio", s, "the maximum drawdown")
        growth = cagr(s, p)
        return growth / abs(mdd)

    return _per_column(returns, one, dropna=dropna)


# --------------------------------------------------------------------------------------------
# Summary table
# --------------------------------------------------------------------------------------------

TABLE_COLUMNS = [
    "CAGR",
    "Ann. return",
    "Ann. vol",
    "Sharpe (ann.)",
    "Sortino (ann.)",
    "Max drawdown",
    "Calmar",
    "Start",
    "End",
    "Periods",
]


def performance_table(
    returns: PandasData,
    risk_free: Any = 0.0,
    periods: float = 252,
    ddof: int = 1,
    *,
    dropna: bool = False,
    allow_partial_risk_free: bool = False,
) -> pd.DataFrame:
    """One row of standard performance measures per strategy.

    Columns (rates and drawdown as **fractions**, not percent; format with e.g.
    ``table.style.format({"CAGR": "{:.2%}"})``):

    - ``CAGR``: :func:`cagr`, fraction per year.
    - ``Ann. return``: :func:`annualized_return` (mean x periods), fraction per year.
    - ``Ann. vol``: :func:`volatility` (annualized, ``ddof``), fraction.
    - ``Sharpe (ann.)``: :func:`sharpe_ratio` on excess returns (``ddof``), annualized.
    - ``Sortino (ann.)``: :func:`sortino_ratio` on excess returns, target 0, annualized.
    - ``Max drawdown``: :func:`max_drawdown` value, negative fraction.
    - ``Calmar``: :func:`calmar_ratio`.
    - ``Start``, ``End``: first and last index label used; ``Periods``: number of returns.

    CAGR, volatility and drawdown use the raw returns; Sharpe and Sortino use excess returns.
    A ``risk_free`` Series must cover every return date; with ``allow_partial_risk_free=True``
    every column is computed on the same, shorter sample: the return dates that also appear in
    ``risk_free``. Undefined ratios (zero denominator) are ``nan`` with an
    :class:`UndefinedRatioWarning`.

    Args:
        returns: Series (one row, named after the Series or "returns") or DataFrame (one row
            per column) of periodic simple returns (fractions).
        risk_free: risk-free return per period (scalar or date-indexed Series).
        periods: periods per year.
        ddof: delta degrees of freedom for volatility and Sharpe.
        dropna: drop NaNs after each column's first valid value instead of raising.
        allow_partial_risk_free: see :func:`excess_returns`.

    Returns:
        DataFrame indexed by strategy with the columns above.

    Raises:
        ValueError: as the individual measures.
    """
    p, d = _check_periods(periods), _check_ddof(ddof)
    obj = as_numeric_pandas(returns, "returns")
    frame = (
        obj.to_frame(obj.name if obj.name is not None else "returns")
        if isinstance(obj, pd.Series)
        else obj
    )
    rows = {}
    for col in frame.columns:
        s = _clean_series(frame[col], "returns", dropna)
        if isinstance(risk_free, pd.Series):
            partial = allow_partial_risk_free
            s = s.loc[excess_returns(s, risk_free, allow_partial_risk_free=partial).index]
        mdd = _max_drawdown_one(s)
        rows[col] = {
            "CAGR": cagr(s, p),
            "Ann. return": annualized_return(s, p),
            "Ann. vol": volatility(s, p, d),
            "Sharpe (ann.)": sharpe_ratio(s, risk_free, p, d),  # s is covered by now
            "Sortino (ann.)": sortino_ratio(s, risk_free, 0.0, p),
            "Max drawdown": mdd.value,
            "Calmar": calmar_ratio(s, p),
            "Start": s.index[0],
            "End": s.index[-1],
            "Periods": len(s),
        }
    table = pd.DataFrame.from_dict(rows, orient="index", columns=TABLE_COLUMNS)
    return table.rename_axis(frame.columns.name)
