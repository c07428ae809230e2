"""The chapter-5 forecasting protocol: exchange-rate data, windows, any forecaster, GluonTS metrics.

Every chapter-5 model is judged by the protocol of the book's official companion (its
``NaiveModel`` ... ``LagLlamaZeroShot`` notebooks), so our numbers compare one to one with the
official table (:data:`OFFICIAL`):

Data
    The 8 daily exchange rates of Lai et al. (2018) (registry key
    ``exchange_rate/exchange_rate.txt.gz``: 7588 rows, no header; Australia, UK, Canada,
    Switzerland, China, Japan, New Zealand, Singapore, in US dollars per unit), indexed as
    business days from 1990-01-01 (so the last row is 2019-01-30), turned into log returns
    ``log(level_t) - log(level_{t-1})``: 7587 rows from 1990-01-02. The series are named
    ``currency_1`` ... ``currency_8`` as in the official notebooks.
Split
    Training targets are dated before :data:`TRAIN_END` (2016-01-01). The test set is the 803
    business days :data:`TEST_START` .. :data:`TEST_END` (2016-01-04 .. 2019-01-30): one
    one-step-ahead forecast per series and date, 803 x 8 = 6424 forecasts, each from the
    :data:`CONTEXT` = 30 returns before its date (the context of 2016-01-04 ends on Friday
    2016-01-01, a business day of the index).
Forecasts
    A forecaster returns :data:`N_SAMPLES` = 20 samples per window (or one point). As in
    GluonTS' ``SampleForecast``, the quantile ``q`` of ``n`` samples is the sorted sample at
    rank ``round((n - 1) q)`` (no interpolation: for 20 samples the median is the 11th smallest
    sample) and the mean forecast is the sample mean.
Metrics (:func:`score_forecasts`): those of GluonTS' ``Evaluator(quantiles=(0.1, 0.5, 0.9),
seasonality=5)`` with every (date, series) window as one item, aggregated the way it does:
    - ``MASE``: mean over windows of ``|y - median| / seasonal_error``, where the seasonal error
      is the mean of ``|x_t - x_{t-5}|`` over the window's WHOLE history (every return of the
      series before the forecast date, from 1990-01-02), not only its 30-day context;
    - ``sMAPE``: mean over windows of ``2 |y - median| / (|y| + |median|)`` (windows with
      ``y = median = 0`` are skipped, as GluonTS' masked arrays do);
    - ``RMSE``: ``sqrt(mean over windows of (y - mean forecast)^2)``: the MEAN of the samples,
      not the median;
    - ``wQL[q]``: ``sum 2 |(y - q_hat)(1{y <= q_hat} - q)| / sum |y|``, summed over all
      windows; ``mean wQL`` averages ``wQL[0.1]``, ``wQL[0.5]``, ``wQL[0.9]`` (for a point
      forecast the three quantiles are the point; the loss is linear in the level and the
      levels average to 0.5, so mean wQL = wQL[0.5] exactly);
    - ``coverage 80%``: the share of targets with ``q0.1 < y <= q0.9`` (GluonTS' ``Coverage[q]``
      is the share with ``y <= q_hat``; this is ``Coverage[0.9] - Coverage[0.1]``).
    They were checked against ``gluonts.evaluation.Evaluator`` (gluonts 0.17) on random cases
    (tests/test_forecasting.py), and the naive forecast reproduces the official row to 1e-6.
Investment scores (:func:`investment_scores`), per series as the official
``compute_investment_scores``: position = sign of the point forecast (``numpy.median`` of the
samples, as the official ``create_predictions_dataframe``), daily strategy log return =
position x target; Sharpe = sqrt(252) x mean / standard deviation (ddof 1); cumulative return =
``exp(sum) - 1``; Spearman rank correlation of point forecast and target.

Typical use::

    from common.forecasting import evaluate, metric_table
    naive = evaluate(lambda contexts, series_id: contexts[:, -1:], name="naive")
    print(metric_table(naive).round(6).to_string())

Forecasters that need more than the 30-day context (e.g. a GARCH filter run over the whole
history) may take a keyword argument ``dates``: the forecast date of each row (they must use
only data dated before it).
"""

from __future__ import annotations

import inspect
import json
import math
import re
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "CONTEXT",
    "HORIZON",
    "N_SAMPLES",
    "SEASONALITY",
    "QUANTILES",
    "TRAIN_END",
    "TEST_START",
    "TEST_END",
    "DATA_KEY",
    "METRICS",
    "OFFICIAL",
    "OFFICIAL_NAIVE_EXTRA",
    "OFFICIAL_NAIVE_INVESTMENT",
    "Windows",
    "Evaluation",
    "load_exchange_rates",
    "training_windows",
    "training_target_dates",
    "window_scale",
    "test_windows",
    "seasonal_errors",
    "sample_quantiles",
    "score_forecasts",
    "investment_scores",
    "evaluate",
    "metric_table",
    "RESULT_KINDS",
    "results_dir",
    "load_evaluations",
    "BASELINES",
    "zero_forecaster",
    "historical_quantile_forecaster",
    "fit_garch_t",
    "garch_t_forecaster",
    "baseline_evaluations",
]

CONTEXT = 30
HORIZON = 1
N_SAMPLES = 20
SEASONALITY = 5
QUANTILES = (0.1, 0.5, 0.9)
TRAIN_END = "2016-01-01"
TEST_START = "2016-01-04"
TEST_END = "2019-01-30"
DATA_KEY = "exchange_rate/exchange_rate.txt.gz"
PERIODS_PER_YEAR = 252

#: The metrics of :attr:`Evaluation.metrics`, in order.
METRICS = ("MASE", "sMAPE", "RMSE", "wQL[0.5]", "mean wQL", "coverage 80%")

