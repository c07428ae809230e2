"""Fair CPU timing and size measures for chapter 10 (distillation, quantization, LoRA).

Fair means like with like: every model is timed on the same sentences, with the same number of
torch threads (fixed by :func:`set_threads` and printed by the notebook), after warm-up passes
that are not timed, and summarized by the median of repeated passes (the interquartile range says
how noisy the machine was). Latency is :func:`time_inference` at ``batch_size=1``, throughput the
same call at ``batch_size=32``. Sizes come from the files on disk (:func:`size_on_disk_mib` of a
``save_pretrained`` folder or an ``.onnx`` file), parameter counts from the module
(:func:`count_parameters`).

ONNX Runtime does not read torch's thread setting: give its ``SessionOptions`` the same
``intra_op_num_threads`` as :func:`set_threads`.

Example:
    >>> set_threads(2)  # doctest: +SKIP
    >>> time_inference(lambda batch: model(**tok(batch, return_tensors="pt", padding=True)),
    ...                texts, batch_size=32)  # doctest: +SKIP
    {'batch_size': 32, 'n_texts': 256, 'repeats': 5, 'threads': 2, 'seconds_per_sentence': ...}
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["count_parameters", "set_threads", "size_on_disk_mib", "time_inference"]


def _positive_int(value, name: str, *, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return value


def set_threads(n: int) -> int:
    """Fix torch's intra-op thread count to ``n`` and return the previous count."""
    import torch

    _positive_int(n, "threads")
    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    return previous


def time_inference(
    predict: Callable[[list[str]], Any],
    texts: list[str],
    *,
    batch_size: int,
    repeats: int = 5,
    warmup: int = 1,
) -> dict:
    """Time ``predict`` over ``texts`` in consecutive batches of ``batch_size``.

    One pass calls ``predict(texts[i:i + batch_size])`` for i = 0, batch_size, ... (the last batch
    may be shorter). ``warmup`` passes run first and are not timed; then ``repeats`` passes are
    timed with :func:`time.perf_counter`. Runs under :func:`torch.inference_mode` when torch is
    installed (no autograd bookkeeping).

    Returns a dict: ``batch_size``, ``n_texts``, ``repeats``, ``threads`` (torch's thread count
    during the timing), ``seconds_per_sentence`` (median over the repeats of pass time /
    n_texts), ``sentences_per_second`` (its inverse) and ``iqr_seconds_per_sentence`` (the
    interquartile range of the per-sentence pass times; 0 for fewer than two repeats).
    """
    if not callable(predict):
        raise TypeError(f"predict must be callable, got {type(predict).__name__}")
    if isinstance(texts, str):
        raise TypeError("texts must be a list of strings, not one string")
    texts = list(texts)
    if not texts:
        raise ValueError("texts must not be empty")
    _positive_int(batch_size, "batch_size")
    _positive_int(repeats, "repeats")
    _positive_int(warmup, "warmup", minimum=0)
    batches = [texts[i : i + batch_size] for i in range(0, len(texts), batch_size)]
    try:
        import torch

        threads = torch.get_num_threads()
        context = torch.inference_mode
    except ImportError:  # pragma: no cover - torch is a dependency
        import contextlib

        threads = os.cpu_count() or 1
        context = contextlib.nullcontext

    def one_pass() -> float:
        start = time.perf_counter()
        for batch in batches:
            predict(batch)
        return time.perf_counter() - start

    with context():
        for _ in range(warmup):
            one_pass()
        per_sentence = [one_pass() / len(texts) for _ in range(repeats)]
    median = statistics.median(per_sentence)
    if repeats >= 2:
        quartiles = statistics.quantiles(per_sentence, n=4, method="inclusive")
        iqr = quartiles[2] - quartiles[0]
    else:
        iqr = 0.0
    return {
        "batch_size": batch_size,
        "n_texts": len(texts),
        "repeats": repeats,
        "threads": threads,
        "seconds_per_sentence": median,
        "sentences_per_second": 1.0 / median if median > 0 else float("inf"),
        "iqr_seconds_per_sentence": iqr,
    }


def size_on_disk_mib(path) -> float:
    """Size of a file, or the total of every file under a folder, in MiB (2**20 bytes)."""
    path = Path(path)
    if path.is_file():
        total = path.stat().st_size
    elif path.is_dir():
        total = sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    else:
        raise FileNotFoundError(f"no file or folder at {path}")
    return total / 2**20


def count_parameters(model, *, trainable_only: bool = False) -> int:
    """Number of parameters of a torch module (only those with ``requires_grad`` if asked).

    Parameters shared between modules (tied weights) are counted once, as ``model.parameters()``
    yields them once. The packed weights of a dynamically quantized module
    (``torch.ao.nn.quantized.dynamic.Linear``) are not parameters and are not counted: count the
    float model instead.
    """
    if not hasattr(model, "parameters"):
        raise TypeError(f"model must be a torch module, got {type(model).__name__}")
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)
