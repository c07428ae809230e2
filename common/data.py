"""Data access for the notebooks: hash-pinned downloads and packaged datasets.

Every loader either returns clean data or raises a :class:`DataError` subclass whose message
says what went wrong and what to do. Nothing is written to the cache unless its SHA-256 matched.

Downloaded files
    :func:`fetch` downloads a file of the registry (``common/registry.tsv``: the same keys, URLs
    and SHA-256 as the project's dataset manifest) with `pooch <https://www.fatiando.org/pooch>`_
    into the cache directory: ``$GATAM_DATA_DIR`` if set, else ``data/cache/`` in the repository.
    A cached file whose hash does not match is an error, never silently used.

Packaged datasets
    :func:`load_dataset` returns real data shipped inside installed libraries (skfolio, arch,
    linearmodels, statsmodels, scikit-learn): no network, ever. :func:`list_datasets` describes
    each one (frequency, dates, rows, units, source).

Prices (live downloads, a reader's own CSV files, dates, validation) live in
:mod:`common.prices`.

Conventions of the returned frames: time series have a sorted, unique, tz-naive
``DatetimeIndex`` named ``date``; prices are ``float64``; ``NaN`` means "no price that day"
(a stock not yet listed, an exchange holiday), never a parsing failure.
"""

from __future__ import annotations

import csv
import hashlib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from common.config import REPO_ROOT

if TYPE_CHECKING:  # pandas is imported inside functions: `import common.data` stays light
    import pandas as pd

__all__ = [
    "CacheDirectoryError",
    "DataError",
    "DataIntegrityError",
    "DataNotFoundError",
    "NetworkUnavailableError",
    "UnknownDatasetError",
    "REGISTRY",
    "cache_dir",
    "sha256_of",
    "fetch",
    "list_datasets",
    "load_dataset",
]

_REGISTRY_FILE = Path(__file__).with_name("registry.tsv")


class DataError(Exception):
    """Base class of every data-layer error (bad input, missing file, bad hash, no network)."""


class UnknownDatasetError(DataError, KeyError):
    """A dataset name, registry key or ticker that the project (or the data source) does not know."""

    def __str__(self) -> str:  # KeyError would otherwise print the message in quotes
        return str(self.args[0]) if self.args else ""


class DataNotFoundError(DataError, FileNotFoundError):
    """A path that does not exist or holds no data."""


class DataIntegrityError(DataError, ValueError):
    """A file whose SHA-256 does not match the registry, or data that fails validation."""


class NetworkUnavailableError(DataError, ConnectionError):
    """A download was needed but the network could not be reached."""


class CacheDirectoryError(DataError, OSError):
    """The data cache folder (``$GATAM_DATA_DIR``) cannot be created or written to."""


def _close_matches(word: str, choices: Iterable[str], n: int = 3) -> str:
    """`` Did you mean 'a', 'b'?`` for the choices close to ``word`` (empty string if none)."""
    import difflib

    pool = {str(c).lower(): str(c) for c in choices}
    close = difflib.get_close_matches(str(word).lower(), list(pool), n=n, cutoff=0.5)
    return f" Did you mean {', '.join(repr(pool[c]) for c in close)}?" if close else ""


