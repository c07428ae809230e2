"""Smoke tests of common.plotting with the Agg backend: figures, labels, number of lines."""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from common import metrics, plotting

matplotlib.use("Agg")  # no display needed; switching is allowed while no figure is open


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture
def prices() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    idx = pd.bdate_range("2019-01-01", periods=800)
    steps = rng.normal(3e-4, 0.01, size=(len(idx), 2))
    return pd.DataFrame(100 * np.exp(np.cumsum(steps, axis=0)), index=idx, columns=["SPY", "BIL"])


def test_use_style_is_idempotent():
    with matplotlib.rc_context():
        plotting.use_style()
        first = {k: matplotlib.rcParams[k] for k in plotting.STYLE}
        plotting.use_style()
        assert {k: matplotlib.rcParams[k] for k in plotting.STYLE} == first
        assert tuple(matplotlib.rcParams["figure.figsize"]) == (10.0, 4.5)
        assert matplotlib.rcParams["axes.grid"] is True
        assert not matplotlib.rcParams["axes.spines.top"]
        assert not matplotlib.rcParams["axes.spines.right"]
        assert matplotlib.rcParams["axes.prop_cycle"].by_key()["color"] == plotting.COLORS


def test_prices_and_returns(prices):
    fig = plotting.plot_prices_and_returns(prices, title="Two ETFs")
    ax_p, ax_r = fig.axes
    assert len(ax_p.lines) == 2
    assert ax_p.get_ylabel() == "Adjusted close (USD)"
    assert ax_r.get_ylabel() == "Daily return (%)"
    assert ax_p.get_title() == "Two ETFs"
    # returns drawn in percent, computed from the prices (first row dropped)
    y = ax_r.lines[0].get_ydata()
    expected = 100 * metrics.simple_returns(prices)["SPY"].to_numpy()
    np.testing.assert_allclose(np.asarray(y, dtype=float), expected)
    # year ticks over a multi-year span
    fig.canvas.draw()
    labels = [t.get_text() for t in ax_r.get_xticklabels()]
    assert "2020" in labels


def test_prices_and_returns_series_with_given_returns(prices):
    spy = prices["SPY"].iloc[:75]
    rets = metrics.simple_returns(spy)
    fig = plotting.plot_prices_and_returns(spy, rets, price_label="Close (USD)")
    assert fig.axes[0].get_ylabel() == "Close (USD)"
    assert len(fig.axes[0].lines) == 1 and fig.axes[0].get_legend() is None
    fig.canvas.draw()  # the short-span date formatter renders


def test_cumulative_and_drawdown(prices):
    rets = metrics.simple_returns(prices)
    fig = plotting.plot_cumulative_and_drawdown(rets, title="Growth", labels=["A", "B"])
    ax_c, ax_d = fig.axes
    assert len(ax_c.lines) == 2 + 1  # one per column + the zero line
    assert len(ax_d.lines) == 2 and not ax_d.collections  # several series: lines, no shading
    assert ax_c.get_ylabel() == "Cumulative return (%)"
    assert ax_d.get_ylabel() == "Drawdown (%)"
    assert [t.get_text() for t in ax_c.get_legend().get_texts()] == ["A", "B"]
    dd = np.asarray(ax_d.lines[1].get_ydata(), dtype=float)
    assert dd[0] == 0.0  # anchored at 0 the day before the first return
    np.testing.assert_allclose(dd[1:], 100 * metrics.drawdown(rets)["BIL"].to_numpy())
    assert dd.max() <= 0.0
    cum = np.asarray(ax_c.lines[0].get_ydata(), dtype=float)
    assert cum[0] == 0.0 and cum[1] == pytest.approx(100 * rets["SPY"].iloc[0])
    assert cum[-1] == pytest.approx(100 * ((1 + rets["SPY"]).prod() - 1))
    assert ax_c.lines[0].get_xdata()[0] < rets.index[0]


def test_cumulative_and_drawdown_single_series_is_shaded(prices):
    rets = metrics.simple_returns(prices["SPY"])
    fig = plotting.plot_cumulative_and_drawdown(rets)
    assert len(fig.axes[1].collections) == 1


