"""Black-Scholes-Merton prices and implied volatility of European options.

Shared by the option notebooks (chapter 2: Heston term structure, iron condor). The formulas are
Black & Scholes (1973) with Merton's (1973) continuous dividend yield; the implied volatility is
found by Brent's method (``scipy.optimize.brentq``).

Units everywhere: spot ``S0`` and strikes ``K`` in index points, ``T`` in years, rates ``r`` and
``q`` continuously compounded per year, volatility annualized, all as fractions (0.15 = 15 %).
"""

from __future__ import annotations

import numpy as np
from scipy import optimize, stats

__all__ = ["black_scholes_price", "implied_vol"]


def black_scholes_price(kind, S0, K, T, r, vol, q=0.0):
    """Black-Scholes-Merton price of a European call or put, in index points.

    Args:
        kind: ``"call"`` or ``"put"``.
        S0, K: spot and strike(s), index points (> 0); arrays broadcast.
        T: time to expiry, years (> 0).
        r, q: continuously compounded risk-free rate and dividend yield, per year.
        vol: annualized volatility as a fraction (> 0).

    Returns:
        numpy array (0-d for scalar inputs) of prices in index points.

    Raises:
        ValueError: bad ``kind``, or non-positive ``S0``, ``K``, ``T`` or ``vol``.
    """
    if kind not in ("call", "put"):
        raise ValueError(f"kind must be 'call' or 'put', got {kind!r}")
    S0, K, T, vol = (np.asarray(a, dtype=float) for a in (S0, K, T, vol))
    if np.any(S0 <= 0) or np.any(K <= 0) or np.any(T <= 0) or np.any(vol <= 0):
        raise ValueError("S0, K, T and vol must all be > 0")
    sd = vol * np.sqrt(T)
    d1 = (np.log(S0 / K) + (r - q) * T) / sd + 0.5 * sd
    d2 = d1 - sd
    if kind == "call":
        return S0 * np.exp(-q * T) * stats.norm.cdf(d1) - K * np.exp(-r * T) * stats.norm.cdf(d2)
    return K * np.exp(-r * T) * stats.norm.cdf(-d2) - S0 * np.exp(-q * T) * stats.norm.cdf(-d1)


def implied_vol(price, kind, S0, K, T, r, q=0.0, vol_bounds=(1e-4, 5.0)):
    """Black-Scholes implied volatility (annualized fraction) of one option price.

    Solved with ``scipy.optimize.brentq`` to 1e-12 on the volatility. The Black-Scholes price
    rises strictly with the volatility from the discounted intrinsic value to ``S0 e^{-qT}``
    (call) or ``K e^{-rT}`` (put), so a price strictly inside those bounds has exactly one
    implied volatility.

    Args:
        price: option price, index points; ``kind``, ``S0``, ``K``, ``T``, ``r``, ``q`` scalars
            as in :func:`black_scholes_price`.
        vol_bounds: search bracket for the volatility (fractions per year).

    Raises:
        ValueError: the price violates the no-arbitrage bounds (no implied volatility exists),
            or the implied volatility lies outside ``vol_bounds``.
    """
    fwd_intrinsic = S0 * np.exp(-q * T) - K * np.exp(-r * T)
    lower = max(fwd_intrinsic, 0.0) if kind == "call" else max(-fwd_intrinsic, 0.0)
    upper = S0 * np.exp(-q * T) if kind == "call" else K * np.exp(-r * T)
    if not lower < price < upper:
        raise ValueError(
            f"{kind} price {price!r} is outside the no-arbitrage bounds ({lower:.6g}, {upper:.6g}) "
            f"for S0={S0}, K={K}, T={T}: no implied volatility exists"
        )
    lo, hi = vol_bounds

    def gap(vol):
        return float(black_scholes_price(kind, S0, K, T, r, vol, q)) - price

    if gap(lo) > 0 or gap(hi) < 0:
        raise ValueError(f"implied volatility of {kind} K={K}, T={T} lies outside {vol_bounds}")
    return optimize.brentq(gap, lo, hi, xtol=1e-12, rtol=1e-12, maxiter=200)
