"""Prices for the notebooks: live downloads and the notebooks' data-source block.

Live prices
    :func:`load_prices` downloads split- and dividend-adjusted daily prices with yfinance and
    keeps a CSV copy under ``<cache>/prices`` so a notebook rerun needs no network.

Notebook parameters
    :func:`load_price_source` is the notebooks' data-source block (``SOURCE``, ``CSV_PATH``,
    ``START``, ``END``): the book's or a packaged dataset, yfinance, or a reader's CSV file.

A reader's own files are read by :func:`common.price_csv.read_price_csv` (dates by
:func:`common.dates.parse_dates`) and checked by :func:`common.price_csv.validate_prices`;
they are importable from here too. Every function either returns clean prices or raises a
:class:`common.data.DataError` subclass whose message says what went wrong and what to do.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import warnings
from collections.abc import Callable, Sequence
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
from common.dates import parse_dates
from common.price_csv import _as_list, read_price_csv, validate_prices

if TYPE_CHECKING:  # pandas is imported inside functions: importing this module stays light
    import pandas as pd

__all__ = [
    "load_prices",
    "read_price_csv",
    "parse_dates",
    "validate_prices",
    "load_price_source",
    "SOURCES",
]


# =========================================================================== yfinance prices
_NETWORK_RE = re.compile(
    r"DNS|resolve|getaddrinfo|NameResolution|Connection|connect|Network is unreachable|"
    r"timed? ?out|Timeout|Max retries|SSL|Proxy|curl: \((5|6|7|28|35|52|56)\)|RateLimit|"
    r"Too Many Requests|\b429\b",
    re.IGNORECASE,
)
_OFFLINE_HINT = (
    "To go on without network: run this cell once with internet (the prices are then cached "
    "under {cache}), read your own file with common.price_csv.read_price_csv, or use the notebook's "
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
            raise ValueError(
                "SOURCE is 'yfinance': name the tickers to download (TICKERS is empty)"
            )
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
