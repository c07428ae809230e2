"""Tests of chapter04/01_synthetic_data_evaluation.ipynb: parameter validation (fast: the notebook
stops in its validation cell) and the noisy-copy ordering the notebook asserts, on a small budget."""

from __future__ import annotations

import numpy as np
import pytest
from papermill.exceptions import PapermillExecutionError

from common.forecasting import load_exchange_rates
from common.generative import (
    chronological_split,
    discriminative_score,
    predictive_score,
    split_index,
)

NOTEBOOK = "chapter04/01_synthetic_data_evaluation.ipynb"


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"ALPHAS": [0.3, 0.1]}, "ALPHAS"),
        ({"ALPHAS": [0.1, 0.3], "EMBED_ALPHA": 0.6}, "EMBED_ALPHA"),
        ({"WINDOW": 2}, "WINDOW"),
        ({"TEST_FRACTION": 0.9}, "TEST_FRACTION"),
        ({"VAR_LEVELS": [1.5]}, "VAR_LEVELS"),
    ],
)
def test_bad_parameters_are_named(run_quick, params, name):
    with pytest.raises(PapermillExecutionError, match=name):
        run_quick(NOTEBOOK, **params)


@pytest.mark.usefixtures("one_torch_thread")
def test_noisy_copies_order_the_scores():
    """Paired noisy copies of the z-scored exchange-rate windows: AUC rises with alpha; TSTR on
    z-scored levels rises above TRTR while TSTR on returns stays at TRTR (nothing to predict)."""
    returns = load_exchange_rates()
    levels = load_exchange_rates("levels").iloc[1:]
    s = split_index(len(returns), 0.2)
    z_ret = (returns - returns.iloc[:s].mean()) / returns.iloc[:s].std()
    z_lev = (levels - levels.iloc[:s].mean()) / levels.iloc[:s].std()
    train, test = chronological_split(z_ret, 20)
    train_lev, test_lev = chronological_split(z_lev, 20)
    rng = np.random.default_rng(0)
    aucs, mse_lev, mse_ret = [], [], []
    for a in (0.1, 0.6):
        noisy_tr = train + a * rng.standard_normal(train.shape)
        noisy_te = test + a * rng.standard_normal(test.shape)
        # a third of the windows keeps the classifier fast; the ridge scores use all of them
        aucs.append(discriminative_score(train[::3], noisy_tr[::3], test[::3], noisy_te[::3], epochs=3)["auc"])
        mse_lev.append(predictive_score(train_lev + a * rng.standard_normal(train_lev.shape), test_lev)["mse"])
        mse_ret.append(predictive_score(noisy_tr, test)["mse"])
    trtr_lev = predictive_score(train_lev, test_lev)["mse"]
    trtr_ret = predictive_score(train, test)["mse"]
    assert aucs[1] > aucs[0] + 0.2 and aucs[1] > 0.9, aucs
    assert trtr_lev < mse_lev[0] < mse_lev[1], (trtr_lev, mse_lev)
    assert 0.0025 < trtr_lev < 0.0040  # the scale of the official companion's TRTR 0.0034
    assert max(abs(m / trtr_ret - 1) for m in mse_ret) < 0.03, (trtr_ret, mse_ret)
