"""Shared pytest fixtures and the skipping rules of the ``network`` and ``gpu`` markers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def pytest_collection_modifyitems(config, items):
    """Skip ``network`` tests unless GATAM_NETWORK_TESTS=1, and ``gpu`` tests without CUDA."""
    network_on = os.environ.get("GATAM_NETWORK_TESTS", "").strip() == "1"
    # markers, not keywords: a test id containing "gpu" must not be skipped as a GPU test
    gpu_items = [item for item in items if item.get_closest_marker("gpu") is not None]
    cuda = False
    if gpu_items:
        try:
            import torch

            cuda = torch.cuda.is_available()
        except ImportError:
            cuda = False
    for item in items:
        if item.get_closest_marker("network") is not None and not network_on:
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


@pytest.fixture
def phrasebank_cache(seeded_cache, tmp_path, monkeypatch) -> Path:
    """A fresh data cache holding only the 50%-agreement PhraseBank file, in quick mode.

    For tests that train a classifier into an empty model cache (chapters 9-10).
    """
    import shutil

    from common.phrasebank import data_key

    folder = tmp_path / "cache"
    (folder / data_key("50")).parent.mkdir(parents=True)
    shutil.copy(seeded_cache / data_key("50"), folder / data_key("50"))
    monkeypatch.setenv("GATAM_DATA_DIR", str(folder))
    monkeypatch.setenv("GATAM_QUICK", "1")
    return folder


@pytest.fixture
def price_csv(tmp_path):
    """Factory writing a reader-style price file of random-walk prices; returns its path.

    ``price_csv(tickers, start, end, layout="wide" | "long", seed=0, name=None)`` writes
    business-day closes (geometric random walk, about 1 % daily volatility, first price 100)
    for ``tickers`` between ``start`` and ``end``: wide = ``Date`` plus one column per ticker,
    long = ``date, ticker, close`` rows. Used to rerun the notebooks on "your own data" of a
    period other than the book's (ARCHITECTURE.md, "Notebook standard").
    """
    import numpy as np
    import pandas as pd

    def make(tickers, start, end, *, layout="wide", seed=0, name=None):
        dates = pd.bdate_range(start, end, name="Date")
        rng = np.random.default_rng(seed)
        steps = rng.normal(0.0003, 0.01, size=(len(dates), len(tickers)))
        wide = pd.DataFrame(100.0 * np.exp(np.cumsum(steps, axis=0)), index=dates, columns=tickers)
        path = tmp_path / (name or f"prices_{layout}.csv")
        if layout == "wide":
            wide.round(4).to_csv(path)
        elif layout == "long":
            long = wide.round(4).stack().rename("close").reset_index()
            long.columns = ["date", "ticker", "close"]
            long.to_csv(path, index=False)
        else:
            raise ValueError(f"layout must be 'wide' or 'long', got {layout!r}")
        return path

    return make


@pytest.fixture
def run_quick(tmp_path, monkeypatch):
    """Run a notebook in quick mode with papermill parameters; return the executed notebook.

    ``run_quick("chapter01/02_sharpe_ratio.ipynb", SOURCE="csv", CSV_PATH=...)`` executes the
    notebook (cwd = the repository root, ``GATAM_QUICK=1``) and raises papermill's
    ``PapermillExecutionError`` (naming the failing cell) when a cell fails.
    """
    import papermill

    repo = Path(__file__).resolve().parents[1]
    monkeypatch.setenv("GATAM_QUICK", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")

    def run(notebook, **parameters):
        out = tmp_path / f"out_{Path(notebook).name}"
        for attempt in (1, 2):
            try:
                return papermill.execute_notebook(
                    str(repo / notebook),
                    str(out),
                    parameters=parameters,
                    cwd=str(repo),
                    kernel_name="python3",
                    progress_bar=False,
                )
            except RuntimeError as err:
                # jupyter_client picks free TCP ports before the kernel binds them; a kernel started
                # at the same moment by the other pytest-xdist worker can take one ("Address already
                # in use") and the kernel dies at start-up. That is retried once; a failing cell is
                # a PapermillExecutionError, not a RuntimeError, and is never retried.
                if attempt == 2 or "Kernel died before replying to kernel_info" not in str(err):
                    raise

    return run


@pytest.fixture
def assert_bad_parameter(run_quick):
    """``assert_bad_parameter(notebook, NAME, value)``: the quick run stops with a ValueError
    whose message names the parameter (the validation cell after the parameters cell)."""
    import papermill

    def check(notebook, name, value):
        with pytest.raises(papermill.PapermillExecutionError) as info:
            run_quick(notebook, **{name: value})
        assert info.value.ename == "ValueError", info.value.evalue
        assert name in info.value.evalue

    return check


def _tagged_cell(notebook, tag: str, namespace: dict | None = None) -> dict:
    """Execute the notebook's one code cell tagged ``tag`` in ``namespace``; return the namespace.

    Lets a test import a function that a notebook teaches (and keeps in the notebook) without
    running the whole notebook. Fails unless exactly one cell carries the tag.
    """
    import nbformat

    repo = Path(__file__).resolve().parents[1]
    nb = nbformat.read(repo / notebook, as_version=4)
    cells = [c for c in nb.cells if tag in c.get("metadata", {}).get("tags", [])]
    assert len(cells) == 1, f"{notebook} needs exactly one cell tagged {tag!r}, found {len(cells)}"
    namespace = {} if namespace is None else namespace
    exec(cells[0].source, namespace)
    return namespace


@pytest.fixture(scope="session")
def tagged_cell():
    """The :func:`_tagged_cell` helper as a fixture: ``tagged_cell(notebook, tag, namespace)``."""
    return _tagged_cell


def notebook_text(nb) -> str:
    """All text outputs (stream and text/plain) of an executed notebook, joined."""
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                parts.append(out.get("text", ""))
            elif "data" in out:
                parts.append(out["data"].get("text/plain", ""))
    return "\n".join(parts)


@pytest.fixture
def outputs_text():
    """The :func:`notebook_text` helper as a fixture (all text outputs of a notebook, joined)."""
    return notebook_text


@pytest.fixture(scope="module")
def one_torch_thread():
    """One intra-op torch thread for a test module of tiny models (faster on a busy 2-core CPU).

    Use with ``pytestmark = pytest.mark.usefixtures("one_torch_thread")``; the previous thread
    count is restored after the module.
    """
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def save_tiny_bert():
    """``save_tiny_bert(folder, n_layers)``: save a random ``n_layers``-layer, 32-wide BERT with the
    bundled MiniLM tokenizer in ``folder`` (a model folder for the text-model tests); returns it."""
    return _save_tiny_bert


def _save_tiny_bert(folder, n_layers: int):
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    from common.text_classifier import minilm_path

    tokenizer = AutoTokenizer.from_pretrained(minilm_path())
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=n_layers,
                        num_attention_heads=2, intermediate_size=64, max_position_embeddings=128)
    torch.manual_seed(0)
    BertModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
