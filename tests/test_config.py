"""Tests of common.config: quick mode, budgets, seeding, device choice."""

import random

import numpy as np
import pytest
import torch

from common import config


@pytest.mark.parametrize("raw, quick", [("1", True), ("true", True), ("0", False), ("", False)])
def test_budget_follows_gatam_quick(monkeypatch, raw, quick):
    monkeypatch.setenv("GATAM_QUICK", raw)
    assert config.is_quick() is quick
    assert config.budget(full=200, quick=2) == (2 if quick else 200)


def test_unknown_quick_value_is_an_error(monkeypatch):
    monkeypatch.setenv("GATAM_QUICK", "maybe")
    with pytest.raises(ValueError, match="GATAM_QUICK='maybe' is not understood"):
        config.is_quick()


def test_seed_everything_makes_all_generators_repeat():
    def draw():
        rng = config.seed_everything(123)
        return (random.random(), np.random.rand(), rng.normal(), torch.rand(1).item())

    assert draw() == draw()
    with pytest.raises(ValueError, match="non-negative integer"):
        config.seed_everything(-1)


def test_get_device_cpu_and_unavailable(monkeypatch):
    monkeypatch.delenv("GATAM_DEVICE", raising=False)
    assert config.get_device("cpu").type == "cpu"
    assert config.get_device().type in {"cpu", "cuda", "mps"}
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="CUDA is not available"):
            config.get_device("cuda")
        monkeypatch.setenv("GATAM_DEVICE", "cuda")
        with pytest.raises(RuntimeError, match="CUDA is not available"):
            config.get_device()
