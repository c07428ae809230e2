"""Shared pytest fixtures and the skipping rules of the ``network`` and ``gpu`` markers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def pytest_collection_modifyitems(config, items):
    """Skip ``network`` tests unless GATAM_NETWORK_TESTS=1, and ``gpu`` tests without CUDA."""
    network_on = os.environ.get("GATAM_NETWORK_TESTS", "").strip() == "1"
    gpu_items = [item for item in items if "gpu" in item.keywords]
    cuda = False
    if gpu_items:
        try:
            import torch

            cuda = torch.cuda.is_available()
        except ImportError:
            cuda = False
    for item in items:
        if "network" in item.keywords and not network_on:
            item.add_marker(pytest.mark.skip(reason="needs internet: set GATAM_NETWORK_TESTS=1"))
    if not cuda:
        for item in gpu_items:
            item.add_marker(pytest.mark.skip(reason="needs a CUDA GPU"))


@pytest.fixture
def tmp_cache(tmp_path, monkeypatch) -> Path:
    """An empty data cache: ``GATAM_DATA_DIR`` points to a fresh temporary folder."""
    folder = tmp_path / "cache"
    folder.mkdir()
    monkeypatch.setenv("GATAM_DATA_DIR", str(folder))
    return folder


@pytest.fixture(scope="session")
def seeded_cache() -> Path:
    """The data cache the tests run with, skipping the test unless every registry file is there.

    CI seeds it from the project's shared datasets folder (``.ci/run``); on a fresh checkout
    run a notebook once with internet, or copy the files in (see ``data/README.md``).
    """
    from common.data import REGISTRY, cache_dir

    folder = cache_dir()
    missing = [key for key in REGISTRY if not (folder / key).is_file()]
    if missing:
        pytest.skip(f"data cache {folder} is not seeded ({len(missing)} files missing)")
    return folder
