"""Tests of common.generative: the chapter-4 evaluation toolbox used by chapters 6-8 (CPU, fast)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from common.generative import (
    abs_by_position,
    blocked_split,
    chronological_split,
    discriminative_score,
    embedding_plot,
    evaluate_generator,
    load_spx_pair,
    make_windows,
    ohlc_consistency,
    predictive_score,
    split_index,
    stylized_facts,
    var_exceedance,
    window_acf,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _ar1(n, phi=0.5, seed=0, d=1):
    rng = np.random.default_rng(seed)
    eps = rng.standard_normal((n, d))
    x = np.zeros((n, d))
    for t in range(1, n):
        x[t] = phi * x[t - 1] + eps[t]
    return x


def _real_halves(seed=0, n_windows=4000, length=10):
    """Two disjoint random halves of non-overlapping windows of one AR(1) series."""
    w = make_windows(_ar1(n_windows * length, seed=seed), length, stride=length)
    order = np.random.default_rng(seed + 1).permutation(len(w))
    a, b = w[order[: len(w) // 2]], w[order[len(w) // 2 :]]
    half = len(a) // 2
    return a[:half], b[:half], a[half:], b[half:]


# ---------------------------------------------------------------- windows and split


def test_make_windows_shape_and_content():
    data = np.arange(20.0).reshape(10, 2)
    w = make_windows(data, 4)
    assert w.shape == (7, 4, 2)
    np.testing.assert_array_equal(w[3], data[3:7])
    assert make_windows(pd.Series(np.arange(10.0)), 5, stride=5).shape == (2, 5, 1)


def test_chronological_split_no_overlap_and_one_window_gap():
    length, n = 20, 1000
    rows = np.arange(float(n))  # each value is its own row number
    train, test = chronological_split(rows, length, test_fraction=0.25)
    s = split_index(n, 0.25)
    assert s == 750
    last_train_row, first_test_row = train[:, -1, 0].max(), test[:, 0, 0].min()
    assert last_train_row == s - 1  # all training windows end before the split
    assert first_test_row == s + length  # one whole window length is left out
    assert first_test_row - last_train_row - 1 == length
    assert not set(train.ravel()) & set(test.ravel())  # no shared row at all
    assert test[:, -1, 0].max() == n - 1
    # the same split from stride-1 windows
    train_w, test_w = chronological_split(make_windows(rows, length), length, test_fraction=0.25)
    np.testing.assert_array_equal(train_w, train)
    np.testing.assert_array_equal(test_w, test)


def test_blocked_split_disjoint_same_period_with_gap():
    length, n = 5, 400
    rows = np.arange(float(n))
    first, second = blocked_split(make_windows(rows, length), test_fraction=0.25, seed=2)
    assert len(first) > 0 and len(second) > 0
    spans_a = {(w[0, 0], w[-1, 0]) for w in first}
    spans_b = [(w[0, 0], w[-1, 0]) for w in second]
    for start_b, end_b in spans_b:  # every pair of windows is at least `length` rows apart
        for start_a, end_a in spans_a:
            assert start_b - end_a > length or start_a - end_b > length
    # both sets reach across the period (not one block each at the ends)
    assert second[:, -1, 0].max() - second[:, 0, 0].min() > 5 * length  # more than one block
    assert first[:, 0, 0].min() < n / 4 and first[:, -1, 0].max() > 3 * n / 4


def test_load_spx_pair_uses_training_statistics_only():
    pair = load_spx_pair()
    assert list(pair.data.columns) == ["log_return", "log_gk_vol"]
    assert len(pair.data) == 5030 and pair.split == 4024
    assert pair.split_date == pd.Timestamp("2015-01-02")
    train = pair.data.iloc[: pair.split]
    np.testing.assert_allclose(train.mean(), 0, atol=1e-12)
    np.testing.assert_allclose(train.std(), 1, atol=1e-12)
    # the test period was NOT used: its mean is not forced to zero
    assert abs(pair.data.iloc[pair.split :]["log_gk_vol"].mean()) > 0.01
    np.testing.assert_allclose(pair.raw["log_return"].iloc[: pair.split].std(), pair.std["log_return"])


# ---------------------------------------------------------------- discriminative score


def test_discriminative_two_real_halves_is_near_half_and_deterministic():
    a_tr, b_tr, a_te, b_te = _real_halves()
    first = discriminative_score(a_tr, b_tr, a_te, b_te, seed=3, epochs=3)
    assert abs(first["auc"] - 0.5) < 0.05, first
    assert abs(first["accuracy"] - 0.5) < 0.05, first
    again = discriminative_score(a_tr, b_tr, a_te, b_te, seed=3, epochs=3)
    assert again == first  # same seed, same scores


def test_discriminative_shifted_distribution_is_near_one():
    a_tr, b_tr, a_te, b_te = _real_halves(seed=5)
    score = discriminative_score(a_tr, b_tr + 2.0, a_te, b_te + 2.0, seed=0, epochs=3)
    assert score["auc"] > 0.95, score
    assert score["accuracy"] > 0.85, score


# ---------------------------------------------------------------- predictive score


def test_predictive_score_tstr_vs_trtr():
    w = make_windows(_ar1(6000, phi=0.8, seed=2), 6, stride=3)
    train, test = w[:1500], w[1500:]
    trtr = predictive_score(train, test)
    assert trtr["mse"] == pytest.approx(1.0, abs=0.1)  # the AR(1) innovation variance
    noise = np.random.default_rng(0).standard_normal(train.shape) * 2.3  # no dynamics
    tstr = predictive_score(noise, test)
    assert tstr["mse"] > 2.0 * trtr["mse"]  # a useless generator scores much worse
    gru = predictive_score(train, test, model="gru", epochs=3, seed=1)
    assert gru == predictive_score(train, test, model="gru", epochs=3, seed=1)
    assert gru["mse"] < 1.5


# ---------------------------------------------------------------- stylized facts


def test_stylized_facts_of_ar1_and_hand_checked_series():
    facts = stylized_facts(_ar1(20000, phi=0.5, seed=4)[:, 0], nlags=50)
    assert facts["acf_r"].index[0] == 1 and len(facts["acf_r"]) == 50
    assert facts["acf_r"][1] == pytest.approx(0.5, abs=0.03)
    assert facts["acf_r"][2] == pytest.approx(0.25, abs=0.03)
    assert abs(facts["kurtosis"]) < 0.1  # Gaussian: no excess kurtosis
    # alternating +-1: ACF at lag 1 is -(n-1)/n, |r| is constant (ACF undefined: NaN)
    alt = np.tile([1.0, -1.0], 50)
    f2 = stylized_facts(alt, nlags=3, leverage_lags=2)
    assert f2["acf_r"][1] == pytest.approx(-99 / 100)
    assert f2["acf_abs"].isna().all()
    assert f2["kurtosis"] == pytest.approx(-2.0)  # two-point law


def test_leverage_effect_sign():
    rng = np.random.default_rng(0)
    r = np.empty(5000)
    r[0] = 0.0
    for t in range(1, r.size):  # volatility rises after a fall
        r[t] = rng.standard_normal() * (1.0 + 2.0 * (r[t - 1] < 0))
    facts = stylized_facts(r, nlags=5, leverage_lags=3)
    assert facts["leverage"][1] < -0.2
    assert abs(facts["leverage"][3]) < 0.1


def test_window_acf_and_abs_by_position():
    w = make_windows(np.tile([1.0, -1.0], 50), 10, stride=10)
    assert window_acf(w, 1, transform="none") == pytest.approx(-1.0)
    w = np.ones((4, 3, 1)) * np.array([1.0, 2.0, 3.0])[None, :, None]
    np.testing.assert_allclose(abs_by_position(-w), [1.0, 2.0, 3.0])


# ---------------------------------------------------------------- OHLC and VaR


def test_ohlc_consistency_counts_on_hand_made_bars():
    o = [10, 10, 10, 10, 10]
    h = [11, 9.5, 11, 8, 10]
    lo = [9, 9, 10.5, 9, 10]
    c = [10.5, 9.2, 10.2, 9, 10]
    # bar 0 fine; 1: high 9.5 < open 10; 2: low 10.5 > close 10.2; 3: high 8 < open and < low 9
    out = ohlc_consistency(o, h, lo, c)
    assert out["n_bars"] == 5
    assert out["high_below_max_oc"] == 2  # bars 1 and 3
    assert out["low_above_min_oc"] == 1  # bar 2
    assert out["high_below_low"] == 1  # bar 3
    assert out["inconsistent"] == 3
    assert out["share_inconsistent"] == pytest.approx(0.6)


def test_var_exceedance_known_case():
    real = np.arange(100.0)  # 0..99
    table = var_exceedance(real, np.arange(100.0), level=[0.05, 0.1])
    assert table.loc[0.05, "var_synth"] == pytest.approx(4.95)
    assert table.loc[0.05, "exceedances"] == 5  # 0, 1, 2, 3, 4
    assert table.loc[0.05, "rate"] == pytest.approx(0.05)
    assert table.loc[0.1, "rate_over_level"] == pytest.approx(1.0)
    thin = var_exceedance(real, np.arange(50.0, 60.0), level=0.05)  # synthetic tails too thin
    assert thin.loc[0.05, "var_synth"] == pytest.approx(50.45)
    assert thin.loc[0.05, "rate"] == pytest.approx(0.51)  # 0..50 lie below 50.45
    assert thin.loc[0.05, "p_value"] < 1e-10


# ---------------------------------------------------------------- plot and summary row


def test_embedding_plot_and_evaluate_generator():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    w = make_windows(_ar1(3000, seed=6, d=2), 10, stride=5)
    train, test = w[:400], w[420:]  # stride 5, length 10: a gap of 20 windows = 100 rows
    synth = np.random.default_rng(1).standard_normal((300, 10, 2)) * 1.15
    fig = embedding_plot(test, synth, "pca", max_points=200)
    assert len(fig.axes[0].collections) == 2
    plt.close(fig)
    fig = embedding_plot(test[:60], synth[:60], "tsne")
    assert "t-SNE" in fig.axes[0].get_xlabel()
    plt.close(fig)
    row = evaluate_generator("noise", train, test, synth, epochs=2)
    assert row.shape[0] == 1 and row.index[0] == "noise"
    assert {"disc_auc", "tstr_mse", "trtr_mse", "kurtosis_real", "acf_abs1_synth"} <= set(row)
    assert row["tstr_mse"].iloc[0] > row["trtr_mse"].iloc[0]
    other = evaluate_generator("noise", train, test, synth, epochs=2, disc_real="test")
    assert other.shape == row.shape
    table = pd.concat([row, evaluate_generator("copy", train, test, test, epochs=2)])
    assert list(table.index) == ["noise", "copy"]


# ---------------------------------------------------------------- bad inputs


@pytest.mark.parametrize(
    ("call", "word"),
    [
        (lambda: make_windows(np.arange(5.0), 6), "length"),
        (lambda: make_windows(np.arange(5.0), 0), "length"),
        (lambda: make_windows([1.0, np.nan, 2.0], 2), "data"),
        (lambda: chronological_split(np.arange(100.0), 10, test_fraction=1.0), "test_fraction"),
        (lambda: chronological_split(np.arange(30.0), 10, test_fraction=0.2), "too few"),
        (lambda: load_spx_pair(test_fraction=0), "test_fraction"),
        (lambda: discriminative_score(np.zeros((4, 5, 1)), np.zeros((4, 6, 1)),
                                      np.zeros((4, 5, 1)), np.zeros((4, 5, 1))), "synth_train"),
        (lambda: discriminative_score(*[np.zeros((4, 5, 1))] * 4, seed=-1), "seed"),
        (lambda: predictive_score(np.zeros((4, 5, 1)), np.zeros((4, 5, 1)), model="lstm"), "model"),
        (lambda: predictive_score(np.zeros((4, 1, 1)), np.zeros((4, 1, 1))), "train_windows"),
        (lambda: stylized_facts(np.arange(10.0), nlags=20), "nlags"),
        (lambda: stylized_facts(["a", "b", "c"]), "returns"),
        (lambda: ohlc_consistency([1, 2], [1, 2], [1], [1, 2]), "low"),
        (lambda: ohlc_consistency([1], [np.inf], [1], [1]), "high"),
        (lambda: var_exceedance(np.arange(10.0), np.arange(10.0), level=5), "level"),
        (lambda: embedding_plot(np.zeros((5, 3)), np.zeros((5, 3)), "umap"), "method"),
        (lambda: evaluate_generator("", np.zeros((5, 3)), np.zeros((5, 3)), np.zeros((5, 3))), "name"),
        (lambda: evaluate_generator("g", np.ones((5, 3)), np.ones((5, 3)), np.ones((5, 3)),
                                    disc_real="future"), "disc_real"),
        (lambda: blocked_split(np.zeros((10, 5, 1))), "too few"),
    ],
)
def test_bad_inputs_raise_value_error_naming_the_argument(call, word):
    with pytest.raises(ValueError, match=word):
        call()


# --------------------------------------------------------------------------------------------
# classical baselines: simulate_garch_t, simulate_var1


def test_simulate_garch_t_matches_long_run_variance_and_recursion():
    from common.generative import simulate_garch_t

    mu, omega, alpha, beta, nu = 0.05, 0.02, 0.08, 0.9, 6.0
    r, sigma = simulate_garch_t(mu, omega, alpha, beta, nu, 4000, 50, rng=0, burn=20)
    assert r.shape == sigma.shape == (4000, 50)
    # unconditional variance omega / (1 - alpha - beta) = 1.0
    assert abs(np.var(r - mu) - 1.0) < 0.1
    # the recursion: sigma2_{t+1} = omega + alpha eps_t^2 + beta sigma2_t, exactly
    eps = r - mu
    np.testing.assert_allclose(sigma[:, 1:] ** 2, omega + alpha * eps[:, :-1] ** 2 + beta * sigma[:, :-1] ** 2)
    # Student-t shocks: standardized residuals are fat-tailed (excess kurtosis 6 / (nu - 4) = 3)
    z = (eps / sigma).ravel()
    assert abs(z.var() - 1.0) < 0.05 and ((z - z.mean()) ** 4).mean() / z.var() ** 2 - 3 > 1.5


def test_simulate_var1_follows_recursion_and_bootstraps_rows():
    from common.generative import simulate_var1

    c, a = np.array([0.1, -0.2]), np.array([[0.5, 0.1], [0.0, 0.9]])
    start = np.array([[1.0, 2.0], [0.0, 0.0]])
    zero = simulate_var1(c, a, start, 3, chol=np.zeros((2, 2)), rng=0)
    x1 = c + start @ a.T
    np.testing.assert_allclose(zero[:, 0], x1)
    np.testing.assert_allclose(zero[:, 1], c + x1 @ a.T)
    resid = np.array([[1.0, -1.0], [2.0, 5.0]])
    boot = simulate_var1(c, a, start[0], 4, residuals=resid, rng=1)
    assert boot.shape == (4, 2)
    shocks = boot[1:] - (c + boot[:-1] @ a.T)
    assert all(any(np.allclose(s, row) for row in resid) for s in shocks)
    gauss = simulate_var1(c, a, np.zeros((20000, 2)), 1, chol=np.linalg.cholesky(np.diag([1.0, 4.0])), rng=2, burn=50)
    np.testing.assert_allclose(gauss[:, 0].mean(0), np.linalg.solve(np.eye(2) - a, c), atol=0.15)


@pytest.mark.parametrize(
    ("call", "word"),
    [
        (lambda m: m.simulate_garch_t(0, 0.1, 0.5, 0.6, 5, 2, 3), "alpha \\+ beta"),
        (lambda m: m.simulate_garch_t(0, 0.1, 0.1, 0.8, 2, 2, 3), "nu"),
        (lambda m: m.simulate_garch_t(0, -1, 0.1, 0.8, 5, 2, 3), "omega"),
        (lambda m: m.simulate_garch_t(0, 0.1, 0.1, 0.8, 5, 0, 3), "n_paths"),
        (lambda m: m.simulate_var1([0, 0], np.eye(2), [0, 0], 3), "exactly one"),
        (lambda m: m.simulate_var1([0, 0], np.eye(3), [0, 0], 3, chol=np.eye(2)), "coef"),
        (lambda m: m.simulate_var1([0, 0], np.eye(2), [0, 0, 0], 3, chol=np.eye(2)), "start"),
        (lambda m: m.simulate_var1([0, 0], np.eye(2), [0, 0], 3, residuals=np.ones((5, 3))), "residuals"),
    ],
)
def test_baseline_simulators_reject_bad_inputs(call, word):
    from common import generative

    with pytest.raises(ValueError, match=word):
        call(generative)
