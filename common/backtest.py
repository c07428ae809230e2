"""Walk-forward and purged cross-validation splits, and a vectorized portfolio backtester.

Splits (López de Prado, *Advances in Financial Machine Learning*, Wiley 2018, ch. 7; Book
§3.2.3)
    :func:`walk_forward_splits` trains on the past and tests on the next block, moving forward
    (expanding or rolling training window). :func:`purged_kfold_splits` is k-fold
    cross-validation with contiguous folds, *purged* of the training observations whose
    forward-looking labels overlap the test fold and *embargoed* after it. Both return a list of
    :class:`Split` (integer positions, plus dates when an index was given); a :class:`Split`
    unpacks as ``train, test`` so the list also works as scikit-learn's ``cv=`` argument.

Backtest (Book §2.1 onwards)
    :func:`backtest` turns a table of target weights into portfolio returns with no look-ahead
    (weights decided at the close of day t earn the returns of day t+1) and transaction costs
    charged once per traded notional. :func:`top_bottom_weights` builds the equal-weighted
    long-short (or long-only) portfolio of the book's §2.1 strategy from a table of scores;
    :func:`equal_weight` is the usual baseline.

Conventions: returns are **simple returns as fractions** (0.01 = 1 %), one row per period, the
return on date t running from the close of t-1 to the close of t. Weights are fractions of
capital (0.5 = half the capital; negative = short; the rest is cash earning zero). Costs are in
**basis points of traded notional** (1 bp = 0.0001). Performance measures come from
:mod:`common.metrics`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from numbers import Real
from typing import Any, Literal

import numpy as np
import pandas as pd

from common.metrics import as_numeric_pandas, performance_table

__all__ = [
    "BacktestResult",
    "Split",
    "backtest",
    "equal_weight",
    "purged_kfold_splits",
    "top_bottom_weights",
    "walk_forward_splits",
]


# --------------------------------------------------------------------------------------------
# Splits
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False, repr=False)
class Split:
    """One train/test split: integer positions (0-based rows), and dates when known.

    Unpacks as ``train, test = split`` (so a list of splits can be passed as ``cv=`` to
    scikit-learn). The position arrays are read-only ``int64`` arrays sorted ascending.

    Attributes:
        train: positions of the training observations, shape (n_train,).
        test: positions of the test observations, shape (n_test,).
        index: the index the positions refer to (None when only a length was given).
    """

    train: np.ndarray
    test: np.ndarray
    index: pd.Index | None = None

    def __iter__(self) -> Iterator[np.ndarray]:
        yield self.train
        yield self.test

    def _labels(self, positions: np.ndarray) -> pd.Index:
        if self.index is None:
            raise ValueError(
                "this split was made from a length, not an index, so it has no dates; pass "
                "the DatetimeIndex (or the DataFrame) to the split function instead"
            )
        return self.index[positions]

    @property
    def train_dates(self) -> pd.Index:
        """Index labels (dates) of the training observations. Raises ValueError without index."""
        return self._labels(self.train)

    @property
    def test_dates(self) -> pd.Index:
        """Index labels (dates) of the test observations. Raises ValueError without index."""
        return self._labels(self.test)

    def __repr__(self) -> str:
        def part(pos: np.ndarray) -> str:
            if pos.size == 0:
                return "[] (0)"
            if self.index is not None:
                lo, hi = self.index[pos[0]], self.index[pos[-1]]
                lo = lo.date() if isinstance(lo, pd.Timestamp) else lo
                hi = hi.date() if isinstance(hi, pd.Timestamp) else hi
                return f"[{lo}..{hi}] ({pos.size})"
            return f"[{pos[0]}..{pos[-1]}] ({pos.size})"

        return f"Split(train={part(self.train)}, test={part(self.test)})"


def _positions(values: np.ndarray) -> np.ndarray:
    out = np.asarray(values, dtype=np.int64)
    out.setflags(write=False)
    return out


def _check_int(value: Any, name: str, minimum: int) -> int:
    """An integer >= minimum (bools and floats are rejected)."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
    if value < minimum:
        kind = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise ValueError(f"{name} must be {kind}, got {value}")
    return int(value)


