"""Notebook 3.07 (trees, forests, boosting): its from-scratch code equals scikit-learn's.

The notebook's CART (the cell tagged ``cart``: ``fit_tree``, ``predict_tree``) and gradient
boosting (tagged ``boosting``: ``boost``) are run here, outside the notebook, on small seeded
problems: the tree must be scikit-learn's node for node (same split features, thresholds to the
last bit, node sizes and leaf values), with and without bootstrap weights, for two and three
classes and for a regression tree; boosting must give scikit-learn's probabilities. Two candidate
splits can tie exactly (the same impurity, typically in a node of a few samples): scikit-learn
then keeps the first feature of a random visiting order drawn from its ``random_state``, ours the
lowest feature index. The problems here have a real signal and leaves of 20 samples or more, and
a tree counts as equal when scikit-learn grows it for one of ten ``random_state`` values. Bad
parameters stop the quick run in the validation cell with a message that names them.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

NOTEBOOK = "chapter03/07_trees_and_boosting.ipynb"


@pytest.fixture(scope="module")
def code(tagged_cell):
    namespace = tagged_cell(NOTEBOOK, "cart", {"np": np})
    return tagged_cell(NOTEBOOK, "boosting", namespace)


def _problem(seed, n=400, n_classes=2):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 4))
    score = X[:, 0] + 0.5 * X[:, 1] * X[:, 2] + 0.5 * rng.standard_normal(n)
    y = np.digitize(score, np.quantile(score, np.linspace(0, 1, n_classes + 1)[1:-1]))
    return X, y, score, rng.standard_normal((300, 4))


def _same_splits(ours, model):
    t = model.tree_
    inner = t.children_left >= 0
    return np.array_equal(ours["feature"], np.where(inner, t.feature, -1)) and np.array_equal(
        ours["threshold"], np.where(inner, t.threshold, np.nan), equal_nan=True)


def _matching_sklearn(ours, make, X, y, sample_weight=None):
    """scikit-learn's tree for the first random_state in 0..9 that splits as ours does."""
    for state in range(10):
        model = make(state).fit(X, y, sample_weight=sample_weight)
        if _same_splits(ours, model):
            np.testing.assert_array_equal(ours["n"], model.tree_.n_node_samples)
            np.testing.assert_allclose(ours["value"], model.tree_.value[:, 0, :], rtol=0, atol=1e-12)
            return model
    raise AssertionError(f"no random_state gives our tree: ours splits on {ours['feature']} at "
                         f"{ours['threshold']}, scikit-learn's (random_state 9) on "
                         f"{model.tree_.feature} at {model.tree_.threshold}")


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cart_equals_sklearn_node_for_node(code, seed, n_classes):
    X, y, _, X_new = _problem(seed, n_classes=n_classes)
    ours = code["fit_tree"](X, y, max_depth=3, min_samples_leaf=20)
    model = _matching_sklearn(ours, lambda s: DecisionTreeClassifier(
        max_depth=3, min_samples_leaf=20, random_state=s), X, y)
    assert (ours["feature"] >= 0).sum() >= 5  # several splits: the case is not trivial
    np.testing.assert_allclose(code["predict_tree"](ours, X_new), model.predict_proba(X_new),
                               rtol=0, atol=1e-12)


def test_cart_with_bootstrap_weights_equals_sklearn(code):
    X, y, _, X_new = _problem(3)
    counts = np.bincount(np.random.default_rng(3).integers(0, len(y), len(y)), minlength=len(y))
    ours = code["fit_tree"](X, y, max_depth=3, min_samples_leaf=20, sample_weight=counts)
    model = _matching_sklearn(ours, lambda s: DecisionTreeClassifier(
        max_depth=3, min_samples_leaf=20, random_state=s), X, y, counts)
    assert ours["n"][0] == np.count_nonzero(counts)  # months never drawn are not in the tree
    np.testing.assert_allclose(code["predict_tree"](ours, X_new), model.predict_proba(X_new),
                               rtol=0, atol=1e-12)


def test_regression_tree_equals_sklearn(code):
    X, _, score, X_new = _problem(4)
    ours = code["fit_tree"](X, score, criterion="variance", max_depth=3, min_samples_leaf=20)
    model = _matching_sklearn(ours, lambda s: DecisionTreeRegressor(
        max_depth=3, min_samples_leaf=20, random_state=s), X, score)
    np.testing.assert_allclose(code["predict_tree"](ours, X_new)[:, 0], model.predict(X_new),
                               rtol=0, atol=1e-12)


def test_gini_of_a_hand_case(code):
    """Four 0/1 labels on one feature: the best cut isolates the two 1s, Gini 0.5 -> 0."""
    tree = code["fit_tree"](np.array([[1.0], [2.0], [3.0], [4.0]]), np.array([0, 0, 1, 1]),
                            max_depth=1)
    assert tree["threshold"][0] == 2.5
    np.testing.assert_allclose(tree["impurity"], [0.5, 0.0, 0.0])


def test_boosting_equals_sklearn(code):
    X, y, _, X_new = _problem(5)
    p, losses = code["boost"](X, y, X_new, eta=0.3, n_stages=30, max_depth=2, min_samples_leaf=20)
    model = GradientBoostingClassifier(n_estimators=30, learning_rate=0.3, max_depth=2,
                                       min_samples_leaf=20, random_state=0).fit(X, y)
    np.testing.assert_allclose(p, model.predict_proba(X_new)[:, 1], rtol=0, atol=1e-10)
    np.testing.assert_allclose(2 * losses, model.train_score_, rtol=0, atol=1e-10)
    assert losses[-1] < losses[0]


def test_unknown_criterion_is_refused(code):
    with pytest.raises(ValueError, match="criterion"):
        code["fit_tree"](np.zeros((4, 1)), np.array([0, 1, 0, 1]), criterion="entropy")


@pytest.mark.parametrize(
    ("name", "value"),
    [("ETAS", [0.1, 0.0]), ("MIN_SAMPLES_LEAF", 0), ("VALID_START", "1995-01-01"),
     ("FEATURES", ["mkt_1m", "dividend_yield"])],
)
def test_bad_parameter_fails_naming_it(assert_bad_parameter, name, value):
    assert_bad_parameter(NOTEBOOK, name, value)
