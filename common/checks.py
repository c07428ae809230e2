"""Checks a reader can see: ours vs a reference in one printed table, and the closing scorecard.

Every notebook compares its numbers with the book's (or the official companion's, or an
independent library's). :func:`compare` does it in one visible call: it prints ours / reference /
difference / tolerance as a plain-text table and raises ``AssertionError`` when a row is outside
its tolerance, so the check can fail and the reader sees by how much it passed.
:func:`scorecard` prints the table that ends every notebook (ARCHITECTURE.md, "Notebook
standard") and the one-line verdict the code computed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["compare", "scorecard"]


def _rows(values, name: str) -> dict[str, float]:
    """Flatten a scalar, a sequence, a Series or a mapping into ``{label: float}``."""
    import numpy as np
    import pandas as pd

    if isinstance(values, Mapping):
        out: dict[str, float] = {}
        for key, value in values.items():
            out.update(_rows(value, str(key)))
        return out
    if isinstance(values, pd.Series):
        return {f"{name}[{k}]" if name else str(k): float(v) for k, v in values.items()}
    array = np.asarray(values, dtype=float)
    if array.ndim == 0:
        return {name or "value": float(array)}
    if array.ndim > 1:
        raise ValueError(f"compare: {name or 'value'} has shape {array.shape}; pass 1-D values")
    return {f"{name or 'value'}[{i}]": float(v) for i, v in enumerate(array)}


def compare(
    ours,
    reference,
    tol: float | Mapping[str, float],
    *,
    reference_name: str = "book",
    relative: bool = False,
    name: str = "",
) -> pd.DataFrame:
    """Print ours next to a reference value by value, then assert each is within tolerance.

    Args:
        ours, reference: the same shape of values: scalars, 1-D sequences, pandas Series
            (labels become row names) or mappings ``{name: value}`` whose values are any of
            these. A ``NaN`` matches only a ``NaN``.
        tol: the largest allowed ``|ours - reference|`` (or ``|ours - reference| / |reference|``
            when ``relative``), one number for every row or a mapping by top-level name.
        reference_name: the reference column's title, e.g. ``"book"``, ``"Matlab"``,
            ``"skfolio"``.
        relative: compare relative differences instead of absolute ones (rows whose reference
            is exactly 0 fall back to the absolute difference).
        name: the row name of a scalar or the prefix of a sequence's rows.

    Returns:
        The table that was printed (columns ``ours``, ``reference_name``, ``difference``,
        ``tolerance``, ``ok``), indexed by row name, for further use.

    Raises:
        ValueError: ours and reference do not have the same rows, or a tolerance is negative or
            missing for a row.
        AssertionError: a row is outside its tolerance; the message lists every such row.
    """
    import pandas as pd

    if isinstance(ours, Mapping) != isinstance(reference, Mapping):
        raise ValueError("compare: pass both values as mappings, or neither")
    top = list(ours) if isinstance(ours, Mapping) else [name]
    mine, theirs = _rows(ours, name), _rows(reference, name)
    if list(mine) != list(theirs):
        raise ValueError(
            f"compare: ours has rows {list(mine)[:8]} but the reference has {list(theirs)[:8]}"
        )
    tolerances: dict[str, float] = {}
    for key in top:
        value = tol.get(key) if isinstance(tol, Mapping) else tol
        if value is None or not value >= 0:
            raise ValueError(f"compare: tolerance for {key or 'value'!r} is {value!r}")
        rows = _rows(ours[key], str(key)) if isinstance(ours, Mapping) else mine
        tolerances.update(dict.fromkeys(rows, float(value)))
    records = []
    for row, a in mine.items():
        b = theirs[row]
        if math.isnan(a) or math.isnan(b):
            diff, ok = (0.0, True) if math.isnan(a) and math.isnan(b) else (math.nan, False)
        else:
            diff = abs(a - b) / abs(b) if relative and b != 0 else abs(a - b)
            ok = diff <= tolerances[row]
        records.append((row, a, b, diff, tolerances[row], "ok" if ok else "FAIL"))
    diff_name = "rel. difference" if relative else "difference"
    table = pd.DataFrame(
        [r[1:] for r in records],
        index=[r[0] for r in records],
        columns=["ours", reference_name, diff_name, "tolerance", "ok"],
    )
    shown = table.copy()
    for col in ("ours", reference_name):
        shown[col] = [f"{v:.12g}" for v in table[col]]
    for col in (diff_name, "tolerance"):
        shown[col] = [f"{v:.1e}" for v in table[col]]
    print(shown.to_string())
    failed = table.index[table["ok"] == "FAIL"].tolist()
    if failed:
        raise AssertionError(
            f"{len(failed)} of {len(table)} values differ from {reference_name} by more than the "
            f"tolerance: {failed[:10]}"
        )
    return table


def scorecard(table, verdict: str, *, digits: int = 4) -> None:
    """Print a notebook's closing scorecard: a plain-text table and a one-line verdict.

    Args:
        table: a DataFrame, or a list of dicts (one row each, e.g. ``{"quantity": ...,
            "ours": ..., "book": ..., "baseline": ...}``; the first key becomes the index).
            Floats are rounded to ``digits`` decimals; missing cells print as ``-``.
        verdict: the conclusion, computed by the notebook's code from the numbers in the table.
        digits: decimals shown for floats.

    Raises:
        ValueError: an empty table or an empty verdict.
    """
    import pandas as pd

    frame = table if isinstance(table, pd.DataFrame) else pd.DataFrame(list(table))
    if frame.empty or not str(verdict).strip():
        raise ValueError("scorecard needs at least one row and a verdict")
    if not isinstance(table, pd.DataFrame):
        frame = frame.set_index(frame.columns[0])
        frame.index.name = None

    def cell(value):
        if value is None or value is pd.NA or value is pd.NaT:  # nullable dtypes' missing
            return "-"
        if isinstance(value, float) and math.isnan(value):
            return "-"
        if isinstance(value, float):
            return f"{value:.{digits}f}"
        return str(value)

    print(frame.map(cell).to_string())
    print(f"\nVerdict: {verdict}")