def _length_and_index(n_or_index: Any) -> tuple[int, pd.Index | None]:
    """Number of observations and (optional) index from an int, Index, Series or DataFrame."""
    if isinstance(n_or_index, bool):
        raise TypeError("n_or_index must be an int, a pandas Index, Series or DataFrame, not bool")
    if isinstance(n_or_index, int | np.integer):
        n = int(n_or_index)
        if n < 1:
            raise ValueError(f"the number of observations must be positive, got {n}")
        return n, None
    if isinstance(n_or_index, pd.Series | pd.DataFrame):
        index = n_or_index.index
    elif isinstance(n_or_index, pd.Index):
        index = n_or_index
    else:
        raise TypeError(
            "n_or_index must be the number of observations (int), a pandas Index, or a "
            f"Series/DataFrame (its index is used); got {type(n_or_index).__name__}. For a "
            "numpy array X pass len(X)"
        )
    if len(index) == 0:
        raise ValueError("the index is empty: there is nothing to split")
    if not index.is_unique:
        dupes = index[index.duplicated()].unique()[:3].tolist()
        raise ValueError(f"the index has duplicate labels (e.g. {dupes}); remove them first")
    if not index.is_monotonic_increasing:
        raise ValueError(
            "the index must be sorted in time order (oldest first) for time-series splits; "
            "call .sort_index() first"
        )
    return len(index), index


def walk_forward_splits(
    n_or_index: int | pd.Index | pd.Series | pd.DataFrame,
    *,
    train_size: int,
    test_size: int,
    step: int | None = None,
    expanding: bool = True,
    purge: int = 0,
    embargo: int = 0,
    partial_last: bool = False,
) -> list[Split]:
    """Walk-forward (train on the past, test on the next block) splits, in time order.

    Layout, in observation positions (rows) ``0 .. n-1``, for split ``j = 0, 1, ...``:

    - test block: ``[s_j, s_j + test_size)`` with ``s_j = train_size + purge + j * step``;
    - training set: ``[0, s_j - purge)`` when ``expanding`` (train always starts at 0), or the
      ``train_size`` observations ``[s_j - purge - train_size, s_j - purge)`` when rolling.

    So the first training set holds exactly ``train_size`` observations, and the ``purge``
    observations right before every test block are left out of its training set: when the
    label of observation t looks ``h`` periods ahead (e.g. the h-day forward return), the last
    h training labels would overlap the test block, so use ``purge >= h``. ``purge=1`` is also
    the usual guard when a decision at the close of t can only be executed at t+1.

    ``embargo`` acts *after* a test block: the ``embargo`` observations that follow test block
    k are removed from the training sets of every later split (López de Prado's embargo, meant
    for serially correlated features). In a walk-forward every training observation precedes
    its own test block, so the embargo never changes a split's own train/test gap (that gap is
    ``purge``); it only thins later training sets, and is here so that the same settings mean
    the same thing as in :func:`purged_kfold_splits`. Leave it at 0 unless you need that.

    ``step`` (default ``test_size``) moves the test block forward: ``step == test_size`` gives
    consecutive, non-overlapping test blocks that tile the data (a walk-forward backtest);
    ``step < test_size`` overlapping ones; ``step > test_size`` leaves untested gaps. With
    ``step=None``, ``embargo=0`` this is ``skfolio.model_selection.WalkForward`` with
    ``purged_size=purge``, ``expand_train=expanding``, ``reduce_test=partial_last``.

    Args:
        n_or_index: number of observations, or a sorted unique index (a DatetimeIndex, or a
            Series/DataFrame whose index is used) so that each split also gives dates.
        train_size: number of training observations of the first split (of every split when
            rolling), >= 1.
        test_size: number of observations per test block, >= 1.
        step: positions between the starts of consecutive test blocks, >= 1 (default
            ``test_size``).
        expanding: True: training starts at position 0 and grows; False: a rolling window of
            ``train_size`` observations.
        purge: observations left out between the end of training and the start of testing,
            >= 0.
        embargo: observations after each test block left out of later training sets, >= 0.
        partial_last: keep a final test block shorter than ``test_size`` that reaches the end
            of the data (default False: only full test blocks).

    Returns:
        list of :class:`Split` in time order (at least one).

    Raises:
        TypeError: non-integer sizes, or ``n_or_index`` of another type.
        ValueError: sizes < 1, negative ``purge``/``embargo``, an unsorted or duplicated index,
            or ``train_size + purge + test_size`` larger than the data (no test block fits).
    """
    n, index = _length_and_index(n_or_index)
    train_size = _check_int(train_size, "train_size", 1)
    test_size = _check_int(test_size, "test_size", 1)
    step = test_size if step is None else _check_int(step, "step", 1)
    purge = _check_int(purge, "purge", 0)
    embargo = _check_int(embargo, "embargo", 0)

    first = train_size + purge
    needed = first + (1 if partial_last else test_size)
    if needed > n:
        what = "one observation" if partial_last else f"test_size={test_size}"
        raise ValueError(
            f"train_size={train_size} + purge={purge} + {what} = {needed} exceeds the {n} "
            "observations: no test block fits. Use a smaller train_size or test_size"
            + ("" if partial_last else " (or partial_last=True for a shorter test block)")
        )

    splits: list[Split] = []
    test_ends: list[int] = []
    start = first
    while start < n:
        end = start + test_size
        if end > n:
            if not partial_last:
                break
            end = n
        train_end = start - purge
        train_start = 0 if expanding else train_end - train_size
        keep = np.ones(train_end - train_start, dtype=bool)
        for e in test_ends:  # embargo after every earlier test block
            lo, hi = max(e, train_start), min(e + embargo, train_end)
            if lo < hi:
                keep[lo - train_start : hi - train_start] = False
        train = np.arange(train_start, train_end)[keep]
        if train.size == 0:
            raise ValueError(
                f"split {len(splits)} (test block starting at position {start}) has no "
                f"training observation left after an embargo of {embargo}; use a smaller "
                "embargo or a longer training window"
            )
        splits.append(Split(_positions(train), _positions(np.arange(start, end)), index))
        test_ends.append(end)
        if end >= n:
            break
        start += step
    return splits


