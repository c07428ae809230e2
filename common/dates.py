"""Dates in price files: :func:`parse_dates`, the date parser of :func:`common.price_csv.read_price_csv`.

It reads ISO strings, ``YYYYMMDD`` integers, timestamps with mixed UTC offsets (the offset is
dropped so the exchange-local date remains: Book §1.1's SPY file mixes -04:00 and -05:00) and
day- or month-first dates, which it detects from the values (an ambiguous file raises and asks
for ``dayfirst``). Errors are :class:`common.data.DataIntegrityError` with the bad values shown.
"""

from __future__ import annotations

import datetime as _dt
import re
import warnings
from collections.abc import Iterable
from typing import TYPE_CHECKING

from common.data import (
    DataIntegrityError,
)

if TYPE_CHECKING:  # pandas is imported inside functions: importing this module stays light
    import pandas as pd

__all__ = ["parse_dates"]


# =========================================================================== dates
# a time of day followed by a UTC offset ('Z', 'UTC', '+05:30', '-0400', '-04'); the offset is
# dropped so the wall-clock (exchange-local) date and time remain
_OFFSET_RE = re.compile(
    r"^(?P<wall>.*\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)\s*(?:Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)$",
    re.IGNORECASE,
)


# day and month as 1-2 digit numbers, then a 2- or 4-digit year: 02.01.2024, 1/2/24, 02-01-2024
_DMY_RE = re.compile(r"^(\d{1,2})([./-])(\d{1,2})\2(\d{4}|\d{2})(?:$|[ T])")


def _detect_dayfirst(text: pd.Series, where: str) -> bool:
    """Day-first or month-first for dates like ``02.01.2024``, from the values themselves.

    Only columns whose every value has the form ``NN?NN?YYYY`` (separator ``.``, ``/`` or ``-``,
    year with 2 or 4 digits) are looked at; anything else returns False (pandas' default).
    Rule: some first number > 12 (and no second one) -> day-first; some second number > 12 (and
    no first one) -> month-first; every value with both numbers <= 12 and day != month for at
    least one value -> ambiguous, refused. Both kinds present -> False (the parser then
    reports the dates that do not fit).

    Raises:
        DataIntegrityError: the dates are ambiguous; the message says to pass ``dayfirst`` or
            ``date_format``.
    """
    filled = text.dropna()
    if filled.empty:
        return False
    parts = filled.str.extract(_DMY_RE)
    if parts[0].isna().any():
        return False
    first, second = parts[0].astype(int), parts[2].astype(int)
    day_first, month_first = bool((first > 12).any()), bool((second > 12).any())
    if day_first != month_first:
        return day_first
    if day_first or bool((first == second).all()):
        return False
    example = str(filled[first != second].iloc[0])
    a, b = int(first[first != second].iloc[0]), int(second[first != second].iloc[0])
    month = ("January February March April May June July August September October November "
             "December").split()  # fmt: skip
    sep = parts[1].iloc[0]
    raise DataIntegrityError(
        f"{where}the dates are ambiguous: in all {len(filled)} of them both the day and the "
        f"month could be either number (each is at most 12), so {example!r} is {b} "
        f"{month[a - 1]} or {a} {month[b - 1]}. Pass dayfirst=True (day{sep}month{sep}year, as "
        f"in most of Europe) or dayfirst=False (month{sep}day{sep}year, as in the US), or "
        f"date_format='%d{sep}%m{sep}%Y'."
    )


def _parse_dates_core(
    values, *, date_format: str | None = None, dayfirst: bool | None = None, where: str = ""
):
    """Parse dates; return ``(DatetimeIndex, missing, bad)`` with boolean numpy masks.

    ``dayfirst=None`` detects day- or month-first dates (:func:`_detect_dayfirst`, which raises
    on ambiguous ones); ``where`` prefixes that error's message.
    """
    import numpy as np
    import pandas as pd

    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise TypeError(f"parse_dates expects a sequence of dates, got {type(values).__name__}")
    series = values.reset_index(drop=True) if isinstance(values, pd.Series) else None
    if series is None:
        series = pd.Series(values if isinstance(values, (pd.Index, np.ndarray)) else list(values))
    dtype = series.dtype
    if isinstance(dtype, pd.DatetimeTZDtype):  # one zone for all: keep the wall-clock time
        parsed = pd.DatetimeIndex(series).tz_localize(None)
        missing = np.asarray(series.isna())
        return parsed.rename("date"), missing, np.zeros(len(series), bool)
    if pd.api.types.is_datetime64_dtype(dtype):
        missing = np.asarray(series.isna())
        return pd.DatetimeIndex(series).rename("date"), missing, np.zeros(len(series), bool)
    if pd.api.types.is_bool_dtype(dtype):
        raise TypeError("parse_dates got booleans, not dates")
    if pd.api.types.is_numeric_dtype(dtype):  # YYYYMMDD integers, e.g. CRSP's tday
        numbers = series.astype("float64")
        missing = np.asarray(numbers.isna())
        integral = numbers.where(numbers.isna() | (numbers % 1 == 0))
        text = integral.astype("Int64").astype("string")
        stripped = text.where(text.str.fullmatch(r"\d{8}").fillna(False).astype(bool))
        parsed = pd.to_datetime(stripped, format="%Y%m%d", errors="coerce")
        bad = np.asarray(parsed.isna()) & ~missing
        return pd.DatetimeIndex(parsed).rename("date"), missing, bad

    # objects / strings; datetime objects mixed in (e.g. from Excel) are converted one by one
    def _one(v):
        if isinstance(v, (_dt.date, np.datetime64)) and not isinstance(v, str):
            ts = pd.Timestamp(v)
            return ts.tz_localize(None) if ts.tzinfo is not None else ts
        return v

    if pd.api.types.is_object_dtype(dtype) and any(
        isinstance(v, (_dt.date, np.datetime64)) for v in series
    ):
        series = series.map(_one)
        if all(isinstance(v, pd.Timestamp) or pd.isna(v) for v in series):
            parsed = pd.DatetimeIndex(series)
            return parsed.rename("date"), np.asarray(series.isna()), np.zeros(len(series), bool)
    text = series.astype("string").str.strip()
    missing = np.asarray(text.isna() | (text == ""))
    text = text.where(~missing)
    if text.dropna().str.fullmatch(r"\d{8}").all() and date_format is None:
        date_format = "%Y%m%d"
    if dayfirst is None:
        dayfirst = False if date_format else _detect_dayfirst(text, where)
    wall = text.str.replace(_OFFSET_RE, r"\g<wall>", regex=True)
    candidates = [date_format] if date_format else ["ISO8601", None]
    best = None
    for fmt in candidates:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # "could not infer format"
                parsed = pd.to_datetime(wall, format=fmt, dayfirst=dayfirst, errors="coerce")
        except (ValueError, TypeError, OverflowError):
            continue
        if isinstance(parsed.dtype, pd.DatetimeTZDtype):
            parsed = parsed.dt.tz_localize(None)
        n_bad = int((parsed.isna() & ~missing).sum())
        if best is None or n_bad < best[1]:
            best = (parsed, n_bad)
        if n_bad == 0:
            break
    if best is None:
        parsed = pd.Series(pd.NaT, index=series.index, dtype="datetime64[ns]")
    else:
        parsed = best[0]
    bad = np.asarray(parsed.isna()) & ~missing
    return pd.DatetimeIndex(parsed).rename("date"), missing, bad


