"""The notebook runner behind ``python -m common run``.

Executes notebooks top to bottom in a fresh Jupyter kernel (with `nbclient
<https://nbclient.readthedocs.io>`_), writes the executed copy and an HTML rendering (nbconvert's
``HTMLExporter``) to ``build/<chapter>/``, and records per notebook: status, wall seconds and the
peak resident memory of the kernel process. The summary table goes to ``build/summary.csv`` and
``build/summary.md``.

Library use::

    from common.run import find_notebooks, run_notebooks
    table = run_notebooks(find_notebooks(["chapter01"]), quick=True)

How a notebook is run
    * working directory: the notebook's own folder (relative data paths work as in Jupyter);
    * environment: the caller's, with ``GATAM_QUICK=1`` (``quick=True``) or ``GATAM_QUICK=0``
      set explicitly, ``GATAM_BUILD_DIR`` set to the absolute output folder (so files the
      notebook writes with :func:`common.config.build_dir` land next to the executed copies),
      the thread policy's ``OMP_NUM_THREADS`` / ``MKL_NUM_THREADS`` / ``OPENBLAS_NUM_THREADS``
      when it sets a limit (quick mode, pytest-xdist, ``GATAM_THREADS``; variables the caller
      set win), and ``MPLBACKEND`` removed so that ipykernel's inline backend captures the
      plots (CI exports ``MPLBACKEND=Agg``, which would otherwise drop every figure);
    * a file that is not a readable notebook (bad JSON, not nbformat 4) is not executed: its
      row has status ``error`` and an error naming the file and the parse error, and the other
      notebooks still run;
    * all old outputs are cleared first, so a failed run never shows stale results below the
      failing cell;
    * ``timeout`` is a wall-clock budget for the whole notebook (not per cell); when it runs
      out the current cell is stopped and the status is ``timeout``.

Peak memory
    After the last cell (or the failing one) an extra cell runs in the same kernel and reads
    ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` (KiB on Linux, bytes on macOS; psutil's
    ``peak_wset`` on Windows). The cell is removed before the notebook is saved. As a fallback
    when the kernel died or is still busy (timeout), the kernel's resident set size is sampled
    with psutil every 0.1 s during the run. Only the kernel process is counted, not processes it
    starts (e.g. data-loader workers).
"""

from __future__ import annotations

import math
import os
import re
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd

from common.config import REPO_ROOT, thread_count, thread_env  # REPO_ROOT holds chapterNN/

__all__ = [
    "REPO_ROOT",
    "STATUSES",
    "SUMMARY_COLUMNS",
    "NotebookReadError",
    "TargetError",
    "default_out_dir",
    "find_notebooks",
    "format_summary",
    "run_notebook",
    "run_notebooks",
]

#: Possible values of the ``status`` column (``error``: the file is not a readable notebook).
STATUSES = ("ok", "failed", "timeout", "error")

#: Columns of the summary table returned by :func:`run_notebooks`.
SUMMARY_COLUMNS = [
    "notebook",  # "<chapter>/<name>.ipynb"
    "status",  # ok | failed | timeout | error
    "seconds",  # wall seconds of the cells (kernel start-up excluded)
    "peak_mib",  # peak resident memory of the kernel process, MiB (NaN if unknown)
    "mode",  # quick | default
    "error",  # "" when ok, else "<ErrorName>: <message> (cell <i>)"
    "executed",  # path of the executed notebook
    "html",  # path of the HTML rendering ("" if the export failed)
]

_CHAPTER_RE = re.compile(r"^chapter\d{2}$")
_PROBE_TAG = "__gatam_peak_mib__"
_PROBE_SOURCE = f"""\
import sys as _gatam_sys
try:
    import resource as _gatam_resource
except ImportError:  # Windows
    import psutil as _gatam_psutil
    _gatam_peak = _gatam_psutil.Process().memory_info().peak_wset / 2**20
else:
    _gatam_peak = _gatam_resource.getrusage(_gatam_resource.RUSAGE_SELF).ru_maxrss
    _gatam_peak = _gatam_peak / 2**20 if _gatam_sys.platform == "darwin" else _gatam_peak / 2**10
print("{_PROBE_TAG}", repr(float(_gatam_peak)))
del _gatam_sys, _gatam_peak
"""


