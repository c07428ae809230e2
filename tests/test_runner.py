"""Tests of the notebook runner (common/run.py) and its command line (common/__main__.py).

Kernel start-up dominates the run time, so only two notebooks are executed: one that succeeds
(through the library API) and one that fails (through the command line).
"""

from __future__ import annotations

import math
import shutil
import subprocess

import nbformat
import pandas as pd
import pytest

from common.__main__ import main
from common.config import REPO_ROOT
from common.run import (
    SUMMARY_COLUMNS,
    NotebookReadError,
    TargetError,
    _kernel_env,
    find_notebooks,
    format_summary,
    run_notebook,
    run_notebooks,
)

KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


def _write_notebook(path, code_cells):
    """Write a notebook: markdown title, a `parameters` cell, then the given code cells."""
    v4 = nbformat.v4
    cells = [
        v4.new_markdown_cell("# A tiny test notebook\n\nBook §0.0 (test only)."),
        v4.new_code_cell("n = 3\nlabel = 'tiny'", metadata={"tags": ["parameters"]}),
    ]
    cells += [v4.new_code_cell(src) for src in code_cells]
    nb = v4.new_notebook(cells=cells, metadata={"kernelspec": KERNELSPEC})
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


@pytest.fixture
def good_nb(tmp_path):
    return _write_notebook(
        tmp_path / "chapter98" / "01_tiny.ipynb",
        [
            "import os\n"
            "print('quick =', os.environ.get('GATAM_QUICK'))\n"
            "print('cwd =', os.getcwd())\n"
            "print('backend =', os.environ.get('MPLBACKEND'))",
            "total = sum(range(n))\nassert total == 3",
        ],
    )


@pytest.fixture
def bad_nb(tmp_path):
    return _write_notebook(
        tmp_path / "chapter98" / "02_broken.ipynb",
        ["print('before the error')", "undefined_name + 1", "print('never reached')"],
    )


def test_run_ok_notebook_writes_build_files(good_nb, tmp_path, monkeypatch):
    # CI exports MPLBACKEND=Agg; the runner must drop it so ipykernel captures inline plots.
    monkeypatch.setenv("MPLBACKEND", "Agg")
    out = tmp_path / "build"
    table = run_notebooks(
        [good_nb], quick=True, out_dir=out, timeout=120, inplace=True, progress=False
    )

    assert list(table.columns) == SUMMARY_COLUMNS
    assert len(table) == 1
    row = table.iloc[0]
    assert row["notebook"] == "chapter98/01_tiny.ipynb"
    assert row["status"] == "ok", row["error"]
    assert row["error"] == ""
    assert row["mode"] == "quick"
    assert 0 < row["seconds"] < 120
    # a Python kernel holds tens of MiB; a unit mix-up (bytes vs KiB) would be off by 1000x
    assert 10 < row["peak_mib"] < 16_000

    executed = out / "chapter98" / "01_tiny.ipynb"
    html = out / "chapter98" / "01_tiny.html"
    assert executed.is_file() and html.is_file()
    assert (out / "summary.csv").is_file() and (out / "summary.md").is_file()
    saved = pd.read_csv(out / "summary.csv", keep_default_na=False)
    assert saved.loc[0, "status"] == "ok"
    assert "chapter98/01_tiny.ipynb" in (out / "summary.md").read_text()

    nb = nbformat.read(executed, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert len(nb.cells) == 4, "the memory-probe cell must be removed before saving"
    assert [c.execution_count for c in code] == [1, 2, 3]
    text = "".join(o.get("text", "") for o in code[1].outputs)
    assert "quick = 1" in text
    assert f"cwd = {good_nb.parent}" in text
    assert "backend = module://matplotlib_inline.backend_inline" in text
    assert "tiny" in html.read_text(encoding="utf-8")

    # --inplace: the successful run was written back over the source
    source = nbformat.read(good_nb, as_version=4)
    assert [c.execution_count for c in source.cells if c.cell_type == "code"] == [1, 2, 3]


def test_cli_failing_notebook_exits_nonzero(bad_nb, tmp_path, capsys):
    out = tmp_path / "build"
    before = bad_nb.read_text()
    code = main(
        [
            "run",
            str(bad_nb),
            "--quick",
            "--out",
            str(out),
            "--timeout",
            "120",
            "--inplace",
            "--no-progress",
        ]
    )
    assert code == 1
    captured = capsys.readouterr()
    assert "failed" in captured.out and "NameError" in captured.out

    saved = pd.read_csv(out / "summary.csv", keep_default_na=False)
    assert saved.loc[0, "status"] == "failed"
    assert saved.loc[0, "error"].startswith("NameError: name 'undefined_name' is not defined")
    assert "(cell 3)" in saved.loc[0, "error"]
    assert saved.loc[0, "mode"] == "quick"
    assert saved.loc[0, "peak_mib"] > 0

    # what ran is saved, with the error; later cells are not executed
    nb = nbformat.read(out / "chapter98" / "02_broken.ipynb", as_version=4)
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code_cells] == [1, 2, 3, None]
    assert code_cells[2].outputs[-1]["output_type"] == "error"
    assert code_cells[2].outputs[-1]["ename"] == "NameError"
    assert code_cells[3].outputs == []
    assert (out / "chapter98" / "02_broken.html").is_file()
    # --inplace never writes a failed run over the source
    assert bad_nb.read_text() == before


