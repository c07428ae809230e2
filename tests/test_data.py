"""Tests of common.data: registry downloads, packaged datasets, yfinance prices, readers' CSVs.

Every bad-input case checks the error class AND a phrase of its message. No test needs the
network: pooch's HTTP call and ``yfinance.download`` are replaced by fakes (one live test,
marked ``network``, runs only with GATAM_NETWORK_TESTS=1).
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from common import data
from common.data import (
    REGISTRY,
    DataError,
    DataIntegrityError,
    DataNotFoundError,
    NetworkUnavailableError,
    UnknownDatasetError,
    fetch,
    list_datasets,
    load_dataset,
    sha256_of,
)
from common.prices import load_prices, parse_dates, read_price_csv, validate_prices

SMALL_KEY = "book/chapter01/BIL_last_100_days.csv"  # 3 KB: the file the download fakes serve


def _files_under(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*"))


def _write(tmp_path: Path, text: str, name: str = "prices.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# =========================================================================== registry, fetch
def test_error_classes_are_data_errors_and_builtin_errors():
    assert issubclass(UnknownDatasetError, KeyError) and issubclass(UnknownDatasetError, DataError)
    assert issubclass(DataNotFoundError, FileNotFoundError)
    assert issubclass(DataIntegrityError, ValueError)
    assert issubclass(NetworkUnavailableError, ConnectionError)
    assert str(UnknownDatasetError("plain message")) == "plain message"


def test_registry_matches_shared_manifest():
    manifest = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "manifest.tsv"
    if not manifest.is_file():
        pytest.skip(f"no shared manifest at {manifest}")
    shared = pd.read_csv(manifest, sep="\t", dtype=str).set_index("key")
    ours = pd.DataFrame(REGISTRY.values()).set_index("key")
    assert sorted(ours.index) == sorted(shared.index)
    for col in ("url", "sha256"):
        assert (ours.loc[shared.index, col] == shared[col]).all(), col
    assert all(len(h) == 64 for h in ours["sha256"])


def test_fetch_unknown_key_lists_close_matches(tmp_cache):
    with pytest.raises(UnknownDatasetError, match="not a file of the data registry") as info:
        fetch("book/chapter01/BILL.csv")
    assert "Did you mean 'book/chapter01/BIL.csv'" in str(info.value)


def test_fetch_rejects_cached_file_with_wrong_hash(tmp_cache, monkeypatch):
    import pooch

    def no_download(*args, **kwargs):
        raise AssertionError("a cached file must not be downloaded again")

    monkeypatch.setattr(pooch, "retrieve", no_download)
    bad = tmp_cache / SMALL_KEY
    bad.parent.mkdir(parents=True)
    bad.write_text("Date,Close\n2023-08-25,1.0\n")
    with pytest.raises(DataIntegrityError, match="fails its integrity check") as info:
        fetch(SMALL_KEY)
    assert REGISTRY[SMALL_KEY]["sha256"] in str(info.value)
    assert bad.exists(), "the bad file is left for the user to inspect"


def test_fetch_without_network_explains_how_to_seed(tmp_cache, monkeypatch):
    import pooch
    import requests

    def offline(*args, **kwargs):
        raise requests.ConnectionError("Failed to resolve 'raw.githubusercontent.com'")

    monkeypatch.setattr(pooch, "retrieve", offline)
    with pytest.raises(NetworkUnavailableError, match="could not be downloaded") as info:
        fetch(SMALL_KEY)
    message = str(info.value)
    assert "GATAM_DATA_DIR" in message and str(tmp_cache / SMALL_KEY) in message
    assert _files_under(tmp_cache) == [], "a failed download leaves nothing in the cache"


class _FakeResponse:
    """What pooch's HTTP downloader needs from ``requests.get``."""

    def __init__(self, content: bytes, status: int = 200):
        self.content, self.status_code = content, status
        self.headers = {"content-length": str(len(content))}

    def raise_for_status(self):
        if self.status_code >= 400:
            import requests

            raise requests.HTTPError(f"{self.status_code} Client Error: Not Found")

    def iter_content(self, chunk_size=1024):
        for i in range(0, len(self.content), chunk_size):
            yield self.content[i : i + chunk_size]