class TargetError(ValueError):
    """A run target (``all``, a chapter folder, a notebook path) that names no notebook."""


class NotebookReadError(ValueError):
    """A ``.ipynb`` file that cannot be read as a notebook (bad JSON, wrong format)."""


def default_out_dir() -> Path:
    """The build folder when none is given: ``$GATAM_BUILD_DIR`` if set, else ``<repo>/build``."""
    root = os.environ.get("GATAM_BUILD_DIR", "").strip()
    return Path(root).expanduser() if root else REPO_ROOT / "build"


# --------------------------------------------------------------------------------------------
# Finding notebooks
# --------------------------------------------------------------------------------------------


def _chapter_notebooks(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.ipynb") if p.is_file() and not p.name.startswith("."))


def _all_notebooks(root: Path) -> list[Path]:
    found: list[Path] = []
    for folder in sorted(root.glob("chapter*")):
        if folder.is_dir() and _CHAPTER_RE.match(folder.name):
            found.extend(_chapter_notebooks(folder))
    return found


def find_notebooks(targets: Sequence[str | os.PathLike] | None = None, root=None) -> list[Path]:
    """Resolve run targets to a list of notebook paths, in reading order, without duplicates.

    Args:
        targets: each one of ``"all"`` (every ``chapterNN/*.ipynb`` below ``root``, sorted by
            chapter then file name), a folder (``"chapter01"``: its ``*.ipynb``, sorted), or the
            path of a notebook. Relative paths are looked up from the current directory first,
            then from ``root``. ``None`` or an empty sequence means ``["all"]``.
        root: repository root; defaults to :data:`REPO_ROOT`.

    Returns:
        Absolute, resolved paths of ``.ipynb`` files.

    Raises:
        TargetError: a target that does not exist, a file that is not a ``.ipynb``, or a
            folder (or ``all``) that holds no notebook.
    """
    root = Path(root) if root is not None else REPO_ROOT
    targets = list(targets) if targets else ["all"]
    result: list[Path] = []
    for target in targets:
        text = os.fspath(target)
        if text == "all":
            found = _all_notebooks(root)
            if not found:
                raise TargetError(f"'all': no notebooks found in {root}/chapterNN/*.ipynb")
        else:
            path = Path(text).expanduser()
            candidates = [path] if path.is_absolute() else [Path.cwd() / path, root / path]
            candidates = list(dict.fromkeys(c.absolute() for c in candidates))
            hit = next((c for c in candidates if c.exists()), None)
            if hit is None:
                raise TargetError(
                    f"unknown target {text!r}: not 'all', not a folder and not a notebook "
                    f"(looked for {' and '.join(str(c) for c in candidates)}); "
                    "try `python -m common list`"
                )
            if hit.is_dir():
                found = _chapter_notebooks(hit)
                if not found:
                    raise TargetError(f"target {text!r}: folder {hit} holds no *.ipynb notebook")
            elif hit.suffix != ".ipynb":
                raise TargetError(f"target {text!r} is not a Jupyter notebook (.ipynb): {hit}")
            else:
                found = [hit]
        for nb_path in found:
            nb_path = nb_path.resolve()
            if nb_path not in result:
                result.append(nb_path)
    return result


# --------------------------------------------------------------------------------------------
# Running one notebook
# --------------------------------------------------------------------------------------------


def _kernel_env(quick: bool, out_dir: str | os.PathLike | None = None) -> dict[str, str]:
    """Environment of the kernel: the caller's, GATAM_QUICK set explicitly, GATAM_BUILD_DIR set
    to ``out_dir`` (absolute), thread limits of the policy for the kernel's mode, MPLBACKEND
    unset."""
    env = dict(os.environ)
    env["GATAM_QUICK"] = "1" if quick else "0"
    folder = Path(out_dir) if out_dir is not None else default_out_dir()
    env["GATAM_BUILD_DIR"] = str(folder.expanduser().resolve())
    for var, value in thread_env(thread_count(quick=quick)).items():
        env.setdefault(var, value)  # OpenMP/BLAS read these at start-up: a caller's value wins
    # ipykernel selects the inline backend only when MPLBACKEND is unset; a forced Agg backend
    # (as CI exports) would silently drop every figure from the executed notebook.
    env.pop("MPLBACKEND", None)
    return env


class _RssSampler:
    """Sample the resident set size of one process in a background thread (psutil)."""

    def __init__(self, pid: int | None, interval: float = 0.1) -> None:
        self.peak_bytes = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._interval = interval
        try:
            import psutil
        except ImportError:  # pragma: no cover - psutil comes with ipykernel
            return
        if pid is None:
            return
        try:
            self._proc = psutil.Process(pid)
        except psutil.Error:
            return
        self._psutil = psutil
        self._thread = threading.Thread(target=self._loop, name="gatam-rss", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while True:
            try:
                self.peak_bytes = max(self.peak_bytes, self._proc.memory_info().rss)
            except self._psutil.Error:
                return
            if self._stop.wait(self._interval):
                return

    def stop(self) -> float:
        """Stop sampling; return the peak seen in MiB (NaN if nothing could be sampled)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        return self.peak_bytes / 2**20 if self.peak_bytes else math.nan


def _probe_peak_mib(client, nb) -> float:
    """Run the memory probe as an extra cell in the live kernel; remove it; return MiB."""
    import nbformat

    probe = nbformat.v4.new_code_cell(_PROBE_SOURCE)
    nb.cells.append(probe)
    index = len(nb.cells) - 1
    try:
        client.execute_cell(probe, index, execution_count=None, store_history=False)
    except Exception:
        return math.nan
    finally:
        nb.cells.pop(index)
    for out in probe.get("outputs", []):
        if out.get("output_type") == "stream" and _PROBE_TAG in out.get("text", ""):
            for line in out["text"].splitlines():
                if line.startswith(_PROBE_TAG):
                    try:
                        return float(line.split()[1])
                    except (IndexError, ValueError):
                        return math.nan
    return math.nan


def _read_notebook(path: Path):
    """Read a notebook; raise NotebookReadError naming the file when it cannot be run.

    As lenient as Jupyter: schema warnings (an unknown metadata key) are not errors, but bad
    JSON, a file that is not a notebook, or one without a ``cells`` list or ``metadata`` is.
    """
    import nbformat

    try:
        nb = nbformat.read(path, as_version=4)
        missing = [
            key
            for key, kind in (("cells", list), ("metadata", dict))
            if not isinstance(nb.get(key), kind)
        ]
        if missing:
            raise ValueError(f"no {' and no '.join(repr(k) for k in missing)} in the notebook")
        kinds = {"code", "markdown", "raw"}
        for i, cell in enumerate(nb.cells):
            if not isinstance(cell, dict) or cell.get("cell_type") not in kinds:
                raise ValueError(f"cell {i} has no valid cell_type")
    except Exception as exc:  # bad JSON, NotJSONError, missing keys ...
        detail = _one_line(f"{type(exc).__name__}: {exc}", limit=240)
        raise NotebookReadError(f"cannot read {path} as a Jupyter notebook: {detail}") from exc
    return nb


def _error_output(ename: str, evalue: str):
    import nbformat

    return nbformat.v4.new_output(
        "error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"]
    )


def _mark_cell(cell, client, ename: str, message: str) -> None:
    """Show a runner-side error (timeout, dead kernel) in the cell where it happened."""
    if cell.cell_type == "code":
        cell.execution_count = cell.execution_count or client.code_cells_executed
        cell.outputs.append(_error_output(ename, message.split(": ", 1)[-1]))


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _out_paths(path: Path, out_dir: Path) -> tuple[str, Path, Path]:
    chapter = path.parent.name or "notebooks"
    label = f"{chapter}/{path.name}"
    return label, out_dir / chapter / path.name, out_dir / chapter / f"{path.stem}.html"


def run_notebook(
    path: str | os.PathLike,
    *,
    quick: bool = False,
    out_dir: str | os.PathLike | None = None,
    timeout: float | None = 1800,
    inplace: bool = False,
    kernel: str = "python3",
    exporter=None,
) -> dict:
    """Execute one notebook and write its executed copy and HTML; return its summary row.

    Args:
        path: a ``.ipynb`` file.
        quick: run with ``GATAM_QUICK=1`` (else ``GATAM_QUICK=0``).
        out_dir: build folder (default :func:`default_out_dir`: ``$GATAM_BUILD_DIR`` or
            ``<repo>/build``); outputs go to ``<out_dir>/<notebook's folder name>/<name>.ipynb``
            and ``.html``, also on failure. The kernel sees it as ``GATAM_BUILD_DIR``.
        timeout: wall-clock budget in seconds for the whole notebook; ``None`` or ``0``: no limit.
        inplace: also write the executed notebook over ``path`` (only when the run succeeded).
        kernel: Jupyter kernel name.
        exporter: an ``nbconvert.HTMLExporter`` to reuse (one is made when ``None``).

    Returns:
        A dict with the keys of :data:`SUMMARY_COLUMNS`; ``seconds`` covers the cells only
        (kernel start-up excluded), ``peak_mib`` is in MiB (2**20 bytes).

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: ``path`` is not a ``.ipynb`` file, or ``timeout`` is negative.
        NotebookReadError: the file is not a readable notebook (the message names the file and
            the parse error); :func:`run_notebooks` records it as a row with status ``error``.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    path = Path(path).resolve()
    if not path.is_file():
        raise FileNotFoundError(f"notebook not found: {path}")
    if path.suffix != ".ipynb":
        raise ValueError(f"not a Jupyter notebook (.ipynb): {path}")
    if timeout is not None and timeout < 0:
        raise ValueError(f"timeout must be >= 0 seconds (0 or None: no limit), got {timeout!r}")
    out_dir = Path(out_dir) if out_dir is not None else default_out_dir()
    label, ipynb_out, html_out = _out_paths(path, out_dir)

    nb = _read_notebook(path)
    for cell in nb.cells:  # a failed run must not show stale outputs below the failing cell
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None

    deadline: list[float | None] = [None]

    def remaining(_cell) -> int | None:
        if deadline[0] is None:
            return None
        return max(1, math.ceil(deadline[0] - time.monotonic()))

    client = NotebookClient(
        nb,
        kernel_name=kernel,
        timeout_func=remaining,
        record_timing=False,  # no per-cell timestamps: smaller diffs for --inplace commits
        resources={"metadata": {"path": str(path.parent)}},
    )

    status, error = "ok", ""
    seconds, probe_mib, sampled_mib = 0.0, math.nan, math.nan
    current = -1
    try:
        with client.setup_kernel(env=_kernel_env(quick, out_dir), cwd=str(path.parent)):
            pid = getattr(getattr(client.km, "provisioner", None), "pid", None)
            sampler = _RssSampler(pid)
            try:
                info = client.wait_for_reply(client.kc.kernel_info())
                if info is not None and "language_info" in info["content"]:
                    nb.metadata["language_info"] = info["content"]["language_info"]
                start = time.perf_counter()
                if timeout:
                    deadline[0] = time.monotonic() + timeout
                kernel_usable = True
                try:
                    for current, cell in enumerate(nb.cells):
                        if deadline[0] is not None and time.monotonic() > deadline[0]:
                            raise CellTimeoutError(f"notebook exceeded its budget of {timeout:g} s")
                        client.execute_cell(
                            cell, current, execution_count=client.code_cells_executed + 1
                        )
                except CellTimeoutError:
                    status, kernel_usable = "timeout", False
                    error = f"CellTimeoutError: notebook exceeded its budget of {timeout:g} s"
                    _mark_cell(nb.cells[current], client, "CellTimeoutError", error)
                except DeadKernelError as exc:
                    status, kernel_usable = "failed", False
                    error = f"DeadKernelError: {exc} (killed, e.g. out of memory?)"
                    _mark_cell(nb.cells[current], client, "DeadKernelError", error)
                except CellExecutionError as exc:
                    status, error = "failed", f"{exc.ename}: {exc.evalue}"
                seconds = time.perf_counter() - start
                if status != "ok":
                    error = f"{_one_line(error)} (cell {current})"
                if kernel_usable:
                    probe_mib = _probe_peak_mib(client, nb)
                else:
                    client.shutdown_kernel = "immediate"
            finally:
                sampled_mib = sampler.stop()
    except Exception as exc:  # kernel failed to start or to answer: record it, go on
        if status == "ok":
            status = "failed"
            error = _one_line(f"{type(exc).__name__}: {exc} (kernel {kernel!r})")
    client.set_widgets_metadata()

    peaks = [m for m in (probe_mib, sampled_mib) if not math.isnan(m)]
    ipynb_out.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, ipynb_out)
    html_path = ""
    try:
        if exporter is None:
            from nbconvert import HTMLExporter

            exporter = HTMLExporter()
        body, _ = exporter.from_notebook_node(nb)
        html_out.write_text(body, encoding="utf-8")
        html_path = str(html_out)
    except Exception as exc:  # the executed .ipynb is saved; say why the HTML is missing
        print(
            f"warning: HTML export of {label} failed: {type(exc).__name__}: {exc}", file=sys.stderr
        )
    if inplace and status == "ok":
        nbformat.write(nb, path)
    return {
        "notebook": label,
        "status": status,
        "seconds": round(seconds, 3),
        "peak_mib": round(max(peaks), 1) if peaks else math.nan,
        "mode": "quick" if quick else "default",
        "error": error,
        "executed": str(ipynb_out),
        "html": html_path,
    }


# --------------------------------------------------------------------------------------------
# Running many notebooks
# --------------------------------------------------------------------------------------------


def _check_kernel(kernel: str) -> None:
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec(kernel)
    except NoSuchKernel:
        names = ", ".join(sorted(KernelSpecManager().find_kernel_specs())) or "none"
        raise ValueError(
            f"no Jupyter kernel named {kernel!r} (installed: {names}); "
            "install one with `python -m ipykernel install --sys-prefix --name python3`"
        ) from None


def format_summary(table: pd.DataFrame) -> str:
    """Render a summary table as GitHub Markdown (notebook, status, seconds, peak MiB, mode, error).

    Args:
        table: a frame with the columns of :data:`SUMMARY_COLUMNS`.

    Raises:
        ValueError: a column of the summary is missing.
    """
    missing = [
        c for c in ("notebook", "status", "seconds", "peak_mib", "mode", "error") if c not in table
    ]
    if missing:
        raise ValueError(f"not a run summary: missing column(s) {missing}")
    header = ["notebook", "status", "seconds", "peak MiB", "mode", "error"]
    rows = []
    for r in table.itertuples(index=False):
        peak = "n/a" if pd.isna(r.peak_mib) else f"{r.peak_mib:.0f}"
        error = str(r.error).replace("|", "\\|")
        rows.append([r.notebook, r.status, f"{r.seconds:.1f}", peak, r.mode, error])
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join(["---", "---", "---:", "---:", "---", "---"]) + "|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def run_notebooks(
    paths: Iterable[str | os.PathLike],
    quick: bool = False,
    out_dir: str | os.PathLike | None = None,
    timeout: float | None = 1800,
    inplace: bool = False,
    kernel: str = "python3",
    progress: bool = True,
) -> pd.DataFrame:
    """Execute notebooks one after another; write build files and the summary table.

    For each notebook see :func:`run_notebook`. A tqdm progress bar runs over the notebooks
    (on stderr). After the last one, ``<out_dir>/summary.csv`` and ``<out_dir>/summary.md`` are
    written. A failing notebook does not stop the others, nor does a file that is not a
    readable notebook (its row has status ``error``, no outputs, and the parse error).

    Args:
        paths: notebook files (use :func:`find_notebooks` to resolve ``all`` or chapter names).
        quick: ``GATAM_QUICK=1`` in the kernels (else ``GATAM_QUICK=0``).
        out_dir: build folder, default :func:`default_out_dir` (``$GATAM_BUILD_DIR`` or
            ``<repo>/build``); the kernels see it as ``GATAM_BUILD_DIR``.
        timeout: wall-clock budget per notebook in seconds (``None``/``0``: none).
        inplace: write each successfully executed notebook back over its source.
        kernel: Jupyter kernel name.
        progress: show the tqdm bar.

    Returns:
        One row per notebook with the columns of :data:`SUMMARY_COLUMNS` (``seconds`` in wall
        seconds, ``peak_mib`` in MiB).

    Raises:
        ValueError: no paths, a path that is not a ``.ipynb``, a negative timeout, or an unknown
            kernel name (checked before anything runs).
        FileNotFoundError: a path that does not exist (checked before anything runs).
    """
    from nbconvert import HTMLExporter
    from tqdm.auto import tqdm

    paths = [Path(p).resolve() for p in paths]
    if not paths:
        raise ValueError("no notebooks to run")
    for p in paths:
        if not p.is_file():
            raise FileNotFoundError(f"notebook not found: {p}")
        if p.suffix != ".ipynb":
            raise ValueError(f"not a Jupyter notebook (.ipynb): {p}")
    if timeout is not None and timeout < 0:
        raise ValueError(f"timeout must be >= 0 seconds (0 or None: no limit), got {timeout!r}")
    _check_kernel(kernel)
    out_dir = Path(out_dir) if out_dir is not None else default_out_dir()
    exporter = HTMLExporter()

    rows = []
    bar = tqdm(paths, desc="notebooks", unit="nb", disable=not progress)
    for p in bar:
        bar.set_postfix_str(f"{p.parent.name}/{p.name}")
        try:
            row = run_notebook(
                p,
                quick=quick,
                out_dir=out_dir,
                timeout=timeout,
                inplace=inplace,
                kernel=kernel,
                exporter=exporter,
            )
        except NotebookReadError as exc:  # one unreadable file must not stop the others
            row = dict.fromkeys(SUMMARY_COLUMNS, "")
            row.update(
                notebook=_out_paths(p, out_dir)[0],
                status="error",
                seconds=0.0,
                peak_mib=math.nan,
                mode="quick" if quick else "default",
                error=_one_line(str(exc), limit=600),
            )
        rows.append(row)
        if progress:
            peak = "n/a" if math.isnan(row["peak_mib"]) else f"{row['peak_mib']:.0f} MiB"
            note = f"  {row['error']}" if row["error"] else ""
            bar.write(
                f"{row['status']:>7}  {row['seconds']:7.1f} s  {peak:>9}  {row['notebook']}{note}"
            )
    bar.close()

    table = pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
    out_dir.mkdir(parents=True, exist_ok=True)
    table.to_csv(out_dir / "summary.csv", index=False)
    (out_dir / "summary.md").write_text(format_summary(table), encoding="utf-8")
    return table
