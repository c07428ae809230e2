"""Run modes, step budgets, seeding and device choice shared by every notebook.

Quick mode (environment variable ``GATAM_QUICK=1``) runs the same code path as default mode
with smaller budgets (fewer epochs, fewer samples), so the test suite can execute every
notebook in seconds. Notebooks pick their sizes with :func:`budget`.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np

#: The repository root (the folder holding ``common/``).
REPO_ROOT = Path(__file__).resolve().parents[1]

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def is_quick() -> bool:
    """Return True when quick mode is on (``GATAM_QUICK`` set to 1/true/yes/on).

    Raises:
        ValueError: if ``GATAM_QUICK`` holds anything else, so a typo never silently
            selects the long default run.
    """
    raw = os.environ.get("GATAM_QUICK", "").strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ValueError(
        f"GATAM_QUICK={os.environ['GATAM_QUICK']!r} is not understood; use 1 (quick) or 0 (default)"
    )


def build_dir(*parts: str) -> Path:
    """The folder where notebooks write files (CSV exports, figures): created if missing.

    ``$GATAM_BUILD_DIR`` when set (``python -m common run --out DIR`` sets it to ``DIR`` for
    the notebooks it runs), else ``<repo>/build``; ``parts`` are joined below it, e.g.
    ``build_dir("chapter01")``.

    Raises:
        NotADirectoryError: the path exists and is a file.
        PermissionError: the folder cannot be created; the message names ``GATAM_BUILD_DIR``.
    """
    root = os.environ.get("GATAM_BUILD_DIR", "").strip()
    folder = Path(root).expanduser() if root else REPO_ROOT / "build"
    folder = folder.joinpath(*parts)
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(f"build folder {folder} is a file (check GATAM_BUILD_DIR)")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise PermissionError(
            f"cannot create the build folder {folder} ({err.strerror}); set GATAM_BUILD_DIR "
            "to a writable folder"
        ) from err
    return folder


def budget(full, quick):
    """Pick a size by mode: ``full`` in default mode, ``quick`` when ``GATAM_QUICK=1``.

    The mode is read when called, so a test can switch it with ``monkeypatch.setenv``.

    Example:
        >>> epochs = budget(full=200, quick=2)
    """
    return quick if is_quick() else full


def seed_everything(seed: int = 0) -> np.random.Generator:
    """Seed Python's ``random``, NumPy's legacy global generator and PyTorch (CPU and CUDA).

    Also sets ``PYTHONHASHSEED`` for subprocesses. PyTorch is seeded only if it is installed.

    Returns:
        A fresh ``numpy.random.Generator`` seeded with ``seed``: prefer it over the global state
        in new code.
    """
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency, but keep config importable
        pass
    else:
        torch.manual_seed(seed)
        if torch.cuda.is_available():
            torch.cuda.manual_seed_all(seed)
    return np.random.default_rng(seed)


def get_device(prefer: str | None = None):
    """Return the best available ``torch.device``: CUDA, then Apple MPS, then CPU.

    Args:
        prefer: force a device ("cpu", "cuda", "cuda:1", "mps"); the environment variable
            ``GATAM_DEVICE`` does the same for a whole run.

    Raises:
        RuntimeError: if the requested device is not available on this machine.
    """
    import torch

    choice = prefer or os.environ.get("GATAM_DEVICE") or None
    if choice:
        dev = torch.device(choice)
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise RuntimeError(f"device {choice!r} requested but CUDA is not available here")
        if dev.type == "mps" and not (
            getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()
        ):
            raise RuntimeError(f"device {choice!r} requested but Apple MPS is not available here")
        return dev
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")
