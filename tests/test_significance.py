"""Diebold-Mariano test (common.significance)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from common.significance import diebold_mariano


def test_one_step_statistic_by_hand():
    rng = np.random.default_rng(1)
    a = rng.normal(1.0, 1.0, 200) ** 2
    b = rng.normal(1.0, 1.0, 200) ** 2 * 0.8
    d = a - b
    n = d.size
    dm = d.mean() / np.sqrt(np.mean((d - d.mean()) ** 2) / n)
    raw = diebold_mariano(a, b, hln=False)
    assert raw.statistic == pytest.approx(dm, rel=1e-12)
    assert raw.p_value == pytest.approx(2 * stats.norm.sf(abs(dm)), rel=1e-10)
    assert raw.mean_difference == pytest.approx(d.mean()) and raw.n == n
    hln = diebold_mariano(a, b)
    assert hln.statistic == pytest.approx(dm * np.sqrt((n - 1) / n), rel=1e-12)
    assert hln.p_value == pytest.approx(2 * stats.t.sf(abs(hln.statistic), n - 1), rel=1e-10)
    # swapping the forecasts flips the sign, not the p-value
    swapped = diebold_mariano(b, a)
    assert swapped.statistic == pytest.approx(-hln.statistic)
    assert swapped.p_value == pytest.approx(hln.p_value)


def test_multi_step_uses_autocovariances():
    rng = np.random.default_rng(2)
    e = rng.normal(size=301)
    d = e[1:] + 0.8 * e[:-1] + 0.3  # an MA(1) loss differential, as 2-step forecasts give
    b = rng.normal(size=d.size) ** 2
    a = b + d
    c = d - d.mean()
    n = d.size
    long_run = (c @ c + 2 * (c[1:] @ c[:-1])) / n
    expected = d.mean() / np.sqrt(long_run / n)
    assert diebold_mariano(a, b, h=2, hln=False).statistic == pytest.approx(expected, rel=1e-12)
    assert diebold_mariano(a, b, h=2).p_value < 0.05


def test_size_under_the_null_is_close_to_nominal():
    rng = np.random.default_rng(3)
    rejections = 0
    for _ in range(400):
        a, b = rng.standard_t(5, size=(2, 250)) ** 2
        rejections += diebold_mariano(a, b).p_value < 0.05
    assert 0.02 < rejections / 400 < 0.09


@pytest.mark.parametrize(
    "a, b, kwargs, message",
    [
        ([1, 2, 3], [1, 2], {}, "equal length"),
        ([1, 2, np.nan, 4], [1, 2, 3, 4], {}, "NaN"),
        ([1, 2], [2, 1], {}, "at least 3"),
        ([1, 2, 3, 4], [0, 1, 2, 3], {}, "constant"),
        ([1, 2, 3, 4], [4, 3, 2, 1], {"h": 0}, "positive integer"),
    ],
)
def test_bad_input(a, b, kwargs, message):
    with pytest.raises(ValueError, match=message):
        diebold_mariano(a, b, **kwargs)
