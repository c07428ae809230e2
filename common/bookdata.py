"""Parsers for the data files of the book's own companion repository (registry keys ``book/...``).

The book (Medina Ruiz & Chan, *Generative AI for Trading and Asset Management*, Wiley 2025)
ships a handful of CSV and Excel files with chapters 1 and 2. They were produced by yfinance,
Excel and a Bloomberg terminal, and each has its own quirks (mixed UTC offsets, stray scratch
columns, metadata rows, ``'#N/A N/A'`` strings, prices in a long layout, values in percent). Each
loader below fetches its file with :func:`common.data.fetch` (hash-pinned, cached) and returns a
clean pandas object:

- the index is a sorted, unique, tz-naive :class:`pandas.DatetimeIndex` named ``date`` holding the
  local trading date (midnight);
- values are ``float64``; gaps the file marks as missing are ``NaN`` (never dropped silently);
- a file that does not look the way the parser expects raises
  :class:`common.data.DataIntegrityError` naming the file and the problem.

Loaders (book section that uses the file in brackets):

========================================  ==========================================================
:func:`load_close`                        SPY / BIL adjusted closes (Book §1.1, Appendix A.1)
:func:`load_book_returns`                 the book's saved SPY / BIL daily returns (Book §1.1)
:func:`load_bil_ma20`                     BIL annualized return, 20-day moving average (Book §1.2)
:func:`load_indices`                      Bloomberg export ``Indices.xlsx``, 4 index levels (§1.3)
:func:`load_indices_daily_returns`        the book's output ``Indices_daily_returns.csv`` (§1.3)
:func:`load_etf_closes`                   8 country ETFs, long file pivoted to wide (Book §1.4)
:func:`load_ken_french_daily`             Fama-French 3 daily factors to 2015-11 (Book §2.1)
========================================  ==========================================================
"""

from __future__ import annotations

import io
from collections.abc import Iterable

import numpy as np
import pandas as pd

from common.data import DataIntegrityError, UnknownDatasetError, fetch
from common.dates import parse_dates

__all__ = [
    "CLOSE_FILES",
    "RETURN_FILES",
    "INDEX_NAMES",
    "ETF_TICKERS",
    "FRENCH_COLUMNS",
    "load_close",
    "load_book_returns",
    "load_bil_ma20",
    "load_indices",
    "load_indices_daily_returns",
    "load_etf_closes",
    "load_ken_french_daily",
]

_CH1 = "book/chapter01/"
_CH2 = "book/chapter02/"

#: name accepted by :func:`load_close` -> (registry key, ticker used as the Series name)
CLOSE_FILES: dict[str, tuple[str, str]] = {
    "SPY_last_100_days": (_CH1 + "SPY_last_100_days.csv", "SPY"),
    "BIL_last_100_days": (_CH1 + "BIL_last_100_days.csv", "BIL"),
    "BIL": (_CH1 + "BIL.csv", "BIL"),
}

#: name accepted by :func:`load_book_returns` -> (registry key, ticker used as the Series name)
RETURN_FILES: dict[str, tuple[str, str]] = {
    "SPY_returns_last_100_days": (_CH1 + "SPY_returns_last_100_days.csv", "SPY"),
    "BIL_returns_last_100_days": (_CH1 + "BIL_returns_last_100_days.csv", "BIL"),
}

#: column names of :func:`load_indices` (the file's "D Index " has a trailing space; stripped)
INDEX_NAMES: tuple[str, ...] = ("A Index", "B Index", "C Index", "D Index")

#: the eight ETFs of ``inputDataOHLCDaily_ETF_20150417.csv`` (Book §1.4)
ETF_TICKERS: tuple[str, ...] = ("EWC", "EWG", "EWJ", "EWQ", "EWU", "EWY", "EWZ", "FXI")

#: columns of :func:`load_ken_french_daily`
FRENCH_COLUMNS: tuple[str, ...] = ("Mkt-RF", "SMB", "HML", "RF")

_NA_BLOOMBERG = "#N/A N/A"


