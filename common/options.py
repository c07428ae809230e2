"""Black-Scholes-Merton prices, implied volatility and a Heston Monte Carlo for European options.

Shared by the option notebooks (chapter 2: Heston term structure, iron condor). The formulas are
Black & Scholes (1973) with Merton's (1973) continuous dividend yield; the implied volatility is
found by Brent's method (``scipy.optimize.brentq``). :func:`heston_mc_terminal` simulates the
Heston (1993) model by full-truncation Euler, the independent check of notebook 2.03's
semi-analytic Heston prices (the pricer itself is the lesson and stays in the notebook).
:func:`otm_implied_vols` turns a strip of call and put prices into implied volatilities and
:func:`plot_smile_and_surface` draws them.

Units everywhere: spot ``S0`` and strikes ``K`` in index points, ``T`` in years, rates ``r`` and
``q`` continuously compounded per year, volatility annualized, all as fractions (0.15 = 15 %).
"""

from __future__ import annotations

import numpy as np
from scipy import optimize, stats

__all__ = [
    "black_scholes_price",
    "heston_mc_terminal",
    "implied_vol",
    "otm_implied_vols",
    "plot_smile_and_surface",
]


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


def otm_implied_vols(calls, puts, S0, K, T, r, q=0.0):
    """Implied volatilities of a strip of strikes at one expiry, read from the OTM side.

    At each strike the out-of-the-money option (the put below the forward ``S0 e^{(r-q)T}``, the
    call at or above it) is inverted: its price is all time value, so its implied volatility is
    well determined. The in-the-money option is inverted too: with prices that satisfy put-call
    parity it must give the same volatility, which the caller can check.

    Args:
        calls, puts: call and put prices, index points, one per strike of ``K``.
        S0, K, T, r, q: as in :func:`black_scholes_price` (``K`` a 1-d array, the rest scalars).

    Returns:
        ``(otm, itm, failures)``: arrays like ``K`` of implied volatilities (annualized
        fractions) from the OTM and from the ITM option, NaN where :func:`implied_vol` found none,
        and a list of ``"K=...: reason"`` messages for those strikes.
    """
    K = np.atleast_1d(np.asarray(K, dtype=float))
    prices = {"call": np.asarray(calls, dtype=float), "put": np.asarray(puts, dtype=float)}
    if prices["call"].shape != K.shape or prices["put"].shape != K.shape:
        raise ValueError(f"calls and puts need one price per strike ({K.size})")
    otm, itm, failures = np.full(K.size, np.nan), np.full(K.size, np.nan), []
    forward = S0 * np.exp((r - q) * T)
    for j, strike in enumerate(K):
        kind = "put" if strike < forward else "call"
        other = "call" if kind == "put" else "put"
        for out, which in ((otm, kind), (itm, other)):
            try:
                out[j] = implied_vol(prices[which][j], which, S0, strike, T, r, q)
            except ValueError as err:
                failures.append(f"K={strike:g}: {err}")
    return otm, itm, failures


