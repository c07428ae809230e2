"""Tests of common.model_cache: keys, atomic builds, no stale models."""

from __future__ import annotations

import json

import pytest

from common.data import UnknownDatasetError
from common.model_cache import KEY_FILE, cache_key, cached_model

DATA = ["financial_phrasebank/Sentences_50Agree.txt"]


def _writer(calls, text="weights"):
    def build(folder):
        calls.append(folder)
        (folder / "model.txt").write_text(text)

    return build


def test_builds_once_then_loads(tmp_cache, capsys):
    calls = []
    first = cached_model("toy", {"lr": 1e-4, "epochs": 3}, DATA, _writer(calls))
    assert "trained" in capsys.readouterr().out
    second = cached_model("toy", {"epochs": 3, "lr": 1e-4}, DATA, _writer(calls))  # key order irrelevant
    assert "loaded" in capsys.readouterr().out
    assert first == second and len(calls) == 1
    assert first.parent == tmp_cache / "models"
    assert first.name == f"toy-{cache_key('toy', {'lr': 1e-4, 'epochs': 3}, DATA)[:12]}"
    assert (first / "model.txt").read_text() == "weights"
    meta = json.loads((first / KEY_FILE).read_text())
    assert meta["params"] == {"epochs": 3, "lr": 1e-4} and list(meta["data"]) == DATA
    assert [p.name for p in (tmp_cache / "models").iterdir()] == [first.name]  # no temp folder left


def test_other_params_or_data_or_name_give_other_keys():
    base = cache_key("toy", {"lr": 1e-4}, DATA)
    assert cache_key("toy", {"lr": 2e-4}, DATA) != base
    assert cache_key("toy", {"lr": 1e-4}, ["financial_phrasebank/Sentences_AllAgree.txt"]) != base
    assert cache_key("toy2", {"lr": 1e-4}, DATA) != base
    assert cache_key("toy", {"lr": 1e-4}, DATA) == base


def test_the_data_hash_enters_the_key(monkeypatch):
    from common import data

    base = cache_key("toy", {}, DATA)
    changed = {**data.REGISTRY, DATA[0]: {**data.REGISTRY[DATA[0]], "sha256": "0" * 64}}
    monkeypatch.setattr(data, "REGISTRY", changed)
    assert cache_key("toy", {}, DATA) != base


def test_a_failed_build_leaves_nothing(tmp_cache):
    def broken(folder):
        (folder / "half.bin").write_text("partial")
        raise RuntimeError("out of memory")

    with pytest.raises(RuntimeError, match="out of memory"):
        cached_model("toy", {}, DATA, broken)
    assert list((tmp_cache / "models").iterdir()) == []
    calls = []
    path = cached_model("toy", {}, DATA, _writer(calls))  # retried, then built
    assert len(calls) == 1 and path.is_dir()


def test_an_empty_build_is_an_error(tmp_cache):
    with pytest.raises(RuntimeError, match="wrote nothing"):
        cached_model("toy", {}, DATA, lambda folder: None)
    assert list((tmp_cache / "models").iterdir()) == []


def test_bad_arguments(tmp_cache):
    with pytest.raises(UnknownDatasetError, match="not/a/key"):
        cached_model("toy", {}, ["not/a/key"], _writer([]))
    with pytest.raises(ValueError, match="name"):
        cached_model("../escape", {}, DATA, _writer([]))
    with pytest.raises(TypeError, match="JSON"):
        cached_model("toy", {"f": object()}, DATA, _writer([]))
    with pytest.raises(TypeError, match="list of registry keys"):
        cached_model("toy", {}, DATA[0], _writer([]))