# --------------------------------------------------------------------------- helpers
def _parse_dates(values: Iterable, *, source: str) -> pd.DatetimeIndex:
    """Trading dates of a date column: :func:`common.dates.parse_dates`, normalized to midnight.

    yfinance exports write ``2023-08-25 00:00:00-04:00`` in summer and ``...-05:00`` in winter;
    ``parse_dates`` keeps each stamp's local date (converting to UTC could move it).
    """
    try:
        return parse_dates(values).normalize().rename("date")
    except DataIntegrityError as err:
        raise DataIntegrityError(f"{source}: {err}") from err


def _check_index(obj: pd.Series | pd.DataFrame, source: str) -> pd.Series | pd.DataFrame:
    """Validate a date index (unique, non-empty) and return ``obj`` sorted by it."""
    if len(obj) == 0:
        raise DataIntegrityError(f"{source}: no data rows were found")
    dup = obj.index[obj.index.duplicated()]
    if len(dup):
        raise DataIntegrityError(
            f"{source}: {len(dup)} duplicate dates, first {dup[0].date()}; the file is damaged"
        )
    obj.index.name = "date"
    return obj.sort_index()


def _to_float(col: pd.Series, source: str) -> pd.Series:
    """Convert a column to float64; empty cells become NaN, any other text is an error."""
    out = pd.to_numeric(col, errors="coerce")
    bad = col.notna() & out.isna() & (col.astype(str).str.strip() != "")
    if bad.any():
        where = col.index[bad.to_numpy()][0]
        raise DataIntegrityError(
            f"{source}: non-numeric value {col[bad].iloc[0]!r} in column {col.name!r} at {where}"
        )
    return out.astype("float64")


def _lookup(name: str, table: dict[str, tuple[str, str]], func: str) -> tuple[str, str]:
    key = name[:-4] if isinstance(name, str) and name.lower().endswith(".csv") else name
    if key not in table:
        raise UnknownDatasetError(
            f"{func}: unknown file {name!r}; choose one of {', '.join(map(repr, table))}"
        )
    return table[key]


def _read_date_value_csv(key: str, column: str) -> pd.Series:
    """Read a yfinance-style ``Date,<column>`` CSV (extra columns ignored) as a float Series."""
    path = fetch(key)
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in ("Date", column) if c not in raw.columns]
    if missing:
        raise DataIntegrityError(
            f"{key}: expected columns 'Date' and {column!r}, found {list(raw.columns)}"
        )
    values = _to_float(raw[column].replace("", np.nan), key)
    values.index = _parse_dates(raw["Date"], source=key)
    return _check_index(values, key)


# --------------------------------------------------------------------------- chapter 1
def load_close(name: str) -> pd.Series:
    """Adjusted daily close of SPY or BIL as saved by the book (Book §1.1, Appendix A.1).

    Args:
        name: one of

            - ``"SPY_last_100_days"``: SPY, 2023-08-25..2023-12-11, 75 rows;
            - ``"BIL_last_100_days"``: BIL (1-3 month T-bill ETF), same 75 dates;
            - ``"BIL"``: BIL's full history 2007-05-30..2023-12-15, 4,168 rows.

            A trailing ``.csv`` is accepted.

    Returns:
        ``float64`` Series of prices in US dollars (yfinance's dividend- and split-adjusted
        ``Close``), named by the ticker (``"SPY"`` or ``"BIL"``), indexed by the trading date
        (tz-naive ``DatetimeIndex`` named ``date``, sorted, unique).

    Quirks handled:
        - the ``Date`` column mixes UTC offsets (``-04:00`` in summer, ``-05:00`` in winter), so a
          plain ``pd.to_datetime`` raises; the local date of each stamp is kept;
        - ``BIL.csv`` was re-saved from Excel: its header is ``Date,Close,,,`` and its last row
          carries two numbers in the unnamed columns (an Excel scratch area, not data). Only
          ``Close`` is kept. Some closes were rounded to 10 significant digits by that save.

    Raises:
        UnknownDatasetError: ``name`` is not one of the files above.
        DataIntegrityError: the file lacks ``Date``/``Close``, has unparseable dates, duplicate
            dates or non-numeric / non-positive prices.
        NetworkUnavailableError: the file is neither cached nor downloadable.
    """
    key, ticker = _lookup(name, CLOSE_FILES, "load_close")
    close = _read_date_value_csv(key, "Close")
    if close.isna().any() or (close <= 0).any():
        raise DataIntegrityError(f"{key}: prices must be present and positive")
    return close.rename(ticker)