#: The official companion's results (book, chapter 5): MASE, RMSE, wQuantileLoss[0.5],
#: mean_wQuantileLoss over quantiles 0.1/0.5/0.9, on this protocol.
OFFICIAL = pd.DataFrame(
    {
        "MASE": [0.970666, 0.646759, 0.632275, 0.677604, 0.640120, 0.694935],
        "RMSE": [0.007899, 0.005630, 0.005597, 0.005917, 0.005627, 0.005936],
        "wQL[0.5]": [1.561028, 1.037132, 1.015523, 1.083791, 1.027222, 1.114950],
        "mean wQL": [1.561028, 1.037132, 1.015523, 0.777730, 0.949850, 0.806446],
    },
    index=pd.Index(
        [
            "naive",
            "linear AR(30)",
            "LSTM 2x128",
            "MLP + Student-t head",
            "Chronos-T5-small zero-shot",
            "Lag-Llama zero-shot",
        ],
        name="model",
    ),
)

#: Further numbers the official naive notebook prints (GluonTS sMAPE and MAPE; MAPE skips zero
#: targets and is not reported by this module).
OFFICIAL_NAIVE_EXTRA = {"sMAPE": 1.638403, "MAPE": 6.329632}

#: The official naive notebook's investment scores per series (Sharpe, cumulative return,
#: Spearman correlation), as printed there (6 decimals).
OFFICIAL_NAIVE_INVESTMENT = pd.DataFrame(
    {
        "Sharpe": [
            -1.441757,
            -0.246100,
            -0.870160,
            0.238490,
            -0.273535,
            -0.334568,
            -0.562251,
            0.540687,
        ],
        "cumulative return": [
            -0.347393,
            -0.066762,
            -0.186426,
            0.086961,
            -0.019185,
            -0.086644,
            -0.169375,
            0.091984,
        ],
        "Spearman": [
            -0.085434,
            0.016630,
            -0.056624,
            -0.006935,
            -0.027057,
            -0.051033,
            -0.041201,
            0.027666,
        ],
    },
    index=pd.Index([f"currency_{i}" for i in range(1, 9)], name="series"),
)


# --------------------------------------------------------------------------------------------
# data and windows
# --------------------------------------------------------------------------------------------


def load_exchange_rates(kind: str = "log_returns", *, float32: bool = False) -> pd.DataFrame:
    """The 8 exchange-rate series on a business-day index starting 1990-01-01.

    Args:
        kind: ``"log_returns"`` (default): ``log(level).diff()`` without its first (empty) row,
            7587 rows from 1990-01-02 to 2019-01-30; ``"levels"``: the 7588 rates as stored
            (US dollars per unit of currency).
        float32: round the levels to float32 and take the logarithm in float32, as the
            official companion does (its loader casts the data to float32); the result is
            still returned as float64. With it the naive forecast's sMAPE matches the official
            1.638403 to 1e-6 (float64 data: 1.6384045); MASE, RMSE and wQL match either way.

    Returns:
        float64 DataFrame, columns ``currency_1`` ... ``currency_8``, ``DatetimeIndex`` named
        ``date`` (business days; the file has no dates, the official companion assigns them
        this way).

    Raises:
        ValueError: an unknown ``kind``.
        common.data.DataError: the file is missing and cannot be downloaded, or its hash is
            wrong.
    """
    if kind not in ("log_returns", "levels"):
        raise ValueError(f"kind must be 'log_returns' or 'levels', got {kind!r}")
    from common.data import fetch

    levels = pd.read_csv(fetch(DATA_KEY), header=None)
    levels = levels.astype("float32" if float32 else "float64")
    levels.columns = [f"currency_{i}" for i in range(1, levels.shape[1] + 1)]
    levels.index = pd.bdate_range("1990-01-01", periods=len(levels), name="date")
    if kind == "levels":
        return levels.astype("float64")
    return np.log(levels).diff().iloc[1:].astype("float64")


def _check_returns(returns, context: int) -> pd.DataFrame:
    """Validate ``returns`` (or load the default) and ``context``; return a float64 frame."""
    if isinstance(context, bool) or not isinstance(context, (int, np.integer)) or context < 1:
        raise ValueError(f"context must be a positive integer, got {context!r}")
    if returns is None:
        return load_exchange_rates()
    if not isinstance(returns, pd.DataFrame):
        raise TypeError(f"returns must be a pandas DataFrame, got {type(returns).__name__}")
    if not isinstance(returns.index, pd.DatetimeIndex):
        raise ValueError("returns must have a DatetimeIndex (one row per business day)")
    if not (returns.index.is_monotonic_increasing and returns.index.is_unique):
        raise ValueError("returns' dates must be sorted and unique")
    try:
        values = returns.to_numpy(dtype="float64")
    except (TypeError, ValueError) as err:
        raise ValueError(f"returns must hold numbers only ({err})") from err
    if not np.isfinite(values).all():
        bad = returns.columns[~np.isfinite(values).all(axis=0)].tolist()
        raise ValueError(f"returns hold NaN or infinite values in columns {bad}")
    return returns.astype("float64")


