"""Notebook 3.03 (cluster feature importance): the functions it teaches, and bad parameters.

The notebook keeps its arithmetic visible; the cells tagged ``clustering``, ``importance`` and
``shapley`` are executed here on small synthetic problems with a known answer:
near-duplicate features fall into one cluster; a feature the model never reads has an MDA of
exactly zero; permuting one of two near-duplicates costs little while permuting both costs a
lot (the split that clustered MDA fixes); MDI equals scikit-learn's; the exact Shapley values
by enumeration equal ``shap``'s TreeSHAP. Bad parameters stop the quick run in the validation
cell with a message that names them.
"""

from __future__ import annotations

from itertools import combinations
from math import factorial

import numpy as np
import pandas as pd
import pytest
import shap
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform
from sklearn.ensemble import RandomForestRegressor
from sklearn.metrics import r2_score
from sklearn.tree import DecisionTreeRegressor

NOTEBOOK = "chapter03/03_cluster_feature_importance.ipynb"


@pytest.fixture(scope="module")
def nb(tagged_cell):
    namespace = {"np": np, "pd": pd, "r2_score": r2_score, "linkage": linkage,
                 "fcluster": fcluster, "squareform": squareform, "combinations": combinations,
                 "factorial": factorial}
    for tag in ("clustering", "importance", "shapley"):
        tagged_cell(NOTEBOOK, tag, namespace)
    return namespace


def _families(n=600, seed=0):
    """Three independent signals, each with two near-copies: 9 features in 3 families."""
    rng = np.random.default_rng(seed)
    base = rng.standard_normal((n, 3))
    cols = {}
    for k, name in enumerate("abc"):
        cols[name] = base[:, k]
        for j in (1, 2):
            cols[f"{name}{j}"] = base[:, k] + 0.2 * rng.standard_normal(n)
    return pd.DataFrame(cols)


def test_clusters_group_near_duplicates(nb):
    clusters, _ = nb["correlation_clusters"](_families(), 0.5)
    assert sorted(sorted(m) for m in clusters.values()) == [
        ["a", "a1", "a2"], ["b", "b1", "b2"], ["c", "c1", "c2"]]
    singles, _ = nb["correlation_clusters"](_families(), 0.999)  # nothing that correlated
    assert len(singles) == 9


class _ReadsFirstColumn:
    def predict(self, X):
        return np.asarray(X)[:, 0]


def test_unused_feature_has_zero_mda(nb):
    X = _families()
    y = X["a"] + 0.1 * np.random.default_rng(1).standard_normal(len(X))
    out = nb["cluster_mda"](_ReadsFirstColumn(), X, y, {"a": ["a"], "b": ["b"], "c+": ["c", "c1"]},
                            5, 0)
    assert out.loc["b", "mean"] == 0 and out.loc["c+", "mean"] == 0
    assert out.loc["a", "mean"] > 1  # shuffling the one input destroys R^2 (about 0.99 -> -1)


def test_near_duplicates_split_mda_but_not_cluster_mda(nb):
    X = _families(n=1200)
    rng = np.random.default_rng(2)
    y = X["a"] + rng.standard_normal(len(X))
    train, val = slice(0, 800), slice(800, None)
    forest = RandomForestRegressor(100, min_samples_leaf=10, max_features=0.5, random_state=0,
                                   n_jobs=1).fit(X[train], y[train])
    Xv, yv = X[val], y[val]
    single = nb["cluster_mda"](forest, Xv, yv, {f: [f] for f in X.columns}, 5, 0)["mean"]
    joint = nb["cluster_mda"](forest, Xv, yv, {"a family": ["a", "a1", "a2"]}, 5, 0)["mean"]
    family = single[["a", "a1", "a2"]]
    assert joint["a family"] > 2 * family.max()  # the copies stand in for each other
    assert joint["a family"] > family.sum()


def test_mdi_matches_sklearn(nb):
    X = _families(n=300)
    y = X["a"] - X["b1"] + np.random.default_rng(3).standard_normal(len(X))
    forest = RandomForestRegressor(20, max_depth=4, random_state=0, n_jobs=1).fit(X, y)
    np.testing.assert_allclose(nb["mdi"](forest, X.shape[1]), forest.feature_importances_,
                               atol=1e-12)


def test_exact_shapley_matches_treeshap(nb):
    rng = np.random.default_rng(4)
    X = rng.standard_normal((400, 4))
    y = X[:, 0] * X[:, 1] + np.sin(X[:, 2]) + 0.1 * rng.standard_normal(400)
    tree = DecisionTreeRegressor(max_depth=4, random_state=0).fit(X, y)
    ours = np.array([nb["exact_shapley"](tree, x) for x in X[:6]])
    np.testing.assert_allclose(ours, shap.TreeExplainer(tree).shap_values(X[:6]), atol=1e-12)
    # efficiency: the values add up to the prediction minus the training-weighted mean
    np.testing.assert_allclose(ours.sum(axis=1) + tree.tree_.value[0, 0, 0], tree.predict(X[:6]),
                               atol=1e-12)


@pytest.mark.parametrize(
    ("name", "value"),
    [("PLANTED_FEATURE", "Oil"), ("CLUSTER_MIN_CORR", 1.5), ("TRAIN_END", "2016-01-01"),
     ("N_REPEATS_QUICK", 1), ("FEATURES", ["MktRF", "MktRF", "SMB"])],
)
def test_bad_parameter_fails_naming_it(assert_bad_parameter, name, value):
    assert_bad_parameter(NOTEBOOK, name, value)
