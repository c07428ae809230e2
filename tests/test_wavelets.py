"""``common.wavelets``: Haar shrinkage equals its textbook definition, and the causal transform
ignores the future while the whole-series one (Bao, Yue & Rao's) does not.

The look-ahead test changes every value after a day ``t`` (a different random path, a crash,
a single spike) and requires the causal features up to ``t`` to stay bit-for-bit identical,
while the leaky ones move. Bad inputs (NaN, too short a series, bad settings) raise errors
that name the problem.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import pywt

from common.wavelets import (
    causal_denoise,
    haar_denoise,
    leaky_denoise,
    soft_threshold,
    universal_threshold,
)


def _prices(n=600, seed=0, k=3):
    """(n, k) random-walk prices as a DataFrame of business days."""
    rng = np.random.default_rng(seed)
    values = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, (n, k)), axis=0))
    return pd.DataFrame(values, index=pd.bdate_range("2001-01-01", periods=n),
                        columns=[f"s{j}" for j in range(k)])


def _other_future(frame, t, kind, seed=1):
    """A copy of ``frame`` whose rows after position ``t`` are replaced."""
    out = frame.copy()
    tail = out.iloc[t + 1:]
    if kind == "path":
        steps = np.random.default_rng(seed).normal(0, 0.02, tail.shape)
        out.iloc[t + 1:] = frame.iloc[t].to_numpy() * np.exp(np.cumsum(steps, axis=0))
    elif kind == "crash":
        out.iloc[t + 1:] = tail.to_numpy() * 0.5
    else:  # one spike the day after t
        out.iloc[t + 1] = frame.iloc[t + 1].to_numpy() * 1.3
    return out


@pytest.mark.parametrize("kind", ["path", "crash", "spike"])
@pytest.mark.parametrize("t", [300, 301, 302, 303, 450])
def test_causal_features_ignore_data_after_t(t, kind):
    frame = _prices()
    other = _other_future(frame, t, kind)
    before, after = causal_denoise(frame, window=128), causal_denoise(other, window=128)
    pd.testing.assert_frame_equal(before.iloc[: t + 1], after.iloc[: t + 1], check_exact=True)
    assert not np.allclose(before.iloc[t + 1:], after.iloc[t + 1:])  # the future does change


@pytest.mark.parametrize("kind", ["path", "crash", "spike"])
@pytest.mark.parametrize("t", [300, 301, 302, 450])
def test_leaky_features_see_data_after_t(t, kind):
    """Whole-series denoising: day t's value moves when later days change (t not at a block end
    moves through its Haar block; every t moves through the threshold, a crash or a new path)."""
    frame = _prices()
    other = _other_future(frame, t, kind)
    before, after = leaky_denoise(frame), leaky_denoise(other)
    assert (before.iloc[t] - after.iloc[t]).abs().max() > 1e-3


def test_causal_value_is_the_last_value_of_the_window_transform():
    series = _prices(n=300, k=1)["s0"]
    out = causal_denoise(series, window=64, level=2, passes=2)
    assert out.iloc[:63].isna().all() and out.iloc[63:].notna().all()
    for t in [63, 100, 299]:
        expected = haar_denoise(series.to_numpy()[t - 63: t + 1], level=2, passes=2)[-1]
        assert out.iloc[t] == pytest.approx(expected, abs=1e-10)


def test_one_pass_is_textbook_haar_shrinkage():
    """Two-level Haar by hand, universal soft threshold, inverse by hand."""
    x = _prices(n=64, k=1)["s0"].to_numpy()
    a1, d1 = (x[0::2] + x[1::2]) / np.sqrt(2), (x[0::2] - x[1::2]) / np.sqrt(2)
    a2, d2 = (a1[0::2] + a1[1::2]) / np.sqrt(2), (a1[0::2] - a1[1::2]) / np.sqrt(2)
    lam = np.median(np.abs(d1)) / 0.6745 * np.sqrt(2 * np.log(64))
    d1, d2 = (np.sign(d) * np.maximum(np.abs(d) - lam, 0) for d in (d1, d2))
    a1 = np.ravel(np.column_stack([(a2 + d2) / np.sqrt(2), (a2 - d2) / np.sqrt(2)]))
    expected = np.ravel(np.column_stack([(a1 + d1) / np.sqrt(2), (a1 - d1) / np.sqrt(2)]))
    np.testing.assert_allclose(haar_denoise(x, level=2, passes=1), expected, rtol=0, atol=1e-10)


def test_soft_and_universal_threshold_match_pywt():
    d = np.random.default_rng(2).standard_normal(50)
    np.testing.assert_allclose(soft_threshold(d, 0.7), pywt.threshold(d, 0.7, mode="soft"), rtol=0, atol=1e-15)
    lam = universal_threshold(d, 100)
    assert lam.shape == (1,)
    assert lam[0] == pytest.approx(np.median(np.abs(d)) / 0.6745 * np.sqrt(2 * np.log(100)))


def test_shapes_and_types_are_kept():
    frame = _prices(n=200, k=2)
    for f in (leaky_denoise, lambda x: causal_denoise(x, window=32)):
        out = f(frame)
        assert isinstance(out, pd.DataFrame) and out.index.equals(frame.index)
        assert list(out.columns) == list(frame.columns)
        series = f(frame["s1"])
        assert isinstance(series, pd.Series) and series.name == "s1"
        np.testing.assert_allclose(series.to_numpy(), out["s1"].to_numpy(), equal_nan=True)
        assert f(frame.to_numpy()).shape == (200, 2) and f(frame["s0"].to_numpy()).shape == (200,)


def test_odd_length_and_read_only_input():
    x = _prices(n=201, k=1)["s0"].to_numpy()
    x.setflags(write=False)
    assert haar_denoise(x).shape == (201,)
    assert leaky_denoise(x).shape == (201,)


def test_batched_rows_are_denoised_independently():
    rows = _prices(n=64, k=3).to_numpy().T  # (3 series, 64 days)
    together = haar_denoise(rows, axis=1)
    for i in range(3):
        np.testing.assert_allclose(together[i], haar_denoise(rows[i]), rtol=0, atol=1e-10)


@pytest.mark.parametrize(
    ("call", "match"),
    [(lambda: haar_denoise(np.array([1.0, np.nan, 2.0, 3.0])), "NaN"),
     (lambda: haar_denoise(np.arange(3.0), level=2), "too short"),
     (lambda: haar_denoise(np.arange(8.0), level=0), "level"),
     (lambda: haar_denoise(np.arange(8.0), passes=1.5), "passes"),
     (lambda: causal_denoise(np.arange(100.0), window=4, level=2), "window"),
     (lambda: causal_denoise(np.arange(10.0), window=16), "fewer than one window"),
     (lambda: leaky_denoise(np.zeros((4, 4, 4))), "1-D"),
     (lambda: haar_denoise(np.float64(1.0)), "scalar")],
)
def test_bad_inputs_raise_clear_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()
