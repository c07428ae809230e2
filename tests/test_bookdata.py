"""Tests of common.bookdata: the parsers of the book's companion data files.

Values are checked against the raw file text (read here independently of the parsers) or
against numbers the book prints (Book §1.1). Tests that need a cached file skip when the cache
is not seeded and there is no network.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from common import bookdata
from common.data import DataIntegrityError, NetworkUnavailableError, UnknownDatasetError, fetch


def _path(key):
    try:
        return fetch(key)
    except NetworkUnavailableError as err:
        pytest.skip(f"data cache not seeded and no network: {err}")


def _call(func, *args, **kwargs):
    try:
        return func(*args, **kwargs)
    except NetworkUnavailableError as err:
        pytest.skip(f"data cache not seeded and no network: {err}")


def _assert_clean_index(obj):
    idx = obj.index
    assert isinstance(idx, pd.DatetimeIndex)
    assert idx.name == "date"
    assert idx.tz is None
    assert idx.is_monotonic_increasing and idx.is_unique
    assert (idx == idx.normalize()).all()


def _raw_value(key, date_prefix, column):
    """Value of ``column`` on the line starting with ``date_prefix``, read as text."""
    lines = _path(key).read_text(encoding="utf-8-sig").splitlines()
    header = [c.strip() for c in lines[0].split(",")]
    if column not in header:  # French file: the header is further down
        start = next(i for i, ln in enumerate(lines) if ln.replace(" ", "").startswith(",Mkt-RF"))
        header = [c.strip() for c in lines[start].split(",")]
    line = next(ln for ln in lines if ln.startswith(date_prefix))
    return float(line.split(",")[header.index(column)])


# --------------------------------------------------------------------------- closes
@pytest.fixture(scope="module")
def spy():
    return _call(bookdata.load_close, "SPY_last_100_days")


def test_spy_close_matches_book(spy):
    assert spy.name == "SPY"
    assert spy.dtype == np.float64
    assert len(spy) == 75
    assert spy.index[0] == pd.Timestamp("2023-08-25")
    assert spy.index[-1] == pd.Timestamp("2023-12-11")
    assert spy.loc["2023-08-25"] == pytest.approx(436.653168, abs=1e-6)  # Book §1.1
    _assert_clean_index(spy)


def test_spy_returns_match_book_printout(spy):
    r = spy.pct_change()
    # the three returns the book prints, to its 4 decimals (Book §1.1)
    for day, book in [("2023-09-12", -0.0055), ("2023-09-13", 0.0012), ("2023-12-11", 0.0039)]:
        assert round(r.loc[day], 4) == book


def test_mixed_utc_offsets_keep_local_date(spy):
    key = "book/chapter01/SPY_last_100_days.csv"
    text = _path(key).read_text()
    assert "-04:00" in text and "-05:00" in text  # the quirk the parser exists for
    raw = pd.read_csv(_path(key))
    with pytest.raises(ValueError):
        pd.to_datetime(raw["Date"])
    expected = pd.DatetimeIndex(raw["Date"].str.slice(0, 10))
    assert (spy.index == expected).all()


def test_bil_full_history_keeps_close_only():
    bil = _call(bookdata.load_close, "BIL.csv")  # the .csv suffix is accepted
    assert isinstance(bil, pd.Series) and bil.name == "BIL"
    assert len(bil) == 4168
    assert bil.index[0] == pd.Timestamp("2007-05-30")
    assert bil.index[-1] == pd.Timestamp("2023-12-15")
    # the last line also holds Excel scratch numbers 0.000327498, 0.082529394: not the close
    assert bil.iloc[-1] == pytest.approx(91.62999725341797, abs=1e-12)
    _assert_clean_index(bil)


def test_bil_last_100_days_shares_spy_dates(spy):
    bil = _call(bookdata.load_close, "BIL_last_100_days")
    assert bil.index.equals(spy.index)
    assert bil.loc["2023-12-11"] == pytest.approx(91.55000305175781, abs=1e-12)


def test_unknown_close_name_is_rejected():
    with pytest.raises(UnknownDatasetError, match="SPY_last_100_days"):
        bookdata.load_close("QQQ")
    with pytest.raises(UnknownDatasetError):
        bookdata.load_book_returns("SPY_last_100_days")


# --------------------------------------------------------------------------- book returns, MA
def test_book_returns_equal_pct_change(spy):
    book = _call(bookdata.load_book_returns, "SPY_returns_last_100_days")
    assert book.name == "SPY" and len(book) == 75
    assert np.isnan(book.iloc[0])
    np.testing.assert_allclose(book.iloc[1:], spy.pct_change().iloc[1:], rtol=0, atol=1e-12)
    bil_book = _call(bookdata.load_book_returns, "BIL_returns_last_100_days")
    assert bil_book.loc["2023-12-11"] == pytest.approx(0.00021855427431138885, abs=1e-15)


def test_bil_ma20_matches_recomputation():
    ma = _call(bookdata.load_bil_ma20)
    bil = _call(bookdata.load_close, "BIL")
    assert ma.name == "20-Day MA"
    assert ma.index.equals(bil.index)
    assert ma.isna().sum() == 20 and ma.iloc[:20].isna().all()
    ours = (bil.pct_change() * 252).rolling(20).mean()
    np.testing.assert_allclose(ma.iloc[20:], ours.iloc[20:], rtol=0, atol=1e-8)
    assert ma.iloc[-1] == pytest.approx(0.0534985327669689, abs=1e-15)
    assert ma.loc["2007-06-27"] == pytest.approx(0.04396807219663255, abs=1e-15)


# --------------------------------------------------------------------------- indices
@pytest.fixture(scope="module")
def indices():
    return _call(bookdata.load_indices)


def test_indices_layout_and_values(indices):
    assert list(indices.columns) == ["A Index", "B Index", "C Index", "D Index"]
    assert indices.shape == (6221, 4)
    assert (indices.dtypes == np.float64).all()
    assert indices.index[0] == pd.Timestamp("2000-01-03")
    assert indices.index[-1] == pd.Timestamp("2023-11-06")
    assert indices.iloc[0].isna().all()  # '#N/A N/A' in the sheet
    np.testing.assert_array_equal(
        indices.loc["2023-11-06"].to_numpy(), [276.14, 1783.52, 2797.02, 317.4328]
    )
    # Indices.csv is the sheet saved as text: the same numbers on the same dates
    raw = pd.read_csv(_path("book/chapter01/Indices.csv"), header=None, dtype=str)
    row = raw[raw[3] == "1/4/2010"].iloc[0, 4:8].astype(float).to_numpy()
    np.testing.assert_array_equal(row, indices.loc["2010-01-04"].to_numpy())
    _assert_clean_index(indices)


def test_indices_daily_returns_file(indices):
    book = _call(bookdata.load_indices_daily_returns)
    key = "book/chapter01/Indices_daily_returns.csv"
    assert list(book.columns) == list(indices.columns)
    assert book.index.equals(indices.index)
    assert book.loc["2023-11-06", "D Index"] == _raw_value(key, "2023-11-06", "D Index")
    ours = indices.pct_change(fill_method=None)
    pd.testing.assert_frame_equal(ours, book, check_exact=False, rtol=0, atol=1e-12)
    _assert_clean_index(book)


# --------------------------------------------------------------------------- ETFs
def test_etf_closes_default_drop():
    etf = _call(bookdata.load_etf_closes)
    assert list(etf.columns) == ["EWC", "EWG", "EWJ", "EWQ", "EWU", "EWY"]
    assert etf.shape == (2500, 6)
    assert not etf.isna().any().any()
    assert etf.index[0] == pd.Timestamp("2005-05-12")
    assert etf.index[-1] == pd.Timestamp("2015-04-17")
    assert etf.loc["2005-05-12", "EWC"] == 1412.0
    assert etf.loc["2015-04-17", "EWY"] == 6102.0
    _assert_clean_index(etf)


def test_etf_closes_keep_all_and_bad_drop():
    etf = _call(bookdata.load_etf_closes, drop=None)
    assert etf.shape == (2500, 8)
    assert etf["EWZ"].isna().sum() == 2253 and etf["FXI"].notna().all()
    assert etf.loc["2015-04-17", "FXI"] == 5003.0
    with pytest.raises(ValueError, match="SPY"):
        bookdata.load_etf_closes(drop=("SPY",))
    with pytest.raises(ValueError, match="every ticker"):
        bookdata.load_etf_closes(drop=bookdata.ETF_TICKERS)


# --------------------------------------------------------------------------- Ken French
def test_ken_french_daily_units():
    key = "book/chapter02/F-F_Research_Data_Factors_daily.CSV"
    pct = _call(bookdata.load_ken_french_daily, units="percent")
    frac = _call(bookdata.load_ken_french_daily)
    assert list(pct.columns) == ["Mkt-RF", "SMB", "HML", "RF"]
    assert pct.shape == (23615, 4)
    assert pct.index[0] == pd.Timestamp("1926-07-01")
    assert pct.index[-1] == pd.Timestamp("2015-11-30")
    for day, text_day in [("1926-07-01", "19260701"), ("2008-10-13", "20081013")]:
        for col in pct.columns:
            raw = _raw_value(key, text_day + ",", col)
            assert pct.loc[day, col] == raw
            assert frac.loc[day, col] == pytest.approx(raw / 100, abs=1e-15)
    assert pct.loc["2008-10-13", "Mkt-RF"] > 10  # the +11 % day of October 2008, in percent
    _assert_clean_index(frac)
    with pytest.raises(ValueError, match="units"):
        bookdata.load_ken_french_daily(units="bp")


# --------------------------------------------------------------------------- malformed files
def _fake_file(monkeypatch, tmp_path, text, name="fake.csv"):
    path = tmp_path / name
    path.write_text(text)
    monkeypatch.setattr(bookdata, "fetch", lambda key: path)


def test_duplicate_dates_are_rejected(monkeypatch, tmp_path):
    text = "Date,Close\n2023-08-25 00:00:00-04:00,1.0\n2023-08-25 00:00:00-04:00,2.0\n"
    _fake_file(monkeypatch, tmp_path, text)
    with pytest.raises(DataIntegrityError, match="duplicate"):
        bookdata.load_close("SPY_last_100_days")


def test_non_numeric_and_non_positive_prices_are_rejected(monkeypatch, tmp_path):
    _fake_file(monkeypatch, tmp_path, "Date,Close\n2023-08-25,1.0\n2023-08-28,abc\n")
    with pytest.raises(DataIntegrityError, match="abc"):
        bookdata.load_close("SPY_last_100_days")
    _fake_file(monkeypatch, tmp_path, "Date,Close\n2023-08-25,1.0\n2023-08-28,-3\n")
    with pytest.raises(DataIntegrityError, match="positive"):
        bookdata.load_close("SPY_last_100_days")


def test_missing_column_and_bad_date_are_rejected(monkeypatch, tmp_path):
    _fake_file(monkeypatch, tmp_path, "Date,Price\n2023-08-25,1.0\n")
    with pytest.raises(DataIntegrityError, match="Close"):
        bookdata.load_close("SPY_last_100_days")
    _fake_file(monkeypatch, tmp_path, "Date,Close\nnot a date,1.0\n")
    with pytest.raises(DataIntegrityError, match="date"):
        bookdata.load_close("SPY_last_100_days")


def test_french_file_without_header_is_rejected(monkeypatch, tmp_path):
    _fake_file(monkeypatch, tmp_path, "some text\n\n,Mkt,SMB\n19260701, 1, 2\n")
    with pytest.raises(DataIntegrityError, match="header"):
        bookdata.load_ken_french_daily()


def test_unsorted_file_is_returned_sorted(monkeypatch, tmp_path):
    text = "Date,Close\n2023-11-06 00:00:00-05:00,2.0\n2023-08-25 00:00:00-04:00,1.0\n"
    _fake_file(monkeypatch, tmp_path, text)
    s = bookdata.load_close("SPY_last_100_days")
    assert list(s.index) == [pd.Timestamp("2023-08-25"), pd.Timestamp("2023-11-06")]
    assert s.tolist() == [1.0, 2.0]
