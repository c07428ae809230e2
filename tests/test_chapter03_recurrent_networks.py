"""Notebook 3.09 (recurrent networks): windows without look-ahead, the trading rule, the losses.

``make_windows`` (cell tagged ``make_windows``) builds the inputs known at the close of day t and
the label of day t+1; the test changes every return after day t and checks that the inputs of
day t stay the same. ``strategy_returns`` (cell ``strategy``) is the net return of the sign rule
with costs; the losses (cell ``losses``) are MADL, its smooth version GMADL and the pairwise
ranking loss. The notebook itself runs in quick mode on a generated price file of another
period, and with bad parameters.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from common.train import supervised

NOTEBOOK = "chapter03/09_recurrent_networks.ipynb"


def _returns(n=60, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(rng.normal(0, 0.01, (n, 2)), columns=["TGT", "PRED"],
                        index=pd.bdate_range("2015-01-01", periods=n))  # fmt: skip


@pytest.fixture(scope="module")
def make_windows(tagged_cell):
    return tagged_cell(NOTEBOOK, "make_windows", {"np": np})["make_windows"]


@pytest.fixture(scope="module")
def losses(tagged_cell):
    namespace = {"torch": torch, "nn": nn, "supervised": supervised, "mse": None,
                 "GMADL_A": 10.0, "GMADL_B": 1.0}  # fmt: skip
    return tagged_cell(NOTEBOOK, "losses", namespace)


def test_windows_hold_only_the_past(make_windows):
    ret, lookback = _returns(), 5
    X, y, decided, labelled = make_windows(ret, lookback)
    assert X.shape == (len(ret) - lookback, lookback, 2) and len(y) == len(decided) == len(labelled)
    for i in (0, 17, len(y) - 1):
        t = ret.index.get_loc(decided[i])
        np.testing.assert_array_equal(X[i], ret.iloc[t - lookback + 1 : t + 1].to_numpy())
        assert labelled[i] == ret.index[t + 1] and y[i] == ret.iloc[t + 1, 0]
    t = 30  # change every return after day t: the windows decided up to day t must not move
    later = ret.copy()
    later.iloc[t + 1 :] = 0.05
    X2, _, decided2, _ = make_windows(later, lookback)
    upto = decided2 <= ret.index[t]
    np.testing.assert_array_equal(X2[upto], X[upto])
    assert not np.array_equal(X2[~upto][0], X[~upto][0])


def test_strategy_returns_charge_costs_on_trades(tagged_cell):
    y = np.array([0.01, 0.02, -0.01, 0.03])
    ns = tagged_cell(
        NOTEBOOK, "strategy", {"np": np, "y": y, "COST_BPS": 10.0, "PERIODS_PER_YEAR": 252}
    )
    net = ns["strategy_returns"](np.array([1.0, -1.0, -1.0, 0.0]))
    np.testing.assert_allclose(net, [0.01 - 0.001, -0.02 - 0.002, 0.01, -0.001])
    assert ns["sharpe"](np.zeros(5)) == 0.0


def test_madl_is_minus_the_sign_strategy_return_and_has_no_gradient(losses):
    r = torch.tensor([0.02, -0.01, 0.03, -0.04])
    forecast = torch.tensor([0.5, 0.2, -0.1, -0.3], requires_grad=True)
    value = losses["madl"](forecast, r)
    assert value.item() == pytest.approx(-np.mean([0.02, -0.01, -0.03, 0.04]))
    value.backward()
    assert torch.count_nonzero(forecast.grad) == 0  # sign() is flat: gradient descent cannot move


def test_gmadl_tends_to_half_madl(losses):
    r = torch.tensor([0.5, -1.0, 2.0, -0.3, 0.8])
    forecast = torch.tensor([1.0, 0.4, -2.0, -0.5, 0.2])
    half_madl = losses["madl"](forecast, r).item() / 2
    gaps = [abs(losses["gmadl"](forecast, r, a=a).item() - half_madl) for a in (1.0, 10.0, 1000.0)]
    assert gaps[0] > gaps[1] > gaps[2] and gaps[2] < 1e-6


def test_ranking_loss_only_sees_the_order(losses):
    r = torch.tensor([0.3, -0.2, 0.1, 0.5])
    forecast = torch.tensor([0.2, -0.1, 0.0, 0.4])
    ranking = losses["ranking"]
    assert ranking(forecast + 7.0, r).item() == pytest.approx(ranking(forecast, r).item())
    good, bad = ranking(3 * r, r).item(), ranking(-3 * r, r).item()  # right order vs reversed
    assert good < np.log(2) < bad


def test_notebook_runs_on_a_readers_csv(price_csv, run_quick, outputs_text):
    """SOURCE='csv' with only CSV_PATH set: the file's first two columns and its own period."""
    path = price_csv(["AAA", "BBB", "CCC"], "2009-01-02", "2016-12-30", layout="long", seed=3)
    text = outputs_text(run_quick(NOTEBOOK, SOURCE="csv", CSV_PATH=str(path)))
    assert "source csv: target AAA, predictor BBB" in text and "..2016-12-30" in text
    for name in ["MLP", "RNN", "LSTM", "buy and hold", "GMADL", "ranking"]:
        assert name in text
    assert "Verdict: AAA from BBB" in text and "buy and hold" in text


@pytest.mark.parametrize("name, value", [("PREDICTOR", "GE"), ("COST_BPS", -5), ("LOOKBACK", 1)])
def test_notebook_names_a_bad_parameter(assert_bad_parameter, name, value):
    assert_bad_parameter(NOTEBOOK, name, value)
