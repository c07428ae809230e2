"""Tests of common.options: Black-Scholes prices, implied volatility, Heston Monte Carlo."""

import numpy as np
import pytest

from common.options import (
    black_scholes_price,
    heston_mc_terminal,
    implied_vol,
    otm_implied_vols,
    plot_smile_and_surface,
)


def test_textbook_value_and_put_call_parity():
    # Hull's classic example: S0 = K = 100, T = 1, r = 5 %, vol = 20 % -> call 10.4506
    call = float(black_scholes_price("call", 100.0, 100.0, 1.0, 0.05, 0.20))
    assert abs(call - 10.450583572185565) < 1e-10
    K = np.array([80.0, 100.0, 120.0])
    c = black_scholes_price("call", 100.0, K, 0.5, 0.03, 0.25, q=0.01)
    p = black_scholes_price("put", 100.0, K, 0.5, 0.03, 0.25, q=0.01)
    parity = 100.0 * np.exp(-0.01 * 0.5) - K * np.exp(-0.03 * 0.5)
    np.testing.assert_allclose(c - p, parity, atol=1e-12)


@pytest.mark.parametrize("kind", ["call", "put"])
def test_implied_vol_round_trip(kind):
    for vol in (0.05, 0.2, 0.8):
        for T in (0.05, 1.0, 3.0):
            for z in (-2.0, 0.0, 2.0):
                K = 100.0 * np.exp(0.03 * T + z * vol * np.sqrt(T))
                price = float(black_scholes_price(kind, 100.0, K, T, 0.03, vol))
                assert abs(implied_vol(price, kind, 100.0, K, T, 0.03) - vol) < 1e-8


def test_bad_inputs_are_rejected():
    with pytest.raises(ValueError, match="no-arbitrage bounds"):
        implied_vol(0.5, "call", 100.0, 80.0, 1.0, 0.03)  # below intrinsic value (~22.4)
    with pytest.raises(ValueError, match="kind must be"):
        black_scholes_price("straddle", 100.0, 100.0, 1.0, 0.0, 0.2)
    with pytest.raises(ValueError, match="must all be > 0"):
        black_scholes_price("call", 100.0, 100.0, 0.0, 0.0, 0.2)


# Fang & Oosterlee (2008) Heston test case: S0 = K = 100, T = 1, r = q = 0. The ATM call is
# 5.7851554344 (a 40-digit mpmath evaluation of Lewis' integral; they publish 5.785155450).
FANG_OOSTERLEE = dict(kappa=1.5768, theta=0.0398, sigma=0.5751, rho=-0.5711, v0=0.0175)


def _pair_mean_se(values):
    """Mean and standard error over antithetic pairs (path i with path i + n/2)."""
    half = len(values) // 2
    pairs = 0.5 * (values[:half] + values[half:])
    return pairs.mean(axis=0), pairs.std(axis=0, ddof=1) / np.sqrt(half)


def test_heston_mc_matches_fang_oosterlee_call():
    s_T = heston_mc_terminal(
        100.0, 1.0, 0.0, **FANG_OOSTERLEE, n_paths=100_000, n_steps=100,
        rng=np.random.default_rng(0),
    )  # fmt: skip
    mean, se = _pair_mean_se(np.maximum(s_T - 100.0, 0.0))
    assert 0.01 < se < 0.05
    assert abs(mean - 5.7851554344) < 3 * se


def test_heston_mc_black_scholes_limit_and_martingale():
    # sigma -> 0 with v0 = theta: constant variance, so Black-Scholes at sqrt(theta) = 20 %
    r, q, K = 0.03, 0.01, np.array([80.0, 100.0, 120.0])
    s_T = heston_mc_terminal(
        100.0, 1.0, r, kappa=2.0, theta=0.04, sigma=1e-8, rho=-0.5, v0=0.04,
        n_paths=40_000, n_steps=20, rng=np.random.default_rng(1), q=q,
    )  # fmt: skip
    mean, se = _pair_mean_se(np.exp(-r) * np.maximum(s_T[:, None] - K, 0.0))
    bs = black_scholes_price("call", 100.0, K, 1.0, r, 0.20, q=q)
    assert np.all(np.abs(mean - bs) < 3 * se)
    forward_mean, forward_se = _pair_mean_se(np.exp(-(r - q)) * s_T)
    assert abs(forward_mean - 100.0) < 3 * forward_se