def test_format_log_axis_labels_between_powers_of_ten():
    fig, ax = plt.subplots()
    ax.plot([1, 2, 3], [80.0, 400.0, 3000.0])
    plotting.format_log_axis(ax)
    fig.canvas.draw()
    assert ax.get_yscale() == "log"
    labels = {t.get_text() for t in ax.get_yticklabels() if t.get_text()}
    assert {"200", "500", "1,000", "2,000"} <= labels
    with pytest.raises(ValueError, match="axis"):
        plotting.format_log_axis(ax, "z")


def test_cumulative_and_drawdown_bad_input(prices):
    rets = metrics.simple_returns(prices)
    with pytest.raises(ValueError, match="labels"):
        plotting.plot_cumulative_and_drawdown(rets, labels=["only one"])
    with pytest.raises(TypeError):
        plotting.plot_cumulative_and_drawdown([0.01, 0.02])
    gap = rets["SPY"].copy()
    gap.iloc[5] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        plotting.plot_cumulative_and_drawdown(gap)


def test_efficient_frontier():
    sd = np.linspace(0.008, 0.02, 21)
    mean = 0.0002 + 0.03 * (sd - 0.008) ** 0.5
    ports = {"Tangency": (sd[8], mean[8]), "Minimum variance": (sd[0], mean[0])}
    assets = pd.DataFrame({"sd": [0.012, 0.015], "mean": [0.0003, 0.0004]}, index=["EWC", "EWG"])
    ax = plotting.plot_efficient_frontier(sd, mean, portfolios=ports, assets=assets, cml="Tangency")
    assert ax.get_xlabel() == "Daily standard deviation"
    assert ax.get_ylabel() == "Daily mean return"
    assert len(ax.lines) == 2  # frontier (no inefficient branch here) + capital market line
    assert ax.lines[0].get_label() == "Efficient frontier"
    np.testing.assert_allclose(ax.lines[0].get_xdata(), sd)
    assert len(ax.collections) == 3  # two portfolios + the assets
    texts = {t.get_text() for t in ax.texts}
    assert {"Tangency", "Minimum variance", "EWC", "EWG"} <= texts
    # the capital market line passes through the tangency portfolio from (0, 0)
    x, y = (np.asarray(v, dtype=float) for v in ax.lines[1].get_data())
    assert y[0] == 0.0 and y[1] / x[1] == pytest.approx(mean[8] / sd[8])


def test_efficient_frontier_labels_only_the_upper_branch():
    mean = np.linspace(-0.001, 0.002, 31)
    sd = 0.01 + 5.0 * (mean - 0.0003) ** 2  # minimum variance at mean 0.0003
    ax = plotting.plot_efficient_frontier(sd, mean)
    lower, upper = ax.lines
    assert lower.get_label() == "Inefficient branch" and upper.get_label() == "Efficient frontier"
    assert np.min(upper.get_ydata()) == pytest.approx(0.0003)
    assert np.max(lower.get_ydata()) == pytest.approx(0.0003)


def test_efficient_frontier_on_given_axes_without_extras():
    fig, ax = plt.subplots()
    out = plotting.plot_efficient_frontier([0.1, 0.2], [0.01, 0.02], ax=ax, sd_label="SD (%)")
    assert out is ax and len(ax.lines) == 1 and not ax.collections
    assert ax.get_xlabel() == "SD (%)"
    out = plotting.plot_efficient_frontier([0.1], [0.01], assets={"X": (0.2, 0.03)})
    assert len(out.collections) == 1


def test_efficient_frontier_bad_input():
    with pytest.raises(ValueError, match="same length"):
        plotting.plot_efficient_frontier([0.1, 0.2], [0.01])
    with pytest.raises(ValueError, match="finite"):
        plotting.plot_efficient_frontier([0.1, np.nan], [0.01, 0.02])
    with pytest.raises(ValueError, match="cml"):
        plotting.plot_efficient_frontier([0.1], [0.01], portfolios={"A": (0.1, 0.01)}, cml="B")
    with pytest.raises(ValueError, match="pair"):
        plotting.plot_efficient_frontier([0.1], [0.01], portfolios={"A": 0.1})
    with pytest.raises(ValueError, match="'sd' and 'mean'"):
        plotting.plot_efficient_frontier([0.1], [0.01], assets=pd.DataFrame({"std": [0.1]}))
