"""Notebook 5.12 (the attention trading signal): the fixed pipeline's scaler never sees test data.

The notebook saves the feature scaler's statistics of its first walk-forward fold (the fixed
pipeline) and of the post's pipeline (scaler fitted on all data) to
``build_dir("chapter05")/12_attention_scalers_<ASSET>.json``. Run twice in quick mode, once on the
data as they are and once with every daily return from the first walk-forward test date on
tripled (``TEST_RETURN_SCALE``), the fixed scaler must come out identical, while the post's scaler
must change: the test can fail both ways (a fixed scaler that used test data; a perturbation that
did not reach the data).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

NOTEBOOK = "chapter05/12_attention_trading_signal.ipynb"


def _scalers(run_quick, monkeypatch, folder, **params) -> dict:
    monkeypatch.setenv("GATAM_BUILD_DIR", str(folder))
    run_quick(NOTEBOOK, N_FOLDS=1, **params)  # the first fold does not depend on the number of folds
    return json.loads((folder / "chapter05" / "12_attention_scalers_QQQ.json").read_text())


def test_fixed_scaler_never_sees_test_data(run_quick, monkeypatch, tmp_path, seeded_cache):
    plain = _scalers(run_quick, monkeypatch, tmp_path / "plain")
    shocked = _scalers(run_quick, monkeypatch, tmp_path / "shocked", TEST_RETURN_SCALE=3.0)
    fixed_a, fixed_b = plain["fixed, fold 1"], shocked["fixed, fold 1"]
    assert fixed_a["last date"] == fixed_b["last date"]
    np.testing.assert_allclose(fixed_b["mean"], fixed_a["mean"], rtol=1e-12, atol=0)
    np.testing.assert_allclose(fixed_b["std"], fixed_a["std"], rtol=1e-12, atol=0)
    posted_a, posted_b = plain["as posted"], shocked["as posted"]
    change = np.abs(np.array(posted_b["std"]) / np.array(posted_a["std"]) - 1)
    assert change.max() > 0.05, f"the post's all-data scaler should move with the test-period data, moved {change.max():.2g}"
    assert posted_a["last date"] > fixed_a["last date"]


@pytest.mark.parametrize(
    ("name", "value"),
    [("ASSET", "SPY"), ("THRESHOLDS", 0.001), ("D_MODEL", 30), ("END", "someday")],
)
def test_bad_parameters_are_named(assert_bad_parameter, name, value):
    assert_bad_parameter(NOTEBOOK, name, value)
