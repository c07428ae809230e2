"""VIX futures (VX) infrastructure for notebook 2.02: contract calendar, CBOE files, simulated curve.

Book §2.2 trades the front VX contract against the VIX (Simon & Campasano 2014, "The VIX Futures
Basis: Evidence and Trading Strategies", *Journal of Derivatives* 21(3)). The strategy itself (the
daily roll, the hedge regression, the backtest) is taught in the notebook; this module holds what
it stands on:

Calendar
    :func:`vx_settlement_date` (CBOE Futures Exchange rule for monthly VX contracts) and
    :func:`business_days_to_settlement`, on the CFE trading calendar ``XCBF`` of the
    `exchange_calendars <https://github.com/gerrymanoim/exchange_calendars>`_ package.

Data
    One tidy frame per curve, columns :data:`CURVE_COLUMNS`: ``trade_date`` (datetime64),
    ``contract`` (CBOE's name, ``'F (Jan 2018)'``), ``expiry`` (settlement date) and ``settle``
    (daily settlement price, **VIX points**; one point is worth :data:`VX_MULTIPLIER` = $1,000 per
    contract). :func:`load_cboe_vx_settlements` reads CBOE's historical VX CSV files into it,
    :func:`write_cboe_vx_file` writes it back in that format, :func:`simulate_vx_curves` makes a
    SIMULATED curve around a real VIX path (the offline default), :func:`check_curves` validates
    any such frame and :func:`front_contract_panel` turns it into the daily front-contract panel;
    :func:`plot_term_structure` draws both.

Backtest bookkeeping
    The notebook's backtest returns one row per trade and a daily book of ``vx_pnl``, ``es_pnl``,
    ``costs`` and ``pnl`` ($ per VX contract). :func:`summarize_backtest` and
    :func:`pnl_breakdown` turn them into table rows; :func:`simulate_scenarios` reruns a
    caller's pipeline on several simulated curves per set of simulation assumptions.

Contract facts (CBOE VX contract specifications): $1,000 per VIX point, minimum tick 0.05 points
($50); final settlement on the Wednesday 30 calendar days before the third Friday of the following
month (moved for exchange holidays); VX was quoted at 10 x VIX before the rescaling of
2007-03-26. ES (E-mini S&P 500, CME): $50 per index point, tick 0.25.
"""

from __future__ import annotations

import re
import warnings
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from common import metrics
from common.data import DataIntegrityError, DataNotFoundError

__all__ = [
    "CFE_COLUMNS",
    "CURVE_COLUMNS",
    "ES_MULTIPLIER",
    "MONTH_CODES",
    "VX_MULTIPLIER",
    "VX_RESCALE_DATE",
    "business_days_to_settlement",
    "check_curves",
    "contract_label",
    "exchange_holidays",
    "front_contract_panel",
    "load_cboe_vx_settlements",
    "parse_contract_label",
    "plot_term_structure",
    "pnl_breakdown",
    "simulate_scenarios",
    "simulate_vx_curves",
    "summarize_backtest",
    "vx_settlement_date",
    "write_cboe_vx_file",
]

VX_MULTIPLIER = 1000.0  #: $ per VIX point, one VX contract
ES_MULTIPLIER = 50.0  #: $ per index point, one ES contract
MONTH_CODES = "FGHJKMNQUVXZ"  #: futures month codes, January..December
MONTH_NAMES = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
#: columns of CBOE's historical VX settlement files
CFE_COLUMNS = [
    "Trade Date",
    "Futures",
    "Open",
    "High",
    "Low",
    "Close",
    "Settle",
    "Change",
    "Total Volume",
    "EFP",
    "Open Interest",
]
CURVE_COLUMNS = ["trade_date", "contract", "expiry", "settle"]  #: the tidy VX frame
VX_RESCALE_DATE = pd.Timestamp("2007-03-26")  #: VX was quoted at 10 x VIX before this date
CALENDAR_YEARS = (2004, 2034)  #: VX futures started in 2004; the calendar is built to 2035
_FUTURES_RE = re.compile(r"^\s*([A-Z])\s*\(\s*([A-Za-z]{3})\s+(\d{2}|\d{4})\s*\)\s*$")
_DISCLAIMER = (
    "CFE data is compiled for the convenience of site visitors and is furnished without "
    "responsibility for accuracy."
)


# --------------------------------------------------------------------------- calendar


