"""Tests of common.options: Black-Scholes prices and implied volatility."""

import numpy as np
import pytest

from common.options import black_scholes_price, implied_vol


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
