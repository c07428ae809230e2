"""Prices: live downloads, a reader's own CSV files, date parsing and validation.

Every function either returns clean prices or raises a :class:`common.data.DataError` subclass
whose message says what went wrong and what to do.

Live prices
    :func:`load_prices` downloads split- and dividend-adjusted daily prices with yfinance and
    keeps a CSV copy under ``<cache>/prices`` so a notebook rerun needs no network.

A reader's own files
    :func:`read_price_csv` reads long (date, ticker, price) or wide (date + one column per
    ticker) CSV files, including European ones (``sep=";"``, ``decimal=","``, day-first dates)
    and prices written ``$100`` or ``1,000.5`` (``thousands=","``); :func:`parse_dates` is its
    date parser (ISO strings, ``YYYYMMDD`` integers, timestamps with mixed UTC offsets, day- or
    month-first dates detected from the values); :func:`validate_prices` is the check every
    price frame passes before a notebook sees it.

Notebook parameters
    :func:`load_price_source` is the notebooks' data-source block (``SOURCE``, ``CSV_PATH``,
    ``START``, ``END``).

Conventions of the returned frames: a sorted, unique, tz-naive ``DatetimeIndex`` named
``date``; prices are ``float64``; ``NaN`` means "no price that day" (a stock not yet listed, an
exchange holiday), never a parsing failure.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import logging
import os
import re
import warnings
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from common.data import (
    DataError,
    DataIntegrityError,
    DataNotFoundError,
    NetworkUnavailableError,
    UnknownDatasetError,
    _cache_error,
    _close_matches,
    cache_dir,
)

if TYPE_CHECKING:  # pandas is imported inside functions: `import common.prices` stays light
    import pandas as pd

__all__ = [
    "load_prices",
    "read_price_csv",
    "parse_dates",
    "validate_prices",
    "load_price_source",
    "SOURCES",
]


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


# =========================================================================== validation
def validate_prices(prices: pd.DataFrame | pd.Series, *, name: str = "prices") -> pd.DataFrame:
    """Check a wide price frame (dates x tickers) and return it as ``float64``.

    Used by :func:`read_price_csv` and :func:`load_prices`; use it on any frame you build.

    Rules: at least one row and one column; unique, non-empty column names; a ``DatetimeIndex``
    that is tz-naive, has no NaT, is unique and strictly increasing; numeric values (booleans
    are not prices); every value either NaN (no price that day) or finite and > 0; no column
    entirely NaN. Nothing is sorted, filled or dropped.

    Args:
        prices: DataFrame (a Series is turned into a one-column frame).
        name: how messages refer to the data (a file name, "yfinance prices for SPY", ...).

    Returns:
        A ``float64`` copy with the index named ``date``.

    Raises:
        TypeError: ``prices`` is not a DataFrame or Series.
        DataIntegrityError: a rule is broken; the message names the columns, dates and values.
    """
    import numpy as np
    import pandas as pd

    if isinstance(prices, pd.Series):
        prices = prices.to_frame()
    if not isinstance(prices, pd.DataFrame):
        raise TypeError(f"{name}: expected a pandas DataFrame, got {type(prices).__name__}")
    if prices.shape[0] == 0 or prices.shape[1] == 0:
        raise DataIntegrityError(f"{name}: no prices (shape {prices.shape})")
    cols = pd.Index(prices.columns)
    if not cols.is_unique:
        raise DataIntegrityError(
            f"{name}: duplicate columns {sorted(map(str, cols[cols.duplicated()].unique()))}"
        )
    if any(pd.isna(c) or str(c).strip() == "" for c in cols):
        raise DataIntegrityError(f"{name}: a column has no name: {list(cols)}")
    index = prices.index
    if not isinstance(index, pd.DatetimeIndex):
        raise DataIntegrityError(
            f"{name}: the index must be a DatetimeIndex of dates, got {type(index).__name__} "
            "(parse it with common.prices.parse_dates)"
        )
    if index.tz is not None:
        raise DataIntegrityError(
            f"{name}: the dates carry the time zone {index.tz}; drop it with "
            "index.tz_localize(None) to keep local dates"
        )
    if index.hasnans:
        raise DataIntegrityError(f"{name}: {int(index.isna().sum())} dates are missing (NaT)")
    if not index.is_unique:
        dup = index[index.duplicated()].unique()
        raise DataIntegrityError(
            f"{name}: duplicate dates {[str(d) for d in dup[:5]]}"
            + (f" and {len(dup) - 5} more" if len(dup) > 5 else "")
        )
    if not index.is_monotonic_increasing:
        pos = int(np.flatnonzero(np.diff(index.asi8) < 0)[0])
        raise DataIntegrityError(
            f"{name}: dates are not sorted: {index[pos]} is followed by {index[pos + 1]}"
        )
    not_numeric = [
        c
        for c in cols
        if not pd.api.types.is_numeric_dtype(prices[c]) or pd.api.types.is_bool_dtype(prices[c])
    ]
    if not_numeric:
        raise DataIntegrityError(
            f"{name}: non-numeric prices in columns {[str(c) for c in not_numeric[:5]]} "
            f"(dtypes {[str(prices[c].dtype) for c in not_numeric[:5]]})"
        )
    values = prices.astype("float64")
    arr = values.to_numpy()
    problems = []
    for label, mask in (
        ("infinite", np.isinf(arr)),
        ("non-positive", np.isfinite(arr) & (arr <= 0)),
    ):
        if mask.any():
            rows, colidx = np.nonzero(mask)
            shown = ", ".join(
                f"{cols[j]} on {index[i].date() if index[i] == index[i].normalize() else index[i]}"
                f" = {float(arr[i, j])!r}"
                for i, j in zip(rows[:5], colidx[:5], strict=True)
            )
            more = f" and {len(rows) - 5} more" if len(rows) > 5 else ""
            problems.append(f"{len(rows)} {label} prices ({shown}{more})")
    if problems:
        raise DataIntegrityError(
            f"{name}: " + "; ".join(problems) + ". Prices must be > 0 (are these returns?)"
        )
    empty = [str(c) for c in cols if values[c].isna().all()]
    if empty:
        raise DataIntegrityError(f"{name}: no prices at all in columns {empty}")
    values.index = index.rename("date")
    return values


# =========================================================================== readers' CSVs
def _norm(name) -> str:
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


_DATE_NAMES = {
    "date", "dates", "datetime", "timestamp", "time", "tday", "day", "tradedate",
    "tradingdate", "caldt", "asof", "period", "datum", "fecha",
}  # fmt: skip
_TICKER_NAMES = {
    "ticker", "tickers", "symbol", "symbols", "sym", "syms", "stock", "stocks", "asset",
    "assets", "permno", "secid", "instrument", "security", "code", "name", "id", "isin",
}  # fmt: skip
_PRICE_NAMES = {
    "price", "prices", "close", "adjclose", "adjustedclose", "closeprice", "mid", "cl", "px",
    "pxlast", "last", "value", "prc", "schluss", "schlusskurs", "kurs", "cierre",
}  # fmt: skip
# traded quantities, not prices: zero is a valid value (a day without trades)
_VOLUME_NAMES = {
    "volume", "volumes", "vol", "volumen", "shares", "sharevolume", "sharesvolume",
    "sharestraded", "openinterest",
}  # fmt: skip
_CURRENCY = "$€£¥"
# a number as people write it: sign, currency symbol, digits with , . ' or spaces between
# them, exponent, percent sign; e.g. 100, -1.5, $100, 1,000.5, 100,5, 1.000,5, 1e-3, 5 %
_NUMBER_LIKE_RE = re.compile(
    rf"^[+-]?\s*(?:US\$|[{_CURRENCY}])?\s*[+-]?(?:\d[\d.,'\s]*|[.,]\d+)(?:[eE][+-]?\d+)?"
    rf"\s*%?\s*[{_CURRENCY}]?$"
)
_EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xlsb", ".xls", ".xltx", ".xltm"}


def _as_list(tickers) -> list[str]:
    if isinstance(tickers, str):
        items = [t for t in re.split(r"[,\s]+", tickers) if t]
    elif isinstance(tickers, Iterable):
        items = [str(t).strip() for t in tickers]
    else:
        raise TypeError(f"tickers must be a string or a list of strings, got {tickers!r}")
    if not items or any(not t for t in items):
        raise ValueError(f"tickers must name at least one ticker, got {tickers!r}")
    return list(dict.fromkeys(items))  # drop repeats, keep order


def _ticker_share(col: pd.Series) -> float:
    """Share of the non-empty cells of a string column that look like tickers.

    A ticker holds a letter and does not read as a number written with currency symbols,
    thousands separators or a decimal comma (``$100``, ``1,000.5`` and ``100,5`` are numbers,
    ``AAPL``, ``BRK.B``, ``^GSPC``, ``7203.T`` are tickers). Numeric tickers (``7203``) are not
    recognized here: name such a column ``ticker`` or pass ``ticker_column``.
    """
    import pandas as pd

    filled = col.dropna().astype(str)
    if filled.empty:
        return 0.0
    text = filled[pd.to_numeric(filled, errors="coerce").isna().to_numpy()]
    if text.empty:  # plain numbers only
        return 0.0
    rest = text.value_counts()  # tickers repeat: look at each distinct value once
    values = rest.index.to_series()
    lettered = values.str.contains(r"[^\W\d_]", regex=True)
    numberish = values.str.fullmatch(_NUMBER_LIKE_RE)
    return float(rest[(lettered & ~numberish).to_numpy()].sum() / len(filled))


def _is_volume(name) -> bool:
    """True for columns of traded quantities (Volume, Vol, Shares ...), which are not prices."""
    return _norm(name) in _VOLUME_NAMES


def _strip_currency(col: pd.Series) -> pd.Series:
    """Strings without surrounding spaces and without a currency symbol before or after."""
    text = col.astype("string").str.replace("\u00a0", " ").str.strip()
    return text.str.replace(
        rf"^([+-]?)\s*(?:US\$|[{_CURRENCY}])\s*|\s*[{_CURRENCY}]$", r"\1", regex=True
    )


def _number_hint(values: pd.Series, decimal: str, thousands: str | None) -> str:
    """What to pass to read the failing ``values`` (strings) as numbers, or ``""``."""
    text = _strip_currency(values.dropna()).astype(str)
    us_thousands = text.str.fullmatch(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")
    eu_thousands = text.str.fullmatch(r"[+-]?\d{1,3}(?:\.\d{3})+(?:,\d+)?")
    comma_decimal = text.str.fullmatch(r"[+-]?\d*,\d+")
    hints = []
    if thousands and text.str.contains(thousands, regex=False).any():
        shown = text[text.str.contains(thousands, regex=False)].iloc[0]
        hints.append(
            f"{shown!r} does not group its digits in threes with thousands={thousands!r}: "
            "check thousands= and decimal="
        )
    elif us_thousands.any() and thousands != ",":
        hints.append(
            f"{text[us_thousands].iloc[0]!r} looks like ',' separating thousands: pass "
            "thousands=','"
        )
    if eu_thousands.any() and (thousands != "." or decimal != ","):
        hints.append(
            f"{text[eu_thousands].iloc[0]!r} looks like '.' separating thousands and ',' "
            "marking decimals: pass decimal=',' and thousands='.' (and sep=';' if the fields "
            "are separated by semicolons)"
        )
    elif (comma_decimal & ~us_thousands).any() and decimal != ",":
        hints.append(
            f"{text[comma_decimal & ~us_thousands].iloc[0]!r} looks like a decimal comma: pass "
            "decimal=',' (such files usually separate fields by semicolons: sep=';')"
        )
    elif decimal == "," and thousands != "." and text.str.contains(".", regex=False).any():
        shown = text[text.str.contains(".", regex=False)].iloc[0]
        hints.append(
            f"{shown!r} holds a '.' although decimal=',': pass thousands='.' if it separates "
            "thousands, or leave decimal at '.'"
        )
    elif (
        us_thousands.any()
        and decimal != ","
        and not text[us_thousands].str.contains(".", regex=False).any()
    ):
        hints.append("if ',' is the decimal mark instead, pass decimal=',' (and sep=';')")
    return (" " + "; ".join(hints) + ".") if hints else ""


def _parse_numbers(col: pd.Series, decimal: str, thousands: str | None) -> pd.Series:
    """Strings as written by people -> float64 (NaN where a value does not read as a number).

    A currency symbol before or after the number is dropped. ``thousands`` is removed only
    where it groups the digits in threes (``1,000.5``; ``100,5`` with ``thousands=','`` is not
    a number); with ``decimal=','`` a ``'.'`` is accepted only as ``thousands='.'``, so
    ``1.000`` is never read as 1.
    """
    import pandas as pd

    text = _strip_currency(col)
    if thousands:
        t, d = re.escape(thousands), re.escape(decimal)
        has = text.str.contains(thousands, regex=False).fillna(False).astype(bool)
        grouped = text.str.fullmatch(rf"[+-]?\d{{1,3}}(?:{t}\d{{3}})+(?:{d}\d*)?")
        text = text.where(~has | grouped.fillna(False).astype(bool))
        text = text.str.replace(thousands, "", regex=False)
    if decimal != ".":
        text = text.where(~text.str.contains(".", regex=False).fillna(False).astype(bool))
        text = text.str.replace(decimal, ".", regex=False)
    return pd.to_numeric(text, errors="coerce").astype("float64")


def _to_float(
    col: pd.Series,
    what: str,
    lines,
    where: str,
    *,
    decimal: str = ".",
    thousands: str | None = None,
) -> pd.Series:
    """Numbers from a string column; raise naming the lines that hold text.

    Plain numbers are read directly; the others (and every value when ``decimal`` or
    ``thousands`` is set) go through :func:`_parse_numbers`.
    """
    import pandas as pd

    numbers = pd.to_numeric(col, errors="coerce").astype("float64")
    todo = col.notna() if (decimal != "." or thousands) else numbers.isna() & col.notna()
    if todo.any():
        numbers[todo] = _parse_numbers(col[todo], decimal, thousands)
    bad = (numbers.isna() & col.notna()).to_numpy()
    if bad.any():
        raise DataIntegrityError(
            f"{where}: non-numeric prices in {what} ({_examples(col.to_numpy(object), bad, lines)})."
            + (
                _number_hint(col[bad], decimal, thousands)
                or " Remove or blank them (a blank cell means no price that day)."
            )
        )
    return numbers


def _check_not_excel(path: Path, where: str) -> None:
    """Refuse Excel workbooks (by extension or by their ZIP / OLE2 signature) with a hint."""
    with open(path, "rb") as fh:
        head = fh.read(8)
    ole2 = head == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls (and other Office files)
    zipped = head[:4] == b"PK\x03\x04"  # .xlsx is a ZIP archive
    if zipped and path.suffix.lower() not in _EXCEL_SUFFIXES:
        import zipfile

        try:
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
        except zipfile.BadZipFile:
            names = []
        if not any(n.startswith("xl/") for n in names):
            raise DataIntegrityError(
                f"{where} is a ZIP archive, not a CSV file: unzip it and pass the CSV inside "
                f"(it holds {names[:5]})."
            )
    if path.suffix.lower() in _EXCEL_SUFFIXES or ole2 or zipped:
        raise DataIntegrityError(
            f"{where}: this is an Excel file, not a CSV file. Read it with "
            f"pandas.read_excel({str(path)!r}, sheet_name=0, index_col=0) (needs openpyxl for "
            ".xlsx, xlrd for .xls) and pass the frame to common.prices.validate_prices, or save "
            "the sheet as CSV (Excel: File > Save As > CSV) and read that file."
        )


def _check_header(path: Path, where: str, sep: str) -> None:
    """Check the raw header line: a plausible separator and no repeated column names.

    pandas renames repeated names (``SPY``, ``SPY.1``) before any check could see them, so the
    header is read with the csv module first.
    """
    import csv

    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            line = fh.readline()
    except UnicodeDecodeError:
        return  # pandas reports the encoding problem with its own message
    if not line.strip() or len(sep) != 1:
        return  # empty file, or a regular-expression separator
    fields = [f.strip() for f in next(csv.reader([line], delimiter=sep))]
    if len(fields) == 1:
        for other, shown in ((";", "';'"), ("\t", "'\\t'"), (",", "','"), ("|", "'|'")):
            if other != sep and len(next(csv.reader([line], delimiter=other))) > 1:
                raise DataIntegrityError(
                    f"{where}: the header {line.strip()!r} is one single column with sep={sep!r},"
                    f" but {shown} splits it: pass sep={shown}"
                    + (
                        " (files with ';' often write decimals with a comma: add decimal=',')"
                        if other == ";"
                        else ""
                    )
                )
    seen: dict[str, int] = {}
    for i, name in enumerate(fields, start=1):
        if not name:
            continue
        if name in seen:
            raise DataIntegrityError(
                f"{where}: the header names the column {name!r} twice (columns {seen[name]} and "
                f"{i} of {fields[:12]}). Rename or remove one: a price column must be "
                "unambiguous."
            )
        seen[name] = i


def _fmt(ts) -> str:
    """A timestamp as its date when it is midnight, else in full."""
    return str(ts.date()) if ts == ts.normalize() else str(ts)


def _check_order(dates: pd.DatetimeIndex, lines, where: str, sort: bool) -> None:
    """Wide files: raise on duplicate dates, and on unsorted ones unless ``sort``."""
    import numpy as np

    dup = dates.duplicated(keep=False)
    if dup.any():
        idx = np.flatnonzero(dup)
        shown = ", ".join(f"{_fmt(dates[i])} ({lines[i]})" for i in idx[:6])
        raise DataIntegrityError(
            f"{where}: duplicate dates ({shown}{' ...' if len(idx) > 6 else ''}). Each date may "
            "appear once; remove the repeated rows."
        )
    if not sort and not dates.is_monotonic_increasing:
        i = int(np.flatnonzero(np.diff(dates.asi8) < 0)[0])
        raise DataIntegrityError(
            f"{where}: dates are not sorted: {_fmt(dates[i])} ({lines[i]}) comes before "
            f"{_fmt(dates[i + 1])} ({lines[i + 1]}). Sort the file by date, or pass sort=True "
            "to sort it on reading."
        )


def _check_long_order(dates: pd.DatetimeIndex, symbols, lines, where: str, sort: bool) -> None:
    """Long files: raise on a date repeated for one ticker, and on unsorted dates per ticker."""
    import numpy as np
    import pandas as pd

    pairs = pd.DataFrame({"ticker": np.asarray(symbols), "date": dates.asi8})
    dup = pairs.duplicated(keep=False).to_numpy()
    if dup.any():
        idx = np.flatnonzero(dup)
        shown = ", ".join(f"{symbols.iloc[i]} {_fmt(dates[i])} ({lines[i]})" for i in idx[:6])
        raise DataIntegrityError(
            f"{where}: duplicate dates for a ticker ({shown}{' ...' if len(idx) > 6 else ''}). "
            "Each date may appear once per ticker; remove the repeated rows."
        )
    if sort:
        return
    codes = pd.factorize(pairs["ticker"])[0]
    order = np.lexsort((np.arange(len(codes)), codes))  # by ticker, then file order
    same = codes[order][1:] == codes[order][:-1]
    back = np.flatnonzero(same & (np.diff(pairs["date"].to_numpy()[order]) < 0))
    if back.size:
        i, j = order[back[0]], order[back[0] + 1]
        raise DataIntegrityError(
            f"{where}: dates are not sorted for ticker {symbols.iloc[i]!r}: {_fmt(dates[i])} "
            f"({lines[i]}) comes before {_fmt(dates[j])} ({lines[j]}). Sort the file by date, "
            "or pass sort=True to sort it on reading."
        )


def read_price_csv(
    path: str | os.PathLike,
    *,
    date_column: str | None = None,
    ticker_column: str | None = None,
    price_column: str | None = None,
    tickers: Sequence[str] | str | None = None,
    start=None,
    end=None,
    sort: bool = False,
    date_format: str | None = None,
    dayfirst: bool | None = None,
    sep: str = ",",
    decimal: str = ".",
    thousands: str | None = None,
) -> pd.DataFrame:
    """Read a CSV file of prices, long or wide, into a wide frame of dates x tickers.

    Layouts:

    * **long**: one row per date and ticker, e.g. the book's CRSP extract ``tday, syms, mid``
      or ``date, ticker, close``. Other columns (volume ...) are ignored.
    * **wide**: a date column and one column per ticker (or per series: ``Open, High, ...``).
      Columns that pandas names ``Unnamed: N`` (blank header) and that hold no value are dropped.
      Volume-like columns (``Volume``, ``Vol``, ``Volumen``, ``Shares``, ``Open Interest``,
      case and punctuation ignored) are traded quantities, not prices: they are dropped, so a
      day without trades (volume 0) does not reject the file. Name one in ``tickers`` to keep
      it (it must then be > 0 like a price).

    Detection, when the columns are not given:

    * date column: the first column named like ``date``/``Date``/``Datum``/``tday``/
      ``timestamp``/``time`` (case and punctuation ignored), else the first column.
    * long vs wide: the file is long if a column is NAMED like ``ticker``/``symbol``/``syms``/
      ``stocks``/``permno``/``isin``, or if most of a column's cells look like tickers (they
      hold a letter and do not read as numbers: ``$100``, ``1,000.5`` and ``100,5`` are numbers,
      never tickers). Prices never make a file long. The price column of a long file is named
      like ``price``/``close``/``adj close``/``mid``/``cl``/``value``, else the only other
      column that is not volume-like.

    Numbers: a currency symbol before or after a price (``$100``, ``US$100``, ``100 €``) is
    dropped. Thousands separators are removed only when ``thousands`` says which character
    they are; ``decimal`` is the decimal mark. A price that still does not read as a number is
    an error whose message says which of ``thousands=','``, ``decimal=','`` and ``sep=';'`` to
    pass. Before pandas reads the file, the header line is read raw: an Excel workbook
    (``.xlsx``/``.xls`` by extension or by content), a header that another separator would
    split (``Date;Close`` read with ``sep=','``), and repeated column names (which pandas would
    silently rename ``SPY.1``) are refused.

    Dates go through :func:`parse_dates` (ISO, ``YYYYMMDD``, mixed UTC offsets kept at their
    local date; ``NN.NN.YYYY``-style dates are read day- or month-first as the values show,
    and refused when every one of them reads both ways). Blank cells and the usual NA markers
    (``NA``, ``NaN``, ``#N/A``, ``null``) are missing prices; rows with no price at all are
    dropped. The result passes :func:`validate_prices`.

    Args:
        path: the CSV file.
        date_column, ticker_column, price_column: column names, to override detection
            (``ticker_column``/``price_column`` make sense for long files only).
        tickers: keep only these tickers (columns), in this order.
        start, end: keep dates in ``[start, end]``, both inclusive (a date without a time
            includes that whole day). Anything ``pandas.Timestamp`` accepts.
        sort: sort by date instead of rejecting an unsorted file (duplicates are still errors).
        date_format: a ``strftime`` pattern for the dates (e.g. ``"%d.%m.%Y"``), passed to
            :func:`parse_dates`.
        dayfirst: True for day-first dates (``02.01.2024`` = 2 January), False for month-first;
            None (default) detects it from the values (see :func:`parse_dates`).
        sep: the field separator, e.g. ``";"`` for files written by European spreadsheets.
        decimal: the decimal mark of the prices, ``"."`` (default) or ``","`` (``100,5``).
        thousands: the thousands separator to remove from the prices (``","`` for
            ``1,000.5``, ``"."`` for ``1.000,5`` with ``decimal=","``); default: none.

    Returns:
        DataFrame, float64, ``DatetimeIndex`` named ``date`` (tz-naive, sorted, unique), one
        column per ticker (long files: in order of first appearance); prices in the file's
        units (currency symbols dropped).

    Raises:
        DataNotFoundError: the file does not exist or is empty.
        DataIntegrityError: an Excel file or ZIP archive; a header that another separator
            would split; a column name repeated in the header; no date column; unparseable,
            ambiguous (day or month first?) or empty dates; duplicate dates (per ticker in long
            files); unsorted dates (unless ``sort=True``); non-numeric, infinite or
            non-positive prices; or nothing left after selecting tickers and dates. Messages
            name the file and the offending lines (line 1 is the header) and values.
        UnknownDatasetError: a ticker of ``tickers`` is not in the file.
        ValueError: inconsistent arguments (``start`` after ``end``, a named column that the
            file does not have, ``price_column`` for a wide file, ``decimal`` equal to
            ``thousands`` or to ``sep``).
    """
    import numpy as np
    import pandas as pd

    path = Path(path).expanduser()
    where = str(path)
    if not path.is_file():
        raise DataNotFoundError(
            f"{where} does not exist{' (it is a directory)' if path.is_dir() else ''}. Give the "
            "path of a CSV file of prices (relative paths start from the current directory, "
            f"{Path.cwd()})."
        )
    if decimal not in (".", ","):
        raise ValueError(f"decimal must be '.' or ',', got {decimal!r}")
    if thousands is not None and thousands == decimal:
        raise ValueError(f"thousands and decimal are both {decimal!r}; they must differ")
    if decimal == sep:
        raise ValueError(
            f"decimal and sep are both {sep!r}: a file with decimal commas separates its fields "
            "by something else, usually sep=';'"
        )
    _check_not_excel(path, where)
    _check_header(path, where, sep)
    try:
        raw = pd.read_csv(path, sep=sep, dtype=str, skip_blank_lines=False, encoding="utf-8-sig")
    except pd.errors.EmptyDataError as err:
        raise DataNotFoundError(f"{where} is empty: no header and no rows") from err
    except (pd.errors.ParserError, UnicodeDecodeError) as err:
        raise DataIntegrityError(f"{where} is not a readable CSV file: {err}") from err
    raw.columns = [str(c).strip() for c in raw.columns]
    raw = raw.apply(lambda c: c.str.strip().replace("", np.nan))  # blank cells are missing
    lines = np.array([f"line {i + 2}" for i in range(len(raw))], dtype=object)
    keep = raw.notna().any(axis=1).to_numpy()  # blank lines keep their number but are skipped
    raw, lines = raw.loc[keep].reset_index(drop=True), lines[keep]
    if raw.empty:
        raise DataNotFoundError(f"{where} has a header ({list(raw.columns)}) but no rows")
    if not pd.Index(raw.columns).is_unique:
        raise DataIntegrityError(f"{where}: repeated column names {list(raw.columns)}")

    def _column(label: str, given: str | None) -> str | None:
        if given is None:
            return None
        if given not in raw.columns:
            raise ValueError(
                f"{where}: {label}={given!r} is not a column; columns are {list(raw.columns)}"
            )
        return given

    date_col = _column("date_column", date_column)
    guessed_first = False
    if date_col is None:
        named = [c for c in raw.columns if _norm(c) in _DATE_NAMES]
        date_col, guessed_first = (named[0], False) if named else (raw.columns[0], True)
    dates, missing, bad = _parse_dates_core(  # raises on ambiguous NN.NN.YYYY dates
        raw[date_col],
        date_format=date_format,
        dayfirst=dayfirst,
        where=f"{where}: column {date_col!r}: ",
    )
    if guessed_first and bad.sum() > 0.5 * (~missing).sum():
        raise DataIntegrityError(
            f"{where}: found no date column. No column is named like a date (date, Date, tday, "
            f"timestamp, ...) and the first column {date_col!r} does not hold dates (e.g. "
            f"{raw[date_col].dropna().iloc[0]!r}). Columns: {list(raw.columns)}. Pass "
            "date_column=... to name it."
        )
    if bad.any():
        raise DataIntegrityError(
            f"{where}: {int(bad.sum())} unparseable dates in column {date_col!r} "
            f"({_examples(raw[date_col].to_numpy(object), bad, lines)}). Fix them, or pass "
            "date_format= (a strftime pattern, 'mixed' for row-by-row formats) or dayfirst=True."
        )
    if missing.any():
        at = ", ".join(lines[np.flatnonzero(missing)[:5]])
        raise DataIntegrityError(
            f"{where}: {int(missing.sum())} rows have no date in column {date_col!r} ({at})"
        )

    numbers = {"decimal": decimal, "thousands": thousands}
    others = [c for c in raw.columns if c != date_col]
    tick_col = _column("ticker_column", ticker_column)
    if tick_col is None:
        named = [c for c in others if _norm(c) in _TICKER_NAMES]
        texty = [c for c in others if not _is_volume(c) and _ticker_share(raw[c]) > 0.5]
        found = named or texty
        if len(found) > 1:
            raise DataIntegrityError(
                f"{where}: several columns could hold tickers: {found}. Pass ticker_column=..."
                " (and price_column=...), or make the file wide: date + one column per ticker."
            )
        tick_col = found[0] if found else None

    if tick_col is not None:  # ------------------------------------------------ long file
        price_col = _column("price_column", price_column)
        rest = [c for c in others if c != tick_col]
        if price_col is None:
            named = [c for c in rest if _norm(c) in _PRICE_NAMES]
            unnamed = [c for c in rest if not _is_volume(c)]
            if len(named) == 1 or (not named and len(unnamed) == 1):
                price_col = (named or unnamed)[0]
            elif not rest:
                raise DataIntegrityError(
                    f"{where}: read as a long file with tickers in {tick_col!r}, but no column "
                    f"is left for the prices (columns {list(raw.columns)}). If {tick_col!r} "
                    "holds prices, the file is wide: check sep/decimal/thousands, or pass "
                    "ticker_column and price_column."
                )
            else:
                raise DataIntegrityError(
                    f"{where}: a long file (tickers in {tick_col!r}), but which column holds the "
                    f"price? Candidates: {named or unnamed or rest}. Pass price_column=..."
                )
        no_ticker = raw[tick_col].isna().to_numpy()
        if no_ticker.any():
            at = ", ".join(lines[np.flatnonzero(no_ticker)[:5]])
            raise DataIntegrityError(f"{where}: rows without a ticker in {tick_col!r} ({at})")
        prices = _to_float(raw[price_col], f"column {price_col!r}", lines, where, **numbers)
        symbols = raw[tick_col].astype(str)
        _check_long_order(dates, symbols, lines, where, sort)
        long = pd.DataFrame({"date": dates, "ticker": symbols.to_numpy(), "price": prices})
        wide = long.pivot(index="date", columns="ticker", values="price")
        wide = wide[list(pd.unique(symbols))]
        wide.columns = pd.Index([str(c) for c in wide.columns])
    else:  # ------------------------------------------------------------------ wide file
        if price_column is not None:
            raise ValueError(
                f"{where}: price_column applies to long files (date, ticker, price); this file "
                f"is wide (columns {others}). Pick columns with tickers=[...]."
            )
        series = [c for c in others if not (c.startswith("Unnamed:") and raw[c].isna().all())]
        asked = set(_as_list(tickers)) if tickers is not None else set()
        volumes = [c for c in series if _is_volume(c) and c not in asked]
        series = [c for c in series if c not in volumes]
        if not series:
            raise DataIntegrityError(
                f"{where}: no price columns besides the dates {date_col!r}"
                + (f" (volume columns {volumes} are not prices)" if volumes else "")
            )
        _check_order(dates, lines, where, sort)
        wide = pd.DataFrame(
            {
                c: _to_float(raw[c], f"column {c!r}", lines, where, **numbers).to_numpy()
                for c in series
            },
            index=dates,
        )
        if sort:
            wide = wide.sort_index()
    wide.index = pd.DatetimeIndex(wide.index).rename("date")
    wide.columns.name = None
    return _select(wide, where, tickers=tickers, start=start, end=end)


def _select(wide: pd.DataFrame, where: str, *, tickers, start, end) -> pd.DataFrame:
    """Select tickers and an inclusive date range, drop empty rows, validate."""
    import pandas as pd

    if tickers is not None:
        wanted = _as_list(tickers)
        unknown = [t for t in wanted if t not in wide.columns]
        if unknown:
            hints = "".join(_close_matches(t, wide.columns) for t in unknown[:3])
            raise UnknownDatasetError(
                f"{where}: no ticker {', '.join(map(repr, unknown))} in the file.{hints} "
                f"The file has {list(wide.columns)[:30]}" + (" ..." if wide.shape[1] > 30 else "")
            )
        wide = wide[wanted]
    lo = pd.Timestamp(start) if start is not None else None
    hi = pd.Timestamp(end) if end is not None else None
    if lo is not None and hi is not None and lo > hi:
        raise ValueError(f"empty date range: start {lo} is after end {hi}")
    if lo is not None or hi is not None:
        covered = f"{wide.index[0].date()}..{wide.index[-1].date()}"
        mask = pd.Series(True, index=wide.index)
        if lo is not None:
            mask &= wide.index >= lo
        if hi is not None and hi == hi.normalize():  # a plain date includes its whole day
            mask &= wide.index < hi + pd.Timedelta(days=1)
        elif hi is not None:
            mask &= wide.index <= hi
        wide = wide.loc[mask.to_numpy()]
    else:
        covered = None
    wide = wide.dropna(how="all")
    if wide.empty:
        span = f" between {start} and {end}" if covered else ""
        raise DataIntegrityError(
            f"{where}: no prices left{span} for {list(wide.columns)[:10]}"
            + (f"; the data covers {covered}" if covered else "")
        )
    return validate_prices(wide, name=where)


# =========================================================================== yfinance prices
_NETWORK_RE = re.compile(
    r"DNS|resolve|getaddrinfo|NameResolution|Connection|connect|Network is unreachable|"
    r"timed? ?out|Timeout|Max retries|SSL|Proxy|curl: \((5|6|7|28|35|52|56)\)|RateLimit|"
    r"Too Many Requests|\b429\b",
    re.IGNORECASE,
)
_OFFLINE_HINT = (
    "To go on without network: run this cell once with internet (the prices are then cached "
    "under {cache}), read your own file with common.prices.read_price_csv, or use the notebook's "
    "offline default (its parameters cell names the packaged data)."
)


class _Capture(logging.Handler):
    """Collects the messages yfinance logs (it reports failed tickers by logging, not raising)."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.messages.append(record.getMessage())
        except Exception:  # a malformed record must not break the download
            self.messages.append(str(record.msg))


def _prices_cache_file(tickers: list[str], start: str, end: str, field: str) -> Path:
    slug = re.sub(r"[^A-Za-z0-9._=^-]", "_", "_".join(tickers))
    if len(slug) > 60:
        slug = slug[:60] + "_etc"
    digest = hashlib.sha1("|".join([*tickers, start, end, field]).encode()).hexdigest()[:10]
    return cache_dir() / "prices" / f"{slug}__{start}__{end}__{field.lower()}__{digest}.csv"


def load_prices(
    tickers: Sequence[str] | str,
    start,
    end=None,
    *,
    field: str = "Close",
    cache: bool = True,
    refresh: bool = False,
) -> pd.DataFrame:
    """Daily prices from Yahoo Finance (``yfinance.download``), cached on disk.

    Prices are split- and dividend-adjusted: the download uses ``auto_adjust=True`` (yfinance's
    default since 0.2.51), which rewrites Open/High/Low/Close so that the ``Close`` column is
    what older versions called ``Adj Close``. Adjusted prices of past days change whenever a new
    dividend is paid, so a fresh download may differ slightly from a cached one.

    The cache is one CSV per request under ``cache_dir() / "prices"``, keyed by the tickers,
    dates and field; it is read back through :func:`read_price_csv`. With ``end=None`` the key
    holds today's date, so such a request is downloaded again on a later day. Both a download
    and a cached file are cut to ``[start, end]``: rows outside the request (Yahoo may send a
    day before ``start``) are never returned.

    Args:
        tickers: a ticker (``"SPY"``), a list, or a comma/space separated string. Yahoo tickers
            are case-insensitive; they are upper-cased and repeats dropped.
        start: first date (inclusive), anything ``pandas.Timestamp`` accepts.
        end: last date, INCLUSIVE (unlike ``yfinance.download``, whose ``end`` is exclusive);
            default today.
        field: ``"Close"`` (default), ``"Open"``, ``"High"`` or ``"Low"``, all adjusted.
        cache: read and write the on-disk cache.
        refresh: download even if cached (and overwrite the cached file).

    Returns:
        DataFrame float64, ``DatetimeIndex`` ``date`` (tz-naive, the exchange's local dates),
        one column per ticker in the order given; NaN where a ticker has no price (not listed
        yet, a holiday on its exchange). Never empty.

    Raises:
        ValueError: no tickers, an unknown ``field``, or ``start`` after ``end`` (an empty
            date range).
        NetworkUnavailableError: the download was needed and failed for lack of network (or
            Yahoo's rate limit); the message says how to go on offline.
        UnknownDatasetError: Yahoo has no prices for some tickers (misspelt, delisted, or not
            trading in the range); the message names them.
        DataIntegrityError: the data came back malformed (see :func:`validate_prices`), or a
            cached file is damaged (delete it or pass ``refresh=True``).
        CacheDirectoryError: ``cache=True`` and the cache folder (``GATAM_DATA_DIR``) cannot be
            created or written to; the message names the variable and the path.
    """
    import pandas as pd

    names = [t.upper() for t in _as_list(tickers)]
    names = list(dict.fromkeys(names))
    if field == "Adj Close":
        raise ValueError(
            "field='Adj Close' does not exist with auto_adjust=True: 'Close' is already split- "
            "and dividend-adjusted"
        )
    if field not in ("Open", "High", "Low", "Close"):
        raise ValueError(f"field must be 'Open', 'High', 'Low' or 'Close', got {field!r}")
    first = pd.Timestamp(start).normalize()
    last = pd.Timestamp(end).normalize() if end is not None else pd.Timestamp.today().normalize()
    if first > last:
        raise ValueError(
            f"empty date range: start {first.date()} is after end {last.date()} (end is inclusive)"
        )
    s_key, e_key = str(first.date()), str(last.date())
    label = f"yfinance {field} prices for {', '.join(names)} {s_key}..{e_key}"
    target = _prices_cache_file(names, s_key, e_key, field) if cache else None
    if target is not None and not refresh and target.is_file():
        try:  # sliced to the request: a cached file may hold more rows than were asked for
            return read_price_csv(target, tickers=names, start=first, end=last)
        except DataError as err:
            raise DataIntegrityError(
                f"The cached prices {target} are damaged ({err}). Delete the file or call "
                "load_prices(..., refresh=True) to download them again."
            ) from err

    frame = _download(names, first, last, field, label)
    if target is not None:
        tmp = target.with_suffix(".tmp")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            frame.to_csv(tmp, index_label="date")
            os.replace(tmp, target)  # atomic: a crash never leaves half a file under its name
        except OSError as err:
            if tmp.parent.is_dir():
                tmp.unlink(missing_ok=True)
            raise _cache_error(
                cache_dir(), err, f"write the downloaded prices to {target} (or pass cache=False)"
            ) from err
    return frame


def _download(names: list[str], first, last, field: str, label: str) -> pd.DataFrame:
    """Call ``yfinance.download`` and turn its answer into a validated wide frame."""
    import pandas as pd
    import yfinance as yf

    try:
        cache_hint = _OFFLINE_HINT.format(cache=cache_dir() / "prices")
    except DataError:  # a bad GATAM_DATA_DIR must not hide the download's own error
        cache_hint = _OFFLINE_HINT.format(cache="$GATAM_DATA_DIR/prices")
    logger = logging.getLogger("yfinance")
    capture = _Capture()
    old_level = logger.level
    logger.addHandler(capture)
    if logger.getEffectiveLevel() > logging.WARNING:
        logger.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            # yfinance's own pandas deprecation warnings are not the reader's concern
            warnings.filterwarnings("ignore", module=r"yfinance(\.|$)")
            data = yf.download(
                names,
                start=str(first.date()),
                end=str((last + pd.Timedelta(days=1)).date()),  # yfinance's end is exclusive
                auto_adjust=True,
                progress=False,
                multi_level_index=True,
            )
    except Exception as err:
        text = f"{type(err).__name__}: {err}"
        if isinstance(err, (ConnectionError, TimeoutError, OSError)) or _NETWORK_RE.search(text):
            raise NetworkUnavailableError(
                f"Could not download {label}: no network ({text}). {cache_hint}"
            ) from err
        raise DataError(f"yfinance failed to download {label}: {text}") from err
    finally:
        logger.removeHandler(capture)
        logger.setLevel(old_level)
    messages = list(capture.messages)
    shared = getattr(getattr(yf, "shared", None), "_ERRORS", None)  # older yfinance versions
    if isinstance(shared, dict):
        messages += [f"{k}: {v}" for k, v in shared.items() if k in names]

    prices = _field_columns(data, field, names)
    if len(prices.index):  # keep [first, last]: Yahoo may answer with a day outside the request
        stamps = pd.DatetimeIndex(prices.index)
        stamps = stamps.tz_localize(None) if stamps.tz is not None else stamps
        inside = (stamps >= first) & (stamps < last + pd.Timedelta(days=1))
        prices = prices.loc[inside]
    failed = [t for t in names if t not in prices.columns or prices[t].isna().all()]
    if failed:
        reason = " | ".join(dict.fromkeys(m.strip() for m in messages if m.strip()))
        reason = reason if len(reason) <= 500 else reason[:500] + " ..."
        if _NETWORK_RE.search(reason):
            raise NetworkUnavailableError(
                f"Could not download {label}: no network or Yahoo refused the request "
                f"({reason}). {cache_hint}"
            )
        raise UnknownDatasetError(
            f"Yahoo Finance returned no prices for {', '.join(map(repr, failed))} between "
            f"{first.date()} and {last.date()}: the ticker is misspelt or delisted, or it did "
            "not trade in that range (check it on finance.yahoo.com)."
            + (f" yfinance said: {reason}" if reason else "")
        )
    prices = prices[names].dropna(how="all")
    index = pd.DatetimeIndex(prices.index)
    if index.tz is not None:
        index = index.tz_localize(None)
    prices.index = index.rename("date")
    prices.columns = pd.Index(names)
    return validate_prices(prices, name=label)


def _field_columns(data, field: str, names: list[str]) -> pd.DataFrame:
    """The ``field`` columns of yfinance's answer as a frame with one column per ticker."""
    import pandas as pd

    if data is None:
        return pd.DataFrame(columns=names, dtype="float64")
    if not isinstance(data, pd.DataFrame):
        raise DataIntegrityError(f"yfinance returned a {type(data).__name__}, not a DataFrame")
    cols = data.columns
    if isinstance(cols, pd.MultiIndex):
        for level in range(cols.nlevels):
            if field in cols.get_level_values(level):
                out = data.xs(field, axis=1, level=level)
                if isinstance(out, pd.Series):
                    out = out.to_frame(names[0])
                out.columns = [str(c).upper() for c in out.columns]
                return out
        return pd.DataFrame(index=data.index, columns=names, dtype="float64")
    if field in cols and len(names) == 1:  # single ticker, flat columns (older yfinance)
        return data[[field]].set_axis(names, axis=1)
    return pd.DataFrame(index=data.index, columns=names, dtype="float64")


# =========================================================================== notebook sources
SOURCES = ("book", "packaged", "yfinance", "csv")


def load_price_source(
    source: str,
    tickers: Sequence[str] | str | None,
    *,
    start: str | None = "",
    end: str | None = "",
    csv_path: str | os.PathLike = "",
    offline: Callable[[], pd.DataFrame] | None = None,
    **csv_options,
) -> pd.DataFrame:
    """The data-source block of the notebooks: one wide price frame from the source a reader picked.

    A notebook's parameters cell names ``SOURCE``, ``TICKERS`` (or its own ticker names),
    ``START``, ``END`` and ``CSV_PATH``; this function turns them into prices and raises errors
    that name those parameters.

    Args:
        source: ``"book"`` (the book's own files) or ``"packaged"`` (a dataset shipped with a
            library): ``offline()`` is called, so the notebook decides which file; ``"yfinance"``:
            :func:`load_prices` (live, cached); ``"csv"``: :func:`read_price_csv` on
            ``csv_path``. Case and surrounding spaces are ignored.
        tickers: the columns to return, in this order; ``None`` or an empty list means every
            column of the data (``"csv"``, ``"book"``, ``"packaged"``; yfinance needs names).
        start, end: inclusive date bounds (anything ``pandas.Timestamp`` accepts). Empty or
            ``None`` means the data's own first / last date, so a reader's file of any period
            works without touching them. yfinance needs ``start``.
        csv_path: the reader's file, for ``source="csv"``.
        offline: a zero-argument callable returning a wide price frame (dates x tickers), for
            ``"book"`` and ``"packaged"``.
        **csv_options: passed to :func:`read_price_csv` for ``"csv"`` (``sep``, ``decimal``,
            ``thousands``, ``dayfirst``, ``date_format``, ``date_column``, ``sort`` ...).

    Returns:
        DataFrame of prices, float64, ``DatetimeIndex`` named ``date``, one column per ticker;
        rows where every ticker is missing are dropped. Passes :func:`validate_prices`.

    Raises:
        ValueError: an unknown ``source``, an empty ``CSV_PATH`` for ``"csv"``, no ``START`` for
            yfinance, ``START`` after ``END``, or no ``offline`` loader for an offline source.
        DataNotFoundError: ``CSV_PATH`` does not exist or is a folder.
        UnknownDatasetError: a ticker is not in the data (close matches are suggested).
        DataIntegrityError: a ticker has no price between ``START`` and ``END``; the message
            gives the dates the data covers for it. For ``"csv"`` also every file problem
            :func:`read_price_csv` reports (separator, decimal mark, ambiguous dates ...).
        NetworkUnavailableError: yfinance is unreachable and nothing is cached.
    """
    import pandas as pd

    kind = str(source).strip().lower()
    if kind not in SOURCES:
        raise ValueError(f"SOURCE must be one of {', '.join(map(repr, SOURCES))}; got {source!r}")
    names = [] if tickers is None or len(tickers) == 0 else _as_list(tickers)
    lo = pd.Timestamp(start) if start not in (None, "") else None
    hi = pd.Timestamp(end) if end not in (None, "") else None
    if lo is not None and hi is not None and lo > hi:
        raise ValueError(f"START ({start}) is after END ({end})")
    if kind == "csv":
        text = str(csv_path).strip()
        if not text:
            raise ValueError(
                "SOURCE is 'csv' but CSV_PATH is empty: set CSV_PATH to your price file "
                "(long: date, ticker, price; or wide: date plus one column per ticker)"
            )
        path = Path(text).expanduser()
        if path.is_dir():
            raise DataNotFoundError(f"CSV_PATH {text!r} is a folder, not a price file")
        if not path.is_file():
            raise DataNotFoundError(
                f"CSV_PATH {text!r} does not exist (absolute: {path.resolve()})"
            )
        wide = read_price_csv(path, tickers=names or None, **csv_options)
        where = f"CSV_PATH {text!r}"
    elif kind == "yfinance":
        if lo is None:
            raise ValueError("SOURCE is 'yfinance': set START (and END) to the dates to download")
        if not names:
            raise ValueError("SOURCE is 'yfinance': name the tickers to download (TICKERS is empty)")
        wide = load_prices(names, start=lo, end=hi)
        where = "yfinance"
    else:
        if offline is None:
            raise ValueError(f"SOURCE {kind!r} needs an offline loader (the notebook's own data)")
        wide = validate_prices(offline(), name=f"SOURCE {kind!r}")
        names = names or [str(c) for c in wide.columns]
        missing = [t for t in names if t not in wide.columns]
        if missing:
            hints = "".join(_close_matches(t, wide.columns) for t in missing[:3])
            raise UnknownDatasetError(
                f"SOURCE {kind!r} has no ticker {', '.join(map(repr, missing))}.{hints} "
                f"It has {list(wide.columns)[:30]}"
            )
        wide = wide[names]
        where = f"SOURCE {kind!r}"
    names = names or list(wide.columns)
    mask = pd.Series(True, index=wide.index)
    if lo is not None:
        mask &= wide.index >= lo
    if hi is not None:
        mask &= wide.index < hi + pd.Timedelta(days=1) if hi == hi.normalize() else wide.index <= hi
    window = wide.loc[mask.to_numpy()]
    empty = [t for t in names if window[t].count() == 0]
    if empty:
        spans = "; ".join(
            f"{t}: {wide[t].first_valid_index():%Y-%m-%d}..{wide[t].last_valid_index():%Y-%m-%d}"
            if wide[t].count()
            else f"{t}: no prices at all"
            for t in empty
        )
        raise DataIntegrityError(
            f"{where}: no prices between START {start or '(first date)'} and END "
            f"{end or '(last date)'} for {empty}. The data covers {spans}; change START/END "
            "(leave them empty to use the whole file)."
        )
    return window.dropna(how="all")