@lru_cache(maxsize=1)
def _calendar() -> tuple[pd.DatetimeIndex, np.busdaycalendar]:
    """Weekday closures of the CFE (``XCBF``) 2004..2035 and the matching numpy calendar."""
    import exchange_calendars as xcals

    with warnings.catch_warnings():  # exchange_calendars 4.13 vs pandas 3.1 deprecation notes
        warnings.simplefilter("ignore")
        cal = xcals.get_calendar(
            "XCBF", start=f"{CALENDAR_YEARS[0]}-01-01", end=f"{CALENDAR_YEARS[1] + 1}-12-31"
        )
        sessions = pd.DatetimeIndex(cal.sessions).tz_localize(None).normalize()
    weekdays = pd.bdate_range(sessions[0], f"{CALENDAR_YEARS[1] + 1}-12-31")
    closed = weekdays.difference(sessions)
    return closed, np.busdaycalendar(holidays=closed.values.astype("datetime64[D]"))


def exchange_holidays(start, end) -> pd.DatetimeIndex:
    """Weekdays from ``start`` to ``end`` (inclusive) on which the CBOE Futures Exchange is closed.

    From ``exchange_calendars``' ``XCBF`` calendar (scheduled holidays, Good Friday, and
    unscheduled closures such as hurricane Sandy 2012-10-29/30 and the state funerals of
    2018-12-05 and 2025-01-09). Sorted, tz-naive.

    Raises:
        ValueError: ``end`` before ``start``, or dates outside 2004..2035.
    """
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    if end < start:
        raise ValueError(f"end {end.date()} is before start {start.date()}")
    if start.year < CALENDAR_YEARS[0] or end.year > CALENDAR_YEARS[1] + 1:
        raise ValueError(f"the calendar covers {CALENDAR_YEARS[0]}..{CALENDAR_YEARS[1] + 1}")
    closed, _ = _calendar()
    return closed[(closed >= start) & (closed <= end)]


def _roll_back(day: pd.Timestamp) -> pd.Timestamp:
    """``day`` itself if it is a trading day, else the trading day before it."""
    _, busdays = _calendar()
    return pd.Timestamp(
        np.busday_offset(np.datetime64(day.date()), 0, roll="backward", busdaycal=busdays)
    )


def vx_settlement_date(year: int, month: int) -> pd.Timestamp:
    """Final settlement date of the monthly VX future of (year, month), by CFE's rule.

    The Wednesday 30 calendar days before the third Friday of the following month; if that Friday
    is an exchange holiday, 30 days before the trading day preceding it; if the resulting day is a
    holiday, the trading day before it (CBOE VX contract specifications). Example:
    ``vx_settlement_date(2018, 1)`` is 2018-01-17; ``vx_settlement_date(2014, 3)`` is Tuesday
    2014-03-18 (the third Friday of April 2014 was Good Friday).

    Raises:
        TypeError: year or month not integers (bool refused).
        ValueError: month outside 1..12, or year outside 2004..2034.
    """
    if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in (year, month)):
        raise TypeError(f"year and month must be integers, got {year!r}, {month!r}")
    if not 1 <= month <= 12:
        raise ValueError(f"month must be 1..12, got {month}")
    if not CALENDAR_YEARS[0] <= year <= CALENDAR_YEARS[1]:
        raise ValueError(
            f"year {year} is outside the calendar's range {CALENDAR_YEARS[0]}..{CALENDAR_YEARS[1]}"
        )
    following = pd.Timestamp(int(year), int(month), 1) + pd.offsets.MonthBegin(1)
    third_friday = following + pd.Timedelta(days=(4 - following.day_of_week) % 7 + 14)
    return _roll_back(_roll_back(third_friday) - pd.Timedelta(days=30))


def business_days_to_settlement(dates, expiries) -> np.ndarray:
    """Trading days after each date up to and including its settlement date (0 on that day).

    Args:
        dates, expiries: equal-length sequences of dates (anything ``DatetimeIndex`` accepts).

    Returns:
        int64 array of CFE business days (:func:`exchange_holidays` excluded).

    Raises:
        ValueError: the lengths differ, or a date is after its expiry.
    """
    _, busdays = _calendar()
    d = pd.DatetimeIndex(dates).values.astype("datetime64[D]")
    e = pd.DatetimeIndex(expiries).values.astype("datetime64[D]")
    if d.shape != e.shape:
        raise ValueError(f"{len(d)} dates but {len(e)} expiries")
    if (e < d).any():
        raise ValueError("some dates are after their contract's settlement date")
    return np.busday_count(d, e, busdaycal=busdays)


# --------------------------------------------------------------------------- contract names


