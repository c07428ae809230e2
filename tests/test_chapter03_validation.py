"""Notebook 3.05 (validation and hyperparameters): the purged split's leak, and the notebook itself.

Book §3.2.3. When the label of day t is the return over days t+1..t+h, the labels of days less
than h apart overlap, and a flexible model trained next to a test day learns that day's answer.
The tests below rebuild the leak on a simulation with a known truth (independent returns: no
model can beat a coin flip) and check that ``common.backtest.purged_kfold_splits`` removes it:

- every training day of a purged split has a label window disjoint from the test labels, while
  plain contiguous folds do not;
- a 1-nearest-neighbour classifier on a slowly trending feature (it identifies the date, as a
  yield level does) scores far above 0.5 with shuffled or unpurged folds and about 0.5 purged;
- the notebook runs in quick mode with another horizon and still finds the leak, and stops with
  a message naming the parameter when one is unusable.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.model_selection import KFold
from sklearn.neighbors import KNeighborsClassifier

from common.backtest import purged_kfold_splits

NOTEBOOK = "chapter03/05_validation_and_hyperparameters.ipynb"
HORIZON, N, FOLDS = 20, 3000, 20


def _overlapping_train_days(splits, horizon):
    """Training days whose label window [t, t + h] meets a test label window, per split."""
    out = []
    for train, test in splits:
        a, b = test[0], test[-1]  # contiguous test fold: label windows cover [a, b + h]
        out.append(int(np.sum((train + horizon >= a) & (train <= b + horizon))))
    return out


def test_purging_removes_every_overlapping_label():
    plain = purged_kfold_splits(N, n_splits=FOLDS)
    purged = purged_kfold_splits(N, n_splits=FOLDS, purge=HORIZON, embargo=5)
    assert sum(_overlapping_train_days(plain, HORIZON)) > 0
    assert _overlapping_train_days(purged, HORIZON) == [0] * FOLDS
    # the purge is the minimum: one day less leaves overlaps at every inner fold edge
    short = purged_kfold_splits(N, n_splits=FOLDS, purge=HORIZON - 1)
    assert all(k > 0 for k in _overlapping_train_days(short, HORIZON))


def _simulated_hits(splits, seed=0):
    rng = np.random.default_rng(seed)
    returns = rng.normal(size=N + HORIZON)  # independent: the true accuracy is 0.5
    trend = np.linspace(0.0, 1.0, N) + rng.normal(0.0, 0.2 / N, N)  # identifies the date
    label = np.array([returns[t + 1 : t + 1 + HORIZON].sum() > 0 for t in range(N)], dtype=int)
    X = trend[:, None]
    hits = np.full(N, np.nan)
    for train, test in splits:
        model = KNeighborsClassifier(1).fit(X[train], label[train])
        hits[test] = model.predict(X[test]) == label[test]
    return hits


def test_overlapping_labels_leak_without_purging():
    edge = np.zeros(N, dtype=bool)
    for _, test in purged_kfold_splits(N, n_splits=FOLDS):
        edge[test[:HORIZON]] = edge[test[-HORIZON:]] = True
    shuffled = _simulated_hits(list(KFold(FOLDS, shuffle=True, random_state=0).split(np.zeros(N))))
    plain = _simulated_hits(purged_kfold_splits(N, n_splits=FOLDS))
    purged = _simulated_hits(purged_kfold_splits(N, n_splits=FOLDS, purge=HORIZON, embargo=HORIZON))
    # about N / HORIZON = 150 independent outcomes: a standard error near 0.04
    assert shuffled.mean() > 0.8, shuffled.mean()
    assert plain[edge].mean() - purged[edge].mean() > 0.1, (plain[edge].mean(), purged[edge].mean())
    assert plain.mean() > purged.mean()
    assert abs(purged.mean() - 0.5) < 0.1, purged.mean()


def test_notebook_finds_the_leak_with_another_horizon(run_quick, outputs_text):
    nb = run_quick(NOTEBOOK, HORIZON=10, EMBARGO=10, GRID_SIZE=3, N_FOLDS=8)
    text = outputs_text(nb)
    assert "label horizon 10 days; 8 folds" in text
    assert "purging removes the leak." in text


@pytest.mark.parametrize(
    ("name", "value"),
    [("HORIZON", 0), ("FOLD_COUNTS", [1, 5]), ("N_FOLDS", "10"), ("NOISE_SD", -1.0)],
)
def test_bad_parameter_fails_naming_it(assert_bad_parameter, name, value):
    assert_bad_parameter(NOTEBOOK, name, value)
