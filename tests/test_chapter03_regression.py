"""Notebook 3.04 (regression and regularization): the functions it teaches, and bad parameters.

The cells tagged ``polar`` (the legacy Gaussian generator rebuilt from raw uniforms, behind the
book's Table 3.2) and ``lasso`` (coordinate-descent lasso) are executed here: the polar method
matches ``np.random.normal`` after ``np.random.seed`` for several seeds, including the book's
seed 0 whose first draws are well known; the lasso matches scikit-learn on random data, is all
zeros above the KKT threshold ``max |X'y| / n`` and not below it, and reduces to least squares
at ``alpha = 0``. Bad parameters stop the quick run in the validation cell with a message that
names them.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import Lasso

NOTEBOOK = "chapter03/04_regression_and_regularization.ipynb"


@pytest.fixture(scope="module")
def nb(tagged_cell):
    namespace = {"np": np}
    for tag in ("polar", "lasso"):
        tagged_cell(NOTEBOOK, tag, namespace)
    return namespace


@pytest.mark.parametrize("seed", [0, 1, 42, 2025])
def test_polar_method_matches_legacy_generator(nb, seed):
    np.random.seed(seed)
    legacy = np.random.normal(0.005, 0.005, (4, 3))
    ours = 0.005 + 0.005 * nb["polar_normals"](seed, 12).reshape(4, 3)
    np.testing.assert_array_equal(ours, legacy)


def test_book_table_first_draws(nb):
    # the first standard normals of np.random.seed(0), printed in countless tutorials
    known = [1.76405235, 0.40015721, 0.97873798, 2.2408932, 1.86755799, -0.97727788]
    np.testing.assert_allclose(nb["polar_normals"](0, 6), known, atol=1e-8)


@pytest.fixture(scope="module")
def collinear():
    rng = np.random.default_rng(0)
    base = rng.standard_normal((300, 1))
    X = np.hstack([base + 0.1 * rng.standard_normal((300, 1)) for _ in range(3)]
                  + [rng.standard_normal((300, 2))])
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    y = X[:, 0] + 0.5 * X[:, 3] + rng.standard_normal(300)
    return X, y - y.mean()


@pytest.mark.parametrize("alpha", [0.001, 0.05, 0.3])
def test_lasso_cd_matches_sklearn(nb, collinear, alpha):
    X, y = collinear
    ref = Lasso(alpha=alpha, fit_intercept=False, tol=1e-12, max_iter=100_000).fit(X, y).coef_
    np.testing.assert_allclose(nb["lasso_cd"](X, y, alpha, n_sweeps=100_000), ref, atol=1e-8)


def test_lasso_cd_zero_threshold_and_least_squares(nb, collinear):
    X, y = collinear
    threshold = np.abs(X.T @ y).max() / len(y)  # smallest alpha with every coefficient zero
    assert (nb["lasso_cd"](X, y, 1.001 * threshold) == 0).all()
    assert (nb["lasso_cd"](X, y, 0.99 * threshold) != 0).any()
    ols = np.linalg.lstsq(X, y, rcond=None)[0]
    np.testing.assert_allclose(nb["lasso_cd"](X, y, 0.0, n_sweeps=20_000), ols, atol=1e-6)


@pytest.mark.parametrize(
    ("name", "value"),
    [("THRESHOLDS", [0.7, 0.4, 0.02]), ("PAIR", ["Manuf"]), ("VALID_END", "1990-06-30"),
     ("L1_RATIO", 1.5), ("FACTORS", ["MktRF", "Oil"])],
)
def test_bad_parameter_fails_naming_it(assert_bad_parameter, name, value):
    assert_bad_parameter(NOTEBOOK, name, value)