def contract_label(year: int, month: int) -> str:
    """CBOE's name of a monthly VX contract: ``contract_label(2018, 1) == 'F (Jan 2018)'``."""
    return f"{MONTH_CODES[month - 1]} ({MONTH_NAMES[month - 1]} {year})"


def parse_contract_label(label: str) -> tuple[int, int]:
    """(year, month) of a CBOE monthly VX name: ``'F (Jan 2018)'`` or the old ``'F (Jan 18)'``.

    Raises:
        DataIntegrityError: not a monthly contract name (weekly VX contracts such as
            ``'VX02 (Jan 2018)'`` are not supported), or month code and month name disagree.
    """
    match = _FUTURES_RE.match(str(label))
    if match is None:
        raise DataIntegrityError(
            f"{label!r} is not a monthly VX contract name like 'F (Jan 2018)' "
            "(weekly contracts are not supported)"
        )
    code_letter, name, year = match.groups()
    name = name.title()
    if code_letter not in MONTH_CODES or name not in MONTH_NAMES:
        raise DataIntegrityError(f"{label!r}: unknown month code {code_letter!r} or name {name!r}")
    month = MONTH_CODES.index(code_letter) + 1
    if MONTH_NAMES.index(name) + 1 != month:
        raise DataIntegrityError(
            f"{label!r}: month code {code_letter} is {MONTH_NAMES[month - 1]}, not {name}"
        )
    return (2000 + int(year) if len(year) == 2 else int(year)), month


# --------------------------------------------------------------------------- CBOE files


def _lines(numbers, mask, n: int = 5) -> str:
    shown = [str(k) for k in np.asarray(numbers)[np.asarray(mask)][:n]]
    more = int(np.sum(mask)) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def _read_cfe_file(path: Path, zero_settle: str) -> pd.DataFrame:
    """One CBOE VX file -> tidy rows plus the file name and 1-based line numbers."""
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    header = next(
        (k for k, line in enumerate(lines[:10]) if line.split(",")[0].strip() == "Trade Date"), None
    )
    if header is None:
        raise DataIntegrityError(
            f"{path.name}: no header line starting with 'Trade Date' in its first 10 lines; "
            f"a CBOE VX file has the columns {', '.join(CFE_COLUMNS)}"
        )
    names = [c.strip() for c in lines[header].split(",")]
    missing = [c for c in ("Trade Date", "Futures", "Settle") if c not in names]
    if missing:
        raise DataIntegrityError(f"{path.name}: missing column(s) {missing}; found {names}")
    body = [(k + 1, line) for k, line in enumerate(lines) if k > header and line.strip()]
    numbers = np.array([k for k, _ in body], dtype=int)
    rows = [[field.strip() for field in line.split(",")] for _, line in body]
    short = [int(k) for k, r in zip(numbers, rows, strict=True) if len(r) < len(names)]
    if short:
        raise DataIntegrityError(
            f"{path.name}: lines {short[:5]} have fewer fields than the header"
        )
    frame = pd.DataFrame([r[: len(names)] for r in rows], columns=names)
    if frame.empty:
        return pd.DataFrame(columns=[*CURVE_COLUMNS, "file", "line"])
    dates = pd.to_datetime(frame["Trade Date"], format="mixed", errors="coerce")
    if dates.isna().any():
        raise DataIntegrityError(
            f"{path.name}: unreadable Trade Date on line(s) {_lines(numbers, dates.isna())}"
        )
    settle = pd.to_numeric(frame["Settle"], errors="coerce")
    if settle.isna().any():
        raise DataIntegrityError(
            f"{path.name}: Settle is not a number on line(s) {_lines(numbers, settle.isna())}"
        )
    early = (dates < VX_RESCALE_DATE).to_numpy()
    if early.any():
        raise DataIntegrityError(
            f"{path.name}: trade dates before {VX_RESCALE_DATE.date()} on line(s) "
            f"{_lines(numbers, early)}; VX was quoted at 10 x VIX then: remove those rows"
        )
    negative, zero = (settle < 0).to_numpy(), (settle == 0).to_numpy()
    if negative.any() or (zero.any() and zero_settle == "raise"):
        what = negative if negative.any() else zero
        hint = "" if negative.any() else " (pass zero_settle='drop' to skip days without one)"
        raise DataIntegrityError(
            f"{path.name}: non-positive Settle on line(s) {_lines(numbers, what)}{hint}"
        )
    parsed = {}
    for k, name in enumerate(frame["Futures"]):
        if name not in parsed:
            try:
                parsed[name] = contract_label(*parse_contract_label(name))
            except DataIntegrityError as err:
                raise DataIntegrityError(f"{path.name} line {numbers[k]}: {err}") from None
    labels = frame["Futures"].map(parsed)
    expiry_of = {lab: vx_settlement_date(*parse_contract_label(lab)) for lab in labels.unique()}
    expiry = pd.DatetimeIndex(labels.map(expiry_of).to_numpy())
    late = dates.to_numpy() > expiry.to_numpy()
    if late.any():
        raise DataIntegrityError(
            f"{path.name}: trade dates after the contract's settlement date on line(s) "
            f"{_lines(numbers, late)} (a weekly contract, or a wrong month in 'Futures'?)"
        )
    out = pd.DataFrame(
        {
            "trade_date": dates.to_numpy(),
            "contract": labels.to_numpy(),
            "expiry": expiry,
            "settle": settle.to_numpy(float),
            "file": path.name,
            "line": numbers,
        }
    )
    return out[~zero] if zero_settle == "drop" else out


