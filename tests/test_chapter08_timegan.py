"""Notebook 8.04 (TimeGAN and the final generator table) in quick mode, and with bad parameters.

The final table reads the rows that the other chapter 6-8 notebooks saved. Run against an empty
build folder, it must still train, score and save TimeGAN and the two classical baselines, and
name every missing row (with its notebook) instead of failing. Bad parameters stop the run in
the validation cell with a message that names them.
"""

from __future__ import annotations

import json

import pytest

NOTEBOOK = "chapter08/04_timegan.ipynb"


def test_final_table_names_missing_rows(run_quick, outputs_text, tmp_path, monkeypatch):
    build = tmp_path / "build"
    monkeypatch.setenv("GATAM_BUILD_DIR", str(build))
    nb = run_quick(NOTEBOOK, OHLCV_ITERS_QUICK=5, DISC_EPOCHS_QUICK=1)
    text = outputs_text(nb)
    for label in ("TimeVAE (chapter06/04_timevae)", "NICE (chapter07/01_nice)", "RealNVP (chapter07/02_realnvp)",
                  "RCGAN (chapter08/03_rcgan)"):
        assert label in text, f"missing row {label} not listed"
    assert "Missing rows: TimeVAE" in text  # the verdict repeats them
    saved = {p.stem: json.loads(p.read_text()) for p in (build / "generators" / "results-quick").glob("*.json")}
    assert {"timegan", "garch-1-1-t-derived-vol", "var-1-gaussian"} <= set(saved)
    assert saved["garch-1-1-t-derived-vol"]["kind"] == "baseline"
    assert saved["timegan"]["notebook"] == "chapter08/04_timegan" and saved["timegan"]["quick"] is True


@pytest.mark.parametrize(("name", "value"), [("HIDDEN", 1), ("GAMMA", -1.0), ("OHLCV_WINDOW", 2), ("LR", "fast")])
def test_bad_parameter_fails_naming_it(assert_bad_parameter, name, value):
    assert_bad_parameter(NOTEBOOK, name, value)