def test_cli_malformed_notebook_is_a_row_and_out_reaches_the_kernel(tmp_path, capsys, monkeypatch):
    """Issue 6: a malformed .ipynb stopped the whole run with no summary and no file name, and
    --out DIR did not reach the notebooks (1.03 wrote into <repo>/build)."""
    folder = tmp_path / "chapter98"
    folder.mkdir()
    broken = folder / "01_broken.ipynb"
    broken.write_text('{"cells": [', encoding="utf-8")  # truncated JSON
    writer = _write_notebook(
        folder / "02_writer.ipynb",
        [
            "import os\n"
            "from common.config import build_dir\n"
            "target = build_dir('chapter98') / 'written.txt'\n"
            "target.write_text(os.environ['GATAM_BUILD_DIR'])\n"
            "print('wrote', target)"
        ],
    )
    monkeypatch.chdir(tmp_path)  # a relative --out must reach the kernel as an absolute path
    monkeypatch.delenv("GATAM_BUILD_DIR", raising=False)
    args = ["run", str(broken), str(writer), "--quick", "--out", "out", "--timeout", "120"]
    code = main([*args, "--no-progress"])
    out = (tmp_path / "out").resolve()
    assert code == 1  # the unreadable file still counts as a failure
    captured = capsys.readouterr()
    assert "01_broken.ipynb" in captured.out and "error" in captured.out

    saved = pd.read_csv(out / "summary.csv", keep_default_na=False)
    assert saved["notebook"].tolist() == ["chapter98/01_broken.ipynb", "chapter98/02_writer.ipynb"]
    assert saved["status"].tolist() == ["error", "ok"], saved["error"].tolist()
    assert str(broken) in saved.loc[0, "error"] and "JSON" in saved.loc[0, "error"]
    assert saved.loc[0, "executed"] == "" and saved.loc[0, "html"] == ""
    # the kernel saw GATAM_BUILD_DIR == the --out folder, and build_dir() wrote below it
    written = out / "chapter98" / "written.txt"
    assert written.is_file(), "the notebook did not write into the --out folder"
    assert written.read_text() == str(out)
    assert not (folder / "out").exists()  # not relative to the kernel's working directory


def test_unreadable_notebook_raises_a_named_error(tmp_path):
    bad = tmp_path / "chapter98" / "03_not_v4.ipynb"
    bad.parent.mkdir()
    bad.write_text('{"cells": [], "nbformat": 4, "nbformat_minor": 5}', encoding="utf-8")
    with pytest.raises(NotebookReadError, match="03_not_v4.ipynb.*metadata"):
        run_notebook(bad, out_dir=tmp_path / "b")
    assert not (tmp_path / "b").exists()


def test_cli_unknown_target_exits_2(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["run", "chapter77_does_not_exist", "--out", str(tmp_path / "b")]) == 2
    err = capsys.readouterr().err
    assert "unknown target 'chapter77_does_not_exist'" in err
    assert not (tmp_path / "b").exists()