def load_cboe_vx_settlements(paths, *, zero_settle: str = "raise") -> pd.DataFrame:
    """Read CBOE's historical VX futures CSV files (CFE format) into the tidy VX frame.

    The format: one file per contract, columns :data:`CFE_COLUMNS`; ``Futures`` names the contract
    (``'F (Jan 2018)'``). Older files start with a disclaimer line, write dates ``MM/DD/YYYY`` and
    years with two digits (``'F (Jan 13)'``), and some lines end with a stray comma: all accepted.

    Args:
        paths: a folder (every ``*.csv`` in it), one file, or a list of files and folders.
        zero_settle: ``"raise"`` (default) or ``"drop"``: rows whose Settle is 0 (days without a
            settlement in some old files). Negative settles always raise.

    Returns:
        DataFrame with columns ``trade_date`` (datetime64), ``contract`` (``'F (Jan 2018)'``),
        ``expiry`` (settlement date by :func:`vx_settlement_date`) and ``settle`` (float64, VIX
        points), sorted by trade date and expiry, RangeIndex.

    Raises:
        DataNotFoundError: a path does not exist, no ``*.csv`` file was found, or the files hold
            no data rows.
        DataIntegrityError: no ``Trade Date`` header, missing columns, short lines, unreadable
            dates or settles, dates before the 2007 rescaling, non-positive settles, a weekly or
            mislabelled contract, dates after the settlement date, or a (contract, trade date)
            pair twice (within or across files); the message names the file and lines.
        ValueError: ``zero_settle`` is not ``"raise"`` or ``"drop"``.
    """
    if zero_settle not in ("raise", "drop"):
        raise ValueError(f"zero_settle must be 'raise' or 'drop', got {zero_settle!r}")
    items = [paths] if isinstance(paths, (str, Path)) else list(paths)
    files: list[Path] = []
    for item in items:
        p = Path(item).expanduser()
        if p.is_dir():
            files.extend(sorted(p.glob("*.csv")))
        elif p.is_file():
            files.append(p)
        else:
            raise DataNotFoundError(f"{p} does not exist")
    if not files:
        raise DataNotFoundError(f"no *.csv files in {[str(i) for i in items]}")
    parts = [_read_cfe_file(f, zero_settle) for f in files]
    parts = [p for p in parts if not p.empty]
    if not parts:
        raise DataNotFoundError(f"the {len(files)} file(s) hold no data rows")
    frame = pd.concat(parts, ignore_index=True)
    dup = frame.duplicated(["contract", "trade_date"], keep=False)
    if dup.any():
        where = "; ".join(
            f"{r.contract} {r.trade_date.date()} ({r.file} line {r.line})"
            for r in frame[dup].iloc[:4].itertuples()
        )
        raise DataIntegrityError(
            f"{int(dup.sum())} rows repeat a (contract, trade date) pair: {where}"
        )
    frame = frame.sort_values(["trade_date", "expiry"], ignore_index=True)
    return frame[CURVE_COLUMNS]


