"""Haar wavelet denoising as Bao, Yue & Rao (2017) used it (the look-ahead leak), and causally.

Source: Wei Bao, Jun Yue and Yulei Rao (2017), "A deep learning framework for financial time
series using stacked autoencoders and long-short term memory", PLoS ONE 12(7): e0180944,
https://doi.org/10.1371/journal.pone.0180944. Their pipeline denoises every input series with
a Haar discrete wavelet transform (DWT) applied twice, encodes the denoised features with a
stacked autoencoder and forecasts with an LSTM. Denoising a whole series at once lets each
day's denoised value depend on later days: a smoothing filter is two-sided. This module offers
both versions so that notebook 3.13 can measure what the leak is worth:

- :func:`leaky_denoise`: the transform over the whole series at once (the leak);
- :func:`causal_denoise`: the value at day ``t`` computed from the ``window`` days ending at
  ``t`` only, so that nothing after ``t`` can change it.

One denoising pass (:func:`haar_denoise`) is the classic wavelet shrinkage of Donoho &
Johnstone (1994, "Ideal spatial adaptation by wavelet shrinkage", Biometrika 81(3)): a Haar
DWT of ``level`` levels by :func:`pywt.wavedec` (mode ``"periodization"``), soft thresholding
of every detail coefficient with the universal threshold ``sigma * sqrt(2 ln n)``, where
``sigma = median(|d_1|) / 0.6745`` is the robust noise estimate from the finest details
``d_1`` and ``n`` the length of the denoised stretch, then the inverse transform
(:func:`pywt.waverec`). "Applied twice" (``passes=2``) denoises the denoised series again.
The Haar filters of one level average and difference neighbouring pairs, so with ``level=2``
a value is built from its block of 4 days: in the whole-series transform the first three
days of a block see the days after them.

Shapes: a series is 1-D ``(n,)``; several series are the columns of a 2-D ``(n, k)`` array or
a :class:`pandas.DataFrame` (one row per day, oldest first); outputs have the input's shape
and type (index and columns kept).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pywt

__all__ = [
    "causal_denoise",
    "haar_denoise",
    "leaky_denoise",
    "soft_threshold",
    "universal_threshold",
]

#: The wavelet of Bao, Yue & Rao (2017).
WAVELET = "haar"
#: Boundary handling of :func:`pywt.wavedec`: no padding beyond one sample for odd lengths.
MODE = "periodization"
#: median(|N(0, 1)|): turns the median absolute detail into a standard deviation.
MAD_TO_SIGMA = 0.6745


def soft_threshold(coefficients: np.ndarray, threshold: np.ndarray | float) -> np.ndarray:
    """Shrink coefficients towards zero: ``sign(c) * max(|c| - threshold, 0)``.

    The same as ``pywt.threshold(c, threshold, mode="soft")``, with ``threshold`` allowed to be
    an array that broadcasts against ``coefficients`` (one threshold per series).
    """
    c = np.asarray(coefficients, dtype=float)
    return np.sign(c) * np.maximum(np.abs(c) - threshold, 0.0)


def universal_threshold(finest_detail: np.ndarray, n: int, axis: int = -1) -> np.ndarray:
    """Donoho-Johnstone universal threshold ``median(|d_1|) / 0.6745 * sqrt(2 ln n)``.

    Args:
        finest_detail: the level-1 detail coefficients ``d_1``, shape ``(..., n/2)`` along
            ``axis``.
        n: length of the series they come from.
        axis: the axis of ``finest_detail`` along which the median is taken.

    Returns:
        One threshold per series, with ``axis`` kept as a length-1 axis (it broadcasts against
        the coefficient arrays).
    """
    sigma = np.median(np.abs(finest_detail), axis=axis, keepdims=True) / MAD_TO_SIGMA
    return sigma * math.sqrt(2.0 * math.log(n))


def _check_settings(level: int, passes: int) -> None:
    for name, value in (("level", level), ("passes", passes)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")


def haar_denoise(x, *, level: int = 2, passes: int = 2, axis: int = -1) -> np.ndarray:
    """Denoise series along ``axis`` by Haar wavelet shrinkage, ``passes`` times.

    Every series (every 1-D slice along ``axis``) is treated on its own, with its own
    threshold, and its whole length at once: the output at position ``i`` depends on the
    positions after ``i`` too.

    Args:
        x: finite values, e.g. ``(n,)`` for one series or ``(m, n)`` with ``axis=-1`` for ``m``
            series of length ``n``; ``n >= 2**level``.
        level: number of DWT levels (Haar: a value is built from blocks of ``2**level`` days).
        passes: how many times the denoising is applied (Bao, Yue & Rao: twice).
        axis: the time axis.

    Returns:
        A float array of ``x``'s shape.

    Raises:
        ValueError: non-finite values, a series shorter than ``2**level``, or a ``level`` /
            ``passes`` that is not a positive integer.
    """
    _check_settings(level, passes)
    y = np.array(x, dtype=float)  # a writable copy: pywt refuses read-only buffers
    if y.ndim == 0:
        raise ValueError("x must have at least one dimension (a series), got a scalar")
    axis = axis % y.ndim
    n = y.shape[axis]
    if n < 2**level:
        raise ValueError(f"a series of length {n} is too short for a {level}-level DWT "
                         f"(needs at least {2**level} values)")
    if not np.isfinite(y).all():
        raise ValueError("x holds NaN or infinite values; drop or fill them before denoising")
    for _ in range(passes):
        coeffs = pywt.wavedec(y, WAVELET, mode=MODE, level=level, axis=axis)
        threshold = universal_threshold(coeffs[-1], n, axis=axis)
        coeffs = [coeffs[0]] + [soft_threshold(d, threshold) for d in coeffs[1:]]
        y = pywt.waverec(coeffs, WAVELET, mode=MODE, axis=axis)
        y = np.take(y, np.arange(n), axis=axis)  # an odd length comes back one sample longer
    return y


def _as_2d(x):
    """(values as (n, k) float array, function that restores the input's shape and type)."""
    if isinstance(x, pd.DataFrame):
        return x.to_numpy(dtype=float), lambda v: pd.DataFrame(v, index=x.index, columns=x.columns)
    if isinstance(x, pd.Series):
        return x.to_numpy(dtype=float)[:, None], lambda v: pd.Series(v[:, 0], index=x.index,
                                                                     name=x.name)
    values = np.asarray(x, dtype=float)
    if values.ndim == 1:
        return values[:, None], lambda v: v[:, 0]
    if values.ndim == 2:
        return values, lambda v: v
    raise ValueError(f"x must be 1-D (n,) or 2-D (n, k) with one row per day, got shape "
                     f"{values.shape}")


def leaky_denoise(x, *, level: int = 2, passes: int = 2):
    """Denoise each column over the whole series at once: Bao, Yue & Rao's transform, the leak.

    The value on day ``t`` mixes in days after ``t`` (the rest of its Haar block, and the
    threshold, which is estimated from the whole series), so features built from it know part
    of the future.

    Args:
        x: a series ``(n,)`` or columns ``(n, k)``, one row per day, oldest first; numpy array,
            Series or DataFrame; finite values.
        level, passes: see :func:`haar_denoise`.

    Returns:
        The denoised values, same shape and type as ``x``.
    """
    values, restore = _as_2d(x)
    return restore(haar_denoise(values, level=level, passes=passes, axis=0))


def causal_denoise(x, *, window: int = 256, level: int = 2, passes: int = 2):
    """Denoise each column causally: the value on day ``t`` uses days ``t - window + 1 .. t``.

    For every day ``t`` the ``window`` days ending at ``t`` are denoised as one series
    (:func:`haar_denoise`, its own threshold) and the last denoised value is kept, so changing
    anything after ``t`` cannot change it. The first ``window - 1`` days have no full window
    and come back as NaN. All windows of a column are transformed in one vectorized call
    (:func:`numpy.lib.stride_tricks.sliding_window_view`, shape ``(n - window + 1, window)``).

    Args:
        x: a series ``(n,)`` or columns ``(n, k)``, one row per day, oldest first; numpy array,
            Series or DataFrame; finite values.
        window: days per causal window, at least ``2**(level + 1)``.
        level, passes: see :func:`haar_denoise`.

    Returns:
        The denoised values, same shape and type as ``x``; NaN for the first ``window - 1``
        days.

    Raises:
        ValueError: a bad ``window`` / ``level`` / ``passes``, fewer than ``window`` days, or
            non-finite values.
    """
    _check_settings(level, passes)
    if isinstance(window, bool) or not isinstance(window, int) or window < 2 ** (level + 1):
        raise ValueError(f"window must be an integer >= 2**(level + 1) = {2 ** (level + 1)}, "
                         f"got {window!r}")
    values, restore = _as_2d(x)
    n = values.shape[0]
    if n < window:
        raise ValueError(f"{n} days are fewer than one window of {window} days")
    out = np.full(values.shape, np.nan)
    for j in range(values.shape[1]):
        windows = np.lib.stride_tricks.sliding_window_view(values[:, j], window)  # (n-w+1, w)
        out[window - 1:, j] = haar_denoise(windows, level=level, passes=passes, axis=1)[:, -1]
    return restore(out)
