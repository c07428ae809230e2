"""Notebook 3.11 (corrective AI, meta-labeling): trades, labels and entry features without look-ahead.

Book §3.2 (introduction). The notebook labels each trade of a moving-average crossover by its
outcome after costs and describes it by features known at its entry close. ``crossover_trades``,
``entry_features`` and ``trade_table`` (cell tagged ``trades``) are checked here on simulated
prices:

- the rule's timing: a trade opens at the first close where the fast average is above the slow
  one and closes at the first close where it is not; net return = gross - 2 x cost; label = net > 0;
- no look-ahead: replacing every price after a cut date leaves the features of each trade
  entered by the cut, and the outcome of each trade closed by the cut, exactly unchanged; the
  same check catches a leaky feature (a centred moving average);
- the notebook runs in quick mode on a reader's CSV file of another period, and stops with a
  message naming the parameter when one is unusable.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

NOTEBOOK = "chapter03/11_corrective_ai_metalabeling.ipynb"
FAST, SLOW, COST_BPS = 10, 40, 10.0


@pytest.fixture(scope="module")
def cell(tagged_cell):
    return tagged_cell(NOTEBOOK, "trades", {"np": np, "pd": pd})


def _prices(seed=0, n=2500):
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2001-01-01", periods=n)
    stock = pd.Series(100 * np.exp(np.cumsum(rng.normal(0.0003, 0.015, n))), dates)
    market = pd.Series(100 * np.exp(np.cumsum(rng.normal(0.0003, 0.01, n))), dates)
    return stock, market


def _shock_after(prices, cut, seed):
    """The same prices up to ``cut``; afterwards multiplied by an independent random walk."""
    after = prices.index > cut
    shocked = prices.copy()
    shocked[after] *= np.exp(np.cumsum(np.random.default_rng(seed).normal(0, 0.03, after.sum())))
    return shocked


def _unchanged(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return bool(np.all((a == b) | (np.isnan(a) & np.isnan(b))))


def test_crossover_timing_and_labels(cell):
    stock, _ = _prices(seed=1)
    trades = cell["crossover_trades"](stock, FAST, SLOW, COST_BPS)
    long = (stock.rolling(FAST).mean() > stock.rolling(SLOW).mean()).to_numpy()
    pos = {d: i for i, d in enumerate(stock.index)}
    assert len(trades) > 10
    for t in trades.itertuples():
        e = pos[t.entry]
        assert long[e] and not long[e - 1]  # the first long close
        if pd.isna(t.exit):  # still open: long until the last close
            assert long[e:].all() and np.isnan(t.label)
            continue
        x = pos[t.exit]
        assert long[e:x].all() and not long[x]  # the first close out
        assert t.gross == pytest.approx(stock.iloc[x] / stock.iloc[e] - 1, rel=1e-12)
        assert t.net == pytest.approx(t.gross - 2 * COST_BPS / 1e4, rel=1e-12)
        assert t.label == float(t.net > 0)
    closed = trades.dropna(subset=["exit"])
    assert (closed["exit"].iloc[:-1].to_numpy() < trades["entry"].iloc[1:len(closed)].to_numpy()).all()


def _look_ahead_moves(table, stock, market, cut, seed):
    """(features of trades entered by the cut unchanged, outcomes of trades closed by it unchanged)."""
    before = table(stock, market, FAST, SLOW, COST_BPS)
    after = table(_shock_after(stock, cut, seed), _shock_after(market, cut, seed + 1), FAST, SLOW, COST_BPS)
    features = [c for c in before.columns if c not in ("entry", "exit", "days", "gross", "net", "label")]
    n_in, n_closed = int((before["entry"] <= cut).sum()), int((before["exit"] <= cut).sum())
    assert n_closed >= 3
    same_features = _unchanged(before[features].iloc[:n_in], after[features].iloc[:n_in])
    same_outcomes = _unchanged(before[["net", "label", "days"]].iloc[:n_closed],
                               after[["net", "label", "days"]].iloc[:n_closed]) and (
        before["entry"].iloc[:n_in].equals(after["entry"].iloc[:n_in]))
    later_changed = not before.iloc[n_in:].reset_index(drop=True).equals(after.iloc[n_in:].reset_index(drop=True))
    return same_features, same_outcomes, later_changed


@pytest.mark.parametrize("cut_at", [700, 1300, 1900])
def test_features_and_labels_use_no_later_prices(cell, cut_at):
    stock, market = _prices(seed=cut_at)
    same_features, same_outcomes, later_changed = _look_ahead_moves(
        cell["trade_table"], stock, market, stock.index[cut_at], seed=cut_at)
    assert same_features, "an entry feature changed when only later prices changed"
    assert same_outcomes, "a closed trade's outcome changed when only later prices changed"
    assert later_changed, "the shock should change the trades after the cut (else the check is void)"


def test_the_check_catches_a_leaky_feature(cell):
    """A centred moving average at the entry close reads prices after it: the same check fails."""
    def leaky_table(close, market, fast, slow, cost_bps):
        table = cell["trade_table"](close, market, fast, slow, cost_bps)
        table["centred 21d average"] = close.rolling(21, center=True).mean().loc[table["entry"]].to_numpy()
        return table

    stock, market = _prices(seed=3)
    entries = cell["crossover_trades"](stock, FAST, SLOW, COST_BPS)["entry"]
    cut = entries.iloc[len(entries) // 2] + pd.Timedelta(days=3)  # an entry a few days before the cut
    same_features, _, _ = _look_ahead_moves(leaky_table, stock, market, cut, seed=3)
    assert not same_features


def test_previous_trade_is_closed_at_entry(cell):
    stock, market = _prices(seed=4)
    table = cell["trade_table"](stock, market, FAST, SLOW, COST_BPS)
    gap = table["days since previous exit"].dropna()
    assert len(gap) > 10 and (gap > 0).all()
    np.testing.assert_array_equal(table["previous trade net"].iloc[1:], table["net"].iloc[:-1])


def test_notebook_runs_on_a_reader_csv(run_quick, price_csv, outputs_text):
    path = price_csv(["AAA", "BBB", "CCC", "DDD", "EEE", "FFF"], "2004-01-01", "2016-12-31", layout="long")
    nb = run_quick(NOTEBOOK, SOURCE="csv", CSV_PATH=str(path))
    text = outputs_text(nb)
    assert "source csv: 6 stocks (AAA, BBB, CCC, DDD, EEE, FFF)" in text
    assert "2004-01-01..2016-12-30" in text
    assert "35 candidates of AAA, BBB, CCC, DDD" in text
    assert "Verdict: no look-ahead" in text


@pytest.mark.parametrize(
    ("name", "value"),
    [("SLOW", 10), ("COST_BPS", -1.0), ("SKIP_SHARES", [0.5]), ("CPO_STEP", 0.3), ("SOURCE", "excel"),
     ("VALIDATION_FRACTION", 0.45)],
)
def test_bad_parameter_fails_naming_it(assert_bad_parameter, name, value):
    assert_bad_parameter(NOTEBOOK, name, value)