def write_cboe_vx_file(path, rows: pd.DataFrame, *, old_style: bool = False) -> Path:
    """Write one contract's rows of a tidy VX frame as a CBOE VX CSV file (for tests and exports).

    Open/High/Low/Close are set to the settle, volumes to 0. ``old_style`` writes the older
    variant: a disclaimer line, ``MM/DD/YYYY`` dates, a two-digit year and a trailing comma.

    Raises:
        ValueError: ``rows`` is empty or holds more than one contract.
    """
    if rows.empty or rows["contract"].nunique() != 1:
        raise ValueError("write_cboe_vx_file writes exactly one contract's rows")
    label = rows["contract"].iat[0]
    if old_style:
        label = re.sub(r"(\w{3}) \d{2}(\d{2})\)", r"\1 \2)", label)
    lines = ([_DISCLAIMER] if old_style else []) + [",".join(CFE_COLUMNS)]
    previous = np.nan
    for day, settle in zip(rows["trade_date"], rows["settle"], strict=True):
        date = f"{day:%m/%d/%Y}" if old_style else f"{day:%Y-%m-%d}"
        change = 0.0 if np.isnan(previous) else settle - previous
        previous = settle
        fields = [date, label, *[f"{settle:.4f}"] * 5, f"{change:.4f}", "0", "0", "0"]
        lines.append(",".join(fields) + ("," if old_style else ""))
    path = Path(path)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --------------------------------------------------------------------------- simulation


