"""Notebook 5.11 (the five-way Transformer portfolio study): purged retrains, no look-ahead, bad parameters.

The notebook replicates a blog post's walk-forward study and then fixes it. The post retrained its
Transformer on every sample up to the retrain date, although each sample's label is the return over
the next 21 trading days, so the last 21 training labels overlap the test block. The notebook saves
its retrain schedule (both pipelines) to ``<build dir>/chapter05/11_retrain_schedule.csv``; here:

- the purged pipeline's last training label ends before its test block starts, for every retrain,
  while the as-posted pipeline's does not (so the same check would catch a missing purge); the label
  end dates in the file are recomputed from the trading calendar, so the file cannot hide a leak;
- the test blocks of both pipelines are the same and follow each other without gaps;
- the sample builder (cell tagged ``samples``) gives each window only returns up to its own date and
  each label exactly the compounded return of the next ``horizon`` days;
- the study runs on a reader's ETF file (the ``csv`` branch of the yfinance path) of another period;
- bad parameter values stop the run with a message naming the parameter.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

NOTEBOOK = "chapter05/11_transformer_portfolio_five_way.ipynb"
HORIZON, RETRAIN_EVERY = 21, 126  # the notebook's defaults


@pytest.fixture(scope="module")
def samples(tagged_cell):
    return tagged_cell(NOTEBOOK, "samples", {"np": np, "torch": torch, "PATCH": 5})["make_samples"]


def test_samples_use_the_past_and_label_the_future(samples):
    rng = np.random.default_rng(0)
    rets = pd.DataFrame(rng.normal(0, 0.01, (120, 3)), index=pd.bdate_range("2020-01-01", periods=120))
    X, Y, rows = samples(rets, 10, 4)
    assert rows[0] == 9 and len(rows) == 111
    last_token = X[:, :, -1, :].numpy()  # days t-4..t, each as (own return, universe average)
    for k, t in [(0, 9), (50, 59), (110, 119)]:
        np.testing.assert_allclose(last_token[k, :, 8], 100 * rets.iloc[t].to_numpy(), rtol=1e-5)
        np.testing.assert_allclose(last_token[k, :, 0], 100 * rets.iloc[t - 4].to_numpy(), rtol=1e-5)
        np.testing.assert_allclose(last_token[k, :, 9], 100 * rets.iloc[t].mean(), rtol=1e-5)
        np.testing.assert_allclose(X[k, :, 0, 0].numpy(), 100 * rets.iloc[t - 9].to_numpy(), rtol=1e-5)
    for k, t in [(0, 9), (60, 69)]:
        np.testing.assert_allclose(Y[k], (1 + rets.iloc[t + 1: t + 5]).prod() - 1, rtol=1e-6)  # float32 returns
    assert np.isnan(Y[-4:]).all() and np.isfinite(Y[:-4]).all()  # the last labels would need future days
    changed = rets.copy()
    changed.iloc[60:] *= -3  # rewrite the future after row 59: windows up to row 59 must not move
    X2, _, _ = samples(changed, 10, 4)
    assert torch.equal(X2[: 59 - 9 + 1], X[: 59 - 9 + 1]) and not torch.equal(X2[51], X[51])


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """One quick run of the notebook with its own build folder; returns (executed notebook, schedule)."""
    import papermill

    from common.config import REPO_ROOT

    build = tmp_path_factory.mktemp("build")
    with pytest.MonkeyPatch.context() as mp:  # the kernel inherits these: quick mode, this run's build folder
        for key, value in [("GATAM_QUICK", "1"), ("GATAM_BUILD_DIR", str(build)), ("MPLBACKEND", "Agg")]:
            mp.setenv(key, value)
        nb = papermill.execute_notebook(str(REPO_ROOT / NOTEBOOK), str(build / "out.ipynb"), cwd=str(REPO_ROOT),
                                        kernel_name="python3", progress_bar=False)
    schedule = pd.read_csv(build / "chapter05" / "11_retrain_schedule.csv",
                           parse_dates=["retrain_date", "train_first_sample", "train_last_sample",
                                        "train_last_label_end", "test_start", "test_end"])
    return nb, schedule


def _calendar():
    from common.data import load_dataset

    prices = load_dataset("sp500_stocks").join(load_dataset("factor_etfs"), how="inner").dropna()
    return prices.index[1:]  # the dates of the daily returns


def test_purged_training_labels_end_before_each_test_block(quick_run):
    _, schedule = quick_run
    dates = _calendar()
    pos = {d: i for i, d in enumerate(dates)}
    for row in schedule.itertuples():  # the label of the last training sample: its next HORIZON returns
        assert row.train_last_label_end == dates[pos[row.train_last_sample] + HORIZON]
    purged = schedule[schedule.pipeline == "purged"]
    posted = schedule[schedule.pipeline == "as posted"]
    assert len(purged) == len(posted) >= 10
    assert (purged.train_last_label_end < purged.test_start).all()
    assert (purged.retrain_date == purged.test_start).all()
    # the post's pipeline trains up to the day before the test block: every retrain leaks
    assert (posted.train_last_label_end >= posted.test_start).all()
    assert (posted.test_start.to_numpy() == purged.test_start.to_numpy()).all()
    for a, b in zip(purged.itertuples(), purged.iloc[1:].itertuples(), strict=False):  # consecutive blocks, semi-annual
        assert pos[b.test_start] == pos[a.test_end] + 1
        assert pos[b.test_start] - pos[a.test_start] == RETRAIN_EVERY
    gap = [pos[e] - pos[s] for s, e in zip(purged.train_last_sample, purged.test_start, strict=True)]
    assert min(gap) == HORIZON + 1  # purge: the HORIZON samples before the test block are left out


def test_notebook_prints_tables_and_verdict(quick_run, outputs_text):
    text = outputs_text(quick_run[0])
    for needle in ["Sharpe: post", "fix 1: purge", "fix 3: max-Sharpe solved convexly", "shuffled forecasts",
                   "predicted spread %", "Verdict:", "+155.6%"]:
        assert needle in text, needle


def test_runs_on_a_readers_etf_file_of_another_period(run_quick, price_csv, outputs_text, tmp_path, monkeypatch):
    monkeypatch.setenv("GATAM_BUILD_DIR", str(tmp_path / "build"))
    path = price_csv(["AAA", "BBB", "CCC", "DDD", "EEE", "FFF", "SPY"], "2005-01-03", "2011-06-30", seed=3)
    text = outputs_text(run_quick(NOTEBOOK, SOURCE="csv", CSV_PATH=str(path), MARKET="SPY"))
    assert "6 assets (AAA, BBB, CCC, DDD, EEE, FFF)" in text and "2005-01-04.." in text
    assert "Verdict:" in text


@pytest.mark.parametrize("name, value", [("SOURCE", "bloomberg"), ("RETRAIN_EVERY", 100), ("WINDOW", 62),
                                         ("CAP", 0.01), ("FULL_BUDGET", "yes")])
def test_bad_parameter_stops_with_its_name(assert_bad_parameter, name, value):
    assert_bad_parameter(NOTEBOOK, name, value)