def training_windows(
    context: int = CONTEXT, returns: pd.DataFrame | None = None, *, end: str = TRAIN_END
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every full training window of every series: ``context`` returns and the next one.

    A window's target is dated before ``end`` (no look-ahead into the test period); windows
    need ``context`` earlier returns, so each series gives ``n_train - context`` windows.
    (GluonTS' ``split(date=2016-01-01)`` used by the official companion also trains on the
    target of 2016-01-01 itself, one window per series more; it is excluded here.)

    Args:
        context: returns per window (default :data:`CONTEXT`).
        returns: log returns (rows = business days, columns = series); default
            :func:`load_exchange_rates`.
        end: first date NOT used as a target.

    Returns:
        ``X`` (N, context), ``y`` (N,), ``series_id`` (N,) (column position, int64), float64,
        the series stacked one after the other in column order, each in date order.

    Raises:
        ValueError: bad ``context`` or ``returns``, or no full window before ``end``.
    """
    returns = _check_returns(returns, context)
    n_train = int(np.searchsorted(returns.index.values, np.datetime64(pd.Timestamp(end))))
    if n_train <= context:
        raise ValueError(
            f"only {n_train} returns before {end}: need more than context={context} for one "
            "training window"
        )
    values = returns.to_numpy()[:n_train]
    windows = np.lib.stride_tricks.sliding_window_view(values, context + 1, axis=0)
    # windows: (n_train - context, n_series, context + 1) -> series-major stacking
    windows = np.ascontiguousarray(windows.transpose(1, 0, 2)).reshape(-1, context + 1)
    n_each = n_train - context
    series_id = np.repeat(np.arange(values.shape[1], dtype=np.int64), n_each)
    return windows[:, :-1].copy(), windows[:, -1].copy(), series_id


def training_target_dates(
    context: int = CONTEXT, returns: pd.DataFrame | None = None, *, end: str = TRAIN_END
) -> pd.DatetimeIndex:
    """The target date of every row of :func:`training_windows`, in the same order.

    Use it for a time-ordered validation split inside the training period (e.g. the targets
    of the last training year validate, the earlier ones train), never the test period.

    Args:
        context, returns, end: as in :func:`training_windows`.

    Returns:
        ``DatetimeIndex`` of length N (the series stacked one after the other, each in date
        order), aligned with ``X``, ``y`` and ``series_id``.

    Raises:
        ValueError: as :func:`training_windows`.
    """
    returns = _check_returns(returns, context)
    n_train = int(np.searchsorted(returns.index.values, np.datetime64(pd.Timestamp(end))))
    if n_train <= context:
        raise ValueError(f"only {n_train} returns before {end}: no training window")
    dates = returns.index[context:n_train]
    return pd.DatetimeIndex(np.tile(dates.values, returns.shape[1]), name="target date")


def window_scale(x, min_scale: float = 1e-10):
    """The official companion's per-window robust scaling: median and interquartile range.

    Args:
        x: a torch tensor of contexts, shape (batch, context), log returns.
        min_scale: floor of the interquartile range (windows of constant returns, e.g. a peg).

    Returns:
        ``(loc, scale)``, each (batch, 1): ``loc`` is ``torch.median`` (the LOWER of the two
        middle values for an even context, as torch and the official models use) and ``scale``
        ``q0.75 - q0.25`` (linear interpolation), floored at ``min_scale``. A model scales its
        input as ``(x - loc) / scale`` and its output back as ``out * scale + loc``.
    """
    import torch

    loc = x.median(dim=1, keepdim=True).values
    levels = torch.tensor([0.25, 0.75], dtype=x.dtype, device=x.device)
    q1, q3 = torch.quantile(x, levels, dim=1, keepdim=True)
    return loc, (q3 - q1).clamp_min(min_scale)


def seasonal_errors(history: np.ndarray, seasonality: int = SEASONALITY) -> np.ndarray:
    """GluonTS' seasonal error of every prefix of ``history``: the MASE scale.

    ``out[t] = mean(|x_i - x_{i-m}|, i = m .. t-1)``: the scale of a forecast for position
    ``t`` from the whole past ``x_0 .. x_{t-1}`` (GluonTS' ``calculate_seasonal_error``; when
    the past has ``m`` values or fewer it uses ``m = 1``, and ``NaN`` for fewer than 2).

    Args:
        history: (T,) or (T, n_series) values.
        seasonality: ``m`` (default :data:`SEASONALITY` = 5 for business days).

    Returns:
        Array of the same shape; row ``t`` is the scale for forecasting row ``t``.
    """
    x = np.asarray(history, dtype="float64")
    squeeze = x.ndim == 1
    x = x.reshape(len(x), -1)
    out = np.full(x.shape, np.nan)
    t = np.arange(len(x))
    for m, use in ((seasonality, t > seasonality), (1, (t > 1) & (t <= seasonality))):
        # csum[k] = sum of the first k lag-m absolute differences
        csum = np.vstack([np.zeros((1, x.shape[1])), np.cumsum(np.abs(x[m:] - x[:-m]), axis=0)])
        idx = t[use]
        out[idx] = csum[idx - m] / (idx - m)[:, None]
    return out[:, 0] if squeeze else out


@dataclass(frozen=True)
class Windows:
    """The test windows: one row per (forecast date, series), dates outer, series inner.

    Attributes:
        contexts: (N, context) float64, the ``context`` returns before each forecast date.
        targets: (N,) float64, the return on the forecast date.
        series_id: (N,) int64, the series' column position.
        dates: (N,) ``datetime64[ns]`` forecast dates.
        seasonal_error: (N,) the MASE scale: GluonTS' seasonal error of the series' whole
            history before the forecast date (:func:`seasonal_errors`).
        series: the series names, ``series[series_id]`` names a row's series.
    """

    contexts: np.ndarray
    targets: np.ndarray
    series_id: np.ndarray
    dates: np.ndarray
    seasonal_error: np.ndarray
    series: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.targets)

    @property
    def n_dates(self) -> int:
        """Number of forecast dates (803 on the full protocol)."""
        return len(self) // max(len(self.series), 1)


def test_windows(
    context: int = CONTEXT,
    returns: pd.DataFrame | None = None,
    *,
    start: str = TEST_START,
    end: str = TEST_END,
    n_dates: int | None = None,
    seasonality: int = SEASONALITY,
) -> Windows:
    """The rolling one-step test windows of the protocol.

    Args:
        context: returns per context (default 30).
        returns: log returns (rows = business days, columns = series); default
            :func:`load_exchange_rates`.
        start, end: first and last forecast date (inclusive).
        n_dates: keep only the first ``n_dates`` forecast dates (quick runs; the metrics are
            then NOT comparable with the official ones). ``None``: all.
        seasonality: MASE seasonal period.

    Returns:
        :class:`Windows` (803 dates x 8 series = 6424 rows on the default data).

    Raises:
        ValueError: bad arguments, no forecast date in the range, or fewer than ``context``
            returns before the first forecast date.
    """
    returns = _check_returns(returns, context)
    dates = returns.index.values
    first = int(np.searchsorted(dates, np.datetime64(pd.Timestamp(start))))
    stop = int(np.searchsorted(dates, np.datetime64(pd.Timestamp(end)), side="right"))
    if n_dates is not None:
        if isinstance(n_dates, bool) or not isinstance(n_dates, (int, np.integer)) or n_dates < 1:
            raise ValueError(f"n_dates must be a positive integer or None, got {n_dates!r}")
        stop = min(stop, first + int(n_dates))
    if stop <= first:
        raise ValueError(f"returns have no date between {start} and {end}")
    if first < context:
        raise ValueError(
            f"the first forecast date {pd.Timestamp(dates[first]).date()} has only {first} "
            f"earlier returns; context={context} needs at least {context}"
        )
    values = returns.to_numpy()
    n_series = values.shape[1]
    views = np.lib.stride_tricks.sliding_window_view(values, context, axis=0)
    # views[i] = values[i : i + context].T; the context of position t is views[t - context]
    contexts = views[first - context : stop - context].reshape(-1, context).copy()
    scale = seasonal_errors(values, seasonality)[first:stop].reshape(-1)
    return Windows(
        contexts=contexts,
        targets=values[first:stop].reshape(-1).copy(),
        series_id=np.tile(np.arange(n_series, dtype=np.int64), stop - first),
        dates=np.repeat(dates[first:stop], n_series),
        seasonal_error=scale,
        series=tuple(str(c) for c in returns.columns),
    )


# --------------------------------------------------------------------------------------------
# metrics
# --------------------------------------------------------------------------------------------


def sample_quantiles(samples: np.ndarray, quantiles=QUANTILES) -> np.ndarray:
    """Quantiles of samples as GluonTS' ``SampleForecast.quantile``: no interpolation.

    Args:
        samples: (N, n_samples) array.
        quantiles: levels in [0, 1].

    Returns:
        (N, len(quantiles)): column ``j`` is the sorted sample at rank
        ``round((n_samples - 1) * quantiles[j])`` (NumPy rounding, half to even).
    """
    s = np.sort(np.asarray(samples, dtype="float64"), axis=1)
    ranks = [int(np.round((s.shape[1] - 1) * float(q))) for q in quantiles]
    return s[:, ranks]


def score_forecasts(
    targets,
    quantiles,
    mean,
    seasonal_error,
    levels=QUANTILES,
) -> pd.Series:
    """GluonTS ``Evaluator`` metrics of one-step forecasts, every row one item.

    Args:
        targets: (N,) observed values.
        quantiles: (N, len(levels)) forecast quantiles; the 0.5 column is the median (point)
            forecast for MASE, sMAPE and wQL[0.5].
        mean: (N,) mean forecasts (for MSE / RMSE).
        seasonal_error: (N,) MASE scale per row. As in GluonTS, a zero scale gives an infinite
            MASE (kept: the mean is then inf) unless the error is zero too; rows with a NaN
            MASE (0/0, or a NaN scale from a history of fewer than 2 values) are skipped.
        levels: the quantile levels of the columns of ``quantiles``; must contain 0.5.

    Returns:
        Series: ``MASE``, ``sMAPE``, ``RMSE``, ``wQL[0.5]``, ``mean wQL``, ``coverage 80%``
        (share with ``q0.1 < y <= q0.9``; NaN unless 0.1 and 0.9 are levels), then ``MSE``,
        ``wQL[q]`` and ``Coverage[q]`` (share with ``y <= q``) for every level, ``N``.
    """
    y = np.asarray(targets, dtype="float64").reshape(-1)
    q = np.asarray(quantiles, dtype="float64").reshape(len(y), -1)
    mu = np.asarray(mean, dtype="float64").reshape(-1)
    scale = np.asarray(seasonal_error, dtype="float64").reshape(-1)
    levels = tuple(float(v) for v in levels)
    if q.shape[1] != len(levels) or 0.5 not in levels or len(mu) != len(y) or len(scale) != len(y):
        raise ValueError(
            f"score_forecasts: shapes do not match: targets {y.shape}, quantiles {q.shape} for "
            f"levels {levels} (must include 0.5), mean {mu.shape}, seasonal_error {scale.shape}"
        )
    median = q[:, levels.index(0.5)]
    err = np.abs(y - median)
    with np.errstate(divide="ignore", invalid="ignore"):
        mase = err / scale  # GluonTS: x / 0 = inf is kept, 0 / 0 = NaN is skipped
        denom = np.abs(y) + np.abs(median)
        smape = np.where(denom > 0, 2 * err / denom, np.nan)
    out = {
        "MASE": float(np.nanmean(mase)) if (~np.isnan(mase)).any() else math.nan,
        "sMAPE": float(np.nanmean(smape)) if (~np.isnan(smape)).any() else math.nan,
    }
    mse = float(np.mean((y - mu) ** 2))
    out["RMSE"] = math.sqrt(mse)
    abs_sum = np.sum(np.abs(y))
    wql, cov = {}, {}
    for j, level in enumerate(levels):
        loss = 2 * np.sum(np.abs((q[:, j] - y) * ((y <= q[:, j]) - level)))
        wql[level] = loss / abs_sum if abs_sum > 0 else math.nan
        cov[level] = float(np.mean(y <= q[:, j]))
    out["wQL[0.5]"] = wql[0.5]
    out["mean wQL"] = float(np.mean(list(wql.values())))
    out["coverage 80%"] = cov[0.9] - cov[0.1] if {0.1, 0.9} <= set(levels) else math.nan
    out["MSE"] = mse
    out.update({f"wQL[{level}]": wql[level] for level in levels})
    out.update({f"Coverage[{level}]": cov[level] for level in levels})
    out["N"] = float(len(y))
    return pd.Series(out, dtype="float64")


def investment_scores(forecasts: pd.DataFrame) -> pd.DataFrame:
    """Per-series trading scores of a forecast table (the official ``compute_investment_scores``).

    Args:
        forecasts: columns ``series``, ``target``, ``point`` in date order within each series
            (e.g. :attr:`Evaluation.forecasts` reset to columns).

    Returns:
        DataFrame indexed by series plus a ``mean`` row (the average over series), columns
        ``Sharpe`` (sqrt(252) x mean / std (ddof 1) of position x target, position =
        sign(point)), ``cumulative return`` (exp of the summed log returns, minus 1),
        ``Spearman`` (rank correlation of point and target; NaN for a constant forecast).
    """
    from scipy.stats import spearmanr

    rows = {}
    for name, group in forecasts.groupby("series", sort=False):
        target = group["target"].to_numpy(dtype="float64")
        point = group["point"].to_numpy(dtype="float64")
        strategy = np.sign(point) * target
        std = strategy.std(ddof=1)
        sharpe = math.sqrt(PERIODS_PER_YEAR) * strategy.mean() / std if std > 0 else math.nan
        if np.ptp(point) > 0 and np.ptp(target) > 0:
            rho = float(spearmanr(point, target).statistic)
        else:
            rho = math.nan
        rows[name] = {
            "Sharpe": sharpe,
            "cumulative return": math.expm1(strategy.sum()),
            "Spearman": rho,
        }
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "series"
    table.loc["mean"] = table.mean()
    return table


# --------------------------------------------------------------------------------------------
# evaluation of a forecaster
# --------------------------------------------------------------------------------------------


@dataclass
class Evaluation:
    """The result of :func:`evaluate`.

    Attributes:
        name: the forecaster's name (row label).
        metrics: Series :data:`METRICS` (MASE, sMAPE, RMSE, wQL[0.5], mean wQL, coverage 80%).
        all_metrics: every number of :func:`score_forecasts` (MSE, wQL and Coverage per level).
        investment: :func:`investment_scores` (one row per series and a ``mean`` row).
        forecasts: DataFrame indexed by (date, series): ``target``, ``point`` (``numpy.median``
            of the samples: the official notebooks' point forecast, used for investment
            scores), ``mean``, ``q0.1``, ``q0.5``, ``q0.9`` (GluonTS sample quantiles; q0.5 is
            the median used by MASE, sMAPE and wQL), ``seasonal_error``.
        seconds: wall time of the whole evaluation (forecaster calls and metrics).
        n_samples: samples per forecast (0 for a quantile forecaster).
        n_dates: forecast dates evaluated (803 on the full protocol).
    """

    name: str
    metrics: pd.Series
    all_metrics: pd.Series
    investment: pd.DataFrame
    forecasts: pd.DataFrame
    seconds: float
    n_samples: int
    n_dates: int
    extra: dict = field(default_factory=dict)

    def row(self) -> pd.DataFrame:
        """One-row DataFrame (index = name): the :data:`METRICS`, ``seconds``, ``source``."""
        values = {**self.metrics.to_dict(), "seconds": self.seconds, "source": "ours"}
        return pd.DataFrame([values], index=pd.Index([self.name], name="model"))

    def save(
        self,
        kind: str,
        *,
        train_seconds: float | None = None,
        n_parameters: int | None = None,
        folder: str | Path | None = None,
    ) -> Path:
        """Write this evaluation to ``<folder>/<slug>.json`` and ``<slug>.forecasts.csv.gz``.

        ``chapter05/14_model_comparison`` reads every chapter-5 model back with
        :func:`load_evaluations`, so it compares them without retraining.

        Args:
            kind: one of :data:`RESULT_KINDS`: ``"baseline"``, ``"trained here"`` (a model
                trained from scratch in this repository) or ``"pretrained zero-shot"`` (a
                checkpoint downloaded from a hub; never a model trained here).
            train_seconds: training wall time (``None`` when nothing was trained);
                ``self.seconds`` is the inference and scoring time.
            n_parameters: trainable parameters, if a network.
            folder: default :func:`results_dir` (``build/chapter05/results``, or below
                ``$GATAM_BUILD_DIR``).

        Returns:
            The path of the JSON file. The file also records whether the run was quick mode
            (``GATAM_QUICK``) and how many forecast dates were evaluated.

        Raises:
            ValueError: unknown ``kind``.
        """
        from common.config import is_quick

        if kind not in RESULT_KINDS:
            raise ValueError(f"kind must be one of {RESULT_KINDS}, got {kind!r}")
        folder = Path(folder) if folder is not None else results_dir()
        folder.mkdir(parents=True, exist_ok=True)
        slug = _slug(self.name)
        record = {
            "name": self.name,
            "kind": kind,
            "metrics": {k: float(v) for k, v in self.all_metrics.items()},
            "investment": self.investment.to_dict(orient="index"),
            "seconds": float(self.seconds),
            "train_seconds": None if train_seconds is None else float(train_seconds),
            "n_parameters": None if n_parameters is None else int(n_parameters),
            "n_samples": int(self.n_samples),
            "n_dates": int(self.n_dates),
            "quick": bool(is_quick()),
        }
        path = folder / f"{slug}.json"
        path.write_text(json.dumps(record, indent=1))
        self.forecasts.to_csv(folder / f"{slug}.forecasts.csv.gz")
        self.extra.update(
            {k: record[k] for k in ("kind", "train_seconds", "n_parameters", "quick")}
        )
        return path

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v:.6g}" for k, v in self.metrics.items())
        return f"Evaluation({self.name!r}: {shown}; {self.n_dates} dates, {self.seconds:.2f} s)"


#: Allowed ``kind`` values of :meth:`Evaluation.save`.
RESULT_KINDS = ("baseline", "trained here", "pretrained zero-shot")


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    if not slug:
        raise ValueError(f"cannot make a file name from the model name {name!r}")
    return slug


def results_dir() -> Path:
    """Folder of saved chapter-5 evaluations: ``build_dir("chapter05", "results")``.

    Quick mode (``GATAM_QUICK=1``) uses ``build_dir("chapter05", "results-quick")`` instead, so
    a quick run never overwrites the default-mode results that ``14_model_comparison`` reads.
    """
    from common.config import build_dir, is_quick

    return build_dir("chapter05", "results-quick" if is_quick() else "results")


def load_evaluations(
    folder: str | Path | None = None, *, errors: str = "raise"
) -> dict[str, Evaluation]:
    """Read every evaluation saved by :meth:`Evaluation.save` in ``folder``.

    Args:
        folder: default :func:`results_dir`.
        errors: ``"raise"`` (default): an unreadable file raises; ``"skip"``: it is left out
            and a ``UserWarning`` names it (a file being written while another notebook reads
            the folder must not stop that notebook).

    Returns:
        ``{name: Evaluation}`` sorted by name (empty when the folder has none). Each
        evaluation's ``extra`` holds ``kind``, ``train_seconds``, ``n_parameters`` and
        ``quick`` (True for a quick-mode run: not comparable with the official numbers).

    Raises:
        ValueError: a JSON file is malformed or its forecasts file is missing (the message
            names the file; delete it and rerun the notebook that wrote it).
    """
    if errors not in ("raise", "skip"):
        raise ValueError(f"errors must be 'raise' or 'skip', got {errors!r}")
    folder = Path(folder) if folder is not None else results_dir()
    out = {}
    for path in sorted(folder.glob("*.json")):
        try:
            rec = json.loads(path.read_text())
            forecasts = (
                pd.read_csv(path.with_name(path.stem + ".forecasts.csv.gz"), parse_dates=["date"])
                .set_index(["date", "series"])
                .astype("float64")
            )
            metrics = pd.Series(rec["metrics"], dtype="float64")
            ev = Evaluation(
                name=rec["name"],
                metrics=metrics[list(METRICS)],
                all_metrics=metrics,
                investment=pd.DataFrame.from_dict(rec["investment"], orient="index").rename_axis(
                    "series"
                ),
                forecasts=forecasts,
                seconds=float(rec["seconds"]),
                n_samples=int(rec["n_samples"]),
                n_dates=int(rec["n_dates"]),
                extra={k: rec[k] for k in ("kind", "train_seconds", "n_parameters", "quick")},
            )
        except (OSError, KeyError, ValueError, TypeError) as err:
            message = (
                f"cannot read the saved evaluation {path} ({type(err).__name__}: {err}); delete "
                "it and rerun the notebook that wrote it"
            )
            if errors == "skip":
                warnings.warn(message, UserWarning, stacklevel=2)
                continue
            raise ValueError(message) from err
        out[ev.name] = ev
    return out


def _accepts_dates(forecaster) -> bool:
    try:
        params = inspect.signature(forecaster).parameters
    except (TypeError, ValueError):
        return False
    return "dates" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def _check_output(out, n: int, name: str, first_batch: bool):
    """Turn a forecaster's output into (quantiles (n, 3), mean (n,), point (n,), n_samples)."""
    if hasattr(out, "detach") and hasattr(out, "cpu"):  # a torch tensor, maybe on a GPU
        out = out.detach().cpu().numpy()
    if isinstance(out, Mapping):
        missing = [q for q in QUANTILES if q not in out]
        if missing:
            raise ValueError(
                f"forecaster {name!r} returned a mapping without the quantile keys {missing} "
                f"(expected keys {list(QUANTILES)} and optionally 'mean')"
            )
        cols = []
        for key in (*QUANTILES, "mean"):
            if key not in out:
                continue
            value = np.asarray(out[key], dtype="float64")
            if value.shape not in ((n,), (n, 1)):
                raise ValueError(
                    f"forecaster {name!r} returned {key!r} of shape {value.shape}; expected ({n},)"
                )
            cols.append(value.reshape(n))
        stacked = np.column_stack(cols)
        if not np.isfinite(stacked).all():
            raise ValueError(f"forecaster {name!r} returned NaN or infinite quantiles")
        q = stacked[:, : len(QUANTILES)]
        if (np.diff(q, axis=1) < 0).any():
            raise ValueError(f"forecaster {name!r} returned quantiles that are not increasing")
        mean = stacked[:, -1] if "mean" in out else q[:, QUANTILES.index(0.5)]
        return q, mean, q[:, QUANTILES.index(0.5)], 0
    try:
        samples = np.asarray(out, dtype="float64")
    except (TypeError, ValueError) as err:
        raise ValueError(
            f"forecaster {name!r} returned something that is not numbers: {err}"
        ) from err
    if samples.ndim == 1 and samples.shape[0] == n:
        samples = samples[:, None]
    if samples.ndim != 2 or samples.shape[0] != n or samples.shape[1] < 1:
        raise ValueError(
            f"forecaster {name!r} returned shape {samples.shape} for {n} contexts; expected "
            f"({n}, n_samples) samples of the next return (or ({n},) points)"
        )
    if not np.isfinite(samples).all():
        bad = int((~np.isfinite(samples)).any(axis=1).sum())
        raise ValueError(f"forecaster {name!r} returned NaN or infinite values in {bad} rows")
    q = sample_quantiles(samples)
    return q, samples.mean(axis=1), np.median(samples, axis=1), samples.shape[1]


def evaluate(
    forecaster: Callable,
    *,
    name: str,
    context: int = CONTEXT,
    returns: pd.DataFrame | None = None,
    batch_size: int | None = None,
    progress: bool = True,
    windows: Windows | None = None,
    n_dates: int | None = None,
) -> Evaluation:
    """Run a forecaster on every test window of the protocol and score it.

    Args:
        forecaster: ``forecaster(contexts, series_id) -> samples``: ``contexts`` (batch,
            context) float64 log returns (oldest first), ``series_id`` (batch,) int64 column
            positions; returns (batch, n_samples) samples of the next day's log return
            (n_samples = :data:`N_SAMPLES` for the protocol; 1 or a (batch,) array for a point
            forecast), or a mapping ``{0.1: (batch,), 0.5: (batch,), 0.9: (batch,)}`` of
            quantiles with an optional ``"mean"`` (else the median is the mean, as GluonTS'
            ``QuantileForecast``). A forecaster with a ``dates`` keyword also receives the
            forecast dates (batch,) ``datetime64[ns]``. A torch tensor is accepted (detached
            and moved to the CPU).
        name: row label, also named in error messages.
        context: context length (default 30).
        returns: log returns to evaluate on (default :func:`load_exchange_rates`).
        batch_size: rows per forecaster call (``None``: all rows in one call).
        progress: print a line every ~10 s while running and a summary at the end.
        windows: precomputed :func:`test_windows` (then ``context``, ``returns`` and
            ``n_dates`` are ignored).
        n_dates: only the first ``n_dates`` forecast dates (quick runs; not comparable with
            the official numbers).

    Returns:
        :class:`Evaluation`.

    Raises:
        ValueError: bad arguments, or a forecaster output of the wrong shape, with NaN or
            infinite values, or with decreasing quantiles (the message names the forecaster).
    """
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"name must be a non-empty string, got {name!r}")
    if not callable(forecaster):
        raise TypeError(f"forecaster {name!r} is not callable")
    if batch_size is not None and (
        isinstance(batch_size, bool)
        or not isinstance(batch_size, (int, np.integer))
        or batch_size < 1
    ):
        raise ValueError(f"batch_size must be a positive integer or None, got {batch_size!r}")
    start = time.perf_counter()
    w = windows if windows is not None else test_windows(context, returns, n_dates=n_dates)
    n = len(w)
    size = n if batch_size is None else int(batch_size)
    with_dates = _accepts_dates(forecaster)
    parts, n_samples = [], None
    last_print = start
    for b, lo in enumerate(range(0, n, size)):
        hi = min(lo + size, n)
        kwargs = {"dates": w.dates[lo:hi]} if with_dates else {}
        out = forecaster(w.contexts[lo:hi].copy(), w.series_id[lo:hi].copy(), **kwargs)
        q, mean, point, k = _check_output(out, hi - lo, name, b == 0)
        if n_samples is None:
            n_samples = k
        elif k != n_samples:
            raise ValueError(
                f"forecaster {name!r} returned {k} samples in one batch and {n_samples} in another"
            )
        parts.append((q, mean, point))
        now = time.perf_counter()
        if progress and now - last_print > 10 and hi < n:
            print(f"  {name}: {hi}/{n} forecasts, {now - start:.0f} s", flush=True)
            last_print = now
    q = np.vstack([p[0] for p in parts])
    mean = np.concatenate([p[1] for p in parts])
    point = np.concatenate([p[2] for p in parts])
    scores = score_forecasts(w.targets, q, mean, w.seasonal_error)
    names = np.asarray(w.series, dtype=object)[w.series_id]
    index = pd.MultiIndex.from_arrays(
        [pd.DatetimeIndex(w.dates, name="date"), pd.Index(names, name="series")]
    )
    forecasts = pd.DataFrame(
        {
            "target": w.targets,
            "point": point,
            "mean": mean,
            **{f"q{level}": q[:, j] for j, level in enumerate(QUANTILES)},
            "seasonal_error": w.seasonal_error,
        },
        index=index,
    )
    by_series = forecasts.reset_index().sort_values(["series", "date"], kind="stable")
    invest = investment_scores(by_series).reindex([*w.series, "mean"])
    seconds = time.perf_counter() - start
    result = Evaluation(
        name=name,
        metrics=scores[list(METRICS)],
        all_metrics=scores,
        investment=invest,
        forecasts=forecasts,
        seconds=seconds,
        n_samples=int(n_samples),
        n_dates=w.n_dates,
    )
    if progress:
        kind = f"{n_samples} samples each" if n_samples else "quantile forecasts"
        print(
            f"{name}: {n} forecasts ({w.n_dates} dates x {len(w.series)} series), {kind}, "
            f"{seconds:.1f} s"
        )
    return result