def simulate_vx_curves(
    vix: pd.Series,
    *,
    long_term: float,
    kappa: float,
    premium: float,
    premium_tau: float,
    noise_sd: float,
    noise_ar: float,
    noise_tau: float,
    n_contracts: int,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """SIMULATED daily settlements of the monthly VX contracts around a real VIX path.

    Model (notebook 2.02, section 3): with ``tau`` = business days to settlement / 252 (years),
    ``F = L exp(ln(VIX / L) exp(-kappa tau)) + P (1 - exp(-tau / tau_P)) + (1 - exp(-tau /
    tau_n)) u``: expected log mean reversion of the VIX to ``L``, a contango premium ``P`` growing
    with maturity, and an AR(1) pricing noise ``u`` per contract (stationary start) that fades
    before settlement, so that ``F = VIX`` at settlement. Each day lists the ``n_contracts``
    nearest monthly contracts not yet settled. Not fitted to data: an offline stand-in.

    Args:
        vix: VIX close (index points), sorted unique ``DatetimeIndex`` of trading days, no NaN.
        long_term (``L``), premium (``P``), noise_sd: VIX points; kappa: per year;
        premium_tau, noise_tau: years; noise_ar: AR(1) coefficient in [0, 1);
        n_contracts: >= 2; rng: numpy ``Generator``.

    Returns:
        Tidy VX frame (:data:`CURVE_COLUMNS`), settle in VIX points rounded to 0.0001 like CBOE's
        settlement prices, sorted by trade date and expiry.

    Raises:
        TypeError: ``vix`` is not a Series with a DatetimeIndex.
        ValueError: empty, NaN, non-positive or unsorted ``vix``; a parameter out of range (the
            message names it); a non-positive simulated price (lower ``noise_sd``).
    """
    if not isinstance(vix, pd.Series) or not isinstance(vix.index, pd.DatetimeIndex):
        raise TypeError("vix must be a pandas Series with a DatetimeIndex")
    if vix.empty or vix.isna().any() or (vix <= 0).any():
        raise ValueError("vix must be non-empty, without NaN, and positive")
    if not (vix.index.is_monotonic_increasing and vix.index.is_unique):
        raise ValueError("vix dates must be sorted and unique")
    positive = {"long_term": long_term, "kappa": kappa, "premium_tau": premium_tau}
    for name, value in {**positive, "noise_tau": noise_tau}.items():
        if not value > 0:
            raise ValueError(f"{name} must be positive, got {value}")
    if not premium >= 0 or not noise_sd >= 0:
        raise ValueError(f"premium and noise_sd must be >= 0, got {premium}, {noise_sd}")
    if not 0 <= noise_ar < 1:
        raise ValueError(f"noise_ar must be in [0, 1), got {noise_ar}")
    if not (isinstance(n_contracts, (int, np.integer)) and n_contracts >= 2):
        raise ValueError(f"n_contracts must be an integer >= 2, got {n_contracts!r}")

    days = vix.index.values.astype("datetime64[D]")
    months = pd.period_range(
        vix.index[0].to_period("M") - 1, vix.index[-1].to_period("M") + n_contracts + 1, freq="M"
    )
    expiries = np.array([np.datetime64(vx_settlement_date(p.year, p.month).date()) for p in months])
    first_live = np.searchsorted(expiries, days, side="left")  # nearest contract not yet settled
    level = vix.to_numpy(float)
    parts = []
    for j, (period, expiry) in enumerate(zip(months, expiries, strict=True)):
        live = np.flatnonzero((days <= expiry) & (j - first_live < n_contracts))
        if live.size == 0:
            continue
        tau = business_days_to_settlement(days[live], np.repeat(expiry, live.size)) / 252.0
        shocks = rng.standard_normal(live.size) * noise_sd
        u = np.empty(live.size)
        u[0] = shocks[0] / np.sqrt(1.0 - noise_ar**2)
        for k in range(1, live.size):
            u[k] = noise_ar * u[k - 1] + shocks[k]
        log_gap = np.log(level[live] / long_term) * np.exp(-kappa * tau)
        settle = (
            long_term * np.exp(log_gap)
            + premium * (1.0 - np.exp(-tau / premium_tau))
            + (1.0 - np.exp(-tau / noise_tau)) * u
        )
        parts.append(
            pd.DataFrame(
                {
                    "trade_date": vix.index[live],
                    "contract": contract_label(period.year, period.month),
                    "expiry": pd.Timestamp(expiry),
                    "settle": np.round(settle, 4),
                }
            )
        )
    curves = pd.concat(parts, ignore_index=True).sort_values(["trade_date", "expiry"])
    if (curves["settle"] <= 0).any():
        raise ValueError("the simulation produced non-positive prices: lower noise_sd")
    return curves.reset_index(drop=True)


# --------------------------------------------------------------------------- front contract


def check_curves(curves: pd.DataFrame) -> pd.DataFrame:
    """Validate a tidy VX frame (:data:`CURVE_COLUMNS`); return a sorted copy of those columns.

    Raises:
        DataIntegrityError: missing columns, NaN, non-positive settles, a repeated (contract,
            trade date) pair, or trade dates after the expiry.
    """
    missing = [c for c in CURVE_COLUMNS if c not in curves.columns]
    if missing:
        raise DataIntegrityError(f"VX frame lacks column(s) {missing}")
    frame = curves[CURVE_COLUMNS].copy()
    if frame.isna().any().any():
        raise DataIntegrityError("VX frame holds NaN values")
    if (frame["settle"] <= 0).any():
        raise DataIntegrityError("VX frame holds non-positive settlement prices")
    if frame.duplicated(["expiry", "trade_date"]).any():
        raise DataIntegrityError("VX frame repeats a (contract, trade date) pair")
    if (frame["trade_date"] > frame["expiry"]).any():
        raise DataIntegrityError("VX frame has trade dates after a contract's settlement date")
    return frame.sort_values(["trade_date", "expiry"], ignore_index=True)


def front_contract_panel(curves: pd.DataFrame, vix: pd.Series, es: pd.Series, *, min_tts: int):
    """Daily panel of the front VX contract (Book §2.2) and the wide table of settlements.

    The front contract of a day is the nearest one with at least ``min_tts`` business days to
    settlement (Simon & Campasano skip the last two weeks). The daily roll is left to the caller.

    Args:
        curves: tidy VX frame (:data:`CURVE_COLUMNS`, settle in VIX points).
        vix, es: VIX close and ES (or proxy) price, date-indexed Series (index points).
        min_tts: minimum business days to settlement of the front contract (integer >= 1).

    Returns:
        ``(panel, settles)``. ``panel`` is indexed by the dates present in all three inputs
        (named ``date``), columns ``contract, expiry, tts`` (business days to settlement),
        ``front`` (its settle), ``second`` (the next contract's settle, NaN if none), ``vix``,
        ``es``, ``dvx`` (change from the previous date to this one of the previous date's front
        contract, VIX points: no jump at a contract switch), ``es_pct`` (ES change over the same
        day, PERCENT) and ``tts_dvx`` (business days to settlement, on this date, of the contract
        whose change ``dvx`` is; equals ``tts`` except on the day after a switch). ``settles`` is
        dates x expiry (settle, VIX points).

    Raises:
        DataIntegrityError: bad ``curves`` (see :func:`check_curves`), fewer than 2 common
            dates, a date without a contract of ``min_tts`` days, or a front contract missing
            on the next date.
        ValueError: ``min_tts`` not an integer >= 1.
    """
    if not (isinstance(min_tts, (int, np.integer)) and min_tts >= 1):
        raise ValueError(f"min_tts must be an integer >= 1, got {min_tts!r}")
    frame = check_curves(curves)
    dates = pd.DatetimeIndex(frame["trade_date"].unique()).intersection(vix.dropna().index)
    dates = dates.intersection(es.dropna().index).sort_values()
    if len(dates) < 2:
        raise DataIntegrityError("VX, VIX and ES have fewer than 2 dates in common")
    frame = frame[frame["trade_date"].isin(dates)].copy()
    frame["tts"] = business_days_to_settlement(frame["trade_date"], frame["expiry"])
    eligible = frame[frame["tts"] >= min_tts]
    front = eligible.loc[eligible.groupby("trade_date")["expiry"].idxmin()].set_index("trade_date")
    lacking = dates.difference(front.index)
    if len(lacking):
        raise DataIntegrityError(
            f"{len(lacking)} dates have no contract with >= {min_tts} business days to settlement "
            f"(first {[str(d.date()) for d in lacking[:3]]}): a contract file is missing"
        )
    settles = frame.pivot(index="trade_date", columns="expiry", values="settle").reindex(dates)
    grid, expiries = settles.to_numpy(), np.array(settles.columns)
    front = front.reindex(dates)
    col = np.searchsorted(expiries, front["expiry"].to_numpy())
    nxt = np.minimum(col + 1, grid.shape[1] - 1)
    second = np.where(col + 1 < grid.shape[1], grid[np.arange(len(dates)), nxt], np.nan)
    dvx = np.full(len(dates), np.nan)
    dvx[1:] = grid[np.arange(1, len(dates)), col[:-1]] - grid[np.arange(len(dates) - 1), col[:-1]]
    gaps = np.flatnonzero(np.isnan(dvx[1:])) + 1
    if gaps.size:
        raise DataIntegrityError(
            "the front contract has no settlement on the next date at "
            f"{[str(dates[k].date()) for k in gaps[:3]]}"
        )
    tts_dvx = np.full(len(dates), np.nan)
    tts_dvx[1:] = business_days_to_settlement(dates[1:], expiries[col[:-1]])
    panel = pd.DataFrame(
        {
            "contract": front["contract"],
            "expiry": front["expiry"],
            "tts": front["tts"].astype(int),
            "front": front["settle"],
            "second": second,
            "vix": vix.reindex(dates),
            "es": es.reindex(dates),
            "dvx": dvx,
            "es_pct": 100.0 * es.reindex(dates).pct_change(),
            "tts_dvx": tts_dvx,
        },
        index=dates.rename("date"),
    )
    return panel, settles


def plot_term_structure(curves: pd.DataFrame, panel: pd.DataFrame, *, label: str):
    """Two panels: the VX curve on three dates, and the front and next contract against the VIX.

    Left: the curve on the days of the lowest, the median and the highest VIX of ``panel``,
    plotted against business days to settlement with the VIX itself at 0. Right: the front
    contract's settle, the next contract's and the VIX over time.

    Args:
        curves: tidy VX frame (:data:`CURVE_COLUMNS`, settle in VIX points).
        panel: :func:`front_contract_panel`'s panel (columns ``vix``, ``front``, ``second``).
        label: data description put in front of both titles (e.g. ``"SIMULATION"``).

    Returns:
        the matplotlib Figure (not shown: call ``plt.show()``).
    """
    import matplotlib.pyplot as plt

    from common.plotting import format_date_axis

    fig, (ax_c, ax_t) = plt.subplots(1, 2, figsize=(12, 4.5), gridspec_kw={"width_ratios": [1, 2]})
    median_day = (panel["vix"] - panel["vix"].median()).abs().idxmin()
    days = {"lowest VIX": panel["vix"].idxmin(), "median VIX": median_day}
    for name, day in {**days, "highest VIX": panel["vix"].idxmax()}.items():
        rows = curves[curves["trade_date"] == day]
        x = np.concatenate([[0], business_days_to_settlement(rows["trade_date"], rows["expiry"])])
        y = np.concatenate([[panel.at[day, "vix"]], rows["settle"].to_numpy()])
        ax_c.plot(x, y, marker="o", markersize=3, label=f"{day:%Y-%m-%d} ({name})")
    ax_c.set_xlabel("Business days to settlement (0 = VIX)")
    ax_c.set_ylabel("Price (VIX points)")
    ax_c.set_title(f"{label}: VX curves on three dates")
    ax_c.legend(fontsize=8)
    for column, name in [("vix", "VIX (real)"), ("front", "front VX"), ("second", "next VX")]:
        ax_t.plot(panel.index, panel[column], linewidth=0.8, label=name)
    ax_t.set_xlabel("Date")
    ax_t.set_ylabel("Price (VIX points)")
    ax_t.set_title(f"{label}: front and next VX contract vs the VIX")
    ax_t.legend()
    format_date_axis(ax_t, panel.index)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- backtest bookkeeping


def summarize_backtest(trades: pd.DataFrame, daily: pd.DataFrame, *, periods: int = 252) -> dict:
    """One table row for a backtest in dollars per contract.

    Args:
        trades: one row per trade with ``side`` (-1 short, +1 long) and ``pnl`` ($ after costs).
        daily: the daily book, columns ``pnl`` ($ after costs) and ``costs`` ($, >= 0).
        periods: trading days per year for the Sharpe ratio.

    Returns:
        dict: ``trades``, ``short / long`` (counts as text), ``hit rate`` (share of trades with
        pnl > 0), ``mean $ per trade``, ``total $``, ``total $ before costs``, ``Sharpe (ann.)``
        (of the daily $ P&L: mean / std with ddof 1, x sqrt(periods), no risk-free rate: the
        position needs only margin) and ``max drawdown $`` (the deepest fall of the cumulative
        P&L below its running peak, the peak counted from 0, i.e. from the start capital).
    """
    cumulative = daily["pnl"].cumsum()
    return {
        "trades": len(trades),
        "short / long": f"{(trades['side'] < 0).sum()} / {(trades['side'] > 0).sum()}",
        "hit rate": (trades["pnl"] > 0).mean(),
        "mean $ per trade": trades["pnl"].mean(),
        "total $": daily["pnl"].sum(),
        "total $ before costs": daily["pnl"].sum() + daily["costs"].sum(),
        "Sharpe (ann.)": metrics.sharpe_ratio(daily["pnl"], periods=periods),
        "max drawdown $": (cumulative - cumulative.cummax().clip(lower=0)).min(),
    }


def pnl_breakdown(daily: pd.DataFrame, *, periods: int = 252) -> dict:
    """Where a daily book's dollars came from: the VX leg, the ES leg and the costs.

    Args:
        daily: columns ``vx_pnl``, ``es_pnl``, ``costs`` (>= 0) and ``pnl`` ($ per contract).
        periods: trading days per year for the Sharpe ratio.

    Returns:
        dict: ``VX leg $``, ``ES leg $``, ``costs $`` (negative: paid), ``total $`` and
        ``Sharpe (ann.)`` of the daily ``pnl`` (ddof 1, x sqrt(periods)).
    """
    return {
        "VX leg $": daily["vx_pnl"].sum(),
        "ES leg $": daily["es_pnl"].sum(),
        "costs $": -daily["costs"].sum(),
        "total $": daily["pnl"].sum(),
        "Sharpe (ann.)": metrics.sharpe_ratio(daily["pnl"], periods=periods),
    }


def simulate_scenarios(
    vix: pd.Series, scenarios: dict, run, *, n_paths: int, seed: int, profit: str = "total $"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rerun a pipeline on ``n_paths`` SIMULATED curves under each set of assumptions.

    Path ``s`` of every scenario draws from ``numpy.random.default_rng([seed, s])``, so the
    scenarios share their random numbers and differ only by their parameters.

    Args:
        vix: the VIX path the curves are built around (see :func:`simulate_vx_curves`).
        scenarios: name -> keyword arguments of :func:`simulate_vx_curves` (without ``rng``).
        run: ``run(curves) -> dict`` of numbers for one simulated curve.
        n_paths: simulated curves per scenario (integer >= 1).
        seed: integer >= 0.
        profit: the key of ``run``'s result whose sign counts a path as profitable.

    Returns:
        ``(runs, summary)``: one row per (scenario, path) with a ``scenario`` column and
        ``run``'s keys; and per scenario (in the given order) the median of each key, prefixed
        ``"median "``, ``paths`` and ``share with profit`` (share of paths with ``profit`` > 0).

    Raises:
        ValueError: no scenario, ``n_paths`` < 1, or ``profit`` not among ``run``'s keys.
    """
    if not scenarios:
        raise ValueError("simulate_scenarios: scenarios is empty")
    if not (isinstance(n_paths, (int, np.integer)) and n_paths >= 1):
        raise ValueError(f"n_paths must be an integer >= 1, got {n_paths!r}")
    rows = [
        {
            "scenario": name,
            **run(simulate_vx_curves(vix, rng=np.random.default_rng([seed, s]), **kw)),
        }
        for name, kw in scenarios.items()
        for s in range(n_paths)
    ]
    runs = pd.DataFrame(rows)
    if profit not in runs.columns:
        raise ValueError(
            f"profit must name one of run's results {list(runs.columns[1:])}, got {profit!r}"
        )
    by = runs.groupby("scenario", sort=False)
    summary = by.median().add_prefix("median ")
    summary["paths"] = by.size()
    summary["share with profit"] = by[profit].apply(lambda x: (x > 0).mean())
    return runs, summary