def purged_kfold_splits(
    n_or_index: int | pd.Index | pd.Series | pd.DataFrame,
    *,
    n_splits: int = 5,
    purge: int = 0,
    embargo: int = 0,
    purge_after: bool = True,
) -> list[Split]:
    """Purged and embargoed k-fold cross-validation with contiguous (unshuffled) test folds.

    The test folds are those of ``sklearn.model_selection.KFold(n_splits)`` (no shuffle): the
    first ``n % n_splits`` folds hold one more observation. For the test fold ``[a, b)`` the
    training set is every other observation except:

    - purge before: ``[a - purge, a)``: their labels, which look ``purge`` periods ahead,
      reach into the test fold;
    - purge after (``purge_after=True``): ``[b, b + purge)``: the labels of the last test
      observations reach into these;
    - embargo: the next ``embargo`` observations, ``[b + purge, b + purge + embargo)`` (or
      ``[b, b + embargo)`` when ``purge_after=False``): features built from serially
      correlated data right after the fold still carry test-period information.

    With label intervals ``[t, t + purge]`` this removes exactly the training observations
    whose label interval overlaps a test label interval (López de Prado 2018, §7.4), the same
    rule as ``skfolio.model_selection.CombinatorialPurgedCV`` (``purged_size``,
    ``embargo_size``). ``purge_after=False`` keeps the one-sided variant (purge before the
    fold only, embargo after it).

    Args:
        n_or_index: number of observations, or a sorted unique index (or a Series/DataFrame).
        n_splits: number of folds, >= 2 and <= n.
        purge: label horizon in observations, >= 0.
        embargo: observations removed after each test fold (after the purge), >= 0.
        purge_after: also purge the ``purge`` observations right after the test fold.

    Returns:
        list of ``n_splits`` :class:`Split`, one per test fold, in fold order.

    Raises:
        TypeError: non-integer arguments or an ``n_or_index`` of another type.
        ValueError: ``n_splits < 2`` or larger than n; negative ``purge``/``embargo``; a
            split left without training observations; an unsorted or duplicated index.
    """
    n, index = _length_and_index(n_or_index)
    n_splits = _check_int(n_splits, "n_splits", 2)
    purge = _check_int(purge, "purge", 0)
    embargo = _check_int(embargo, "embargo", 0)
    if n_splits > n:
        raise ValueError(f"n_splits={n_splits} is larger than the {n} observations")
    after = (purge if purge_after else 0) + embargo
    splits: list[Split] = []
    all_positions = np.arange(n)
    for fold in np.array_split(all_positions, n_splits):
        a, b = int(fold[0]), int(fold[-1]) + 1
        lo, hi = max(0, a - purge), min(n, b + after)
        train = np.concatenate([all_positions[:lo], all_positions[hi:]])
        if train.size == 0:
            raise ValueError(
                f"the test fold [{a}, {b}) leaves no training observation with purge={purge} "
                f"and embargo={embargo}; use fewer folds or smaller purge/embargo"
            )
        splits.append(Split(_positions(train), _positions(fold), index))
    return splits


# --------------------------------------------------------------------------------------------
# Backtest
# --------------------------------------------------------------------------------------------


