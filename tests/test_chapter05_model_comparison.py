"""Notebook 5.10 (model comparison) on a results folder the notebook has never seen.

The comparison reads the evaluations other notebooks saved (``Evaluation.save``). Whatever the
order in which notebooks ran, an absent, half-written or quick-mode row must not stop it: the
baselines are recomputed, missing model notebooks are named, unreadable files are skipped with
their error, and a saved row of a new model joins the table and the significance tests.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

NOTEBOOK = "chapter05/14_model_comparison.ipynb"


def test_empty_folder_recomputes_baselines_and_names_missing_notebooks(run_quick, outputs_text, tmp_path):
    folder = tmp_path / "results"
    folder.mkdir()
    text = outputs_text(run_quick(NOTEBOOK, RESULTS_DIR=str(folder)))
    assert "0 saved rows, 0 ignored, 4 baselines recomputed" in text
    for notebook in ("02_linear_autoregressive", "04_recurrent_lstm", "08_chronos", "13_state_space_models"):
        assert f"missing: run chapter05/{notebook}.ipynb first" in text
    assert "missing: run chapter07/03_conditioned_flow.ipynb first" in text  # a writer outside chapter 5
    assert "QUICK MODE" in text
    assert "Verdict:" in text


def test_saved_row_joins_and_broken_file_is_skipped(run_quick, outputs_text, tmp_path):
    from common import forecasting as fc

    folder = tmp_path / "results"
    windows = fc.test_windows()
    rng = np.random.default_rng(0)

    def shrunk_last_value(contexts, series_id):  # a small GPT stand-in: 20 noisy samples near zero
        return 0.05 * contexts[:, -1:] + 0.004 * rng.standard_normal((len(contexts), 20))

    ev = fc.evaluate(shrunk_last_value, name="GPT (test stand-in)", windows=windows, progress=False)
    ev.save("trained here", train_seconds=1.5, n_parameters=123, folder=folder)
    (folder / "half-written.json").write_text("{")
    text = outputs_text(run_quick(NOTEBOOK, RESULTS_DIR=str(folder)))
    assert "GPT (test stand-in) (saved)" in text
    assert re.search(r"skipped \(unreadable\): cannot read the saved evaluation \S*half-written.json", text)
    assert "missing: run chapter05/07_decoder_only_gpt.ipynb first" not in text
    assert re.search(r"GPT \(test stand-in\)\s+median\s+zero", text)  # the DM table has its row


@pytest.mark.parametrize(("name", "value"), [("ALPHA", 0), ("REFERENCE", "LSTM 2x128"), ("RESULTS_DIR", "/no/such")])
def test_bad_parameter_fails_naming_it(assert_bad_parameter, name, value):
    assert_bad_parameter(NOTEBOOK, name, value)
