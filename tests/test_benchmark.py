"""Tests of common.benchmark: thread setting, timing protocol, sizes on disk, parameter counts."""

from __future__ import annotations

import time

import pytest
import torch

from common.benchmark import count_parameters, set_threads, size_on_disk_mib, time_inference


def test_set_threads_returns_previous_and_sets():
    before = torch.get_num_threads()
    try:
        assert set_threads(1) == before
        assert torch.get_num_threads() == 1
        assert set_threads(2) == 1
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_set_threads_rejects_bad_values(bad):
    with pytest.raises(ValueError, match="threads"):
        set_threads(bad)


def test_time_inference_batches_warmup_and_keys():
    calls = []
    texts = [f"s{i}" for i in range(10)]
    result = time_inference(lambda batch: calls.append(list(batch)), texts, batch_size=4,
                            repeats=3, warmup=2)
    # 5 passes (2 warm-up + 3 timed) of 3 consecutive batches: 4, 4 and the last 2 texts
    assert len(calls) == 15
    assert calls[:3] == [texts[0:4], texts[4:8], texts[8:10]]
    assert set(result) == {"batch_size", "n_texts", "repeats", "threads", "seconds_per_sentence",
                           "sentences_per_second", "iqr_seconds_per_sentence"}
    assert (result["batch_size"], result["n_texts"], result["repeats"]) == (4, 10, 3)
    assert result["threads"] == torch.get_num_threads()


def test_time_inference_measures_per_sentence_median():
    # each batch sleeps 10 ms: 2 batches for 8 texts at batch 4 -> about 2.5 ms per sentence
    result = time_inference(lambda batch: time.sleep(0.01), ["x"] * 8, batch_size=4, repeats=3,
                            warmup=0)
    assert 0.0024 <= result["seconds_per_sentence"] < 0.01
    assert result["sentences_per_second"] == pytest.approx(1 / result["seconds_per_sentence"])
    assert result["iqr_seconds_per_sentence"] >= 0


def test_time_inference_warmup_not_timed():
    state = {"first": True}

    def slow_first(batch):
        if state["first"]:
            state["first"] = False
            time.sleep(0.3)

    result = time_inference(slow_first, ["a", "b"], batch_size=2, repeats=1, warmup=1)
    assert result["seconds_per_sentence"] < 0.05
    assert result["iqr_seconds_per_sentence"] == 0.0


def test_time_inference_runs_without_autograd():
    seen = []
    time_inference(lambda batch: seen.append(torch.is_grad_enabled()), ["a"], batch_size=1,
                   repeats=1, warmup=0)
    assert seen == [False]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"batch_size": 0}, "batch_size"), ({"batch_size": 2, "repeats": 0}, "repeats"),
     ({"batch_size": 2, "warmup": -1}, "warmup")],
)
def test_time_inference_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        time_inference(lambda batch: None, ["a"], **kwargs)


def test_time_inference_rejects_empty_or_string_texts():
    with pytest.raises(ValueError, match="empty"):
        time_inference(lambda batch: None, [], batch_size=1)
    with pytest.raises(TypeError, match="list of strings"):
        time_inference(lambda batch: None, "one sentence", batch_size=1)


def test_size_on_disk_file_and_folder(tmp_path):
    (tmp_path / "a.bin").write_bytes(b"\0" * 2**20)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.bin").write_bytes(b"\0" * 2**19)
    assert size_on_disk_mib(tmp_path / "a.bin") == 1.0
    assert size_on_disk_mib(tmp_path) == 1.5
    with pytest.raises(FileNotFoundError, match="missing"):
        size_on_disk_mib(tmp_path / "missing")


def test_count_parameters_all_trainable_and_tied():
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Linear(4, 2))
    assert count_parameters(model) == 3 * 4 + 4 + 4 * 2 + 2
    model[0].requires_grad_(False)
    assert count_parameters(model, trainable_only=True) == 4 * 2 + 2
    assert count_parameters(model) == 26
    tied = torch.nn.Sequential(torch.nn.Linear(3, 3, bias=False), torch.nn.Linear(3, 3, bias=False))
    tied[1].weight = tied[0].weight
    assert count_parameters(tied) == 9
    with pytest.raises(TypeError, match="torch module"):
        count_parameters([1, 2, 3])