def metric_table(*evaluations: Evaluation, official: bool = True) -> pd.DataFrame:
    """Stack evaluations into one table, with the official rows beside them.

    Args:
        evaluations: :class:`Evaluation` objects (or one-row DataFrames from ``.row()``).
        official: append the rows of :data:`OFFICIAL` (``source`` = ``"official"``; sMAPE,
            coverage and seconds are not published there: NaN).

    Returns:
        DataFrame indexed by model: :data:`METRICS`, ``seconds``, ``source``. Official row
        names get the suffix `` (official)`` where an evaluation has the same name.
    """
    rows = [e.row() if isinstance(e, Evaluation) else e for e in evaluations]
    if official:
        ours = {str(r.index[0]) for r in rows}
        off = OFFICIAL.copy()
        off.index = [f"{i} (official)" if i in ours else i for i in off.index]
        off["source"] = "official"
        rows.append(off)
    if not rows:
        raise ValueError("metric_table needs at least one evaluation (or official=True)")
    table = pd.concat(rows)
    table.index.name = "model"
    return table.reindex(columns=[*METRICS, "seconds", "source"])


# --------------------------------------------------------------------------------------------
# baselines (chapter05/01 explains them; later notebooks put their rows in their scorecards)
# --------------------------------------------------------------------------------------------

