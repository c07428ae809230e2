"""Saved scores of the chapter 6-8 generators, so one table can compare them without retraining.

Each generator notebook (``chapter06/04_timevae``, ``chapter07/01_nice``, ``02_realnvp``,
``03_conditioned_flow``, ``chapter08/03_rcgan``, ``04_timegan``) scores its samples with
:func:`common.generative.evaluate_generator` on the SPX pair's chronological windows (same
windows, same discriminator budget) and writes the row with :func:`save_generator_result`;
``chapter08/04_timegan`` reads every row back with :func:`load_generator_results` for the final
table. The synthetic windows are saved too, so the table can add a statistic later without
retraining anything.

Files: ``<folder>/<slug>.json`` (the row and its metadata) and ``<slug>.npy`` (the windows,
float32). The folder is ``build/generators/results`` (``results-quick`` in quick mode, so a
quick run never overwrites default-mode results).
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["RESULT_KINDS", "generator_results_dir", "load_generator_results", "save_generator_result"]

#: Allowed ``kind`` values: a model trained in this repository, or a classical baseline
#: (bootstrap, GARCH-t, VAR) fitted here.
RESULT_KINDS = ("trained here", "baseline")

_META = ("kind", "notebook", "train_seconds", "n_parameters", "quick", "n_windows")


def generator_results_dir() -> Path:
    """``build_dir("generators", "results")``; ``"results-quick"`` in quick mode."""
    from common.config import build_dir, is_quick

    return build_dir("generators", "results-quick" if is_quick() else "results")


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", str(name).lower()).strip("-")
    if not slug:
        raise ValueError(f"cannot make a file name from the generator name {name!r}")
    return slug


def _plain(value: Any) -> Any:
    if isinstance(value, (np.floating, float)):
        return float(value)
    if isinstance(value, (np.integer, int)) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    return value if value is None or isinstance(value, str) else str(value)


def save_generator_result(
    row: pd.DataFrame,
    synth: Any,
    *,
    notebook: str,
    kind: str = "trained here",
    train_seconds: float | None = None,
    n_parameters: int | None = None,
    folder: str | Path | None = None,
) -> Path:
    """Write one generator's score row and its synthetic windows.

    Args:
        row: a ONE-row DataFrame from :func:`common.generative.evaluate_generator` (index =
            the generator's name); extra numeric columns (e.g. ``leverage_synth``) are kept.
        synth: the synthetic windows that were scored, shape ``(n, length, d)``.
        notebook: the notebook that produced it, e.g. ``"chapter07/01_nice"``.
        kind: one of :data:`RESULT_KINDS`.
        train_seconds: training wall time in seconds (``None`` when nothing was trained).
        n_parameters: trainable parameters of the generator, if a network.
        folder: default :func:`generator_results_dir`.

    Returns:
        The path of the JSON file (it also records whether the run was quick mode).

    Raises:
        ValueError: ``row`` is not one row, ``kind`` is unknown, ``synth`` is not 3-D or holds
            non-finite values, or ``notebook`` is empty.
    """
    from common.config import is_quick

    if not isinstance(row, pd.DataFrame) or len(row) != 1:
        raise ValueError("row must be a one-row DataFrame from evaluate_generator")
    if kind not in RESULT_KINDS:
        raise ValueError(f"kind must be one of {RESULT_KINDS}, got {kind!r}")
    if not isinstance(notebook, str) or not notebook.strip():
        raise ValueError(f"notebook must name the notebook that produced the row; got {notebook!r}")
    windows = np.asarray(synth, dtype=np.float32)
    if windows.ndim != 3 or len(windows) == 0:
        raise ValueError(f"synth must be windows shaped (n, length, d); got shape {windows.shape}")
    if not np.isfinite(windows).all():
        raise ValueError("synth holds NaN or infinite values; refusing to save them")
    name = str(row.index[0])
    folder = Path(folder) if folder is not None else generator_results_dir()
    folder.mkdir(parents=True, exist_ok=True)
    slug = _slug(name)
    record = {
        "name": name,
        "scores": {str(k): _plain(v) for k, v in row.iloc[0].items()},
        "kind": kind,
        "notebook": notebook,
        "train_seconds": None if train_seconds is None else float(train_seconds),
        "n_parameters": None if n_parameters is None else int(n_parameters),
        "quick": bool(is_quick()),
        "n_windows": int(len(windows)),
    }
    path = folder / f"{slug}.json"
    np.save(folder / f"{slug}.npy", windows)
    path.write_text(json.dumps(record, indent=1))
    return path


def load_generator_results(
    folder: str | Path | None = None, *, errors: str = "raise"
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Read every row saved by :func:`save_generator_result`.

    Args:
        folder: default :func:`generator_results_dir`.
        errors: ``"raise"``: an unreadable file raises; ``"skip"``: it is left out and a
            ``UserWarning`` names it.

    Returns:
        ``(table, windows)``: ``table`` has one row per generator (index ``generator``, sorted
        by name), the score columns and the metadata columns ``kind``, ``notebook``,
        ``train_seconds``, ``n_parameters``, ``quick``, ``n_windows``; ``windows`` maps each
        name to its float32 windows. Both are empty when the folder holds nothing.

    Raises:
        ValueError: a bad ``errors``; with ``errors="raise"``, a malformed JSON file or a
            missing windows file (the message names it: delete it and rerun its notebook).
    """
    if errors not in ("raise", "skip"):
        raise ValueError(f"errors must be 'raise' or 'skip', got {errors!r}")
    folder = Path(folder) if folder is not None else generator_results_dir()
    rows, windows = [], {}
    for path in sorted(folder.glob("*.json")):
        try:
            rec = json.loads(path.read_text())
            synth = np.load(path.with_suffix(".npy"))
            if synth.ndim != 3 or len(synth) != rec["n_windows"]:
                raise ValueError(f"windows file shape {synth.shape} does not match the record")
            rows.append({"generator": rec["name"], **rec["scores"], **{k: rec[k] for k in _META}})
        except (OSError, KeyError, ValueError, TypeError) as err:
            message = (
                f"cannot read the saved generator result {path} ({type(err).__name__}: {err}); "
                "delete it and rerun the notebook that wrote it"
            )
            if errors == "skip":
                warnings.warn(message, UserWarning, stacklevel=2)
                continue
            raise ValueError(message) from err
        windows[rec["name"]] = synth
    if not rows:
        return pd.DataFrame(index=pd.Index([], name="generator")), windows
    table = pd.DataFrame(rows).set_index("generator").sort_index()
    return table, windows
