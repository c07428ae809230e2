"""The house plotting style and the plots shared by the chapters.

Notebooks call :func:`use_style` once after their imports. Every function returns the
matplotlib Figure or Axes it drew on and never calls ``plt.show()`` (Jupyter displays a returned
figure; scripts save it). Axes are labelled with units; returns are shown in percent.

Plots:

- :func:`plot_prices_and_returns`: prices over daily returns (Book §1.1, Appendix A.1/A.3).
- :func:`plot_cumulative_and_drawdown`: cumulative return over drawdown, both in percent.
- :func:`plot_efficient_frontier`: mean-variance frontier with named portfolios (Book §1.4).

Helpers: :func:`format_date_axis` (date ticks by span) and :func:`format_log_axis` (a log axis
with plain-number tick labels, not only the powers of ten).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib as mpl
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from cycler import cycler
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from common import metrics

__all__ = [
    "COLORS",
    "STYLE",
    "format_date_axis",
    "format_log_axis",
    "plot_cumulative_and_drawdown",
    "plot_efficient_frontier",
    "plot_prices_and_returns",
    "use_style",
]

#: Okabe & Ito's colour-blind-safe palette (black moved last), used as the colour cycle.
COLORS = [
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#CC79A7",  # reddish purple
    "#F0E442",  # yellow
    "#000000",  # black
]

#: The rcParams that :func:`use_style` sets.
STYLE: dict[str, Any] = {
    "figure.figsize": (10.0, 4.5),
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "savefig.bbox": "tight",
    "font.size": 11,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "legend.fontsize": 10,
    "legend.frameon": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "grid.linestyle": "-",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": cycler(color=COLORS),
    "lines.linewidth": 1.4,
    "axes.formatter.useoffset": False,
}


def use_style() -> None:
    """Apply the house style (:data:`STYLE`) to matplotlib's global rcParams.

    Idempotent: calling it again sets the same values. Figure size (10, 4.5) inches, light
    grid, no top/right spines, Okabe-Ito colour cycle. Undo with ``matplotlib.rcdefaults()``.
    """
    mpl.rcParams.update(STYLE)


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def format_date_axis(ax: Axes, index: pd.Index) -> None:
    """Date ticks suited to the span of ``index``: years for >= 2 years, else concise dates.

    Does nothing when ``index`` is not a DatetimeIndex.
    """
    if not isinstance(index, pd.DatetimeIndex) or len(index) == 0:
        return
    span_years = (index.max() - index.min()).days / 365.25
    if span_years >= 2:
        base = max(1, int(np.ceil(span_years / 10)))  # at most about 10 year ticks
        ax.xaxis.set_major_locator(mdates.YearLocator(base))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
    else:
        locator = mdates.AutoDateLocator(minticks=3, maxticks=8)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def format_log_axis(ax: Axes, axis: str = "y", *, fmt: str = "{x:,.0f}") -> None:
    """Put ``axis`` ("x" or "y") on a log scale with readable tick labels at 1-2-5 steps.

    Matplotlib labels only the powers of ten of a log axis by default (10^2, 10^3): a reader of
    a wealth or index-level plot needs the values in between. Ticks are placed at 1, 2 and 5
    times each power of ten and labelled with ``fmt`` (a ``str.format`` pattern of ``x``).

    Raises:
        ValueError: ``axis`` is not "x" or "y".
    """
    from matplotlib.ticker import LogLocator, NullFormatter, StrMethodFormatter

    if axis not in ("x", "y"):
        raise ValueError(f"axis must be 'x' or 'y', got {axis!r}")
    target = ax.yaxis if axis == "y" else ax.xaxis
    (ax.set_yscale if axis == "y" else ax.set_xscale)("log")
    target.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    target.set_major_formatter(StrMethodFormatter(fmt))
    target.set_minor_formatter(NullFormatter())


def _as_frame(data: Any, what: str, labels: Sequence[str] | None = None) -> pd.DataFrame:
    if isinstance(data, pd.Series):
        frame = data.to_frame(data.name if data.name is not None else what)
    elif isinstance(data, pd.DataFrame):
        frame = data
    else:
        raise TypeError(f"{what} must be a pandas Series or DataFrame, got {type(data).__name__}")
    if frame.empty:
        raise ValueError(f"{what} is empty")
    if labels is not None:
        labels = list(labels)
        if len(labels) != frame.shape[1]:
            raise ValueError(
                f"labels has {len(labels)} entries but {what} has {frame.shape[1]} column(s)"
            )
        frame = frame.set_axis(labels, axis=1)
    return frame


def _legend_if_many(ax: Axes, n: int) -> None:
    if n > 1:
        ax.legend(loc="best")


# --------------------------------------------------------------------------------------------
# plots
# --------------------------------------------------------------------------------------------


def plot_prices_and_returns(
    prices: pd.Series | pd.DataFrame,
    returns: pd.Series | pd.DataFrame | None = None,
    *,
    title: str | None = None,
    price_label: str = "Adjusted close (USD)",
    return_label: str = "Daily return (%)",
) -> Figure:
    """Prices (top) over periodic returns in percent (bottom), sharing the date axis.

    Args:
        prices: Series or DataFrame (one line per column) of prices, date-indexed.
        returns: simple returns as fractions, same columns; computed with
            :func:`common.metrics.simple_returns` when None. Plotted x 100.
        title: figure title.
        price_label, return_label: y-axis labels (state the units).

    Returns:
        The Figure (two Axes: ``fig.axes[0]`` prices, ``fig.axes[1]`` returns).

    Raises:
        TypeError/ValueError: non-pandas or empty input, bad prices (see ``simple_returns``).
    """
    price_frame = _as_frame(prices, "prices")
    if returns is None:
        returns = metrics.simple_returns(price_frame)
    ret_frame = _as_frame(returns, "returns")
    fig, (ax_p, ax_r) = plt.subplots(
        2, 1, sharex=True, figsize=(10, 6), gridspec_kw={"height_ratios": [3, 2]}
    )
    for col in price_frame.columns:
        ax_p.plot(price_frame.index, price_frame[col], label=str(col))
    for col in ret_frame.columns:
        ax_r.plot(ret_frame.index, 100.0 * ret_frame[col], linewidth=0.8, label=str(col))
    ax_r.axhline(0.0, color="0.4", linewidth=0.6)
    ax_p.set_ylabel(price_label)
    ax_r.set_ylabel(return_label)
    ax_r.set_xlabel("Date")
    _legend_if_many(ax_p, price_frame.shape[1])
    format_date_axis(ax_r, price_frame.index)
    if title:
        ax_p.set_title(title)
    fig.align_ylabels([ax_p, ax_r])
    fig.tight_layout()
    return fig


def plot_cumulative_and_drawdown(
    returns: pd.Series | pd.DataFrame,
    *,
    title: str | None = None,
    labels: Sequence[str] | None = None,
) -> Figure:
    """Cumulative return in percent (top) over the drawdown in percent (bottom).

    Cumulative return is ``prod(1 + r) - 1`` and drawdown ``wealth / running peak - 1``, both
    from :mod:`common.metrics` and shown x 100. Both curves start at 0 on the day before the
    first return (wealth 1), so every line starts from the same point. One series has its
    drawdown shaded; several series are drawn as lines only (stacked shaded areas hide each
    other).

    Args:
        returns: Series or DataFrame (one line per column) of periodic simple returns as
            fractions, date-indexed. Leading NaNs are dropped; interior NaNs raise.
        title: figure title.
        labels: legend names replacing the column names (one per column).

    Returns:
        The Figure (``fig.axes[0]`` cumulative return, ``fig.axes[1]`` drawdown).

    Raises:
        TypeError/ValueError: non-pandas or empty input, wrong number of labels, and the
            errors of :func:`common.metrics.drawdown`.
    """
    frame = _as_frame(returns, "returns", labels)
    cum = metrics.cumulative_returns(frame)
    dd = metrics.drawdown(frame)
    start = _previous_period(cum.index)
    if start is not None:  # anchor every line at 0 one period before the first return
        zero = pd.DataFrame(0.0, index=[start], columns=cum.columns)
        cum, dd = pd.concat([zero, cum]), pd.concat([zero, dd])
    fig, (ax_c, ax_d) = plt.subplots(
        2, 1, sharex=True, figsize=(10, 6), gridspec_kw={"height_ratios": [3, 2]}
    )
    colors = mpl.rcParams["axes.prop_cycle"].by_key().get("color", COLORS)
    for i, col in enumerate(frame.columns):
        color = colors[i % len(colors)]
        ax_c.plot(cum.index, 100.0 * cum[col], color=color, label=str(col))
        ax_d.plot(dd.index, 100.0 * dd[col], color=color, linewidth=0.9, label=str(col))
        if frame.shape[1] == 1:
            ax_d.fill_between(dd.index, 100.0 * dd[col].to_numpy(), 0.0, color=color, alpha=0.25)
    ax_c.axhline(0.0, color="0.4", linewidth=0.6)
    ax_c.set_ylabel("Cumulative return (%)")
    ax_d.set_ylabel("Drawdown (%)")
    ax_d.set_xlabel("Date")
    _legend_if_many(ax_c, frame.shape[1])
    format_date_axis(ax_d, cum.index)
    if title:
        ax_c.set_title(title)
    fig.align_ylabels([ax_c, ax_d])
    fig.tight_layout()
    return fig


def _previous_period(index: pd.Index):
    """The date one step before ``index[0]`` (its median spacing), or None for non-date indexes."""
    if not isinstance(index, pd.DatetimeIndex) or len(index) < 2:
        return None
    return index[0] - pd.Series(index).diff().median()


def _point(name: str, value: Any) -> tuple[float, float]:
    try:
        sd, mean = (float(v) for v in value)
    except (TypeError, ValueError) as err:
        raise ValueError(f"portfolio {name!r} must be a pair (sd, mean), got {value!r}") from err
    if not (np.isfinite(sd) and np.isfinite(mean)) or sd < 0:
        raise ValueError(f"portfolio {name!r} needs a finite sd >= 0 and mean, got {value!r}")
    return sd, mean


def _asset_points(assets: Any) -> list[tuple[str, float, float]]:
    if isinstance(assets, pd.DataFrame):
        missing = {"sd", "mean"} - set(assets.columns)
        if missing:
            raise ValueError(
                f"assets needs columns 'sd' and 'mean' (index = names); missing {sorted(missing)},"
                f" got {list(assets.columns)}"
            )
        items = [(str(n), (r["sd"], r["mean"])) for n, r in assets.iterrows()]
    elif isinstance(assets, Mapping):
        items = [(str(n), v) for n, v in assets.items()]
    else:
        raise TypeError(
            "assets must be a DataFrame with 'sd'/'mean' columns or a dict name -> pair"
        )
    return [(n, *_point(n, v)) for n, v in items]


def plot_efficient_frontier(
    frontier_sd: Any,
    frontier_mean: Any,
    *,
    portfolios: Mapping[str, tuple[float, float]] | None = None,
    assets: pd.DataFrame | Mapping[str, tuple[float, float]] | None = None,
    ax: Axes | None = None,
    sd_label: str = "Daily standard deviation",
    mean_label: str = "Daily mean return",
    cml: str | None = None,
    risk_free: float = 0.0,
) -> Axes:
    """Mean-variance efficient frontier with named portfolios and optional assets (Book §1.4).

    The frontier is drawn as a line with a marker at each solved point (e.g. the 21 target
    means of the book's ``ef.m``). Points below the minimum-variance portfolio (the lower,
    inefficient branch of the minimum-variance frontier) are drawn dashed in grey and labelled
    "Inefficient branch"; only the upper branch is labelled "Efficient frontier". Values are
    plotted as given, in the units the labels state (the book uses daily fractions).

    Args:
        frontier_sd: 1-D array-like, standard deviation of each frontier portfolio.
        frontier_mean: 1-D array-like of the same length, mean return of each.
        portfolios: name -> (sd, mean), e.g. ``{"Tangency": ..., "Minimum variance": ...}``;
            each is marked and annotated with its name.
        assets: individual assets as a DataFrame with columns ``sd`` and ``mean`` (index =
            names) or a dict name -> (sd, mean); drawn as a scatter and labelled.
        ax: Axes to draw on; a new figure is created when None.
        sd_label, mean_label: axis labels (state the units).
        cml: name of a portfolio in ``portfolios`` (normally the tangency portfolio) through
            which to draw the capital market line from ``(0, risk_free)``; None for no line.
        risk_free: per-period risk-free return for the capital market line (the book uses 0).

    Returns:
        The Axes. ``ax.lines``: the inefficient branch when there is one, the efficient
        frontier, and the capital market line if asked for;
        ``ax.collections``: one scatter per named portfolio, plus one for the assets.

    Raises:
        ValueError: mismatched lengths, empty or non-finite frontier, negative sd, bad
            portfolio pairs, ``cml`` not among ``portfolios``.
        TypeError: ``assets`` of another type.
    """
    sd = np.asarray(frontier_sd, dtype=float).ravel()
    mean = np.asarray(frontier_mean, dtype=float).ravel()
    if sd.size == 0 or sd.shape != mean.shape:
        raise ValueError(
            f"frontier_sd and frontier_mean must be non-empty and the same length, got "
            f"{sd.size} and {mean.size}"
        )
    if not (np.isfinite(sd).all() and np.isfinite(mean).all()) or (sd < 0).any():
        raise ValueError("frontier values must be finite, with standard deviations >= 0")
    named = {str(k): _point(str(k), v) for k, v in (portfolios or {}).items()}
    if cml is not None and cml not in named:
        raise ValueError(f"cml={cml!r} is not one of the portfolios {list(named)}")
    if cml is not None and named[cml][0] == 0:
        raise ValueError(f"the capital market line needs {cml!r} to have sd > 0")
    points = _asset_points(assets) if assets is not None else []
    if ax is None:
        _, ax = plt.subplots()

    colors = mpl.rcParams["axes.prop_cycle"].by_key().get("color", COLORS)
    order = np.argsort(mean)
    sd, mean = sd[order], mean[order]
    turn = int(np.argmin(sd))  # the minimum-variance point splits the two branches
    if turn > 0:
        ax.plot(
            sd[: turn + 1],
            mean[: turn + 1],
            marker="o",
            markersize=3.0,
            linestyle="--",
            color="0.55",
            label="Inefficient branch",
        )
    ax.plot(
        sd[turn:],
        mean[turn:],
        marker="o",
        markersize=3.5,
        color=colors[0],
        label="Efficient frontier",
    )
    markers = ["*", "D", "s", "^", "v", "P", "X"]
    for i, (name, (p_sd, p_mean)) in enumerate(named.items()):
        ax.scatter(
            [p_sd],
            [p_mean],
            s=140 if i == 0 else 70,
            marker=markers[i % len(markers)],
            color=colors[(i + 1) % len(colors)],
            zorder=3,
            label=name,
        )
        ax.annotate(name, (p_sd, p_mean), textcoords="offset points", xytext=(8, -4), fontsize=9)
    if points:
        ax.scatter(
            [p[1] for p in points],
            [p[2] for p in points],
            s=25,
            color="0.35",
            zorder=2,
            label="Assets",
        )
        for name, a_sd, a_mean in points:
            ax.annotate(
                name,
                (a_sd, a_mean),
                textcoords="offset points",
                xytext=(4, 4),
                fontsize=8,
                color="0.3",
            )
    if cml is not None:
        t_sd, t_mean = named[cml]
        x_max = max(float(sd.max()), t_sd) * 1.1
        slope = (t_mean - risk_free) / t_sd
        ax.plot(
            [0.0, x_max],
            [risk_free, risk_free + slope * x_max],
            linestyle="--",
            linewidth=1.0,
            color="0.4",
            label="Capital market line",
        )
        ax.set_xlim(left=0.0)
    ax.set_xlabel(sd_label)
    ax.set_ylabel(mean_label)
    ax.legend(loc="best")
    return ax