#: Names of the baseline rows made by :func:`baseline_evaluations`.
BASELINES = ("zero", "historical quantiles", "GARCH(1,1)-t")


def zero_forecaster(contexts: np.ndarray, series_id: np.ndarray) -> np.ndarray:
    """The zero forecast (a point): tomorrow's log return is 0. Returns (batch, 1) zeros."""
    return np.zeros((len(contexts), 1))


def historical_quantile_forecaster(
    returns: pd.DataFrame | None = None, *, end: str = TRAIN_END
) -> Callable:
    """A forecaster of fixed quantiles: each series' training quantiles around a zero median.

    The 0.1 and 0.9 quantiles are those of the series' returns dated before ``end``; the median
    (the point forecast) is 0 and so is the mean. Nothing after ``end`` is used.

    Returns:
        ``forecaster(contexts, series_id) -> {0.1: ..., 0.5: ..., 0.9: ..., "mean": ...}``.
    """
    returns = _check_returns(returns, 1)
    train = returns.loc[returns.index < pd.Timestamp(end)]
    low, high = (train.quantile(q).to_numpy() for q in (QUANTILES[0], QUANTILES[-1]))

    def forecaster(contexts, series_id):
        zero = np.zeros(len(series_id))
        return {0.1: low[series_id], 0.5: zero, 0.9: high[series_id], "mean": zero}

    return forecaster


