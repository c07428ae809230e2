"""Hygiene of the committed notebooks (``chapterNN/*.ipynb``), checked without executing them.

Every notebook is committed with the outputs of a clean top-to-bottom run (ARCHITECTURE.md,
"Notebooks"), so stale or hand-edited outputs show up here as execution counts that are not
1..n or as error outputs. Execution itself (quick mode) is tested by nbval, not here.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import nbformat
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(
    p for p in REPO_ROOT.glob("chapter*/*.ipynb") if re.fullmatch(r"chapter\d{2}", p.parent.name)
)
NAME_RE = re.compile(r"\d{2}_[a-z0-9]+(?:_[a-z0-9]+)*\.ipynb")

_NO_NOTEBOOKS = pytest.mark.skip(reason="no committed chapterNN/*.ipynb notebooks yet")
_PARAMS = (
    [pytest.param(p, id=p.relative_to(REPO_ROOT).as_posix()) for p in NOTEBOOKS]
    if NOTEBOOKS
    else [pytest.param(None, id="no-notebooks", marks=_NO_NOTEBOOKS)]
)


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def _tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


@pytest.mark.parametrize("path", _PARAMS)
def test_valid_nbformat_and_kernel(path):
    nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    assert nb.nbformat == 4, f"{path.name}: nbformat {nb.nbformat}, expected 4"
    nbformat.validate(nb)  # raises nbformat.ValidationError with the offending field
    kernelspec = nb.metadata.get("kernelspec", {})
    assert kernelspec.get("name") == "python3", (
        f"{path.name}: kernelspec name is {kernelspec.get('name')!r}, expected 'python3'"
    )


@pytest.mark.parametrize("path", _PARAMS)
def test_name_is_numbered_snake_case(path):
    assert NAME_RE.fullmatch(path.name), (
        f"{path.parent.name}/{path.name}: notebook names look like NN_snake_case.ipynb "
        "(two digits, lower-case words joined by '_')"
    )


@pytest.mark.parametrize("path", _PARAMS)
def test_clean_top_to_bottom_run(path):
    nb = _read(path)
    code = [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.source.strip()]
    counts = [c.execution_count for _, c in code]
    expected = list(range(1, len(code) + 1))
    assert counts == expected, (
        f"{path.name}: execution counts {counts} are not 1..{len(code)}; re-run the notebook "
        "top to bottom (`python -m common run <notebook> --inplace`) before committing"
    )
    errors = [
        f"cell {i}: {out.get('ename')}: {out.get('evalue')}"
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code"
        for out in c.get("outputs", [])
        if out.get("output_type") == "error"
    ]
    assert not errors, f"{path.name} has error outputs: {errors}"


@pytest.mark.parametrize("path", _PARAMS)
def test_header_and_parameters_cell(path):
    nb = _read(path)
    assert len(nb.cells) >= 2, f"{path.name}: needs a markdown header and a parameters cell"
    first, second = nb.cells[0], nb.cells[1]
    assert first.cell_type == "markdown", (
        f"{path.name}: the first cell must be markdown (title, book sections, data, runtime)"
    )
    assert "Book §" in first.source, f"{path.name}: the first cell must cite the book ('Book §')"
    tagged = [i for i, c in enumerate(nb.cells) if "parameters" in _tags(c)]
    assert len(tagged) == 1, (
        f"{path.name}: exactly one cell must be tagged 'parameters', found cells {tagged}"
    )
    assert tagged == [1] and second.cell_type == "code", (
        f"{path.name}: the parameters cell must be the second cell and a code cell "
        f"(found at cell {tagged[0]}, type {nb.cells[tagged[0]].cell_type})"
    )


@pytest.mark.parametrize("path", _PARAMS)
def test_papermill_can_override_parameters(path):
    from papermill import inspect_notebook
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    params = inspect_notebook(str(path))
    assert params, (
        f"{path.name}: papermill finds no parameter in the 'parameters' cell "
        "(use plain top-level assignments, e.g. `seed = 0`)"
    )
    name = next(iter(params))
    injected = parameterize_notebook(load_notebook_node(str(path)), {name: 12345})
    tags = [_tags(c) for c in injected.cells]
    where = [i for i, t in enumerate(tags) if "injected-parameters" in t]
    assert len(where) == 1 and "parameters" in tags[where[0] - 1], (
        f"{path.name}: papermill did not inject its override right after the parameters cell"
    )
    assert f"{name} = 12345" in injected.cells[where[0]].source


def _by_chapter() -> dict[Path, list[Path]]:
    if not NOTEBOOKS:
        pytest.skip("no committed chapterNN/*.ipynb notebooks yet")
    chapters: dict[Path, list[Path]] = defaultdict(list)
    for p in NOTEBOOKS:
        chapters[p.parent].append(p)
    return chapters


def test_chapter_folders_have_readme():
    missing = [d.name for d in _by_chapter() if not (d / "README.md").is_file()]
    assert not missing, f"chapter folders with notebooks but no README.md: {missing}"


def test_notebook_numbers_unique_within_chapter():
    dupes = {}
    for folder, paths in _by_chapter().items():
        numbers = [p.name[:2] for p in paths]
        repeated = sorted({n for n in numbers if numbers.count(n) > 1})
        if repeated:
            dupes[folder.name] = repeated
    assert not dupes, f"notebook numbers used twice in a chapter (reading order): {dupes}"