def test_heston_mc_antithetic_and_reproducible():
    kwargs = dict(**FANG_OOSTERLEE, n_paths=10, n_steps=1, q=0.0)
    s_T = heston_mc_terminal(100.0, 0.5, 0.02, rng=np.random.default_rng(3), **kwargs)
    again = heston_mc_terminal(100.0, 0.5, 0.02, rng=np.random.default_rng(3), **kwargs)
    np.testing.assert_array_equal(s_T, again)
    # one step from v0: log-returns of the mirrored paths sum to twice the drift
    drift = (0.02 - 0.5 * FANG_OOSTERLEE["v0"]) * 0.5
    np.testing.assert_allclose(np.log(s_T[:5] / 100) + np.log(s_T[5:] / 100), 2 * drift)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"n_paths": 7}, "n_paths=7"),
        ({"n_paths": 0}, "n_paths=0"),
        ({"n_steps": 0}, "n_steps=0"),
        ({"sigma": 0.0}, "sigma=0.0"),
        ({"rho": 1.0}, "rho=1.0"),
        ({"v0": -0.01}, "v0=-0.01"),
    ],
)
def test_heston_mc_rejects_bad_inputs(change, message):
    kwargs = dict(**FANG_OOSTERLEE, n_paths=10, n_steps=5, rng=np.random.default_rng(0))
    kwargs.update(change)
    with pytest.raises(ValueError, match=message):
        heston_mc_terminal(100.0, 1.0, 0.0, **kwargs)


HESTON_NOTEBOOK = "chapter02/03_heston_term_structure.ipynb"


@pytest.mark.parametrize(("parameter", "value"), [("RHO", 1.5), ("MC_PATHS_QUICK", 1001)])
def test_heston_notebook_names_a_bad_parameter(run_quick, parameter, value):
    # the cell after the parameters cell stops the run with a message naming the parameter
    import papermill

    with pytest.raises(papermill.PapermillExecutionError, match=f"{parameter} must be"):
        run_quick(HESTON_NOTEBOOK, **{parameter: value})


def test_otm_implied_vols_reads_the_otm_side():
    S0, T, r, q = 100.0, 0.5, 0.03, 0.01
    K = np.array([80.0, 95.0, 100.0, 102.0, 120.0])  # the forward is 101.01
    vols = np.array([0.30, 0.22, 0.20, 0.19, 0.17])  # a skew: one volatility per strike
    calls = black_scholes_price("call", S0, K, T, r, vols, q)
    puts = black_scholes_price("put", S0, K, T, r, vols, q)
    otm, itm, failures = otm_implied_vols(calls, puts, S0, K, T, r, q)
    np.testing.assert_allclose(otm, vols, atol=1e-9)
    np.testing.assert_allclose(itm, vols, atol=1e-9)  # parity holds: both sides agree
    assert failures == []
    # spoil the calls: only the strikes whose OTM option is a call (K >= forward) see it
    otm, itm, _ = otm_implied_vols(calls * 1.01, puts, S0, K, T, r, q)
    below = K < S0 * np.exp((r - q) * T)
    assert below.tolist() == [True, True, True, False, False]
    np.testing.assert_allclose(otm[below], vols[below], atol=1e-9)
    assert np.all(otm[~below] > vols[~below]) and np.all(itm[below] > vols[below])


def test_otm_implied_vols_reports_failures():
    K = np.array([80.0, 120.0])
    calls = black_scholes_price("call", 100.0, K, 1.0, 0.0, 0.2)
    puts = np.array([0.0, 19.0])  # worthless, below intrinsic (20): no implied volatility
    otm, itm, failures = otm_implied_vols(calls, puts, 100.0, K, 1.0, 0.0)
    assert np.isnan(otm[0]) and np.isfinite(itm[0]) and np.isfinite(otm[1]) and np.isnan(itm[1])
    assert len(failures) == 2 and failures[0].startswith("K=80: put price")
    with pytest.raises(ValueError, match="one price per strike"):
        otm_implied_vols(calls[:1], puts, 100.0, K, 1.0, 0.0)


def test_plot_smile_and_surface():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    moneyness, months = [0.9, 1.0, 1.1], [1, 12]
    iv = np.array([[0.25, 0.20, 0.18], [0.22, 0.20, 0.19]])
    fig = plot_smile_and_surface(moneyness, months, iv, reference_vol=("flat", 0.2))
    ax_s, ax_h = fig.axes[:2]
    assert [line.get_label() for line in ax_s.lines] == ["1 month", "12 months", "flat"]
    np.testing.assert_allclose(ax_s.lines[0].get_ydata(), [25.0, 20.0, 18.0])  # percent
    assert ax_s.lines[2].get_ydata()[0] == pytest.approx(20.0)
    texts = [t.get_text() for t in ax_h.texts]
    assert texts == ["25.0", "20.0", "18.0", "22.0", "20.0", "19.0"]  # row by row, in percent
    colours = {t.get_text(): t.get_color() for t in ax_h.texts}
    assert colours["25.0"] == "black" and colours["18.0"] == "white"  # light top, dark bottom
    assert [t.get_text() for t in ax_h.get_yticklabels()] == ["1", "12"]
    plt.close(fig)
    with pytest.raises(ValueError, match="expected"):
        plot_smile_and_surface(moneyness, months, iv.T)
