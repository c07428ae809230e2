"""Tests of common.forecasting: the chapter-5 protocol, its GluonTS metrics and the naive row."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from common import forecasting as fc


@pytest.fixture(scope="module")
def returns():
    return fc.load_exchange_rates()


@pytest.fixture(scope="module")
def windows(returns):
    return fc.test_windows(returns=returns)


@pytest.fixture(scope="module")
def naive(windows):
    return fc.evaluate(lambda c, s: c[:, -1:], name="naive", windows=windows, progress=False)


def _naive(contexts, series_id):
    return contexts[:, -1:]


# =========================================================================== data and windows
def test_data_shapes_and_dates(returns):
    levels = fc.load_exchange_rates("levels")
    assert levels.shape == (7588, 8) and returns.shape == (7587, 8)
    assert levels.index[0] == pd.Timestamp("1990-01-01")
    assert levels.index[-1] == pd.Timestamp("2019-01-30")
    assert returns.index[0] == pd.Timestamp("1990-01-02")
    assert list(returns.columns) == [f"currency_{i}" for i in range(1, 9)]
    assert (returns.dtypes == "float64").all()
    # log returns of the levels
    assert returns.iloc[0, 0] == pytest.approx(math.log(0.7818 / 0.7855), abs=1e-15)
    with pytest.raises(ValueError, match="kind"):
        fc.load_exchange_rates("prices")


def test_test_windows_shapes(windows, returns):
    assert len(windows) == 803 * 8 and windows.n_dates == 803
    assert windows.contexts.shape == (6424, 30) and windows.contexts.dtype == np.float64
    dates = pd.DatetimeIndex(np.unique(windows.dates))
    assert len(dates) == 803
    assert dates[0] == pd.Timestamp(fc.TEST_START) and dates[-1] == pd.Timestamp(fc.TEST_END)
    # row k*8+s: date k, series s; context = the 30 returns before the date
    k, s = 5, 3
    i = k * 8 + s
    pos = returns.index.get_loc(pd.Timestamp(windows.dates[i]))
    np.testing.assert_array_equal(windows.contexts[i], returns.iloc[pos - 30 : pos, s])
    assert windows.targets[i] == returns.iloc[pos, s] and windows.series_id[i] == s
    # the first context ends on Friday 2016-01-01, a business day of the index
    assert returns.index[returns.index.get_loc(pd.Timestamp("2016-01-04")) - 1] == pd.Timestamp(
        "2016-01-01"
    )
    # MASE scale = seasonal error of the whole history before the forecast date
    past = returns.iloc[:pos, s].to_numpy()
    assert windows.seasonal_error[i] == pytest.approx(np.mean(np.abs(past[5:] - past[:-5])))
    quick = fc.test_windows(returns=returns, n_dates=10)
    assert len(quick) == 80 and quick.n_dates == 10
    np.testing.assert_array_equal(quick.contexts, windows.contexts[:80])


def test_training_windows_before_split(returns):
    X, y, sid = fc.training_windows(returns=returns)
    n_train = int((returns.index < pd.Timestamp(fc.TRAIN_END)).sum())
    assert X.shape == (8 * (n_train - 30), 30) and y.shape == sid.shape == (len(X),)
    assert X.dtype == y.dtype == np.float64
    assert np.bincount(sid).tolist() == [n_train - 30] * 8
    # the last target of each series is the last return before 2016-01-01
    last = returns.index[n_train - 1]
    assert last < pd.Timestamp(fc.TRAIN_END) and last == pd.Timestamp("2015-12-31")
    for s in range(8):
        rows = np.flatnonzero(sid == s)
        assert y[rows[-1]] == returns.iloc[n_train - 1, s]
        assert y[rows[0]] == returns.iloc[30, s]
        np.testing.assert_array_equal(X[rows[-1]], returns.iloc[n_train - 31 : n_train - 1, s])
        np.testing.assert_array_equal(X[rows[1:], -1], y[rows[:-1]])


def test_no_look_ahead(returns, windows):
    """Changing returns after a forecast date moves neither its context nor its forecast."""
    t = pd.Timestamp("2017-06-15")
    changed = returns.copy()
    changed.loc[changed.index > t] += 0.05
    w2 = fc.test_windows(returns=changed)
    upto = windows.dates <= np.datetime64(t)
    np.testing.assert_array_equal(w2.contexts[upto], windows.contexts[upto])
    np.testing.assert_array_equal(w2.targets[upto], windows.targets[upto])
    np.testing.assert_array_equal(w2.seasonal_error[upto], windows.seasonal_error[upto])
    assert not np.array_equal(w2.contexts[~upto], windows.contexts[~upto])

    def ar1(contexts, series_id):  # uses the whole context
        return contexts.mean(axis=1, keepdims=True) + 0.1 * contexts[:, -1:]

    e1 = fc.evaluate(ar1, name="ar1", windows=windows, progress=False)
    e2 = fc.evaluate(ar1, name="ar1", windows=w2, progress=False)
    before = e1.forecasts.index.get_level_values("date") <= t
    pd.testing.assert_frame_equal(e1.forecasts[before], e2.forecasts[before])
    # training windows: a change on or after TRAIN_END leaves them unchanged
    changed = returns.copy()
    changed.loc[fc.TRAIN_END :] = 1.0
    before, after = fc.training_windows(returns=returns), fc.training_windows(returns=changed)
    for a, b in zip(before, after, strict=True):
        np.testing.assert_array_equal(a, b)


def test_seasonal_errors_matches_gluonts_rule():
    x = np.random.default_rng(3).normal(size=15)

    def gluonts_rule(past, m=5):  # gluonts.evaluation.metrics.calculate_seasonal_error
        lag = m if m < len(past) else 1
        return np.mean(np.abs(past[:-lag] - past[lag:])) if len(past) > 1 else np.nan

    expected = [gluonts_rule(x[:t]) for t in range(len(x))]
    np.testing.assert_allclose(fc.seasonal_errors(x), expected, rtol=1e-14, equal_nan=True)
    two = fc.seasonal_errors(np.column_stack([x, 2 * x]))
    np.testing.assert_allclose(two[:, 1], 2 * two[:, 0], equal_nan=True)


# =========================================================================== metrics
def test_sample_quantiles_gluonts_rank_rule():
    samples = np.arange(20.0)[::-1].reshape(1, -1)  # 19 .. 0
    # rank round((n-1) q): 0.1 -> round(1.9) = 2, 0.5 -> round(9.5) = 10 (half to even), 0.9 -> 17
    np.testing.assert_array_equal(fc.sample_quantiles(samples), [[2.0, 10.0, 17.0]])
    assert fc.sample_quantiles(np.arange(7.0).reshape(1, -1)).tolist() == [[1.0, 3.0, 5.0]]
    assert fc.sample_quantiles(np.array([[4.0]])).tolist() == [[4.0, 4.0, 4.0]]


def test_score_forecasts_hand_computed():
    y = np.array([1.0, -2.0, 0.0, 3.0])
    q = np.array([[0.0, 1.0, 2.0], [-1.0, 0.0, 1.0], [-1.0, 0.0, 1.0], [1.0, 2.0, 4.0]])
    mean = np.array([1.0, 0.0, 0.0, 1.0])
    scale = np.array([1.0, 2.0, 1.0, 0.5])
    out = fc.score_forecasts(y, q, mean, scale)
    # |y - median| = 0, 2, 0, 1; / scale = 0, 1, 0, 2
    assert out["MASE"] == pytest.approx(3 / 4)
    # sMAPE: 0, 2*2/2 = 2, skipped (0/0), 2*1/5 = 0.4 -> mean of three
    assert out["sMAPE"] == pytest.approx((0 + 2 + 0.4) / 3)
    assert out["RMSE"] == pytest.approx(math.sqrt((0 + 4 + 0 + 4) / 4))
    # wQL[0.5] = 2 * sum 0.5 |y - q| / sum |y| = (0 + 2 + 0 + 1) / 6
    assert out["wQL[0.5]"] == pytest.approx(3 / 6)
    # wQL[0.1]: y > q: 2*0.1*(y-q); y <= q: 2*0.9*(q-y)
    ql01 = 2 * (0.1 * 1 + 0.9 * 1 + 0.1 * 1 + 0.1 * 2)
    ql09 = 2 * (0.1 * 1 + 0.1 * 3 + 0.1 * 1 + 0.1 * 1)
    assert out["wQL[0.1]"] == pytest.approx(ql01 / 6) and out["wQL[0.9]"] == pytest.approx(ql09 / 6)
    assert out["mean wQL"] == pytest.approx((ql01 / 6 + 0.5 + ql09 / 6) / 3)
    # q0.1 < y <= q0.9: rows 0, 2, 3 (row 1 is below)
    assert out["coverage 80%"] == pytest.approx(3 / 4)


# Reference values from GluonTS' Evaluator. Generated in a separate virtual environment
# (python3 -m venv /tmp/glvenv; pip install gluonts "pandas<3" scipy packaging: gluonts 0.17.0,
# numpy 2.4.6, pandas 2.x) by a script that built each case with _make_case below, turned each
# item into a pd.Series (history + target, PeriodIndex freq "B") and a
# gluonts.model.forecast.SampleForecast(samples=(n_samples, 1), start_date=target's period),
# and ran Evaluator(quantiles=[0.1, 0.5, 0.9], seasonality=5, num_workers=0); the numbers are
# the aggregate metrics and the per-item MASE / sMAPE columns, printed with repr().
GLUONTS_REFERENCE = {
    (0, 25, 20): {
        "checksum": -0.963878,
        "sMAPE": 1.6778216081122386,
        "MSE": 0.000140482364012,
        "RMSE": 0.011852525638529537,
        "wQL[0.1]": 0.38766521198628895,
        "wQL[0.5]": 1.2124232131618233,
        "wQL[0.9]": 0.7061455477937925,
        "mean wQL": 0.7687446576473015,
        "Coverage[0.1]": 0.12,
        "Coverage[0.9]": 0.8,
        "MASE_items": [0.0, math.inf, 0.28442574334985843, 0.0, 0.3118863955119215,
                       0.6259418105946448, 0.26012902314827074, 0.9526614606545621,
                       0.2752639202124083, 4.755267025967663, 0.9406498280564448,
                       0.635696996349569, 0.10634501362857225, 0.17651071110648678,
                       0.3692674950167699, 1.0817651956702747, 0.7139115797584703,
                       0.5468703711540903, 0.09993222381203405, 0.616682194870789,
                       1.763990010903591, 0.3417458883065245, 0.16706466263988387,
                       0.8315361598825722, 0.3411176461849053],
    },
    (1, 15, 1): {
        "checksum": -0.20580400000000001,
        "sMAPE": 1.0680419338653728,
        "MSE": 0.00013584848066666667,
        "RMSE": 0.011655405641446662,
        "wQL[0.1]": 0.822518417578674,
        "wQL[0.5]": 1.274624196227058,
        "wQL[0.9]": 1.7267299748754419,
        "mean wQL": 1.274624196227058,
        "Coverage[0.1]": 0.4666666666666667,
        "Coverage[0.9]": 0.4666666666666667,
        "MASE_items": [0.0, math.inf, 3.769097522951671, 0.0, 0.22561262563447512,
                       0.09774286785958564, 1.3862853604736658, 0.0009541090580728705,
                       0.5587542403326774, 0.5366120661693156, 0.04507217504682613,
                       0.6999585430855789, 0.04688182729461363, 0.9961743843149757,
                       0.0824894963374664],
    },
    (2, 15, 7): {
        "checksum": -0.150257,
        "sMAPE": 1.5442334882446218,
        "MSE": 0.00014676350465442177,
        "RMSE": 0.012114598823503062,
        "wQL[0.1]": 0.6436768746278719,
        "wQL[0.5]": 1.1308168521029258,
        "wQL[0.9]": 0.5614077373906928,
        "mean wQL": 0.7786338213738303,
        "Coverage[0.1]": 0.4,
        "Coverage[0.9]": 0.8,
        "MASE_items": [0.0, math.inf, 1.3307972610419256, 0.0, 1.6689842956730003,
                       0.3483346342486341, 1.9376793017151923, 0.764357742823974,
                       1.3060037657601828, 0.08557714285714287, 0.19128947200995325,
                       1.7308764768447984, 2.1276779417844027, 1.1664370564841051,
                       0.9235431808962686],
    },
}  # fmt: skip


def _make_case(seed, n_items, n_samples):
    """Random one-step items [history, target, samples] with GluonTS edge cases."""
    rng = np.random.default_rng(seed)
    items = []
    for _ in range(n_items):
        length = int(rng.integers(3, 40))
        history = np.round(rng.standard_t(4, size=length) * 0.01, 6)
        target = round(float(rng.standard_t(4) * 0.01), 6)
        samples = np.round(rng.normal(rng.normal(0, 0.003), 0.01, size=n_samples), 6)
        items.append([history, target, samples])
    # zero target with all-zero samples (sMAPE 0/0), constant history (scale 0: MASE inf),
    # a 4-value history (shorter than the seasonality: lag 1), a target equal to the median
    items[0][1] = 0.0
    items[0][2] = np.zeros(n_samples)
    items[1][0] = np.full(12, 0.002)
    items[2][0] = items[2][0][:4] if len(items[2][0]) >= 4 else np.array([0.01, -0.02, 0.0, 0.005])
    items[3][1] = float(np.sort(items[3][2])[int(np.round((n_samples - 1) * 0.5))])
    return items


@pytest.mark.parametrize("case", list(GLUONTS_REFERENCE))
def test_metrics_match_gluonts_evaluator(case):
    ref = GLUONTS_REFERENCE[case]
    items = _make_case(*case)
    checksum = sum(h.sum() + t + s.sum() for h, t, s in items)
    assert checksum == pytest.approx(ref["checksum"], abs=1e-12), "random stream changed"
    targets = np.array([t for _, t, _ in items])
    samples = np.vstack([s for _, _, s in items])
    scale = np.array([fc.seasonal_errors(np.append(h, t))[len(h)] for h, t, _ in items])
    out = fc.score_forecasts(targets, fc.sample_quantiles(samples), samples.mean(axis=1), scale)
    for key in ("sMAPE", "MSE", "RMSE", "wQL[0.1]", "wQL[0.5]", "wQL[0.9]", "mean wQL"):
        assert out[key] == pytest.approx(ref[key], rel=1e-10, abs=1e-14), key
    assert out["Coverage[0.1]"] == ref["Coverage[0.1]"]
    assert out["Coverage[0.9]"] == ref["Coverage[0.9]"]
    assert out["coverage 80%"] == pytest.approx(ref["Coverage[0.9]"] - ref["Coverage[0.1]"])
    # MASE: GluonTS keeps the inf of the constant-history item in the mean
    assert out["MASE"] == math.inf
    median = fc.sample_quantiles(samples)[:, 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        per_item = np.abs(targets - median) / scale
    np.testing.assert_allclose(per_item, ref["MASE_items"], rtol=1e-10, atol=1e-14)
    finite = np.delete(np.arange(len(items)), 1)
    sub = fc.score_forecasts(
        targets[finite],
        fc.sample_quantiles(samples[finite]),
        samples[finite].mean(axis=1),
        scale[finite],
    )
    assert sub["MASE"] == pytest.approx(np.mean(np.delete(ref["MASE_items"], 1)), rel=1e-10)


# =========================================================================== the official row
def test_naive_reproduces_the_official_row(naive):
    official = fc.OFFICIAL.loc["naive"]
    for key in official.index:  # MASE, RMSE, wQL[0.5], mean wQL, printed to 6 decimals
        assert abs(naive.metrics[key] - official[key]) <= 1e-6, key
    assert naive.metrics["coverage 80%"] == 0.0 and naive.n_samples == 1
    # sMAPE: the official computation ran in float32 (1.638403); float64 data gives 1.6384045
    assert naive.metrics["sMAPE"] == pytest.approx(fc.OFFICIAL_NAIVE_EXTRA["sMAPE"], abs=2e-6)
    # investment scores per currency: float32 there, float64 here -> agree to ~1e-4
    ours = naive.investment.loc[fc.OFFICIAL_NAIVE_INVESTMENT.index]
    np.testing.assert_allclose(ours, fc.OFFICIAL_NAIVE_INVESTMENT, atol=1e-4)
    assert naive.investment.loc["mean", "Sharpe"] == pytest.approx(ours["Sharpe"].mean())


def test_naive_float32_data_matches_official_smape():
    r32 = fc.load_exchange_rates(float32=True)
    e = fc.evaluate(_naive, name="naive", returns=r32, progress=False)
    assert abs(e.metrics["sMAPE"] - fc.OFFICIAL_NAIVE_EXTRA["sMAPE"]) <= 1e-6
    for key in fc.OFFICIAL.columns:
        assert abs(e.metrics[key] - fc.OFFICIAL.loc["naive", key]) <= 1e-6, key


def test_samples_quantiles_and_mean_are_used(windows):
    rng = np.random.default_rng(0)

    def noisy(contexts, series_id):
        return rng.normal(0, contexts.std(axis=1, keepdims=True), size=(len(contexts), 20))

    e = fc.evaluate(noisy, name="noisy", windows=windows, batch_size=1000, progress=False)
    f = e.forecasts
    assert e.n_samples == 20 and len(f) == 6424
    assert list(f.index.names) == ["date", "series"]
    assert (f["q0.1"] <= f["q0.5"]).all() and (f["q0.5"] <= f["q0.9"]).all()
    assert 0.6 < e.metrics["coverage 80%"] < 0.9
    assert e.metrics["mean wQL"] < e.metrics["wQL[0.5]"]
    recomputed = fc.score_forecasts(
        f["target"], f[["q0.1", "q0.5", "q0.9"]], f["mean"], f["seasonal_error"]
    )
    pd.testing.assert_series_equal(recomputed[list(fc.METRICS)], e.metrics)
    assert list(e.investment.index) == [*windows.series, "mean"]


def test_quantile_mapping_and_dates_keyword(windows):
    seen = {}

    def quantile_forecaster(contexts, series_id, dates):
        seen["dates"] = dates
        sd = contexts.std(axis=1)
        return {0.1: -1.28 * sd, 0.5: 0 * sd, 0.9: 1.28 * sd}

    e = fc.evaluate(quantile_forecaster, name="q", windows=windows, progress=False)
    assert e.n_samples == 0 and len(seen["dates"]) == len(windows)
    assert e.metrics["wQL[0.5]"] == pytest.approx(2.0 * 0.5)  # zero median: sum|y| / sum|y|
    assert e.all_metrics["RMSE"] == pytest.approx(np.sqrt(np.mean(windows.targets**2)))


def test_torch_tensor_output(windows):
    torch = pytest.importorskip("torch")

    def model(contexts, series_id):
        x = torch.tensor(contexts, dtype=torch.float32, requires_grad=True)
        return x[:, -1:] * 1.0  # float32, still attached to the graph

    e = fc.evaluate(model, name="torch naive", windows=windows, progress=False)
    assert e.metrics["MASE"] == pytest.approx(fc.OFFICIAL.loc["naive", "MASE"], abs=1e-5)


def test_metric_table(naive):
    table = fc.metric_table(naive)
    assert list(table.columns) == [*fc.METRICS, "seconds", "source"]
    assert table.loc["naive", "source"] == "ours"
    assert table.loc["naive (official)", "MASE"] == 0.970666
    assert len(table) == 1 + len(fc.OFFICIAL)
    assert len(fc.metric_table(naive, official=False)) == 1
    row = naive.row()
    assert row.index.tolist() == ["naive"] and row.loc["naive", "seconds"] > 0


# =========================================================================== bad input
@pytest.mark.parametrize(
    "output, message",
    [
        (lambda c, s: c[:-1, -1:], r"'broken' returned shape \(6423, 1\) for 6424"),
        (lambda c, s: c[:, -1:, None], r"'broken' returned shape"),
        (lambda c, s: np.where(s[:, None] == 2, np.nan, c[:, -1:]), r"'broken'.*NaN"),
        (lambda c, s: {0.1: c[:, -1], 0.5: c[:, -1]}, r"'broken'.*without the quantile keys"),
        (lambda c, s: {0.1: c[:, -1], 0.5: c[:, -1] - 1, 0.9: c[:, -1]}, r"not increasing"),
        (lambda c, s: "x", r"'broken'"),
    ],
)
def test_bad_forecaster_output(windows, output, message):
    with pytest.raises(ValueError, match=message):
        fc.evaluate(output, name="broken", windows=windows, progress=False)


def test_bad_arguments(returns):
    with pytest.raises(ValueError, match="context"):
        fc.test_windows(0, returns)
    with pytest.raises(ValueError, match="name"):
        fc.evaluate(_naive, name="")
    with pytest.raises(ValueError, match="batch_size"):
        fc.evaluate(_naive, name="naive", batch_size=0)
    with pytest.raises(ValueError, match="n_dates"):
        fc.test_windows(returns=returns, n_dates=0)
    nan = returns.copy()
    nan.iloc[100, 2] = np.nan
    with pytest.raises(ValueError, match="currency_3"):
        fc.test_windows(returns=nan)
    with pytest.raises(TypeError, match="DataFrame"):
        fc.training_windows(returns=returns.to_numpy())
    with pytest.raises(ValueError, match="need more than context"):
        fc.training_windows(returns=returns.loc["2015-12-01":])
    with pytest.raises(ValueError, match="earlier returns"):
        fc.test_windows(returns=returns.loc["2015-12-20":])


# =========================================================================== baselines
def test_zero_and_historical_quantile_baselines(windows, returns):
    zero = fc.evaluate(fc.zero_forecaster, name="zero", windows=windows, progress=False)
    assert zero.metrics["wQL[0.5]"] == 1.0 and zero.metrics["sMAPE"] == 2.0
    assert zero.metrics["RMSE"] == pytest.approx(np.sqrt(np.mean(windows.targets**2)))
    hist = fc.historical_quantile_forecaster(returns)
    out = hist(windows.contexts[:16], windows.series_id[:16])
    train = returns.loc[:"2015-12-31"]
    np.testing.assert_allclose(out[0.9][:8], train.quantile(0.9).to_numpy())
    assert (out[0.5] == 0).all()
    changed = returns.copy()
    changed.loc[fc.TRAIN_END :] *= 3  # the test period does not move the quantiles
    out2 = fc.historical_quantile_forecaster(changed)(windows.contexts[:16], windows.series_id[:16])
    np.testing.assert_array_equal(out[0.1], out2[0.1])


def test_garch_filter_is_one_step_and_has_no_look_ahead(returns):
    data = returns[["currency_8"]]
    params, sigma = fc.fit_garch_t(data)
    assert list(params.columns) == ["omega", "alpha[1]", "beta[1]", "nu"]
    # the recursion by hand, in percent: sigma_t^2 = omega + alpha r_{t-1}^2 + beta sigma_{t-1}^2
    p = params.loc["currency_8"]
    r, s = 100 * data["currency_8"].to_numpy(), 100 * sigma["currency_8"].to_numpy()
    t = np.arange(1, len(r))
    np.testing.assert_allclose(
        s[t] ** 2, p["omega"] + p["alpha[1]"] * r[t - 1] ** 2 + p["beta[1]"] * s[t - 1] ** 2
    )
    cut = pd.Timestamp("2017-03-01")
    changed = data.copy()
    changed.loc[changed.index > cut] *= 5
    params2, sigma2 = fc.fit_garch_t(changed)
    pd.testing.assert_frame_equal(params, params2)
    upto = sigma.index <= cut  # sigma of date t uses returns before t only
    pd.testing.assert_frame_equal(sigma[upto], sigma2[upto])
    assert not sigma.loc[sigma.index > cut].iloc[1:].equals(sigma2.loc[sigma2.index > cut].iloc[1:])
    w = fc.test_windows(returns=data, n_dates=5)
    forecaster = fc.garch_t_forecaster(data)
    q = forecaster(w.contexts, w.series_id, dates=w.dates)
    assert (q[0.5] == 0).all() and (q[0.1] < 0).all()
    np.testing.assert_allclose(q[0.9], -q[0.1], rtol=1e-12)
    draws = fc.garch_t_forecaster(data, n_samples=20)(w.contexts, w.series_id, dates=w.dates)
    assert draws.shape == (5, 20)


def test_training_target_dates_align_with_the_windows():
    returns = fc.load_exchange_rates()
    X, y, sid = fc.training_windows()
    dates = fc.training_target_dates()
    assert len(dates) == len(y) and dates.max() < pd.Timestamp(fc.TRAIN_END)
    for row in (0, 1234, len(y) - 1):  # each target is the return of its series on its date
        assert y[row] == returns.iloc[:, sid[row]].loc[dates[row]]


def test_garch_fit_does_not_depend_on_blas_threads():
    """The pegged yuan made SLSQP's path depend on BLAS threads (1 vs 2 gave other params)."""
    import os
    import subprocess
    import sys

    code = (
        "from common import forecasting as fc; p, _ = fc.fit_garch_t(); "
        "print(p.to_numpy().round(10).tolist())"
    )
    out = []
    for threads in ("1", "2"):
        env = {**os.environ, "OPENBLAS_NUM_THREADS": threads, "OMP_NUM_THREADS": threads}
        run = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        out.append(run.stdout)
    assert out[0] == out[1]
    assert "ConvergenceWarning" not in run.stderr