def load_book_returns(name: str) -> pd.Series:
    """The book's own saved daily simple returns of SPY or BIL (Book §1.1), for comparison.

    Args:
        name: ``"SPY_returns_last_100_days"`` or ``"BIL_returns_last_100_days"`` (a trailing
            ``.csv`` is accepted).

    Returns:
        ``float64`` Series of daily simple returns as fractions (0.01 = 1 %), named by the ticker,
        75 rows 2023-08-25..2023-12-11; the first value is NaN (no previous close), exactly as in
        the file. The file calls the column ``Close``; it holds ``Close.pct_change()``.

    Raises:
        UnknownDatasetError: unknown ``name``.
        DataIntegrityError: malformed file (see :func:`load_close`).
    """
    key, ticker = _lookup(name, RETURN_FILES, "load_book_returns")
    return _read_date_value_csv(key, "Close").rename(ticker)


def load_bil_ma20() -> pd.Series:
    """BIL's annualized daily return, 20-day moving average, as the book saved it (Book §1.1-1.2).

    The book computes ``BIL.pct_change() * 252`` (simple annualization, no compounding) and
    its 20-day rolling mean; Book §1.2 divides it by 252 again to get the daily risk-free rate.

    Returns:
        ``float64`` Series named ``"20-Day MA"``: an annualized rate as a fraction (0.0535 =
        5.35 % a year), 4,168 rows 2007-05-30..2023-12-15 on BIL's trading dates. The first 20
        values are NaN (one lost to the return, 19 to the window), as in the file.

    Raises:
        DataIntegrityError: malformed file.
    """
    key = _CH1 + "BIL_annualized_returns_20_day_MA.csv"
    return _read_date_value_csv(key, "20-Day MA").rename("20-Day MA")


def load_indices() -> pd.DataFrame:
    """Daily levels of four anonymized indices from the Bloomberg export ``Indices.xlsx`` (§1.3).

    Layout of the sheet (checked on every load, an unexpected layout raises): C1:C2 hold the
    request's start and end dates, D3:G4 a small parameter block, row 6 the tickers
    ``A Index``..``D Index `` (note the trailing space) in columns G..J, rows 7-8 the field
    (``Last Price`` / ``PX_LAST``) and the word ``Dates`` in F8; the data start in row 9 with the
    date in column F. Cells without a price hold the string ``'#N/A N/A'``.

    Returns:
        DataFrame of index levels (index points, ``float64``), columns
        ``["A Index", "B Index", "C Index", "D Index"]`` (names stripped), 6,221 weekdays
        2000-01-03..2023-11-06 indexed by ``date``. ``'#N/A N/A'`` becomes NaN; rows where all
        four are NaN (early history) are kept, as the book keeps them.

    Raises:
        DataIntegrityError: the sheet's layout or a value is not as described.
    """
    import openpyxl

    key = _CH1 + "Indices.xlsx"
    path = fetch(key)
    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        ws = wb.worksheets[0]
        header = next(ws.iter_rows(min_row=6, max_row=6, min_col=7, max_col=10, values_only=True))
        label = next(ws.iter_rows(min_row=8, max_row=8, min_col=6, max_col=6, values_only=True))
        rows = list(ws.iter_rows(min_row=9, min_col=6, max_col=10, values_only=True))
    finally:
        wb.close()
    names = tuple(str(h).strip() if h is not None else "" for h in header)
    if names != INDEX_NAMES or label[0] != "Dates":
        raise DataIntegrityError(
            f"{key}: unexpected layout: G6:J6 = {header}, F8 = {label[0]!r}; expected "
            f"{INDEX_NAMES} and 'Dates'"
        )
    while rows and all(v is None for v in rows[-1]):  # trailing empty rows, if any
        rows.pop()
    dates, values = [], []
    for i, (d, *vals) in enumerate(rows, start=9):
        if not hasattr(d, "year"):
            raise DataIntegrityError(f"{key}: cell F{i} should hold a date, found {d!r}")
        row = []
        for col, v in zip("GHIJ", vals, strict=True):
            if v is None or v == _NA_BLOOMBERG:
                row.append(np.nan)
            elif isinstance(v, (int, float)) and not isinstance(v, bool):
                row.append(float(v))
            else:
                raise DataIntegrityError(f"{key}: cell {col}{i} holds {v!r}, not a number")
        dates.append(d)
        values.append(row)
    index = pd.DatetimeIndex(dates).normalize().rename("date")
    frame = pd.DataFrame(values, index=index, columns=list(INDEX_NAMES), dtype="float64")
    return _check_index(frame, key)


