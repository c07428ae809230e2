"""Notebook 3.12 (data and feature engineering): the point-in-time join, and the notebook itself.

Book §3.4-3.5. A value published with a lag (quarterly GDP, about a month after the quarter)
may be used on a trading day only if it was released on or before that day. The notebook's
``asof_join`` (its cell tagged ``asof_join``) does this with ``pd.merge_asof`` on the release
timestamp. The tests below check it against a brute-force search on random release schedules,
check that joining on the period's own date (the wrong way) does break the rule (so the test
can fail), and run the notebook in quick mode: with other parameters, and with bad values that
must stop it with a message naming the parameter.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

NOTEBOOK = "chapter03/12_data_and_feature_engineering.ipynb"


@pytest.fixture(scope="module")
def asof_join(tagged_cell):
    return tagged_cell(NOTEBOOK, "asof_join")["asof_join"]


def _schedule(seed, n_periods=40):
    """Quarter-end periods released 1-90 days later (uneven lags), and a business-day calendar."""
    rng = np.random.default_rng(seed)
    period_end = pd.date_range("2001-03-31", periods=n_periods, freq="QE")
    released = period_end + pd.to_timedelta(rng.integers(1, 91, n_periods), unit="D")
    releases = pd.DataFrame(
        {"value": rng.normal(size=n_periods), "period_end": period_end, "released": released}
    ).sample(frac=1.0, random_state=seed)  # unsorted
    days = pd.bdate_range("2001-01-01", period_end[-1] + pd.Timedelta(days=120))
    return releases, days


def _latest_released(releases, day):
    known = releases[releases["released"] <= day]
    return np.nan if known.empty else known.loc[known["released"].idxmax(), "value"]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_asof_join_uses_no_value_before_its_release(asof_join, seed):
    releases, days = _schedule(seed)
    joined = asof_join(days, releases, value="value", released="released")
    assert list(joined.index) == list(days)
    stamped = joined.dropna(subset=["value"])
    assert (stamped["released"] <= stamped.index).all(), "a value was used before its release"
    expected = np.array([_latest_released(releases, d) for d in days])
    np.testing.assert_array_equal(joined["value"].to_numpy(), expected)
    # days before the first release have no value; the release day itself may use it
    first = releases["released"].min()
    assert joined.loc[joined.index < first, "value"].isna().all()
    if first in joined.index:
        assert joined.loc[first, "value"] == releases.set_index("released").loc[first, "value"]


def test_joining_on_the_period_date_looks_ahead(asof_join):
    """The wrong key (the period's end) uses unreleased numbers on many days: the rule can fail."""
    releases, days = _schedule(0)
    wrong = asof_join(days, releases, value="value", released="period_end").dropna(subset=["value"])
    release_of = releases.set_index("period_end")["released"]
    early = (wrong["period_end"].map(release_of) > wrong.index).mean()
    assert early > 0.2, early


def test_notebook_runs_with_other_parameters(run_quick, outputs_text):
    nb = run_quick(NOTEBOOK, RELEASE_LAG_DAYS=45, PAIR=["KO", "PEP"], STOCKS_PER_LEG=2, N_SEEDS=4)
    text = outputs_text(nb)
    assert "SIMULATION, 4 seeds" in text
    assert "spread = log KO -" in text
    assert "Verdict:" in text


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("STOCKS_PER_LEG", 0),
        ("TRAIN_END", "not a date"),
        ("PAIR", ["CVX", "ZZZ"]),
        ("RELEASE_LAG_DAYS", 0),
    ],
)
def test_bad_parameter_fails_clearly(assert_bad_parameter, name, value):
    assert_bad_parameter(NOTEBOOK, name, value)
