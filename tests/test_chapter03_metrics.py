"""Notebook 3.06 (classification metrics): the hand-written curves, and the notebook itself.

Book §3.2.4. The notebook builds ROC and precision-recall curves from sorted scores, the AUC as
a pair count, average precision and the area under the ROC convex hull by hand. Its cell tagged
``roc_functions`` is executed here and checked against scikit-learn and SciPy on random scores
with ties, which the notebook's own examples do not have; then the notebook runs in quick mode
with other settings, and bad parameters stop it with a message that names them.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial import ConvexHull
from sklearn import metrics as skm

NOTEBOOK = "chapter03/06_classification_metrics.ipynb"


@pytest.fixture(scope="module")
def roc(tagged_cell):
    from scipy import stats

    return tagged_cell(
        NOTEBOOK, "roc_functions", {"np": np, "stats": stats, "ConvexHull": ConvexHull}
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_hand_curves_match_the_libraries_with_ties(roc, seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 300)
    score = np.round(0.3 * y + rng.random(300), 1)  # rounded: many tied scores
    out = roc["curve_summary"](y, score)
    fpr, tpr, *_ = out["curves"]
    sk_fpr, sk_tpr, _ = skm.roc_curve(y, score, drop_intermediate=False)
    np.testing.assert_allclose(fpr, sk_fpr, atol=1e-12)
    np.testing.assert_allclose(tpr, sk_tpr, atol=1e-12)
    auc = skm.roc_auc_score(y, score)
    assert out["AUC trapezoid"] == pytest.approx(auc, abs=1e-12)
    assert out["AUC pairs"] == pytest.approx(auc, abs=1e-12)
    assert out["AP"] == pytest.approx(skm.average_precision_score(y, score), abs=1e-12)
    assert out["hull area"] == pytest.approx(out["qhull area"], abs=1e-12)
    assert out["hull area"] >= auc - 1e-12


def test_hull_of_a_concave_roc_is_the_roc(roc):
    # scores that rank every positive first: ROC (0,0)-(0,1)-(1,1), hull area = AUC = 1
    out = roc["curve_summary"](np.array([1, 1, 0, 0]), np.array([0.9, 0.8, 0.2, 0.1]))
    assert out["AUC pairs"] == 1.0
    assert out["hull area"] == pytest.approx(1.0)


def test_notebook_with_other_settings(run_quick, outputs_text):
    nb = run_quick(
        NOTEBOOK,
        MINORITY_SHARE=0.2,
        N_SIGMOID=501,
        SIGMOID_SLOPE=2.0,
        CONFUSION=[[5, 1, 0], [2, 6, 2], [0, 1, 9]],
    )
    text = outputs_text(nb)
    assert "501 samples" in text
    assert "never predicting the 20% minority scores accuracy 0.80 with recall 0" in text
    assert "every hand-computed multi-class metric matches scikit-learn" in text


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CONFUSION", [[1, 2], [3, 4]]),
        ("MINORITY_SHARE", 0.7),
        ("N_SIGMOID", 5),
        ("THRESHOLD", 1.5),
    ],
)
def test_bad_parameter_fails_naming_it(assert_bad_parameter, name, value):
    assert_bad_parameter(NOTEBOOK, name, value)