def load_indices_daily_returns() -> pd.DataFrame:
    """The book's output ``Indices_daily_returns.csv``: daily returns of the four indices (§1.3).

    The file was written by pandas from the Excel sheet without cleaning: the header line is
    ``Unnamed: 5,A Index,...,D Index `` and the next two lines are leftovers of the sheet
    (an empty row and the word ``Dates``). They are checked and skipped.

    Returns:
        DataFrame of daily simple returns (fractions), columns ``["A Index", ..., "D Index"]``
        (names stripped), 6,221 rows 2000-01-03..2023-11-06 indexed by ``date``; NaN where the
        book's ``pct_change`` had no price (kept as in the file).

    Raises:
        DataIntegrityError: the file does not have the layout described.
    """
    key = _CH1 + "Indices_daily_returns.csv"
    raw = pd.read_csv(fetch(key), dtype=str, keep_default_na=False)
    names = tuple(c.strip() for c in raw.columns[1:])
    first = raw.iloc[:2, 0].tolist()
    if names != INDEX_NAMES or first != ["", "Dates"]:
        raise DataIntegrityError(
            f"{key}: unexpected layout: columns {list(raw.columns)}, first cells {first}"
        )
    body = raw.iloc[2:].reset_index(drop=True)
    frame = pd.DataFrame(
        {
            name: _to_float(body[col].replace("", np.nan), key)
            for name, col in zip(INDEX_NAMES, raw.columns[1:], strict=True)
        }
    )
    frame.index = _parse_dates(body.iloc[:, 0], source=key)
    return _check_index(frame, key)


def load_etf_closes(drop: Iterable[str] | None = ("EWZ", "FXI")) -> pd.DataFrame:
    """Daily closes of country ETFs, pivoted from the book's long file (Book §1.4, Appendix A.5).

    ``inputDataOHLCDaily_ETF_20150417.csv`` (from Chan's *Machine Trading*) is long: columns
    ``tday`` (YYYYMMDD integer), ``stocks`` (ticker) and ``cl`` (close), 2,500 trading days
    2005-05-12..2015-04-17 for EWC EWG EWJ EWQ EWU EWY EWZ FXI. EWZ has only its last 247 days;
    the book drops EWZ and FXI and keeps the six others.

    Args:
        drop: tickers to leave out (default ``("EWZ", "FXI")`` as in the book); ``None`` or
            ``()`` keeps all eight.

    Returns:
        Wide ``float64`` DataFrame, dates (``date``) x tickers (sorted columns), values as stored
        in ``cl``: the scale looks like US cents (EWJ about 900 in 2005), which does not matter
        for returns. Days without a price (the file writes ``NaN``; only EWZ, whose first 2,253
        days are empty) stay NaN.

    Raises:
        ValueError: ``drop`` names a ticker that is not in the file, or drops them all.
        DataIntegrityError: missing columns, duplicate (date, ticker) rows, bad dates or
            non-positive prices.
    """
    key = _CH1 + "inputDataOHLCDaily_ETF_20150417.csv"
    drop = () if drop is None else ((drop,) if isinstance(drop, str) else tuple(drop))
    unknown = sorted(set(drop) - set(ETF_TICKERS))
    if unknown:
        raise ValueError(
            f"load_etf_closes: cannot drop {unknown}: the file holds {', '.join(ETF_TICKERS)}"
        )
    if set(drop) >= set(ETF_TICKERS):
        raise ValueError("load_etf_closes: every ticker was dropped; nothing would be left")
    raw = pd.read_csv(fetch(key), dtype={"tday": str, "stocks": str})
    if list(raw.columns) != ["tday", "stocks", "cl"]:
        raise DataIntegrityError(
            f"{key}: expected columns tday, stocks, cl; got {list(raw.columns)}"
        )
    dup = raw.duplicated(["tday", "stocks"])
    if dup.any():
        raise DataIntegrityError(f"{key}: {int(dup.sum())} duplicate (tday, stocks) rows")
    try:
        raw["date"] = pd.to_datetime(raw["tday"], format="%Y%m%d")
    except ValueError as err:
        raise DataIntegrityError(f"{key}: bad tday value ({err})") from err
    cl = _to_float(raw["cl"], key)  # the file writes "NaN" where EWZ has no price
    if (cl <= 0).any():
        raise DataIntegrityError(f"{key}: closes must be positive")
    raw["cl"] = cl
    wide = raw.pivot(index="date", columns="stocks", values="cl")
    wide = wide.drop(columns=list(drop)).sort_index(axis=1)
    wide.columns.name = None
    return _check_index(wide.astype("float64"), key)


