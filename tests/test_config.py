"""Tests of common.config: quick mode, budgets, seeding, device choice, thread policy."""

import random

import numpy as np
import pytest
import torch
from threadpoolctl import threadpool_info, threadpool_limits

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


@pytest.mark.parametrize("raw", ["CPU", " cpu", "cpu\n", "Cpu "])
def test_gatam_device_is_normalised(monkeypatch, raw):
    """Issue 6: GATAM_DEVICE was passed to torch.device unchecked ("CPU", " cpu" failed)."""
    monkeypatch.setenv("GATAM_DEVICE", raw)
    assert config.get_device() == torch.device("cpu")
    monkeypatch.delenv("GATAM_DEVICE")
    assert config.get_device(prefer=raw) == torch.device("cpu")


@pytest.mark.parametrize("raw", ["tpu", "meta", "xla", "cuda:x", "cuda:", "npu", "cpu cpu"])
def test_unsupported_device_types_are_rejected_by_name(monkeypatch, raw):
    monkeypatch.setenv("GATAM_DEVICE", raw)
    with pytest.raises(ValueError, match=r"GATAM_DEVICE=.*cpu, cuda, mps"):
        config.get_device()
    monkeypatch.delenv("GATAM_DEVICE")
    with pytest.raises(ValueError, match=r"prefer=.*cpu, cuda, mps"):
        config.get_device(prefer=raw)


def test_device_auto_and_prefer_wins(monkeypatch):
    monkeypatch.setenv("GATAM_DEVICE", "  ")
    assert config.get_device().type in config.DEVICE_TYPES
    monkeypatch.setenv("GATAM_DEVICE", "auto")
    assert config.get_device().type in config.DEVICE_TYPES
    monkeypatch.setenv("GATAM_DEVICE", "tpu")  # an explicit prefer is used, the env not read
    assert config.get_device(torch.device("cpu")) == torch.device("cpu")
    monkeypatch.delenv("GATAM_DEVICE")
    if torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="CUDA device"):
            config.get_device(f"cuda:{torch.cuda.device_count()}")


@pytest.fixture
def fresh_policy(monkeypatch):
    """Undo what set_thread_policy does to this process."""
    for var in ("GATAM_THREADS", "PYTEST_XDIST_WORKER", "GATAM_QUICK", *config.THREAD_ENV_VARS):
        monkeypatch.setenv(var, "")  # records the original, so teardown undoes the policy's
        monkeypatch.delenv(var)  # os.environ.setdefault(...) too
    monkeypatch.setattr(config, "_THREADS_APPLIED", None)
    before = torch.get_num_threads()
    pools = {}
    for pool in threadpool_info():
        pools[pool["user_api"]] = max(pools.get(pool["user_api"], 1), pool["num_threads"])
    yield
    torch.set_num_threads(before)
    threadpool_limits(limits=pools)  # set_thread_policy limits this process's BLAS pools


def test_thread_count_policy(fresh_policy, monkeypatch):
    assert config.thread_count() is None  # default mode: no limit (every core)
    assert config.thread_count(quick=True) == 1
    monkeypatch.setenv("GATAM_QUICK", "1")
    assert config.thread_count() == 1
    assert config.thread_count(quick=False) is None
    monkeypatch.delenv("GATAM_QUICK")
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw1")
    assert config.thread_count() == 1
    monkeypatch.setenv("GATAM_THREADS", " 3 ")  # overrides xdist and quick mode
    assert config.thread_count() == 3 and config.thread_count(quick=True) == 3
    monkeypatch.setenv("GATAM_THREADS", "auto")
    assert config.thread_count() == 1
    for bad in ("0", "-2", "two", "1.5"):
        monkeypatch.setenv("GATAM_THREADS", bad)
        with pytest.raises(ValueError, match="GATAM_THREADS=.*positive integer"):
            config.thread_count()
    assert config.thread_env(None) == {}
    assert config.thread_env(2) == dict.fromkeys(config.THREAD_ENV_VARS, "2")


def test_set_thread_policy_applies_once(fresh_policy, monkeypatch):
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw0")
    torch.set_num_threads(2)
    assert config.set_thread_policy() == 1
    assert torch.get_num_threads() == 1
    assert all(config.os.environ[var] == "1" for var in config.THREAD_ENV_VARS)
    # applied once: a later change of the environment or of torch is left alone...
    monkeypatch.setenv("GATAM_THREADS", "2")
    torch.set_num_threads(2)
    assert config.set_thread_policy() == 1 and torch.get_num_threads() == 2
    config.seed_everything(0)
    assert torch.get_num_threads() == 2
    # ...unless forced
    assert config.set_thread_policy(force=True) == 2 and torch.get_num_threads() == 2
    monkeypatch.setenv("GATAM_THREADS", "1")
    assert config.set_thread_policy(force=True) == 1 and torch.get_num_threads() == 1


def test_seed_everything_applies_the_policy(fresh_policy, monkeypatch):
    monkeypatch.setenv("GATAM_QUICK", "1")
    torch.set_num_threads(2)
    config.seed_everything(1)
    assert torch.get_num_threads() == 1
    monkeypatch.setattr(config, "_THREADS_APPLIED", None)
    monkeypatch.setenv("GATAM_QUICK", "0")
    torch.set_num_threads(2)
    assert config.set_thread_policy() is None
    assert torch.get_num_threads() == 2  # default mode: left as it is