#: Starting values (omega, alpha, beta, nu; percent units) tried when arch's own start fails.
GARCH_STARTS = ((0.01, 0.1, 0.85, 5.0), (0.1, 0.2, 0.7, 8.0), (0.001, 0.05, 0.9, 4.0))


def _fit_garch_t_one(model, name: str):
    """Fit one GARCH(1,1)-t by maximum likelihood, deterministically and with a converged result.

    The fit runs with ONE BLAS thread: on a nearly degenerate likelihood (the Chinese yuan's
    training years hold a peg, i.e. long runs of zero returns) SLSQP's path depends on the
    rounding of multi-threaded BLAS, so the same data gave different parameters with 1 and 2
    threads. When arch's own starting values end without convergence, the fit is restarted
    from :data:`GARCH_STARTS` and the converged result with the highest log-likelihood is kept.

    Raises:
        RuntimeError: no start converges (the message names the series).
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):  # convergence is checked here, so arch's warning is off
        res = model.fit(disp="off", show_warning=False)
        if res.convergence_flag == 0:
            return res
        tries = [
            model.fit(disp="off", show_warning=False, starting_values=np.array(s))
            for s in GARCH_STARTS
        ]
    done = [t for t in tries if t.convergence_flag == 0]
    if not done:
        raise RuntimeError(f"GARCH(1,1)-t fit of {name} did not converge from any start")
    return max(done, key=lambda t: t.loglikelihood)


def fit_garch_t(
    returns: pd.DataFrame | None = None, *, end: str = TRAIN_END
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """GARCH(1,1) with Student-t innovations and zero mean, fitted per series before ``end``.

    Each series (in percent, for the optimizer) is fitted by maximum likelihood with
    ``arch.arch_model(100 r, mean="Zero", vol="GARCH", p=1, q=1, dist="t")`` on its returns
    dated before ``end`` (one BLAS thread, restarts when arch's start fails to converge: see
    :func:`_fit_garch_t_one`); the fitted parameters are then held FIXED and the model is filtered
    over the whole sample: the conditional volatility of date ``t``,
    ``sigma_t^2 = omega + alpha r_{t-1}^2 + beta sigma_{t-1}^2``, uses returns up to ``t - 1``
    only, so it is the one-step-ahead forecast made the evening before (no look-ahead; the
    recursion starts from arch's backcast of the first 75 returns of 1990).

    Returns:
        ``params`` (one row per series: omega, alpha[1], beta[1], nu, in percent units) and
        ``sigma`` (DataFrame like ``returns``: one-step conditional volatility, in log-return
        units, not percent).
    """
    from arch import arch_model

    returns = _check_returns(returns, 1)
    train = returns.loc[returns.index < pd.Timestamp(end)]
    params, sigma = {}, {}
    for col in returns.columns:
        res = _fit_garch_t_one(arch_model(100 * train[col], mean="Zero", dist="t"), col)
        params[col] = res.params
        full = arch_model(100 * returns[col], mean="Zero", vol="GARCH", p=1, q=1, dist="t")
        sigma[col] = full.fix(res.params).conditional_volatility / 100
    table = pd.DataFrame(params).T
    table.index.name = "series"
    return table, pd.DataFrame(sigma, index=returns.index)


def garch_t_forecaster(
    returns: pd.DataFrame | None = None,
    *,
    end: str = TRAIN_END,
    n_samples: int | None = None,
    seed: int = 0,
) -> Callable:
    """A forecaster from :func:`fit_garch_t`: zero mean, Student-t scaled by sigma_t.

    Args:
        returns, end: data and split (default: the protocol's).
        n_samples: ``None`` (default): exact quantiles ``sigma_t z_q`` with ``z_q`` the
            quantile of the unit-variance Student t (median 0); an integer: that many random
            draws per window (e.g. :data:`N_SAMPLES` to be scored like a 20-sample model; the
            sample median is then noisy and wQL[0.5] worse).
        seed: seed of the draws.

    Returns:
        ``forecaster(contexts, series_id, dates)`` (it reads sigma by forecast date).
    """
    from scipy import stats

    params, sigma = fit_garch_t(returns, end=end)
    nu = params["nu"].to_numpy()
    unit = np.sqrt((nu - 2) / nu)  # a t(nu) variable times this has variance 1
    values, index = sigma.to_numpy(), sigma.index
    rng = np.random.default_rng(seed)

    def forecaster(contexts, series_id, dates):
        rows = index.get_indexer(pd.DatetimeIndex(dates))
        if (rows < 0).any():
            raise ValueError("GARCH forecaster: forecast dates outside the fitted data")
        sd = values[rows, series_id]
        if n_samples is None:
            z = {q: stats.t.ppf(q, nu[series_id]) * unit[series_id] for q in QUANTILES}
            return {q: sd * z[q] for q in QUANTILES} | {"mean": np.zeros(len(sd))}
        draws = rng.standard_t(nu[series_id][:, None], size=(len(sd), n_samples))
        return sd[:, None] * unit[series_id][:, None] * draws

    return forecaster


def baseline_evaluations(
    windows: Windows | None = None, returns: pd.DataFrame | None = None, *, progress: bool = False
) -> dict[str, Evaluation]:
    """Evaluate the baselines :data:`BASELINES` on the protocol (about 5 s, GARCH fits included).

    ``zero`` (point 0), ``historical quantiles`` (:func:`historical_quantile_forecaster`) and
    ``GARCH(1,1)-t`` (:func:`garch_t_forecaster`, exact quantiles), each fitted on data before
    :data:`TRAIN_END`. For chapter-5 scorecards: ``metric_table(model, *baseline_evaluations()
    .values())``.
    """
    w = windows if windows is not None else test_windows(returns=returns)
    makers = {
        "zero": lambda: zero_forecaster,
        "historical quantiles": lambda: historical_quantile_forecaster(returns),
        "GARCH(1,1)-t": lambda: garch_t_forecaster(returns),
    }
    out = {}
    for name, make in makers.items():
        start = time.perf_counter()
        ev = evaluate(make(), name=name, windows=w, progress=progress)
        ev.seconds = time.perf_counter() - start  # fitting included
        out[name] = ev
    return out