@dataclass(repr=False)
class BacktestResult:
    """Output of :func:`backtest`; every series is indexed by the return dates.

    Attributes:
        returns: net portfolio return per period (gross - costs), fractions, Series (n,).
        gross: gross portfolio return ``sum_i w_i r_i`` before costs, Series (n,).
        costs: transaction costs charged in the period, fraction of capital, Series (n,).
        turnover: traded notional as a fraction of capital (sum of |weight changes|),
            Series (n,); see :func:`backtest` for the convention.
        weights: the weights held during each period (decided ``lag`` rows earlier),
            DataFrame (n, assets); 0 where not held.
        cost_bps: the cost rate used, basis points of traded notional.
        lag: the execution lag used, in rows.
        name: label used in :meth:`summary` (row name) and for ``returns.name``.
    """

    returns: pd.Series
    gross: pd.Series
    costs: pd.Series
    turnover: pd.Series
    weights: pd.DataFrame
    cost_bps: float = 0.0
    lag: int = 1
    name: str = "strategy"

    def equity(self, *, gross: bool = False) -> pd.Series:
        """Cumulative wealth ``prod(1 + r)`` after each period, starting from 1 before the first.

        Args:
            gross: use gross instead of net returns.

        Returns:
            Series (n,) of wealth multiples (1.25 = +25 % since the start).
        """
        r = self.gross if gross else self.returns
        return (1.0 + r).cumprod().rename(self.name)

    def summary(
        self,
        periods: float = 252,
        risk_free: Any = 0.0,
        ddof: int = 1,
        *,
        allow_partial_risk_free: bool = False,
    ) -> pd.DataFrame:
        """One-row performance table of the net returns, plus turnover and costs.

        The columns of :func:`common.metrics.performance_table` (CAGR, annualized return,
        volatility, Sharpe, Sortino, max drawdown, Calmar, start, end, periods; fractions, not
        percent), followed by ``Ann. turnover`` (mean turnover x periods: how many times the
        capital is traded in a year) and ``Ann. costs`` (mean cost x periods, fraction of
        capital per year).

        Args:
            periods: periods per year (252 for daily rows, 12 for monthly).
            risk_free: per-period risk-free return for Sharpe/Sortino (scalar or a Series
                covering every return date).
            ddof: delta degrees of freedom of the volatility (the book's §2.1 uses 0).
            allow_partial_risk_free: accept a ``risk_free`` Series that misses some dates and
                compute every measure on the dates in both (see
                :func:`common.metrics.excess_returns`).

        Returns:
            DataFrame with one row named :attr:`name`.
        """
        table = performance_table(
            self.returns.rename(self.name),
            risk_free,
            periods,
            ddof,
            allow_partial_risk_free=allow_partial_risk_free,
        )
        table["Ann. turnover"] = float(self.turnover.mean()) * periods
        table["Ann. costs"] = float(self.costs.mean()) * periods
        return table

    def __repr__(self) -> str:
        if len(self.returns) == 0:
            return f"BacktestResult({self.name!r}, empty)"
        total = float(self.equity().iloc[-1]) - 1.0
        return (
            f"BacktestResult({self.name!r}, {self.returns.index[0].date()}.."
            f"{self.returns.index[-1].date()}, {len(self.returns)} periods, "
            f"{self.weights.shape[1]} assets, lag={self.lag}, cost_bps={self.cost_bps:g}, "
            f"total net return {total:.2%}, mean turnover {float(self.turnover.mean()):.3f})"
        )


def _check_frame(obj: Any, what: str, *, dates: bool = True) -> pd.DataFrame:
    """A numeric float DataFrame with unique columns and a sorted unique (Datetime)Index."""
    if not isinstance(obj, pd.DataFrame):
        hint = " (use .to_frame() for a single asset)" if isinstance(obj, pd.Series) else ""
        raise TypeError(
            f"{what} must be a pandas DataFrame (dates x assets), got {type(obj).__name__}{hint}"
        )
    if obj.shape[0] == 0 or obj.shape[1] == 0:
        raise ValueError(f"{what} is empty (shape {obj.shape})")
    if dates and not isinstance(obj.index, pd.DatetimeIndex):
        raise TypeError(
            f"{what} must have a DatetimeIndex, got {type(obj.index).__name__}; convert it "
            "with pd.to_datetime (see common.dates.parse_dates)"
        )
    if not obj.columns.is_unique:
        dupes = obj.columns[obj.columns.duplicated()].unique()[:3].tolist()
        raise ValueError(f"{what} has duplicate columns (e.g. {dupes})")
    return as_numeric_pandas(obj, what)  # duplicate/unsorted dates, dtypes, infinities


