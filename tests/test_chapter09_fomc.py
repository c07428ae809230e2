"""Chapter 9 notebooks 02 (FOMC stance) and 03 (press-conference event study).

The event study's rule must not look ahead: the standardized signal of a conference uses only
earlier conferences, and the permutation test is a valid p-value. Both are checked on the
functions the notebook defines (cell tagged ``rule``). The parameters of both notebooks are
checked against the module constants, and bad parameter values stop the notebooks with a message
naming the parameter.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from common import fomc

NB02 = "chapter09/02_fomc_hawkish_dovish.ipynb"
NB03 = "chapter09/03_press_conference_event_study.ipynb"


@pytest.fixture(scope="module")
def rule(tagged_cell):
    return tagged_cell(NB03, "rule", {"np": np, "pd": pd})


def test_default_parameters(tagged_cell):
    p02 = tagged_cell(NB02, "parameters")
    assert tuple(p02["SEEDS"]) == fomc.SEEDS
    assert p02["GOAL_F1"] == 0.65 and p02["MAX_SENTENCES"] is None
    assert p02["ENCODER"] == ""  # the bundled MiniLM by default
    p03 = tagged_cell(NB03, "parameters")
    assert (p03["BOOK_SIGN_ACCURACY"], p03["BOOK_CORRELATION"], p03["BOOK_P_VALUE"]) == (
        0.5315,
        0.1415,
        0.0020,
    )
    assert p03["COST_BPS"] == 5.0 and p03["BOOK_CONFERENCES"] == 5


def test_past_zscore_uses_only_earlier_conferences(rule):
    past_zscore = rule["past_zscore"]
    rng = np.random.default_rng(0)
    x = pd.Series(rng.normal(size=30))
    z = past_zscore(x, 5)
    assert z.iloc[:5].isna().all() and z.iloc[5:].notna().all()
    # conference 10 standardized by conferences 0..9 only
    assert z.iloc[10] == pytest.approx((x.iloc[10] - x.iloc[:10].mean()) / x.iloc[:10].std())
    changed = x.copy()
    changed.iloc[20:] += 100.0  # the future changes ...
    assert np.allclose(
        past_zscore(changed, 5).iloc[:20], z.iloc[:20], equal_nan=True
    )  # ... the past does not


def test_permutation_p_is_a_valid_p_value(rule):
    permutation_p = rule["permutation_p"]
    rng = np.random.default_rng(1)
    x = rng.normal(size=63)
    # unrelated series: p-values roughly uniform, so about 5% below 0.05
    ps = np.array([permutation_p(x, rng.normal(size=63), 200, rng) for _ in range(200)])
    assert 0.0 < np.mean(ps < 0.05) < 0.12 and ps.min() >= 1 / 201
    # a strong link is found
    assert permutation_p(x, x + 0.3 * rng.normal(size=63), 500, rng) == pytest.approx(1 / 501)


def test_directions_are_fixed_priors(rule):
    assert rule["DIRECTION"] == {"stance": -1, "sentiment": +1}


@pytest.mark.parametrize(
    ("notebook", "name", "value"),
    [
        (NB02, "SEEDS", [78516]),
        (NB02, "LADDER", [{"learning_rate": 1e-4}]),
        (NB02, "ENCODER", 3),
        (NB03, "COST_BPS", -1.0),
        (NB03, "MIN_HISTORY", 1),
    ],
)
def test_bad_parameters(assert_bad_parameter, notebook, name, value):
    assert_bad_parameter(notebook, name, value)
