"""A reader's own price files: :func:`read_price_csv` and :func:`validate_prices`.

:func:`read_price_csv` reads long (date, ticker, price) or wide (date + one column per ticker)
CSV files, including European ones (``sep=";"``, ``decimal=","``, day-first dates) and prices
written ``$100`` or ``1,000.5`` (``thousands=","``); dates go through
:func:`common.dates.parse_dates`. :func:`validate_prices` is the check every price frame passes
before a notebook sees it (also the yfinance downloads of :mod:`common.prices`).

Every function either returns clean prices or raises a :class:`common.data.DataError` subclass
whose message says what went wrong and what to do. Conventions of the returned frames: a
sorted, unique, tz-naive ``DatetimeIndex`` named ``date``; prices are ``float64``; ``NaN``
means "no price that day" (a stock not yet listed, an exchange holiday), never a parsing
failure.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from common.data import (
    DataIntegrityError,
    DataNotFoundError,
    UnknownDatasetError,
    _close_matches,
)
from common.dates import _examples, _parse_dates_core

if TYPE_CHECKING:  # pandas is imported inside functions: importing this module stays light
    import pandas as pd

__all__ = ["read_price_csv", "validate_prices"]


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
            "(parse it with common.dates.parse_dates)"
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
            ".xlsx, xlrd for .xls) and pass the frame to common.price_csv.validate_prices, or save "
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