def _check_cost(cost_bps: Any) -> float:
    if isinstance(cost_bps, bool) or not isinstance(cost_bps, Real):
        raise TypeError(f"cost_bps must be a number (basis points), got {cost_bps!r}")
    if not math.isfinite(cost_bps) or cost_bps < 0:
        raise ValueError(
            f"cost_bps must be a finite number >= 0 (basis points of traded notional, "
            f"e.g. 5 for 0.05 %), got {cost_bps!r}"
        )
    return float(cost_bps)


def _align(weights: pd.DataFrame, returns: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Same columns (in the returns' order) and the common dates; see :func:`backtest`."""
    w_cols, r_cols = set(weights.columns), set(returns.columns)
    if w_cols != r_cols:
        only_w = [c for c in weights.columns if c not in r_cols]
        only_r = [c for c in returns.columns if c not in w_cols]
        raise ValueError(
            "weights and returns must have the same columns (assets). "
            f"Only in weights: {only_w[:5]}{' ...' if len(only_w) > 5 else ''}; only in "
            f"returns: {only_r[:5]}{' ...' if len(only_r) > 5 else ''}. Select the same assets, "
            "e.g. returns[weights.columns]"
        )
    weights = weights[returns.columns]
    if weights.index.tz != returns.index.tz:
        raise ValueError(
            f"weights and returns have different time zones ({weights.index.tz} vs "
            f"{returns.index.tz}); make both tz-naive (or the same zone) first"
        )
    lo = max(weights.index[0], returns.index[0])
    hi = min(weights.index[-1], returns.index[-1])
    r_span = returns.index[(returns.index >= lo) & (returns.index <= hi)]
    if len(r_span) == 0:
        raise ValueError(
            "weights and returns have no date in common: weights cover "
            f"{weights.index[0].date()}..{weights.index[-1].date()}, returns "
            f"{returns.index[0].date()}..{returns.index[-1].date()}"
        )
    missing = r_span.difference(weights.index)
    if len(missing):
        raise ValueError(
            f"weights has no row for {len(missing)} of the {len(r_span)} return dates in the "
            f"common span {lo.date()}..{hi.date()} (first {missing[0].date()}): every period "
            "needs a target. For a rebalancing schedule (e.g. monthly targets on daily "
            "returns) forward-fill the targets onto the return dates first: "
            "weights.reindex(returns.index).ffill()"
        )
    return weights.loc[r_span], returns.loc[r_span]


def _check_net_returns(
    net: np.ndarray,
    gross: np.ndarray,
    costs: np.ndarray,
    held: np.ndarray,
    turnover: np.ndarray,
    cost_bps: float,
    dates: pd.Index,
) -> None:
    """Refuse the first period whose net return is below -100 % (negative wealth after it)."""
    bad = net < -1.0
    if not bad.any():
        return
    row = int(np.argmax(bad))
    exposure = float(np.abs(held[row]).sum())
    causes = []
    if exposure > 10.0:
        causes.append(
            f"the weights add up to a gross exposure of {exposure:g} x capital: are they in "
            "percent? Weights are fractions of capital (0.5 = half): divide by 100"
        )
    elif exposure > 1.0:
        causes.append(f"leverage: the gross exposure is {exposure:g} x capital")
    if costs[row] > 0.05:
        causes.append(
            f"costs: cost_bps={cost_bps:g} on a turnover of {turnover[row]:g} x capital "
            f"charges {costs[row]:.2%} of capital; cost_bps is in basis points of traded "
            "notional (10 = 0.1 %), not percent"
        )
    cause = "; ".join(causes) if causes else "check the weights, the returns and cost_bps"
    raise ValueError(
        f"the portfolio's net return on {dates[row].date()} is {net[row]:.4g} "
        f"(gross {gross[row]:.4g}, cost {costs[row]:.4g}), below -100 %: wealth would turn "
        f"negative and every later measure would be meaningless. Likely cause: {cause}"
    )


def backtest(
    weights: pd.DataFrame,
    returns: pd.DataFrame,
    *,
    cost_bps: float = 0.0,
    lag: int = 1,
    allow_same_day: bool = False,
    drift: bool = False,
    name: str = "strategy",
) -> BacktestResult:
    """Vectorized backtest of target weights: portfolio returns, turnover and costs.

    Timing (no look-ahead). Row t of ``weights`` holds the target weights decided at the close
    of date t, using information up to t. Row t of ``returns`` is the simple return from the
    close of t-1 to the close of t. The weights decided at t are traded at that close and earn
    the next period's return: the weights **held** during period t are ``w_{t-lag}`` (``lag``
    counts rows of the aligned dates; ``lag=2`` delays execution by one more period) and

        gross_t = sum_i w_{i, t-lag} * r_{i, t}.

    ``lag=0`` would let a weight earn the return of the very day it was computed from (the
    close of t is not known before the close of t): it raises unless ``allow_same_day=True``
    is passed on purpose (e.g. to measure how much a look-ahead inflates a result).

    Rebalancing and turnover. By default the portfolio is rebalanced back to its targets every
    period, and turnover compares consecutive targets (the standard vectorized convention):

        turnover_t = sum_i |w_{i, t-lag} - w_{i, t-lag-1}|,

    traded notional as a fraction of capital, counting buys and sells: switching all capital
    from asset A to asset B is 2.0 (sell 1.0 A, buy 1.0 B); the first entry from cash costs
    ``sum_i |w_i|`` (the weights before the first row are 0). This convention ignores the
    trades needed to undo price drift (a daily-rebalanced equal-weight portfolio shows no
    turnover after entry). ``drift=True`` measures turnover against the drifted weights
    instead, ``w_{i,t-1}^drift = w_{i,t-lag-1} (1 + r_{i,t-1}) / (1 + gross_{t-1})``, i.e. the
    trades that really bring the portfolio back to its targets (a buy-and-hold target then
    costs nothing after entry). Gross returns are the same in both cases. No final
    liquidation is charged: the last positions are assumed still held.

    Costs. ``costs_t = turnover_t * cost_bps / 1e4``: charged once per traded notional, in the
    period in which the new weights start earning (the trade happens at the close just
    before it), and ``net_t = gross_t - costs_t`` (the usual additive approximation of
    ``(1 - c)(1 + g) - 1``; the difference ``c * g`` is negligible).

    Alignment. Columns must be the same set of assets (order is taken from ``returns``);
    dates are aligned on the span covered by both: dates outside the common span are
    dropped, weight rows on dates that have no return are dropped, and every return date in
    the span must have a weights row (otherwise ValueError: forward-fill a rebalancing
    schedule first). The result starts ``lag`` rows after the first common date.

    Missing values. NaN weights mean "not held" (0). A NaN return is allowed only where the
    held weight is 0 (e.g. before a stock is listed); a NaN return on a held position raises.
    Leading all-NaN weight rows (a signal's warm-up) are periods in cash with a 0 return and
    count in :meth:`BacktestResult.summary`; pass ``weights.dropna(how="all")`` to start the
    backtest at the first decision instead.

    Source: the standard vectorized backtest (e.g. Chan, *Quantitative Trading*, 2nd ed.,
    Wiley 2021, ch. 3); Book §2.1 uses it with 1-day holding periods and no costs.

    Args:
        weights: DataFrame (dates x assets) of target weights, fractions of capital (negative =
            short; the remainder 1 - sum(w) is cash earning 0), DatetimeIndex.
        returns: DataFrame (dates x assets) of simple returns (fractions), DatetimeIndex.
        cost_bps: transaction cost in basis points of traded notional (one-way, per unit
            bought or sold), >= 0. 10 bps = 0.1 %.
        lag: execution lag in rows, >= 1.
        allow_same_day: accept ``lag=0`` (look-ahead; for demonstrations only).
        drift: measure turnover against drifted weights (see above).
        name: name of the strategy (``returns.name`` and the summary's row label).

    Returns:
        :class:`BacktestResult` indexed by the return dates from the ``lag``-th common date on.

    Raises:
        TypeError: inputs not DataFrames, no DatetimeIndex, non-numeric columns, a
            non-integer ``lag`` or non-numeric ``cost_bps``.
        ValueError: different asset columns, no common dates, a return date without weights,
            fewer than ``lag + 1`` common dates, duplicate or unsorted dates, infinite values,
            a return below -100 % (percent passed as fractions?), a NaN return on a held
            position, negative ``cost_bps``, ``lag=0`` without ``allow_same_day``, a period
            whose net return (gross - costs) is below -100 % (wealth would turn negative: the
            message names the date, the gross return, the cost and the likely cause, e.g.
            weights in percent or costs given as a fraction instead of basis points), and with
            ``drift=True`` a portfolio losing 100 % or more in a period.
    """
    weights = _check_frame(weights, "weights")
    returns = _check_frame(returns, "returns")
    cost = _check_cost(cost_bps)
    lag = _check_int(lag, "lag", 0)
    if lag == 0 and not allow_same_day:
        raise ValueError(
            "lag=0 means the weights decided with the close of day t earn the return of day t "
            "itself, which was not known when they were decided: a look-ahead bias. Use lag=1 "
            "(trade at the close, earn the next return), or pass allow_same_day=True to study "
            "the bias on purpose"
        )
    weights, returns = _align(weights, returns)
    n = len(returns)
    if n <= lag:
        raise ValueError(
            f"only {n} common date(s) of weights and returns: with lag={lag} at least "
            f"{lag + 1} are needed"
        )

    dates = returns.index[lag:]
    w_all = weights.fillna(0.0).to_numpy()
    r_all = returns.to_numpy()
    held = w_all[: n - lag]  # held during return dates[lag:], decided lag rows earlier
    r = r_all[lag:]

    nan_held = np.isnan(r) & (held != 0.0)
    if nan_held.any():
        row, col = np.argwhere(nan_held)[0]
        raise ValueError(
            f"returns is NaN on {dates[row].date()} for {returns.columns[col]!r}, where the "
            f"portfolio holds a weight of {held[row, col]:g} (decided on "
            f"{returns.index[row].date()}). Set the weight to 0/NaN on days the asset cannot "
            "be held, or fill the return"
        )
    r = np.where(np.isnan(r), 0.0, r)
    if (r < -1.0).any():
        row, col = np.argwhere(r < -1.0)[0]
        raise ValueError(
            f"returns has a value below -100 % ({r[row, col]!r} on {dates[row].date()}, "
            f"{returns.columns[col]!r}). Are these percent? Returns must be fractions "
            "(0.01 = 1 %): divide by 100"
        )

    gross = (held * r).sum(axis=1)
    previous = np.vstack([np.zeros((1, held.shape[1])), held[:-1]])
    if drift:
        growth = 1.0 + gross[:-1]
        if (growth <= 0.0).any():
            row = int(np.argmax(growth <= 0.0))
            raise ValueError(
                f"the portfolio loses 100 % or more on {dates[row].date()} (gross return "
                f"{gross[row]:.4g}), so drifted weights are undefined; check the leverage"
            )
        previous[1:] = held[:-1] * (1.0 + r[:-1]) / growth[:, None]
    turnover = np.abs(held - previous).sum(axis=1)
    costs = turnover * cost / 1e4
    _check_net_returns(gross - costs, gross, costs, held, turnover, cost, dates)

    def series(values: np.ndarray, label: str) -> pd.Series:
        return pd.Series(values, index=dates, name=label, dtype="float64")

    return BacktestResult(
        returns=series(gross - costs, name),
        gross=series(gross, "gross"),
        costs=series(costs, "costs"),
        turnover=series(turnover, "turnover"),
        weights=pd.DataFrame(held, index=dates, columns=returns.columns),
        cost_bps=cost,
        lag=lag,
        name=name,
    )


# --------------------------------------------------------------------------------------------
# Weights
# --------------------------------------------------------------------------------------------


def top_bottom_weights(
    scores: pd.DataFrame,
    k: int,
    *,
    long_short: bool = True,
    gross: float = 1.0,
    insufficient: Literal["raise", "skip"] = "raise",
) -> pd.DataFrame:
    """Equal weights long the k highest scores (and short the k lowest) on each date.

    The book's §2.1 portfolio: every day, long the top-k predicted returns and short the
    bottom-k, equal weights. Convention for the size:

    - ``long_short=True``: each long name gets ``+gross / (2k)`` and each short name
      ``-gross / (2k)``, so the long leg sums to ``+gross/2``, the short leg to ``-gross/2``:
      dollar-neutral with gross exposure ``gross``. ``gross=2.0`` gives +1/-1 per leg, whose
      return is the spread ``mean(top-k returns) - mean(bottom-k returns)``.
    - ``long_short=False``: each of the top k gets ``gross / k`` (fully invested for 1.0).

    NaN scores mean "not tradable that day" (weight 0). Ties are broken by column order: among
    equal scores the earlier column ranks higher (so it goes long first and is shorted last);
    the result is deterministic, but add a tie-breaker to the scores if it matters.

    Dates where every score is NaN (e.g. a warm-up period) get NaN weights (no position).
    Dates with some scores but fewer than ``2k`` (``k`` for long-only) raise a ValueError
    naming the first such date, or get NaN weights with ``insufficient="skip"``.

    Args:
        scores: DataFrame (dates x assets) of scores (e.g. predicted returns); higher is better.
        k: number of names per leg, >= 1.
        long_short: long top-k and short bottom-k (True) or long top-k only (False).
        gross: gross exposure, > 0 (sum of |weights| on every active date).
        insufficient: "raise" or "skip" for dates with too few scores.

    Returns:
        DataFrame of weights, same index and columns as ``scores``: the top/bottom names
        carry the weights above, the others 0.0; skipped dates are all NaN.

    Raises:
        TypeError: ``scores`` not a numeric DataFrame, ``k`` not an integer.
        ValueError: ``k < 1``, ``gross`` not a positive finite number, infinite scores, an
            unknown ``insufficient``, or (with "raise") a date with too few scores.
    """
    scores = _check_frame(scores, "scores", dates=False)
    k = _check_int(k, "k", 1)
    if isinstance(gross, bool) or not isinstance(gross, Real) or not math.isfinite(gross):
        raise ValueError(f"gross must be a positive finite number, got {gross!r}")
    if gross <= 0:
        raise ValueError(f"gross must be a positive finite number, got {gross!r}")
    if insufficient not in ("raise", "skip"):
        raise ValueError(f"insufficient must be 'raise' or 'skip', got {insufficient!r}")

    values = scores.to_numpy()
    valid = ~np.isnan(values)
    n_valid = valid.sum(axis=1)
    need = 2 * k if long_short else k
    short_rows = (n_valid > 0) & (n_valid < need)
    if short_rows.any() and insufficient == "raise":
        row = int(np.argmax(short_rows))
        raise ValueError(
            f"only {n_valid[row]} asset(s) have a score on {scores.index[row]!r}, fewer than "
            f"the {need} needed for k={k}{' per leg' if long_short else ''}. Use a smaller k, "
            "or insufficient='skip' to stay out of the market on such dates"
        )
    active = n_valid >= need

    # rank 0 = highest score; NaN last; stable sort keeps column order among ties
    order = np.argsort(np.where(valid, -values, np.inf), axis=1, kind="stable")
    rank = np.empty_like(order)
    rows = np.arange(values.shape[0])[:, None]
    rank[rows, order] = np.arange(values.shape[1])[None, :]

    out = np.zeros(values.shape)
    if long_short:
        size = gross / (2 * k)
        out[valid & (rank < k)] = size
        out[valid & (rank >= (n_valid - k)[:, None])] = -size
    else:
        out[valid & (rank < k)] = gross / k
    out[~active] = np.nan
    return pd.DataFrame(out, index=scores.index, columns=scores.columns)


def equal_weight(
    returns_or_columns: pd.DataFrame | Sequence[Any] | pd.Index,
) -> pd.DataFrame | pd.Series:
    """Equal weights: the 1/N baseline portfolio.

    Given a DataFrame of returns, the weight on date t is ``1 / N_t`` for each of the N_t
    assets whose return on t is not NaN (an asset with a price at the close of t can be bought
    then), and 0 for the others; dates where no asset has a return get NaN (no position).
    Passed to :func:`backtest` this is the equal-weight portfolio rebalanced every period
    (``drift=True`` also charges the rebalancing trades). Given a list of columns, the static
    weights ``1/N`` as a Series.

    Args:
        returns_or_columns: DataFrame (dates x assets) of returns, or a sequence/Index of
            asset names.

    Returns:
        DataFrame of weights (same shape as the returns) or Series (one weight per name).

    Raises:
        TypeError: neither a DataFrame nor a sequence of names.
        ValueError: no assets, or duplicate names.
    """
    if isinstance(returns_or_columns, pd.DataFrame):
        frame = _check_frame(returns_or_columns, "returns", dates=False)
        valid = frame.notna().to_numpy()
        counts = valid.sum(axis=1, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.where(valid, 1.0 / counts, 0.0)
        out[counts[:, 0] == 0] = np.nan
        return pd.DataFrame(out, index=frame.index, columns=frame.columns)
    if isinstance(returns_or_columns, pd.Series) or isinstance(returns_or_columns, str | bytes):
        raise TypeError(
            "equal_weight takes a DataFrame of returns or a list of asset names, got "
            f"{type(returns_or_columns).__name__}"
        )
    if not isinstance(returns_or_columns, Sequence | pd.Index | np.ndarray):
        raise TypeError(
            "equal_weight takes a DataFrame of returns or a list of asset names, got "
            f"{type(returns_or_columns).__name__}"
        )
    names = pd.Index(returns_or_columns)
    if len(names) == 0:
        raise ValueError("equal_weight needs at least one asset")
    if not names.is_unique:
        raise ValueError(f"duplicate asset names: {names[names.duplicated()].tolist()[:3]}")
    return pd.Series(1.0 / len(names), index=names, name="weight")