# =========================================================================== downloaded files
def _read_registry(path: Path = _REGISTRY_FILE) -> dict[str, dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    return {r["key"]: r for r in rows}


#: key -> {"key", "url", "sha256", "bytes", "license"} for every downloadable file.
REGISTRY: dict[str, dict[str, str]] = _read_registry()


def _cache_origin(path: Path) -> str:
    """How messages name the cache folder: the variable when it is set, else the default."""
    env = os.environ.get("GATAM_DATA_DIR", "").strip()
    if env:
        return f"GATAM_DATA_DIR={env!r} (the data cache, {path})"
    return f"the data cache {path} (set GATAM_DATA_DIR to an absolute path to move it)"


def _is_disk_error(err: BaseException) -> bool:
    """True for errors of the local file system (permissions, a file in the way, a full disk)."""
    import errno

    if isinstance(err, (PermissionError, NotADirectoryError, IsADirectoryError, FileExistsError)):
        return True
    return isinstance(err, OSError) and err.errno in (errno.EROFS, errno.ENOSPC, errno.EDQUOT)


def _cache_error(root: Path, err: OSError, doing: str) -> CacheDirectoryError:
    """A :class:`CacheDirectoryError` naming ``GATAM_DATA_DIR``, the path and the OS reason.

    ``doing`` completes "cannot ...", e.g. ``"create the folder"``; ``root`` is the cache folder.
    """
    return CacheDirectoryError(
        f"{_cache_origin(root)}: cannot {doing} ({type(err).__name__}: {err}). Point "
        "GATAM_DATA_DIR at a folder you can write to (an absolute path; it is created if "
        "missing), or unset it to use data/cache in the repository."
    )


def cache_dir() -> Path:
    """Directory holding downloaded files: ``$GATAM_DATA_DIR`` or ``<repo>/data/cache``.

    The directory is created if missing. Keys of the registry are paths below it
    (``book/chapter01/BIL.csv`` is stored as ``<cache>/book/chapter01/BIL.csv``); prices that
    :func:`common.prices.load_prices` downloaded are kept in ``<cache>/prices``. A relative
    ``GATAM_DATA_DIR`` is taken relative to the current directory (notebooks run in their
    chapter folder), so give an absolute path. A read-only folder is accepted (a seeded cache
    can be shared read-only); writing into it later raises :class:`CacheDirectoryError`.

    Returns:
        Path of the existing folder.

    Raises:
        CacheDirectoryError: the path is a file, or the folder cannot be created (no
            permission, a file in the way, a read-only file system); the message names
            ``GATAM_DATA_DIR`` and the path.
    """
    env = os.environ.get("GATAM_DATA_DIR", "").strip()
    path = Path(env).expanduser() if env else REPO_ROOT / "data" / "cache"
    if path.exists() and not path.is_dir():
        raise CacheDirectoryError(
            f"{_cache_origin(path)} is a file, not a folder. Point GATAM_DATA_DIR at a folder "
            "(an absolute path; it is created if missing), or unset it to use data/cache in the "
            "repository."
        )
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise _cache_error(path, err, "create the folder") from err
    return path


def sha256_of(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _seed_hint(target: Path) -> str:
    return (
        "To work offline, copy the file into the cache first: the cache is "
        f"{cache_dir()} (move it with the environment variable GATAM_DATA_DIR) and this file "
        f"belongs at {target}. A checkout of the project's shared datasets folder can be copied "
        "there whole (that is what .ci/run does)."
    )


def _remove_empty_dirs(created: list[Path]) -> None:
    """Remove the directories in ``created`` (deepest first) that are still empty."""
    for folder in sorted(created, key=lambda p: len(p.parts), reverse=True):
        try:
            folder.rmdir()  # only succeeds on an empty directory
        except OSError:
            pass


def fetch(key: str, *, progressbar: bool = False) -> Path:
    """Return the local path of registry file ``key``, downloading it if it is not cached.

    The file is downloaded with ``pooch.retrieve`` into a temporary file that is moved into the
    cache only once its SHA-256 matches the registry; a failed download leaves nothing behind
    (not even the folders created for it).

    Args:
        key: a key of :data:`REGISTRY`, e.g. ``"book/chapter01/BIL.csv"``.
        progressbar: show a download progress bar (needs tqdm).

    Returns:
        Path of the verified file in :func:`cache_dir`.

    Raises:
        UnknownDatasetError: ``key`` is not in the registry (the message lists close matches).
        DataIntegrityError: the cached or downloaded file's SHA-256 differs from the registry's;
            a bad download is discarded, a bad cached file is left for you to inspect or delete.
        DataNotFoundError: the server answered but does not have the file (HTTP error).
        CacheDirectoryError: the cache folder cannot be created or written to (see
            :func:`cache_dir`).
        NetworkUnavailableError: the file is not cached and the download failed; the message says
            how to seed the cache by hand.
    """
    import pooch  # imported lazily: keeps `import common.data` fast

    if not isinstance(key, str) or key not in REGISTRY:
        import difflib

        close = difflib.get_close_matches(str(key), REGISTRY, n=3, cutoff=0.4)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        raise UnknownDatasetError(
            f"{key!r} is not a file of the data registry ({len(REGISTRY)} files, listed in "
            f"{_REGISTRY_FILE}).{hint}"
        )
    entry = REGISTRY[key]
    target = cache_dir() / key
    if target.exists():
        found = sha256_of(target)
        if found != entry["sha256"]:
            raise DataIntegrityError(
                f"The cached file {target} fails its integrity check: SHA-256 {found}, expected "
                f"{entry['sha256']}. It may be truncated or edited. Delete it to download it "
                f"again from {entry['url']}, or replace it with the original."
            )
        return target
    created = [p for p in (target.parent, *target.parent.parents) if not p.exists()]
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise _cache_error(cache_dir(), err, f"create the folder {target.parent}") from err
    try:
        path = pooch.retrieve(
            entry["url"],
            known_hash=f"sha256:{entry['sha256']}",
            fname=target.name,
            path=target.parent,
            progressbar=progressbar,
        )
    except Exception as err:
        _remove_empty_dirs(created)
        import requests

        if _is_disk_error(err) and not isinstance(err, requests.RequestException):
            raise _cache_error(cache_dir(), err, f"write {target}") from err
        if isinstance(err, ValueError) and "hash" in str(err).lower():
            # pooch: the downloaded file's hash does not match; its temporary file is deleted
            raise DataIntegrityError(
                f"The download of {key!r} from {entry['url']} does not match its pinned SHA-256 "
                f"{entry['sha256']} and was discarded: the file changed at its source or the "
                f"transfer was corrupted. ({err})"
            ) from err
        if isinstance(err, requests.HTTPError):
            raise DataNotFoundError(
                f"{key!r} could not be downloaded from {entry['url']}: the server answered "
                f"{err}. The file may have moved. {_seed_hint(target)}"
            ) from err
        # connection errors, DNS failures, timeouts, proxies
        raise NetworkUnavailableError(
            f"{key!r} is not in the cache and could not be downloaded from {entry['url']} "
            f"({type(err).__name__}: {err}). {_seed_hint(target)}"
        ) from err
    return Path(path)


# =========================================================================== packaged datasets
@dataclass(frozen=True)
class _Packaged:
    name: str
    description: str
    frequency: str
    start: str
    end: str
    rows: int
    units: str
    source: str
    loader: Callable[[], pd.DataFrame]
    time_series: bool = True


def _period_end_from_yyyymm(index) -> pd.DatetimeIndex:
    """Month-end dates from YYYYMM labels (ints, strings, or ints mis-read as nanoseconds)."""
    import pandas as pd

    if isinstance(index, pd.DatetimeIndex) and (index.year == 1970).all():
        raw = pd.Index(index.asi8)  # arch reads 192607 as 192607 ns after the epoch
    elif isinstance(index, pd.DatetimeIndex):
        return (index.to_period("M").to_timestamp(how="end")).normalize()
    else:
        raw = pd.Index(index)
    labels = raw.astype("int64").astype(str)
    if not labels.str.fullmatch(r"\d{6}").all():
        raise DataIntegrityError(f"expected YYYYMM month labels, got {list(labels[:3])} ...")
    periods = pd.PeriodIndex(pd.to_datetime(labels, format="%Y%m"), freq="M")
    return periods.to_timestamp(how="end").normalize()


def _load_sp500_stocks() -> pd.DataFrame:
    from skfolio.datasets import load_sp500_dataset

    return load_sp500_dataset()


def _load_sp500_index() -> pd.DataFrame:
    from skfolio.datasets import load_sp500_index

    return load_sp500_index()


def _load_factor_etfs() -> pd.DataFrame:
    from skfolio.datasets import load_factors_dataset

    return load_factors_dataset()


def _load_sp500_ohlc() -> pd.DataFrame:
    from arch.data import sp500

    return sp500.load()


def _load_vix() -> pd.DataFrame:
    from arch.data import vix

    # the file has a row (value NaN) for every weekday, exchange holidays included: drop those
    return vix.load().dropna(how="all")


def _load_ff3_monthly() -> pd.DataFrame:
    from arch.data import frenchdata

    frame = frenchdata.load()
    frame.index = _period_end_from_yyyymm(frame.index)
    return frame


def _load_french_monthly() -> pd.DataFrame:
    from linearmodels.datasets import french

    frame = french.load()
    if "dates" not in frame.columns:
        raise DataIntegrityError(
            "linearmodels.datasets.french.load() no longer has its 'dates' column; columns are "
            f"{list(frame.columns)[:8]} ..."
        )
    dates = frame.pop("dates")
    frame.index = dates.dt.to_period("M").dt.to_timestamp(how="end").dt.normalize().values
    return frame


def _load_us_macro_quarterly() -> pd.DataFrame:
    import pandas as pd
    from statsmodels.datasets import macrodata

    frame = macrodata.load_pandas().data.copy()
    labels = [
        f"{y}Q{q}"
        for y, q in zip(
            frame.pop("year").astype(int), frame.pop("quarter").astype(int), strict=True
        )
    ]
    periods = pd.PeriodIndex(labels, freq="Q")
    frame.index = periods.to_timestamp(how="end").normalize()
    return frame


def _load_digits() -> pd.DataFrame:
    from sklearn.datasets import load_digits

    return load_digits(as_frame=True).frame


_PACKAGED: dict[str, _Packaged] = {
    d.name: d
    for d in (
        _Packaged(
            "sp500_stocks",
            "20 large S&P 500 stocks (AAPL AMD BAC BBY CVX GE HD JNJ JPM KO LLY MRK MSFT PEP PFE "
            "PG RRC UNH WMT XOM)",
            "daily (trading days)",
            "1990-01-02",
            "2022-12-28",
            8313,
            "split- and dividend-adjusted close, USD",
            "skfolio.datasets.load_sp500_dataset (Yahoo Finance prices)",
            _load_sp500_stocks,
        ),
        _Packaged(
            "sp500_index",
            "S&P 500 index level (column SP500), same dates as sp500_stocks",
            "daily (trading days)",
            "1990-01-02",
            "2022-12-28",
            8313,
            "index points (price index, dividends not included)",
            "skfolio.datasets.load_sp500_index (Yahoo Finance)",
            _load_sp500_index,
        ),
        _Packaged(
            "factor_etfs",
            "5 iShares factor ETFs: MTUM momentum, QUAL quality, SIZE size, USMV minimum "
            "volatility, VLUE value",
            "daily (trading days)",
            "2014-01-02",
            "2022-12-28",
            2264,
            "split- and dividend-adjusted close, USD",
            "skfolio.datasets.load_factors_dataset (Yahoo Finance prices)",
            _load_factor_etfs,
        ),
        _Packaged(
            "sp500_ohlc",
            "S&P 500 index: Open High Low Close, Adj Close (equal to Close) and Volume",
            "daily (trading days)",
            "1999-01-04",
            "2018-12-31",
            5031,
            "index points; Volume in shares (int64)",
            "arch.data.sp500 (Yahoo Finance)",
            _load_sp500_ohlc,
        ),
        _Packaged(
            "vix",
            "CBOE VIX index close (column vix); the 46 exchange-holiday rows without a value "
            "are dropped",
            "daily (trading days)",
            "2014-01-03",
            "2019-01-03",
            1259,
            "index points (annualized implied volatility in percent)",
            "arch.data.vix (CBOE Volatility Index, as shipped with arch)",
            _load_vix,
        ),
        _Packaged(
            "ff3_monthly",
            "Fama-French 3 factors: Mkt-RF, SMB, HML and the risk-free rate RF; dated at month end",
            "monthly",
            "1926-07-31",
            "2018-11-30",
            1109,
            "PERCENT per month (2.96 means 2.96%)",
            "arch.data.frenchdata (Kenneth R. French Data Library)",
            _load_ff3_monthly,
        ),
        _Packaged(
            "french_monthly",
            "Factors MktRF SMB HML Mom RF, 12 industry portfolios (NoDur..Other), 9 size/value "
            "(S1V1..S5V5) and 9 size/momentum (S1M1..S5M5) portfolios; dated at month end",
            "monthly",
            "1949-01-31",
            "2017-03-31",
            819,
            "FRACTION per month (0.0296 means 2.96%)",
            "linearmodels.datasets.french (Kenneth R. French Data Library)",
            _load_french_monthly,
        ),
        _Packaged(
            "us_macro_quarterly",
            "US macro: realgdp realcons realinv realgovt realdpi cpi m1 tbilrate unemp pop infl "
            "realint; dated at quarter end",
            "quarterly",
            "1959-03-31",
            "2009-09-30",
            203,
            "real series: billions of chained 2005 USD at a seasonally adjusted annual rate; "
            "cpi index 1982-84=100; m1 billions USD; tbilrate, unemp, infl, realint percent "
            "(infl annualized); pop millions",
            "statsmodels.datasets.macrodata (FRED, Federal Reserve Bank of St. Louis; BLS)",
            _load_us_macro_quarterly,
        ),
        _Packaged(
            "digits",
            "1,797 handwritten digits as 8x8 images: 64 pixel columns pixel_0_0..pixel_7_7 and "
            "the label column target (0..9); not a time series (RangeIndex)",
            "none (images)",
            "",
            "",
            1797,
            "pixel intensity 0..16 (float64); target int64",
            "sklearn.datasets.load_digits (UCI ML hand-written digits, Alpaydin & Kaynak 1998)",
            _load_digits,
            time_series=False,
        ),
    )
}


def list_datasets() -> pd.DataFrame:
    """Describe the packaged datasets that :func:`load_dataset` returns (all offline).

    Returns:
        DataFrame with one row per dataset and the columns ``name``, ``description``,
        ``frequency``, ``start``, ``end`` (first and last date, ``YYYY-MM-DD``; empty for
        ``digits``), ``rows``, ``units`` and ``source`` (the library function and the data's
        origin). Downloaded files are listed in ``data/README.md`` and :data:`REGISTRY`.
    """
    import pandas as pd

    fields = ("name", "description", "frequency", "start", "end", "rows", "units", "source")
    return pd.DataFrame([{f: getattr(d, f) for f in fields} for d in _PACKAGED.values()])


def _check_time_index(frame: pd.DataFrame, what: str) -> pd.DataFrame:
    """Name the index ``date`` after checking it is a sorted, unique, tz-naive DatetimeIndex."""
    import pandas as pd

    index = frame.index
    if not isinstance(index, pd.DatetimeIndex):
        raise DataIntegrityError(f"{what}: the index is a {type(index).__name__}, not dates")
    if index.tz is not None:
        raise DataIntegrityError(f"{what}: the dates carry a time zone ({index.tz})")
    if index.hasnans:
        raise DataIntegrityError(f"{what}: {int(index.isna().sum())} dates are missing (NaT)")
    if not index.is_unique:
        dup = index[index.duplicated()].unique()
        raise DataIntegrityError(f"{what}: duplicate dates {[str(d.date()) for d in dup[:5]]}")
    if not index.is_monotonic_increasing:
        raise DataIntegrityError(f"{what}: the dates are not in increasing order")
    frame.index = index.rename("date")
    return frame


def load_dataset(name: str) -> pd.DataFrame:
    """Load a dataset packaged with an installed library, by name; never touches the network.

    Names (details, units and sources in :func:`list_datasets` and ``data/README.md``):

    ============================  ==========================================================
    ``sp500_stocks``              20 US stocks, daily adjusted close, 1990-01-02..2022-12-28
    ``sp500_index``               S&P 500 index level, daily, same dates
    ``factor_etfs``               MTUM QUAL SIZE USMV VLUE, daily adjusted close, 2014..2022
    ``sp500_ohlc``                S&P 500 daily OHLC, Adj Close and Volume, 1999..2018
    ``vix``                       VIX daily close, 2014-01-03..2019-01-03
    ``ff3_monthly``               Fama-French 3 factors + RF, monthly, PERCENT, 1926..2018
    ``french_monthly``            French factors + 30 portfolios, monthly, FRACTION, 1949..2017
    ``us_macro_quarterly``        US quarterly macro (real GDP ...), 1959Q1..2009Q3
    ``digits``                    1,797 8x8 handwritten digits (64 pixels + target)
    ============================  ==========================================================

    Args:
        name: one of the names above (case-insensitive; ``-`` and spaces read as ``_``).

    Returns:
        A new DataFrame (yours to modify). Time series have a sorted, unique, tz-naive
        ``DatetimeIndex`` named ``date``; monthly and quarterly data are dated at the last
        calendar day of the period. ``digits`` has a RangeIndex.

    Raises:
        UnknownDatasetError: ``name`` is not a packaged dataset (the message lists the names
            and close matches).
        DataIntegrityError: the library's data changed shape (a newer library version).
    """
    key = str(name).strip().lower().replace("-", "_").replace(" ", "_")
    if key not in _PACKAGED:
        raise UnknownDatasetError(
            f"{name!r} is not a packaged dataset.{_close_matches(key, _PACKAGED)} Known names: "
            f"{', '.join(_PACKAGED)}. Files to download are keys of common.data.REGISTRY "
            "(use fetch); your own prices go through read_price_csv."
        )
    spec = _PACKAGED[key]
    frame = spec.loader().copy()
    if spec.time_series:
        frame = _check_time_index(frame, f"dataset {key!r}")
    if frame.empty:
        raise DataIntegrityError(f"dataset {key!r} loaded empty from {spec.source}")
    return frame