def test_cli_help_lists_subcommands(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "run" in out and "list" in out
    with pytest.raises(SystemExit) as exc:
        main(["run", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for option in ("--quick", "--out", "--timeout", "--inplace", "--kernel"):
        assert option in out


def test_cli_list(good_nb, bad_nb, capsys):
    assert main(["list", str(good_nb.parent)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [str(good_nb), str(bad_nb)]


def test_find_notebooks_all_chapter_and_paths(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # relative targets are looked up from the cwd first
    for rel in [
        "chapter02/01_b.ipynb",
        "chapter01/02_b.ipynb",
        "chapter01/01_a.ipynb",
        "notes/99_other.ipynb",
        "chapter01/readme.txt",
    ]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("{}")
    names = [p.relative_to(tmp_path).as_posix() for p in find_notebooks(None, root=tmp_path)]
    assert names == ["chapter01/01_a.ipynb", "chapter01/02_b.ipynb", "chapter02/01_b.ipynb"]

    chosen = find_notebooks(
        ["chapter02", "chapter01/02_b.ipynb", "chapter02/01_b.ipynb"], root=tmp_path
    )
    assert [p.name for p in chosen] == ["01_b.ipynb", "02_b.ipynb"]  # duplicates dropped

    with pytest.raises(TargetError, match="unknown target 'chapter09'"):
        find_notebooks(["chapter09"], root=tmp_path)
    with pytest.raises(TargetError, match="not a Jupyter notebook"):
        find_notebooks(["chapter01/readme.txt"], root=tmp_path)
    (tmp_path / "chapter03").mkdir()
    with pytest.raises(TargetError, match="holds no"):
        find_notebooks(["chapter03"], root=tmp_path)
    with pytest.raises(TargetError, match="no notebooks found"):
        find_notebooks(["all"], root=tmp_path / "notes")


def test_run_notebooks_rejects_bad_input(tmp_path, good_nb):
    with pytest.raises(ValueError, match="no notebooks"):
        run_notebooks([], out_dir=tmp_path)
    with pytest.raises(FileNotFoundError, match="missing.ipynb"):
        run_notebooks([tmp_path / "missing.ipynb"], out_dir=tmp_path)
    with pytest.raises(ValueError, match="timeout"):
        run_notebooks([good_nb], timeout=-1, out_dir=tmp_path)
    with pytest.raises(ValueError, match="no Jupyter kernel named 'no-such-kernel'"):
        run_notebooks([good_nb], kernel="no-such-kernel", out_dir=tmp_path)


def test_kernel_env_sets_quick_explicitly(monkeypatch):
    monkeypatch.setenv("GATAM_QUICK", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    env = _kernel_env(quick=False)
    assert env["GATAM_QUICK"] == "0"
    assert "MPLBACKEND" not in env
    assert _kernel_env(quick=True)["GATAM_QUICK"] == "1"


def test_kernel_env_build_dir_and_threads(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for var in ("GATAM_BUILD_DIR", "GATAM_THREADS", "PYTEST_XDIST_WORKER", "OMP_NUM_THREADS"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.delenv("MKL_NUM_THREADS", raising=False)
    assert _kernel_env(False, "rel/out")["GATAM_BUILD_DIR"] == str(tmp_path / "rel" / "out")
    monkeypatch.setenv("GATAM_BUILD_DIR", str(tmp_path / "from_env"))
    assert _kernel_env(False)["GATAM_BUILD_DIR"] == str(tmp_path / "from_env")
    # thread policy: one thread in quick mode, no limit in default mode, GATAM_THREADS wins
    assert _kernel_env(True)["OMP_NUM_THREADS"] == "1"
    assert _kernel_env(True)["MKL_NUM_THREADS"] == "1"
    assert "OMP_NUM_THREADS" not in _kernel_env(False)
    monkeypatch.setenv("GATAM_THREADS", "3")
    assert _kernel_env(False)["OMP_NUM_THREADS"] == "3"
    monkeypatch.setenv("OMP_NUM_THREADS", "2")  # the caller's own setting is kept
    assert _kernel_env(True)["OMP_NUM_THREADS"] == "2"


def test_format_summary():
    table = pd.DataFrame(
        [
            ["chapter01/01_a.ipynb", "ok", 1.234, 150.0, "quick", ""],
            ["chapter01/02_b.ipynb", "failed", 0.5, math.nan, "quick", "ValueError: a|b (cell 2)"],
        ],
        columns=SUMMARY_COLUMNS[:6],
    )
    md = format_summary(table).splitlines()
    assert md[0] == "| notebook | status | seconds | peak MiB | mode | error |"
    assert md[2] == "| chapter01/01_a.ipynb | ok | 1.2 | 150 | quick |  |"
    assert (
        md[3]
        == "| chapter01/02_b.ipynb | failed | 0.5 | n/a | quick | ValueError: a\\|b (cell 2) |"
    )
    with pytest.raises(ValueError, match="missing column"):
        format_summary(table.drop(columns="peak_mib"))


@pytest.mark.skipif(shutil.which("make") is None, reason="needs GNU make")
@pytest.mark.parametrize("user_id, root", [("0", True), ("1000", False)])
def test_make_lab_allows_root_only_for_root(user_id, root):
    """Issue 6: `make lab` as root exited with "Running as root is not recommended"."""
    done = subprocess.run(
        ["make", "-n", "lab", f"USER_ID={user_id}"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    lab = [line for line in done.stdout.splitlines() if "jupyter lab" in line]
    assert len(lab) == 1, done.stdout
    assert ("--allow-root" in lab[0]) is root
