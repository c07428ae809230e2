"""Run modes, step budgets, seeding, device choice and the thread policy shared by every notebook.

Quick mode (environment variable ``GATAM_QUICK=1``) runs the same code path as default mode
with smaller budgets (fewer epochs, fewer samples), so the test suite can execute every
notebook in seconds. Notebooks pick their sizes with :func:`budget`.

Environment variables read here:

- ``GATAM_QUICK``: 1/true/yes/on for quick mode, 0/false/no/off or unset for default mode.
- ``GATAM_DEVICE``: force the PyTorch device (``cpu``, ``cuda``, ``cuda:1``, ``mps``; case and
  surrounding spaces are ignored; ``auto`` or empty = automatic choice); see :func:`get_device`.
- ``GATAM_THREADS``: number of CPU threads for PyTorch (and BLAS); see :func:`thread_count`.
- ``GATAM_BUILD_DIR``: where notebooks write files; see :func:`build_dir`.

Thread policy (:func:`set_thread_policy`). Small models run fastest with few threads when
several processes share the CPU: under ``pytest -n 2`` on a 2-core machine, two processes with
two PyTorch threads each were 5-10x slower than with one. So: under pytest-xdist (the variable
``PYTEST_XDIST_WORKER`` is set) or in quick mode, one intra-op thread per process; otherwise
the libraries' own defaults, which use every core (PyTorch: one thread per physical core);
``GATAM_THREADS=<n>`` overrides both. The policy is applied
once per process, by :func:`seed_everything` and when :mod:`common.train` is imported; the
notebook runner (``python -m common run``) also exports it to the kernel as ``OMP_NUM_THREADS``
/ ``MKL_NUM_THREADS`` / ``OPENBLAS_NUM_THREADS`` (see :func:`thread_env`).
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

#: Device types :func:`get_device` accepts (``GATAM_DEVICE`` and ``prefer``).
DEVICE_TYPES = ("cpu", "cuda", "mps")

#: Thread-count variables of OpenMP / MKL / OpenBLAS, read by a process when it starts.
THREAD_ENV_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")

_THREADS_APPLIED: tuple[int | None] | None = None  # (limit,) once set_thread_policy() ran


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


def thread_count(quick: bool | None = None) -> int | None:
    """The number of CPU threads the thread policy chooses for this process (see module notes).

    ``GATAM_THREADS`` if set (a positive integer; ``auto`` or empty = not set); else 1 under
    pytest-xdist (``PYTEST_XDIST_WORKER`` set) or in quick mode; else ``None``: no limit, the
    libraries use every core.

    Args:
        quick: the mode to decide for; ``None`` reads it with :func:`is_quick`.

    Raises:
        ValueError: ``GATAM_THREADS`` is not a positive integer (the message names it).
    """
    raw = os.environ.get("GATAM_THREADS", "").strip().lower()
    if raw not in ("", "auto"):
        try:
            n = int(raw)
        except ValueError:
            n = 0
        if n < 1:
            raise ValueError(
                f"GATAM_THREADS={os.environ['GATAM_THREADS']!r} is not a positive integer; set "
                "it to the number of CPU threads to use (e.g. 1), or unset it for the default"
            )
        return n
    if os.environ.get("PYTEST_XDIST_WORKER") or (is_quick() if quick is None else quick):
        return 1
    return None


def thread_env(n: int | None) -> dict[str, str]:
    """Environment variables that limit OpenMP/MKL/OpenBLAS to ``n`` threads in a new process.

    Args:
        n: thread count, e.g. :func:`thread_count`; ``None`` (no limit) gives ``{}``.

    Returns:
        ``{"OMP_NUM_THREADS": "n", "MKL_NUM_THREADS": "n", "OPENBLAS_NUM_THREADS": "n"}``; these
        only take effect in a process started with them (e.g. a notebook kernel), not in the
        running one.
    """
    return {} if n is None else {var: str(int(n)) for var in THREAD_ENV_VARS}


def set_thread_policy(*, force: bool = False) -> int | None:
    """Apply the thread policy (see module notes) to this process, once; return the count.

    With a limit ``n`` (:func:`thread_count`): ``torch.set_num_threads(n)`` (intra-op threads)
    when PyTorch is installed, the BLAS/OpenMP pools already loaded by NumPy and SciPy limited
    to ``n`` (with ``threadpoolctl``), and :func:`thread_env` exported for subprocesses started
    later (without overriding variables the user set). Without a limit nothing is changed.
    Called by :func:`seed_everything` and on import of :mod:`common.train`; later calls do
    nothing unless ``force=True`` (so a ``torch.set_num_threads`` of your own after the first
    call stays in effect).

    Args:
        force: apply again (e.g. after changing ``GATAM_THREADS`` in a running kernel).

    Returns:
        The thread limit applied, or ``None`` (no limit: the libraries use every core).

    Raises:
        ValueError: a bad ``GATAM_THREADS`` or ``GATAM_QUICK``.
    """
    global _THREADS_APPLIED
    if _THREADS_APPLIED and not force:
        return _THREADS_APPLIED[0]
    n = thread_count()
    _THREADS_APPLIED = (n,)
    if n is None:
        return None
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency, but keep config importable
        pass
    else:
        torch.set_num_threads(n)
    for var, value in thread_env(n).items():
        os.environ.setdefault(var, value)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - comes with scikit-learn
        pass
    else:
        threadpool_limits(limits=n)
    return n


def seed_everything(seed: int = 0) -> np.random.Generator:
    """Seed Python's ``random``, NumPy's legacy global generator and PyTorch (CPU and CUDA).

    Also sets ``PYTHONHASHSEED`` for subprocesses and applies the thread policy once
    (:func:`set_thread_policy`). PyTorch is seeded only if it is installed.

    Returns:
        A fresh ``numpy.random.Generator`` seeded with ``seed``: prefer it over the global state
        in new code.
    """
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    set_thread_policy()
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


def _parse_device(raw, source: str) -> str | None:
    """Normalise a device request: strip, lower-case, check the type; None means automatic."""
    text = str(raw).strip().lower()
    if text in ("", "auto"):
        return None
    kind, _, index = text.partition(":")
    if kind not in DEVICE_TYPES or (index and not index.isdigit()) or text.endswith(":"):
        raise ValueError(
            f"{source}={raw!r} is not a device this project supports; use one of "
            f"{', '.join(DEVICE_TYPES)} (optionally with an index, e.g. cuda:1), or auto"
        )
    return text


def get_device(prefer=None):
    """Return the best available ``torch.device``: CUDA, then Apple MPS, then CPU.

    Args:
        prefer: force a device ("cpu", "cuda", "cuda:1", "mps", or a ``torch.device``); the
            environment variable ``GATAM_DEVICE`` does the same for a whole run. Both are
            stripped and lower-cased (``" CPU"`` works); ``"auto"`` or empty means the
            automatic choice. ``prefer`` wins over ``GATAM_DEVICE``.

    Raises:
        ValueError: a device type other than cpu/cuda/mps (e.g. tpu, meta, xla) or a malformed
            index; the message names ``prefer`` or ``GATAM_DEVICE`` and the allowed values.
        RuntimeError: if the requested device is not available on this machine.
    """
    import torch

    choice = None
    if prefer is not None:
        choice = _parse_device(prefer, "prefer")
    if choice is None:
        choice = _parse_device(os.environ.get("GATAM_DEVICE", ""), "GATAM_DEVICE")
    if choice:
        dev = torch.device(choice)
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise RuntimeError(f"device {choice!r} requested but CUDA is not available here")
        if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
            raise RuntimeError(
                f"device {choice!r} requested but only {torch.cuda.device_count()} CUDA "
                "device(s) are visible here (indices start at 0)"
            )
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