# --------------------------------------------------------------------------- chapter 2
def load_ken_french_daily(units: str = "fraction") -> pd.DataFrame:
    """Fama-French 3 daily factors and the T-bill rate, as the book downloaded them (Book §2.1).

    The file (``F-F_Research_Data_Factors_daily.CSV``, Kenneth R. French's data library, built
    from the 201511 CRSP database) has three lines of text, a blank line, the header
    ``,Mkt-RF,SMB,HML,RF``, rows ``YYYYMMDD, v, v, v, v`` with values in **percent** per day,
    a blank line and a copyright footer. Source of the method: Fama & French (1993).

    Args:
        units: ``"fraction"`` (default: values / 100, so 0.01 = 1 % a day) or ``"percent"``
            (the numbers as stored in the file).

    Returns:
        ``float64`` DataFrame with columns ``["Mkt-RF", "SMB", "HML", "RF"]``, daily
        (not annualized) returns, 23,615 trading days 1926-07-01..2015-11-30 indexed by ``date``.
        ``RF`` is the simple daily rate that compounds to the 1-month T-bill rate over the month.

    Raises:
        ValueError: ``units`` is neither ``"fraction"`` nor ``"percent"``.
        DataIntegrityError: the header or the table is not where expected.
    """
    if units not in ("fraction", "percent"):
        raise ValueError(f"units must be 'fraction' or 'percent', got {units!r}")
    key = _CH2 + "F-F_Research_Data_Factors_daily.CSV"
    lines = fetch(key).read_text(encoding="utf-8-sig").splitlines()
    header = ",Mkt-RF,SMB,HML,RF"
    try:
        start = next(i for i, line in enumerate(lines) if line.replace(" ", "") == header)
    except StopIteration:
        raise DataIntegrityError(f"{key}: header line {header!r} not found") from None
    end = start + 1
    while end < len(lines) and lines[end].strip():
        end += 1
    footer = " ".join(line.strip() for line in lines[end:] if line.strip())
    if footer and not footer.startswith("Copyright"):
        raise DataIntegrityError(f"{key}: unexpected text after the table: {footer[:60]!r}")
    table = pd.read_csv(
        io.StringIO("\n".join(lines[start:end])), index_col=0, dtype={0: str}, skipinitialspace=True
    )
    table.columns = [c.strip() for c in table.columns]
    if tuple(table.columns) != FRENCH_COLUMNS:
        raise DataIntegrityError(f"{key}: columns {list(table.columns)}, expected {FRENCH_COLUMNS}")
    try:
        table.index = pd.to_datetime(table.index.str.strip(), format="%Y%m%d")
    except ValueError as err:
        raise DataIntegrityError(f"{key}: bad date in the first column ({err})") from err
    table = pd.DataFrame({c: _to_float(table[c], key) for c in FRENCH_COLUMNS})
    if table.isna().any().any():
        raise DataIntegrityError(f"{key}: the factor table has missing values")
    if units == "fraction":
        table = table / 100.0
    return _check_index(table, key)
