"""Tests of common.generator_results: the saved rows behind the chapter 6-8 generator table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from common.generator_results import (
    generator_results_dir,
    load_generator_results,
    save_generator_result,
)


def _row(name, auc):
    return pd.DataFrame([{"disc_auc": auc, "tstr_mse": 1.2}], index=pd.Index([name], name="generator"))


def test_round_trip_keeps_scores_metadata_and_windows(tmp_path, monkeypatch):
    monkeypatch.setenv("GATAM_QUICK", "1")
    synth = np.random.default_rng(0).normal(size=(7, 5, 2))
    save_generator_result(_row("NICE (ours)", 0.81), synth, notebook="chapter07/01_nice",
                          train_seconds=12.5, n_parameters=1234, folder=tmp_path)
    save_generator_result(_row("GARCH-t", 0.70), synth[:3], notebook="chapter08/04_timegan",
                          kind="baseline", folder=tmp_path)
    table, windows = load_generator_results(tmp_path)
    assert list(table.index) == ["GARCH-t", "NICE (ours)"]
    assert table.loc["NICE (ours)", "disc_auc"] == pytest.approx(0.81)
    assert table.loc["NICE (ours)", "n_parameters"] == 1234
    assert table.loc["GARCH-t", "kind"] == "baseline" and pd.isna(table.loc["GARCH-t", "train_seconds"])
    assert bool(table.loc["NICE (ours)", "quick"]) is True
    assert windows["GARCH-t"].shape == (3, 5, 2) and windows["NICE (ours)"].dtype == np.float32
    np.testing.assert_allclose(windows["NICE (ours)"], synth, rtol=1e-6)


def test_empty_folder_gives_an_empty_table(tmp_path):
    table, windows = load_generator_results(tmp_path)
    assert table.empty and windows == {}


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"kind": "pretrained"}, "kind must be one of"),
        ({"notebook": " "}, "notebook must name"),
        ({"synth": np.zeros((4, 5))}, "windows shaped"),
        ({"synth": np.full((2, 3, 1), np.nan)}, "NaN"),
        ({"row": pd.concat([_row("a", 0.5), _row("b", 0.6)])}, "one-row"),
    ],
)
def test_save_rejects_bad_input(tmp_path, kwargs, match):
    args = {"row": _row("x", 0.5), "synth": np.zeros((2, 3, 1)), "notebook": "nb", **kwargs}
    with pytest.raises(ValueError, match=match):
        save_generator_result(args.pop("row"), args.pop("synth"), folder=tmp_path, **args)


def test_a_broken_file_is_named_or_skipped(tmp_path):
    save_generator_result(_row("ok", 0.6), np.zeros((2, 3, 1)), notebook="nb", folder=tmp_path)
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(ValueError, match="broken.json"):
        load_generator_results(tmp_path)
    with pytest.warns(UserWarning, match="broken.json"):
        table, _ = load_generator_results(tmp_path, errors="skip")
    assert list(table.index) == ["ok"]
    (tmp_path / "broken.json").unlink()
    (tmp_path / "ok.npy").unlink()
    with pytest.raises(ValueError, match="ok.json"):
        load_generator_results(tmp_path)


def test_quick_mode_uses_its_own_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("GATAM_BUILD_DIR", str(tmp_path))
    monkeypatch.setenv("GATAM_QUICK", "1")
    quick = generator_results_dir()
    monkeypatch.setenv("GATAM_QUICK", "0")
    assert quick.name == "results-quick" and generator_results_dir().name == "results"