def heston_mc_terminal(
    S0, T, r, *, kappa, theta, sigma, rho, v0, n_paths, n_steps, rng, q=0.0
) -> np.ndarray:
    """Terminal spots ``S_T`` of the Heston (1993) model by full-truncation Euler.

    Lord, Koekkoek & van Dijk (2010): with ``v+ = max(v, 0)``, each step of length ``dt`` is
    ``ln S += (r - q - v+/2) dt + sqrt(v+ dt) Z1`` and
    ``v += kappa (theta - v+) dt + sigma sqrt(v+ dt) (rho Z1 + sqrt(1 - rho^2) Z2)``.
    Antithetic: path ``i`` and path ``i + n_paths // 2`` use opposite normal draws, so average
    payoffs over these pairs before estimating a standard error.

    Args:
        S0: spot, index points (> 0); T: expiry, years (> 0); r, q: continuously compounded
            rate and dividend yield, per year.
        kappa, theta, sigma, rho, v0: Heston parameters per year (kappa, theta, sigma > 0,
            -1 < rho < 1, v0 >= 0; the Feller condition is not required).
        n_paths: even number of paths (>= 2); n_steps: time steps (>= 1);
        rng: a ``numpy.random.Generator``.

    Returns:
        ndarray of shape ``(n_paths,)``, index points.

    Raises:
        ValueError: a parameter outside its range, naming it.
    """
    checks = {
        "S0": S0 > 0,
        "T": T > 0,
        "kappa": kappa > 0,
        "theta": theta > 0,
        "sigma": sigma > 0,
        "rho": -1.0 < rho < 1.0,
        "v0": v0 >= 0,
        "n_paths": isinstance(n_paths, (int, np.integer)) and n_paths >= 2 and n_paths % 2 == 0,
        "n_steps": isinstance(n_steps, (int, np.integer)) and n_steps >= 1,
    }
    bad = [name for name, ok in checks.items() if not ok]
    if bad:
        values = {"S0": S0, "T": T, "kappa": kappa, "theta": theta, "sigma": sigma, "rho": rho}
        values |= {"v0": v0, "n_paths": n_paths, "n_steps": n_steps}
        raise ValueError(
            "heston_mc_terminal: out of range: "
            + ", ".join(f"{name}={values[name]!r}" for name in bad)
            + " (S0, T, kappa, theta, sigma > 0; -1 < rho < 1; v0 >= 0; n_paths even >= 2;"
            " n_steps integer >= 1)"
        )
    half, dt = n_paths // 2, T / n_steps
    log_s = np.zeros(n_paths)
    v = np.full(n_paths, float(v0))
    rho_bar = np.sqrt(1.0 - rho**2)
    for _ in range(n_steps):
        z = rng.standard_normal((2, half))
        z1, z2 = np.concatenate([z[0], -z[0]]), np.concatenate([z[1], -z[1]])
        v_plus = np.maximum(v, 0.0)
        step_sd = np.sqrt(v_plus * dt)
        log_s += (r - q - 0.5 * v_plus) * dt + step_sd * z1
        v += kappa * (theta - v_plus) * dt + sigma * step_sd * (rho * z1 + rho_bar * z2)
    return S0 * np.exp(log_s)


def plot_smile_and_surface(moneyness, expiry_months, iv, *, reference_vol=None, title="Heston"):
    """Implied volatility as smiles (one line per expiry) and as an annotated heatmap.

    Args:
        moneyness: strikes / spot, increasing, length ``m``.
        expiry_months: expiries in months, length ``n``.
        iv: ``(n, m)`` implied volatilities as fractions (0.15 = 15 %); plotted in percent.
        reference_vol: a flat volatility drawn as a dashed line on the smiles, with its label as
            ``(label, value)``; ``None`` for none.
        title: model name put in front of both titles.

    Returns:
        the matplotlib Figure (not shown: call ``plt.show()``). Each heatmap cell carries its
        value, in black on light cells and in white on dark ones (Rec. 709 luminance).
    """
    import matplotlib.pyplot as plt

    moneyness, iv = np.asarray(moneyness, dtype=float), 100 * np.asarray(iv, dtype=float)
    if iv.shape != (len(expiry_months), len(moneyness)):
        raise ValueError(
            f"iv has shape {iv.shape}, expected (expiries, strikes) = "
            f"({len(expiry_months)}, {len(moneyness)})"
        )
    fig, (ax_s, ax_h) = plt.subplots(1, 2, figsize=(12, 4.5))
    for row, months in zip(iv, expiry_months, strict=True):
        ax_s.plot(moneyness, row, marker="o", ms=3, label=f"{months:g} month" + "s" * (months != 1))
    if reference_vol is not None:
        name, value = reference_vol
        ax_s.axhline(100 * value, color="grey", lw=0.8, ls="--", label=name)
    ax_s.set(xlabel="moneyness K / S0", ylabel="implied volatility (% per year)")
    ax_s.set_title(f"{title} smile per expiry")
    ax_s.legend(ncol=2)
    image = ax_h.imshow(iv, origin="lower", aspect="auto", cmap="viridis")
    ax_h.set_xticks(range(len(moneyness)), [f"{m:.2f}" for m in moneyness])
    ax_h.set_yticks(range(len(expiry_months)), [f"{m:g}" for m in expiry_months])
    ax_h.grid(False)
    for (i, j), value in np.ndenumerate(iv):
        red, green, blue, _ = image.cmap(image.norm(value))
        luminance = 0.2126 * red + 0.7152 * green + 0.0722 * blue  # Rec. 709 weights
        ax_h.text(
            j, i, f"{value:.1f}", ha="center", va="center", fontsize=8,
            color="black" if luminance > 0.45 else "white",
        )  # fmt: skip
    ax_h.set(xlabel="moneyness K / S0", ylabel="expiry (months)")
    ax_h.set_title(f"{title} implied-volatility surface (%)")
    fig.colorbar(image, ax=ax_h, label="implied volatility (% per year)")
    fig.tight_layout()
    return fig