def test_window_scale_is_lower_median_and_floored_iqr():
    import torch

    x = torch.tensor([[1.0, 2.0, 3.0, 10.0], [0.0, 0.0, 0.0, 0.0]], dtype=torch.float64)
    loc, scale = fc.window_scale(x)
    assert loc[:, 0].tolist() == [2.0, 0.0]  # torch.median: the lower middle value
    q = np.quantile([1.0, 2.0, 3.0, 10.0], [0.25, 0.75])
    assert scale[0, 0].item() == pytest.approx(q[1] - q[0]) and scale[1, 0].item() == 1e-10


def test_save_and_load_evaluations_round_trip(windows, tmp_path, monkeypatch):
    monkeypatch.setenv("GATAM_QUICK", "0")
    rng = np.random.default_rng(0)

    def noisy(contexts, series_id):
        return rng.normal(0.0, 0.005, size=(len(contexts), 20))

    ev = fc.evaluate(noisy, name="Noisy model (1)", windows=windows, progress=False)
    path = ev.save("trained here", train_seconds=2.5, n_parameters=10, folder=tmp_path)
    assert path.name == "noisy-model-1.json"
    back = fc.load_evaluations(tmp_path)
    assert list(back) == ["Noisy model (1)"]
    got = back["Noisy model (1)"]
    pd.testing.assert_series_equal(got.all_metrics, ev.all_metrics)
    pd.testing.assert_frame_equal(got.forecasts, ev.forecasts, check_freq=False)
    pd.testing.assert_frame_equal(got.investment, ev.investment)
    assert (got.n_samples, got.n_dates) == (20, windows.n_dates)
    assert got.extra == {
        "kind": "trained here",
        "train_seconds": 2.5,
        "n_parameters": 10,
        "quick": False,
    }


def test_save_rejects_unknown_kind_and_load_names_a_broken_file(windows, tmp_path):
    ev = fc.evaluate(fc.zero_forecaster, name="zero", windows=windows, progress=False)
    with pytest.raises(ValueError, match="kind must be one of"):
        ev.save("pretrained", folder=tmp_path)
    assert fc.load_evaluations(tmp_path / "empty") == {}
    ev.save("baseline", folder=tmp_path)
    (tmp_path / "zero.forecasts.csv.gz").unlink()
    with pytest.raises(ValueError, match="zero.json"):
        fc.load_evaluations(tmp_path)


def test_load_evaluations_can_skip_a_broken_file(windows, tmp_path):
    ev = fc.evaluate(fc.zero_forecaster, name="zero", windows=windows, progress=False)
    ev.save("baseline", folder=tmp_path)
    (tmp_path / "half-written.json").write_text("{not json")
    with pytest.warns(UserWarning, match="half-written.json"):
        assert list(fc.load_evaluations(tmp_path, errors="skip")) == ["zero"]
    with pytest.raises(ValueError, match="errors must be"):
        fc.load_evaluations(tmp_path, errors="ignore")