def _serve(monkeypatch, content: bytes, status: int = 200) -> list[str]:
    """Make every HTTP GET answer ``content``; returns the list of URLs requested."""
    import requests

    urls: list[str] = []

    def fake_get(url, *args, **kwargs):
        urls.append(url)
        return _FakeResponse(content, status)

    monkeypatch.setattr(requests, "get", fake_get)
    return urls


def test_fetch_discards_a_download_that_fails_its_hash(tmp_cache, monkeypatch):
    urls = _serve(monkeypatch, b"Date,Close\n2023-08-25,1.0\n")  # not the registry's bytes
    with pytest.raises(DataIntegrityError, match="does not match its pinned SHA-256"):
        fetch(SMALL_KEY)
    assert urls == [REGISTRY[SMALL_KEY]["url"]], "pooch really downloaded (through the fake)"
    assert _files_under(tmp_cache) == [], "a mismatching download leaves nothing in the cache"


def test_fetch_http_error_is_not_found(tmp_cache, monkeypatch):
    _serve(monkeypatch, b"404: Not Found", status=404)
    with pytest.raises(DataNotFoundError, match="the server answered"):
        fetch(SMALL_KEY)
    assert _files_under(tmp_cache) == []


def test_fetch_downloads_verifies_and_then_reuses(seeded_cache, tmp_cache, monkeypatch):
    original = (seeded_cache / SMALL_KEY).read_bytes()
    urls = _serve(monkeypatch, original)
    path = fetch(SMALL_KEY)
    assert path == tmp_cache / SMALL_KEY
    assert sha256_of(path) == REGISTRY[SMALL_KEY]["sha256"]
    assert fetch(SMALL_KEY) == path
    assert len(urls) == 1, "the second call uses the cache"


def test_fetch_returns_every_seeded_file_verified(seeded_cache, monkeypatch):
    import pooch

    def no_download(*args, **kwargs):
        raise AssertionError("a seeded cache must not trigger downloads")

    monkeypatch.setattr(pooch, "retrieve", no_download)
    for key, entry in REGISTRY.items():
        path = fetch(key)
        assert path == seeded_cache / key
        assert path.stat().st_size == int(entry["bytes"])
        assert sha256_of(path) == entry["sha256"]


# =========================================================================== packaged datasets
DATASETS = list_datasets()


def test_list_datasets_describes_every_dataset():
    required = {"sp500_stocks", "sp500_index", "factor_etfs", "sp500_ohlc", "vix"}
    required |= {"ff3_monthly", "french_monthly", "us_macro_quarterly", "digits"}
    assert required <= set(DATASETS["name"])
    assert list(DATASETS.columns) == [
        "name", "description", "frequency", "start", "end", "rows", "units", "source",
    ]  # fmt: skip
    assert DATASETS["name"].is_unique
    assert (DATASETS[["description", "units", "source"]] != "").all().all()


@pytest.mark.parametrize("row", DATASETS.to_dict("records"), ids=list(DATASETS["name"]))
def test_packaged_dataset_loads_as_documented(row):
    frame = load_dataset(row["name"])
    assert isinstance(frame, pd.DataFrame)
    assert len(frame) == row["rows"]
    if row["name"] == "digits":
        assert isinstance(frame.index, pd.RangeIndex)
        return
    index = frame.index
    assert isinstance(index, pd.DatetimeIndex) and index.name == "date"
    assert index.tz is None and index.is_unique and index.is_monotonic_increasing
    assert str(index[0].date()) == row["start"] and str(index[-1].date()) == row["end"]
    assert (index == index.normalize()).all()
    assert frame.notna().any().all()