def _examples(values, mask, labels, n: int = 5) -> str:
    """``'line 4: "x"', ...`` for the first ``n`` positions where ``mask`` is True."""
    import numpy as np

    where = np.flatnonzero(mask)
    shown = ", ".join(f"{labels[i]}: {values[i]!r}" for i in where[:n])
    more = f" and {len(where) - n} more" if len(where) > n else ""
    return shown + more


def parse_dates(
    values: Iterable, *, date_format: str | None = None, dayfirst: bool | None = None
) -> pd.DatetimeIndex:
    """Parse a column of dates into a tz-naive ``DatetimeIndex`` named ``date``.

    Accepts ISO strings (``2023-08-25``, ``2023-08-25 16:00:00``), other formats pandas can
    infer (``12/23/2022``, ``3-Jan-00``), ``YYYYMMDD`` integers or strings (CRSP's ``tday``),
    datetime objects, and timestamps with UTC offsets, including columns that MIX offsets
    (``2023-08-25 00:00:00-04:00`` next to ``2023-12-11 00:00:00-05:00``, as yfinance exports
    across a daylight-saving change). Plain ``pd.to_datetime`` refuses such a mix, and
    ``utc=True`` would move every stamp to UTC: 2023-11-05 23:30-05:00 becomes 2023-11-06.
    Daily bars are labelled by the exchange's local date, so the offset is dropped and the
    local wall-clock date and time kept. Timezone-aware input of a single zone is converted the
    same way (``tz_localize(None)``).

    Args:
        values: a sequence, Series, Index or array of dates (not a single string).
        date_format: a ``strftime`` format such as ``"%d/%m/%Y"``, or ``"mixed"`` to let each
            value have its own format; default: ISO 8601, else the format pandas infers from the
            first value.
        dayfirst: True reads ``01/02/2020`` as 1 February, False as 2 January (pandas'
            ``dayfirst``). None (default) detects it for dates written ``NN.NN.YYYY``,
            ``NN/NN/YYYY`` or ``NN-NN-YYYY`` (2- or 4-digit years): day-first when some first
            number exceeds 12, month-first when some second number does; when none does (and
            not every day equals its month) the dates are ambiguous and refused. Other formats
            are read month-first where pandas must choose.

    Returns:
        DatetimeIndex (tz-naive, named ``date``) of the same length and order as ``values``;
        nothing is sorted or dropped.

    Raises:
        DataIntegrityError: some values are empty or cannot be read as dates; the message shows
            the first few (0-based positions and values). Also: ``dayfirst`` is None and every
            date reads both ways (e.g. ``02.01.2024``): pass ``dayfirst`` or ``date_format``.
        TypeError: ``values`` is a single string or not a sequence.
    """
    import numpy as np

    raw = list(values) if not hasattr(values, "__len__") else values
    parsed, missing, bad = _parse_dates_core(
        raw, date_format=date_format, dayfirst=dayfirst, where="parse_dates: "
    )
    if missing.any() or bad.any():
        shown = np.asarray(list(raw), dtype=object)
        labels = [f"position {i}" for i in range(len(shown))]
        parts = []
        if bad.any():
            parts.append(
                f"{int(bad.sum())} of {len(shown)} values are not dates "
                f"({_examples(shown, bad, labels)})"
            )
        if missing.any():
            parts.append(
                f"{int(missing.sum())} values are empty "
                f"(at {', '.join(str(i) for i in np.flatnonzero(missing)[:5])})"
            )
        raise DataIntegrityError(
            "Could not parse the dates: " + "; ".join(parts) + ". Pass date_format= (a strftime "
            "pattern, or 'mixed' if the formats differ row by row) or dayfirst=True."
        )
    return parsed