def test_price_datasets_have_the_documented_columns():
    stocks = load_dataset("sp500_stocks")
    assert stocks.shape[1] == 20 and {"AAPL", "MSFT", "XOM"} <= set(stocks.columns)
    assert list(load_dataset("sp500_index").columns) == ["SP500"]
    assert list(load_dataset("factor_etfs").columns) == ["MTUM", "QUAL", "SIZE", "USMV", "VLUE"]
    ohlc = load_dataset("sp500_ohlc")
    assert list(ohlc.columns) == ["Open", "High", "Low", "Close", "Adj Close", "Volume"]
    assert (ohlc["High"] >= ohlc["Low"]).all()
    for name in ("sp500_stocks", "sp500_index", "factor_etfs"):
        validate_prices(load_dataset(name), name=name)  # float, positive, sorted
    vix = load_dataset("vix")
    assert vix["vix"].notna().all() and vix["vix"].between(5, 100).all()


def test_french_units_and_month_end_dates_agree():
    ff3 = load_dataset("ff3_monthly")  # percent
    french = load_dataset("french_monthly")  # fraction
    assert list(ff3.columns) == ["Mkt-RF", "SMB", "HML", "RF"]
    assert {"MktRF", "SMB", "HML", "Mom", "RF", "NoDur", "S5M5"} <= set(french.columns)
    assert (ff3.index == ff3.index + pd.offsets.MonthEnd(0)).all()
    assert (french.index == french.index + pd.offsets.MonthEnd(0)).all()
    assert ff3["Mkt-RF"].std() > 1 and french["MktRF"].abs().max() < 1
    both = ff3.join(french[["MktRF", "RF"]].add_prefix("lm_"), how="inner")
    assert len(both) > 800
    # two vintages of Ken French's data: equal up to revisions once units agree and the
    # months line up (shifted by one month the correlation is about 0.08)
    assert np.corrcoef(both["Mkt-RF"], 100 * both["lm_MktRF"])[0, 1] > 0.99
    assert (both["RF"] - 100 * both["lm_RF"]).abs().median() < 0.01


def test_macro_is_quarterly_at_quarter_end():
    macro = load_dataset("us_macro_quarterly")
    assert "realgdp" in macro.columns and "year" not in macro.columns
    assert set(macro.index.month) == {3, 6, 9, 12}
    assert (macro.index == macro.index + pd.offsets.QuarterEnd(0)).all()
    assert macro.loc["1959-03-31", "realgdp"] == pytest.approx(2710.349)


def test_digits_frame():
    digits = load_dataset("digits")
    assert digits.shape == (1797, 65)
    assert digits.columns[0] == "pixel_0_0" and digits.columns[-1] == "target"
    pixels = digits.drop(columns="target")
    assert pixels.min().min() == 0 and pixels.max().max() == 16
    assert sorted(digits["target"].unique()) == list(range(10))


def test_load_dataset_name_is_forgiving_and_returns_a_copy():
    vix = load_dataset("VIX")
    vix.iloc[0, 0] = -1.0
    assert load_dataset("vix").iloc[0, 0] > 0


def test_unknown_dataset_lists_known_names():
    with pytest.raises(UnknownDatasetError, match="not a packaged dataset") as info:
        load_dataset("sp500_stock")
    message = str(info.value)
    assert "Did you mean 'sp500_stocks'" in message
    assert "Known names: sp500_stocks, sp500_index" in message


def test_import_of_common_data_stays_light():
    import subprocess
    import sys

    code = (
        "import sys, common.data; heavy = ['pandas', 'yfinance', 'skfolio', 'arch', 'pooch', "
        "'torch', 'sklearn']; print([m for m in heavy if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# =========================================================================== parse_dates
MIXED = ["2023-08-25 00:00:00-04:00", "2023-11-03 00:00:00-04:00", "2023-12-11 00:00:00-05:00"]


def test_parse_dates_mixed_utc_offsets_keep_the_local_date():
    # the pitfall: plain pandas refuses the mix (pandas 3) or leaves objects, not dates (pandas 2)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            plain = pd.to_datetime(pd.Series(MIXED))
    except ValueError:
        pass
    else:
        assert plain.dtype == object
    parsed = parse_dates(MIXED)
    assert isinstance(parsed, pd.DatetimeIndex) and parsed.tz is None and parsed.name == "date"
    assert list(parsed) == [pd.Timestamp(d) for d in ("2023-08-25", "2023-11-03", "2023-12-11")]
    # near midnight: converting to UTC would move the bar to the next day
    late = parse_dates(["2023-11-05 23:30:00-05:00", "2023-11-06T09:30:00+09:00"])
    assert list(late) == [pd.Timestamp("2023-11-05 23:30"), pd.Timestamp("2023-11-06 09:30")]


def test_parse_dates_formats():
    expected = [pd.Timestamp("2005-05-12"), pd.Timestamp("2005-05-13")]
    assert list(parse_dates([20050512, 20050513])) == expected  # CRSP tday integers
    assert list(parse_dates(np.array([20050512.0, 20050513.0]))) == expected
    assert list(parse_dates(["20050512", "20050513"])) == expected
    assert list(parse_dates(pd.Series(["2005-05-12", "2005-05-13"]))) == expected
    assert list(parse_dates(["05/12/2005", "05/13/2005"])) == expected
    assert list(parse_dates(["12/05/2005", "13/05/2005"], dayfirst=True)) == expected
    aware = pd.date_range("2023-03-10 16:00", periods=3, freq="D", tz="America/New_York")
    assert list(parse_dates(aware).hour) == [16, 16, 16]  # DST change on 03-12: wall clock kept


def test_parse_dates_rejects_bad_values():
    with pytest.raises(DataIntegrityError, match="not dates") as info:
        parse_dates(["2020-01-02", "garbage", "2020-13-01"])
    assert "position 1: 'garbage'" in str(info.value) and "'2020-13-01'" in str(info.value)
    with pytest.raises(DataIntegrityError, match="values are empty"):
        parse_dates(["2020-01-02", None, "2020-01-06"])
    with pytest.raises(DataIntegrityError, match="not dates"):
        parse_dates([2020010, 20200102])  # seven digits is not YYYYMMDD
    with pytest.raises(TypeError, match="sequence of dates"):
        parse_dates("2020-01-02")


# =========================================================================== validate_prices
def _frame(values, dates=("2024-01-02", "2024-01-03", "2024-01-04")):
    return pd.DataFrame({"A": values}, index=pd.DatetimeIndex(list(dates)))


def test_validate_prices_accepts_and_converts():
    out = validate_prices(_frame([1, 2, np.nan]), name="demo")
    assert out["A"].dtype == np.float64 and out.index.name == "date"
    assert np.isnan(out["A"].iloc[2])  # NaN = no price that day
    assert validate_prices(pd.Series([1.0, 2.0], index=pd.DatetimeIndex(["2024-01-02", "2024-01-03"]), name="B")).shape == (2, 1)  # fmt: skip


@pytest.mark.parametrize(
    ("frame", "phrase"),
    [
        (_frame([1.0, -2.0, 3.0]), "non-positive prices (A on 2024-01-03 = -2.0)"),
        (_frame([1.0, 0.0, 3.0]), "non-positive prices"),
        (_frame([1.0, np.inf, 3.0]), "infinite prices"),
        (_frame([np.nan] * 3), "no prices at all in columns ['A']"),
        (_frame(["1", "2", "x"]), "non-numeric prices in columns ['A']"),
        (_frame([1.0, 2.0, 3.0], dates=("2024-01-02", "2024-01-04", "2024-01-03")), "not sorted"),
        (_frame([1.0, 2.0, 3.0], dates=("2024-01-02", "2024-01-02", "2024-01-03")), "duplicate"),
        (_frame([1.0, 2.0, 3.0]).tz_localize("UTC"), "time zone"),
        (_frame([1.0, 2.0, 3.0]).reset_index(drop=True), "DatetimeIndex"),
        (_frame([1.0, 2.0, 3.0]).iloc[:0], "no prices"),
    ],
)
def test_validate_prices_rejects(frame, phrase):
    with pytest.raises(DataIntegrityError, match="^demo: ") as info:
        validate_prices(frame, name="demo")
    assert phrase in str(info.value)


def test_validate_prices_type_error():
    with pytest.raises(TypeError, match="expected a pandas DataFrame"):
        validate_prices([1.0, 2.0])


# =========================================================================== read_price_csv
def test_read_long_book_format(tmp_path):
    path = _write(
        tmp_path,
        "tday,syms,mid\n20070103,IBM,97.27\n20070103,MSFT,29.86\n"
        "20070104,IBM,98.31\n20070104,MSFT,29.81\n20070105,MSFT,29.64\n",
    )
    wide = read_price_csv(path)
    assert list(wide.columns) == ["IBM", "MSFT"]
    assert list(wide.index) == [pd.Timestamp(f"2007-01-0{d}") for d in (3, 4, 5)]
    assert wide.loc["2007-01-04", "IBM"] == 98.31
    assert np.isnan(wide.loc["2007-01-05", "IBM"])
    assert wide.dtypes.eq(np.float64).all() and wide.index.name == "date"


def test_read_long_with_named_columns_and_extras(tmp_path):
    path = _write(
        tmp_path,
        "ticker,date,close,volume\nAAA,2024-01-02,10,5\nBBB,2024-01-02,20,6\n"
        "AAA,2024-01-03,11,7\nBBB,2024-01-03,21,8\n",
    )
    wide = read_price_csv(path, tickers=["BBB"])
    assert list(wide.columns) == ["BBB"] and list(wide["BBB"]) == [20.0, 21.0]
    other = _write(tmp_path, "when,who,px_a,px_b\n2024-01-02,AAA,1,2\n", "other.csv")
    with pytest.raises(DataIntegrityError, match="which column holds the price"):
        read_price_csv(other, date_column="when")
    got = read_price_csv(other, date_column="when", ticker_column="who", price_column="px_b")
    assert got.loc["2024-01-02", "AAA"] == 2.0


def test_read_wide_with_mixed_offsets_and_selection(tmp_path):
    text = "Date,SPY,BIL,,\n" + "".join(
        f"{d},{100 + i},{90 + i / 10},,\n" for i, d in enumerate(MIXED)
    )
    wide = read_price_csv(_write(tmp_path, text))
    assert list(wide.columns) == ["SPY", "BIL"]  # empty 'Unnamed' columns dropped
    assert list(wide.index) == [pd.Timestamp(d[:10]) for d in MIXED]
    part = read_price_csv(_write(tmp_path, text), tickers="BIL", start="2023-11-03")
    assert list(part.columns) == ["BIL"] and len(part) == 2
    assert len(read_price_csv(_write(tmp_path, text), end="2023-11-03")) == 2  # end inclusive


def test_read_book_files(seeded_cache):
    spy = read_price_csv(seeded_cache / "book/chapter01/SPY_last_100_days.csv")
    assert spy.shape == (75, 1) and list(spy.columns) == ["Close"]
    assert spy.index[0] == pd.Timestamp("2023-08-25") and spy.index[-1] == pd.Timestamp(
        "2023-12-11"
    )
    assert spy.iloc[0, 0] == pytest.approx(436.653168, abs=1e-6)  # Book §1.1
    etf = read_price_csv(seeded_cache / "book/chapter01/inputDataOHLCDaily_ETF_20150417.csv")
    assert etf.shape == (2500, 8) and etf["EWZ"].notna().sum() == 247
    assert etf.index[0] == pd.Timestamp("2005-05-12") and etf.index[-1] == pd.Timestamp(
        "2015-04-17"
    )


def test_read_missing_and_empty_files(tmp_path):
    with pytest.raises(DataNotFoundError, match="does not exist"):
        read_price_csv(tmp_path / "nope.csv")
    with pytest.raises(DataNotFoundError, match="is empty"):
        read_price_csv(_write(tmp_path, ""))
    with pytest.raises(DataNotFoundError, match="no rows"):
        read_price_csv(_write(tmp_path, "date,A\n"))


@pytest.mark.parametrize(
    ("text", "phrases"),
    [
        ("ticker,price\nAAA,1.0\nBBB,2.0\n", ["found no date column", "date_column="]),
        (
            "date,A\n2024-01-02,1\n2024-13-45,2\n2024-01-04,3\n",
            ["unparseable dates in column 'date'", "line 3: '2024-13-45'"],
        ),
        ("date,A\n2024-01-02,1\n,2\n", ["no date", "line 3"]),
        ("date,A\n2024-01-02,1\n2024-01-03,2\n2024-01-03,3\n", ["duplicate dates", "line 4"]),
        (
            "date,ticker,price\n2024-01-02,A,1\n2024-01-02,B,1\n2024-01-02,A,2\n",
            ["duplicate dates for a ticker", "A 2024-01-02 (line 2)", "(line 4)"],
        ),
        (
            "date,A\n2024-01-03,1\n2024-01-02,2\n",
            ["dates are not sorted: 2024-01-03 (line 2) comes before 2024-01-02", "sort=True"],
        ),
        (
            "date,ticker,price\n2024-01-02,A,1\n2024-01-03,A,2\n2024-01-01,A,3\n",
            ["not sorted for ticker 'A'", "line 4"],
        ),
        ("date,A\n2024-01-02,1.5\n2024-01-03,abc\n", ["non-numeric prices", "line 3: 'abc'"]),
        ("date,A\n2024-01-02,1.5\n2024-01-03,-1.5\n", ["non-positive prices", "-1.5"]),
        ("date,A\n2024-01-02,1.5\n2024-01-03,0\n", ["non-positive prices", "A on 2024-01-03"]),
    ],
    ids=[
        "no-date-column",
        "unparseable",
        "empty-date",
        "duplicate",
        "duplicate-long",
        "unsorted",
        "unsorted-long",
        "non-numeric",
        "negative",
        "zero",
    ],  # fmt: skip
)
def test_read_rejects_bad_files(tmp_path, text, phrases):
    path = _write(tmp_path, text)
    with pytest.raises(DataIntegrityError) as info:
        read_price_csv(path)
    message = str(info.value)
    assert message.startswith(str(path)), "the message names the file"
    for phrase in phrases:
        assert phrase in message


def test_read_sort_true_sorts_but_still_rejects_duplicates(tmp_path):
    wide = read_price_csv(_write(tmp_path, "date,A\n2024-01-03,1\n2024-01-02,2\n"), sort=True)
    assert list(wide["A"]) == [2.0, 1.0] and wide.index.is_monotonic_increasing
    with pytest.raises(DataIntegrityError, match="duplicate dates"):
        read_price_csv(_write(tmp_path, "date,A\n2024-01-03,1\n2024-01-03,2\n"), sort=True)


def test_read_rejects_empty_selection_and_unknown_ticker(tmp_path):
    path = _write(tmp_path, "date,AAPL,MSFT\n2024-01-02,1,2\n2024-01-03,1,2\n")
    with pytest.raises(DataIntegrityError, match="no prices left between 2025-01-01") as info:
        read_price_csv(path, start="2025-01-01")
    assert "covers 2024-01-02..2024-01-03" in str(info.value)
    with pytest.raises(ValueError, match="empty date range"):
        read_price_csv(path, start="2024-01-03", end="2024-01-02")
    with pytest.raises(UnknownDatasetError, match="no ticker 'APPL'") as info:
        read_price_csv(path, tickers=["APPL"])
    assert "Did you mean 'AAPL'" in str(info.value)
    with pytest.raises(ValueError, match="price_column applies to long files"):
        read_price_csv(path, price_column="AAPL")


# =========================================================================== load_prices
def _yf_frame(prices: dict[str, list[float]], dates: list[str]) -> pd.DataFrame:
    """A frame shaped like ``yfinance.download(..., multi_level_index=True)``'s answer."""
    fields = ["Close", "High", "Low", "Open", "Volume"]
    columns = pd.MultiIndex.from_product([fields, list(prices)], names=["Price", "Ticker"])
    index = pd.DatetimeIndex(dates, name="Date")
    out = pd.DataFrame(index=index, columns=columns, dtype="float64")
    for ticker, values in prices.items():
        for field in fields:
            out[(field, ticker)] = values
    return out


@pytest.fixture
def fake_yf(monkeypatch):
    """Replace ``yfinance.download``; ``fake_yf.answer`` is returned (or raised if an error)."""
    import yfinance

    class Fake:
        answer = None
        calls: list[tuple] = []
        log: str | None = None

        def __call__(self, tickers, **kwargs):
            self.calls.append((tickers, kwargs))
            if self.log:
                logging.getLogger("yfinance").error(self.log)
            if isinstance(self.answer, Exception):
                raise self.answer
            return self.answer

    fake = Fake()
    fake.calls = []
    monkeypatch.setattr(yfinance, "download", fake)
    return fake


DAYS = ["2023-08-25", "2023-08-28", "2023-08-29"]


def test_load_prices_downloads_then_uses_the_cache(tmp_cache, fake_yf):
    fake_yf.answer = _yf_frame({"BIL": [90.1, 90.2, 90.3], "SPY": [436.6, 439.4, 445.8]}, DAYS)
    prices = load_prices(["spy", "BIL"], "2023-08-25", "2023-08-29")
    assert list(prices.columns) == ["SPY", "BIL"]  # the order asked for, upper case
    assert prices.loc["2023-08-28", "SPY"] == 439.4 and prices.index.name == "date"
    tickers, kwargs = fake_yf.calls[0]
    assert sorted(tickers) == ["BIL", "SPY"] and kwargs["auto_adjust"] is True
    assert kwargs["start"] == "2023-08-25" and kwargs["end"] == "2023-08-30"  # end inclusive
    cached = list((tmp_cache / "prices").glob("*.csv"))
    assert len(cached) == 1

    fake_yf.answer = ConnectionError("must not be called: the cache has it")
    again = load_prices(["SPY", "BIL"], "2023-08-25", "2023-08-29")
    pd.testing.assert_frame_equal(again, prices, check_exact=True, check_index_type=False)
    assert len(fake_yf.calls) == 1

    with pytest.raises(NetworkUnavailableError):  # refresh=True downloads again
        load_prices(["SPY", "BIL"], "2023-08-25", "2023-08-29", refresh=True)


def test_load_prices_cache_false_writes_nothing(tmp_cache, fake_yf):
    fake_yf.answer = _yf_frame({"SPY": [1.0, 2.0, 3.0]}, DAYS)
    assert load_prices("SPY", "2023-08-25", "2023-08-29", cache=False).shape == (3, 1)
    assert _files_under(tmp_cache) == []


def test_load_prices_offline_exception(tmp_cache, fake_yf):
    import requests

    fake_yf.answer = requests.ConnectionError("Failed to resolve 'query2.finance.yahoo.com'")
    with pytest.raises(NetworkUnavailableError, match="no network") as info:
        load_prices("SPY", "2023-08-25", "2023-12-11")
    message = str(info.value)
    assert "read_price_csv" in message and "offline default" in message
    assert not (tmp_cache / "prices").exists() or _files_under(tmp_cache / "prices") == []


def test_load_prices_offline_empty_frame_with_logged_error(tmp_cache, fake_yf):
    # what yfinance 1.x does without network: log the failure, return an empty frame
    fake_yf.answer = _yf_frame({"SPY": []}, [])
    fake_yf.log = "['SPY']: DNSError('Failed to perform, curl: (6) Could not resolve host')"
    with pytest.raises(NetworkUnavailableError, match="run this cell once with internet"):
        load_prices("SPY", "2023-08-25", "2023-12-11")


def test_load_prices_unknown_ticker(tmp_cache, fake_yf):
    fake_yf.answer = _yf_frame({"SPY": [1.0, 2.0, 3.0], "NOSUCHTKR": [np.nan] * 3}, DAYS)
    fake_yf.log = "$NOSUCHTKR: possibly delisted; no timezone found"
    with pytest.raises(UnknownDatasetError, match="no prices for 'NOSUCHTKR'") as info:
        load_prices(["SPY", "NoSuchTkr"], "2023-08-25", "2023-08-29")
    assert "'SPY'" not in str(info.value) and "possibly delisted" in str(info.value)
    assert _files_under(tmp_cache) == [] or _files_under(tmp_cache / "prices") == []


def test_load_prices_unknown_ticker_missing_column(tmp_cache, fake_yf):
    fake_yf.answer = _yf_frame({"SPY": [1.0, 2.0, 3.0]}, DAYS)
    with pytest.raises(UnknownDatasetError, match="'XYZQ'"):
        load_prices("SPY XYZQ", "2023-08-25", "2023-08-29")


def test_load_prices_bad_arguments(tmp_cache, fake_yf):
    with pytest.raises(ValueError, match="empty date range"):
        load_prices("SPY", "2023-12-11", "2023-08-25")
    with pytest.raises(ValueError, match="already split- and dividend-adjusted"):
        load_prices("SPY", "2023-08-25", field="Adj Close")
    with pytest.raises(ValueError, match="at least one ticker"):
        load_prices([], "2023-08-25")
    assert fake_yf.calls == [], "nothing is downloaded for bad arguments"


def test_load_prices_rejects_bad_data_and_damaged_cache(tmp_cache, fake_yf):
    fake_yf.answer = _yf_frame({"SPY": [1.0, -2.0, 3.0]}, DAYS)
    with pytest.raises(DataIntegrityError, match="non-positive prices"):
        load_prices("SPY", "2023-08-25", "2023-08-29")
    fake_yf.answer = _yf_frame({"SPY": [1.0, 2.0, 3.0]}, DAYS)
    load_prices("SPY", "2023-08-25", "2023-08-29")
    (cached,) = (tmp_cache / "prices").glob("*.csv")
    cached.write_text("date,SPY\n2023-08-25,oops\n")
    with pytest.raises(DataIntegrityError, match="damaged") as info:
        load_prices("SPY", "2023-08-25", "2023-08-29")
    assert "refresh=True" in str(info.value)


@pytest.mark.network
def test_load_prices_live(tmp_cache):
    prices = load_prices("SPY", "2023-08-25", "2023-12-11")
    assert prices.shape == (75, 1)  # the book's 75 trading days (Book §1.1)
    assert prices.index[0] == pd.Timestamp("2023-08-25")
    assert prices.index[-1] == pd.Timestamp("2023-12-11")


def test_cache_dir_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("GATAM_DATA_DIR", str(tmp_path / "elsewhere"))
    assert data.cache_dir() == tmp_path / "elsewhere" and (tmp_path / "elsewhere").is_dir()
    monkeypatch.delenv("GATAM_DATA_DIR")
    assert data.cache_dir() == data.REPO_ROOT / "data" / "cache"
