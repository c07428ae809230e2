"""Tests of common.prices: dates, validation, readers' CSV files, yfinance prices, sources.

Every bad-input case checks the error class AND a phrase of its message. No test needs the
network: ``yfinance.download`` is replaced by a fake (one live test, marked ``network``, runs
only with GATAM_NETWORK_TESTS=1).
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from common import prices
from common.data import (
    CacheDirectoryError,
    DataIntegrityError,
    DataNotFoundError,
    NetworkUnavailableError,
    UnknownDatasetError,
)
from common.prices import (
    load_price_source,
    load_prices,
    parse_dates,
    read_price_csv,
    validate_prices,
)


def _files_under(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*"))


def _write(tmp_path: Path, text: str, name: str = "prices.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


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


# ------------------------------------------------------------- European files, dates (issue 6)
EUROPEAN = "Datum;Schluss;Volumen\n02.01.2024;100,5;12000\n03.01.2024;101,25;13000\n"


def test_read_european_file_with_decimal_comma_and_dayfirst(tmp_path):
    path = _write(tmp_path, EUROPEAN)
    wide = read_price_csv(path, sep=";", decimal=",", dayfirst=True)
    assert list(wide.columns) == ["Schluss"]  # Volumen is a quantity, not a price
    assert list(wide["Schluss"]) == [100.5, 101.25]
    assert list(wide.index) == [pd.Timestamp("2024-01-02"), pd.Timestamp("2024-01-03")]
    same = read_price_csv(path, sep=";", decimal=",", date_format="%d.%m.%Y")
    pd.testing.assert_frame_equal(same, wide)


def test_read_european_file_ambiguous_dates_are_refused(tmp_path):
    path = _write(tmp_path, EUROPEAN)
    with pytest.raises(DataIntegrityError, match="dates are ambiguous") as info:
        read_price_csv(path, sep=";", decimal=",")
    message = str(info.value)
    assert message.startswith(f"{path}: column 'Datum'")
    assert "'02.01.2024' is 1 February or 2 January" in message
    assert "dayfirst=True" in message and "date_format='%d.%m.%Y'" in message
    us = read_price_csv(path, sep=";", decimal=",", dayfirst=False)  # the reader's choice
    assert list(us.index) == [pd.Timestamp("2024-02-01"), pd.Timestamp("2024-03-01")]


def test_read_european_file_never_becomes_a_long_file(tmp_path):
    # before: 'Schluss' (mostly text to pandas) was taken for tickers '100,5' and '101,25'
    path = _write(tmp_path, EUROPEAN)
    with pytest.raises(DataIntegrityError, match="non-numeric prices in column 'Schluss'") as info:
        read_price_csv(path, sep=";", dayfirst=True)
    message = str(info.value)
    assert "decimal=','" in message and "sep=';'" in message
    assert "Candidates" not in message and "ticker" not in message


def test_read_dayfirst_is_detected_when_the_values_show_it(tmp_path):
    dayfirst = _write(tmp_path, "Date,A\n02.01.2024,1\n15.01.2024,2\n", "d.csv")
    assert list(read_price_csv(dayfirst).index) == [
        pd.Timestamp("2024-01-02"),
        pd.Timestamp("2024-01-15"),
    ]
    monthfirst = _write(tmp_path, "Date,A\n01/02/2024,1\n01/15/2024,2\n", "m.csv")
    assert list(read_price_csv(monthfirst).index) == [
        pd.Timestamp("2024-01-02"),
        pd.Timestamp("2024-01-15"),
    ]
    same_day_and_month = _write(tmp_path, "Date,A\n01.01.2024,1\n02.02.2024,2\n", "s.csv")
    assert read_price_csv(same_day_and_month).index[1] == pd.Timestamp("2024-02-02")


def test_parse_dates_detects_dayfirst_and_refuses_ambiguity():
    assert list(parse_dates(["02.01.2024", "13.01.2024"])) == [
        pd.Timestamp("2024-01-02"),
        pd.Timestamp("2024-01-13"),
    ]
    assert list(parse_dates(["02/01/24", "02/13/24"])) == [
        pd.Timestamp("2024-02-01"),
        pd.Timestamp("2024-02-13"),
    ]
    with pytest.raises(DataIntegrityError, match="^parse_dates: the dates are ambiguous"):
        parse_dates(["02.01.2024", "03.01.2024"])
    assert parse_dates(["02.01.2024", "03.01.2024"], dayfirst=True)[1] == pd.Timestamp("2024-01-03")
    assert parse_dates(["2024-01-02", "2024-01-03"])[0] == pd.Timestamp("2024-01-02")  # ISO


def test_read_numbers_never_make_a_file_long(tmp_path):
    # prices with currency signs, thousands separators or decimal commas are numbers
    path = _write(tmp_path, 'date;A;B\n2024-01-02;"1.000,5";7,25\n2024-01-03;"1.001,5";7,5\n')
    wide = read_price_csv(path, sep=";", decimal=",", thousands=".")
    assert list(wide.columns) == ["A", "B"]
    assert list(wide["A"]) == [1000.5, 1001.5] and list(wide["B"]) == [7.25, 7.5]
    # tickers are still recognized by their values when no column is named like a ticker
    long = _write(tmp_path, "day,who,px\n2024-01-02,BRK.B,1\n2024-01-02,^GSPC,2\n", "l.csv")
    assert list(read_price_csv(long).columns) == ["BRK.B", "^GSPC"]


# ------------------------------------------------------------- duplicates, formats (issue 6)
@pytest.mark.parametrize(
    "header", ["Date,SPY,BIL,SPY", "Date,SPY,BIL, SPY", '"Date","SPY","BIL","SPY"']
)
def test_read_rejects_duplicate_column_names_before_pandas_renames_them(tmp_path, header):
    path = _write(tmp_path, header + "\n2024-01-02,1,2,3\n2024-01-03,1,2,3\n")
    with pytest.raises(DataIntegrityError, match="names the column 'SPY' twice") as info:
        read_price_csv(path)
    assert "columns 2 and 4" in str(info.value) and "SPY.1" not in str(info.value)


def test_read_blank_header_cells_are_not_duplicates(tmp_path):
    wide = read_price_csv(_write(tmp_path, "Date,Close,,,\n2024-01-02,1,,,\n"))
    assert list(wide.columns) == ["Close"]


def test_read_currency_symbols_are_dropped(tmp_path):
    path = _write(tmp_path, "Date,SPY,EWG\n2024-01-02,$100,101 €\n2024-01-03,US$ 102.5,€99\n")
    wide = read_price_csv(path)  # before: "a long file ... Candidates: []"
    assert list(wide["SPY"]) == [100.0, 102.5] and list(wide["EWG"]) == [101.0, 99.0]


def test_read_thousands_separators_need_the_thousands_argument(tmp_path):
    path = _write(tmp_path, 'Date,SPY\n2024-01-02,"$1,000.5"\n2024-01-03,"1,001.25"\n')
    with pytest.raises(DataIntegrityError, match="non-numeric prices in column 'SPY'") as info:
        read_price_csv(path)
    message = str(info.value)
    assert "'1,000.5' looks like ',' separating thousands: pass thousands=','" in message
    assert "decimal mark instead" not in message
    assert list(read_price_csv(path, thousands=",")["SPY"]) == [1000.5, 1001.25]
    ambiguous = _write(tmp_path, 'Date,SPY\n2024-01-02,"1,000"\n', "a.csv")
    with pytest.raises(DataIntegrityError, match="thousands=','") as info:
        read_price_csv(ambiguous)
    assert "decimal=','" in str(info.value)


def test_read_separators_are_never_guessed_into_wrong_numbers(tmp_path):
    # thousands=',' must not turn the decimal comma of '100,5' into 1005
    comma = _write(tmp_path, 'Date,A\n2024-01-02,"1,000.5"\n2024-01-03,"100,5"\n', "c.csv")
    with pytest.raises(DataIntegrityError, match="line 3: '100,5'") as info:
        read_price_csv(comma, thousands=",")
    assert "does not group its digits in threes with thousands=','" in str(info.value)
    # decimal=',' must not read '1.000' as 1.0
    dots = _write(tmp_path, "Datum;A\n2024-01-02;1.000\n2024-01-03;1.001,5\n", "d.csv")
    with pytest.raises(DataIntegrityError, match="line 2: '1.000'") as info:
        read_price_csv(dots, sep=";", decimal=",")
    assert "thousands='.'" in str(info.value)
    got = read_price_csv(dots, sep=";", decimal=",", thousands=".")
    assert list(got["A"]) == [1000.0, 1001.5]
    # a long file's price column follows the same rules
    long = _write(tmp_path, "Datum;Ticker;Kurs\n2024-01-02;SAP;150,25\n", "l.csv")
    assert read_price_csv(long, sep=";", decimal=",").loc["2024-01-02", "SAP"] == 150.25


@pytest.mark.parametrize(
    ("kwargs", "phrase"),
    [
        ({"decimal": ";"}, "decimal must be '.' or ','"),
        ({"decimal": ",", "thousands": ","}, "must differ"),
        ({"decimal": ","}, "usually sep=';'"),
    ],
)
def test_read_number_format_arguments_are_checked(tmp_path, kwargs, phrase):
    with pytest.raises(ValueError, match=phrase):
        read_price_csv(_write(tmp_path, "Date,A\n2024-01-02,1\n"), **kwargs)


def test_read_semicolon_file_with_default_sep_says_set_sep(tmp_path):
    path = _write(tmp_path, "Date;SPY;BIL\n2024-01-02;100.5;90.1\n")
    with pytest.raises(DataIntegrityError, match="pass sep=';'") as info:
        read_price_csv(path)
    assert "'Date;SPY;BIL'" in str(info.value)
    assert list(read_price_csv(path, sep=";").columns) == ["SPY", "BIL"]
    tabs = _write(tmp_path, "Date\tSPY\n2024-01-02\t100.5\n", "t.csv")
    with pytest.raises(DataIntegrityError, match=r"pass sep='\\t'"):
        read_price_csv(tabs)
    commas = _write(tmp_path, "Date,SPY\n2024-01-02,100.5\n", "c.csv")
    with pytest.raises(DataIntegrityError, match="pass sep=','"):
        read_price_csv(commas, sep=";")


OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # signature of .xls (and other old Office) files


def _write_bytes(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


def _zip(path: Path, members: dict[str, str]) -> Path:
    import zipfile

    with zipfile.ZipFile(path, "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return path


@pytest.mark.parametrize(
    "make",
    [
        lambda d: _write(d, "not really a workbook", "prices.xlsx"),  # by extension
        lambda d: _zip(d / "prices.csv", {"xl/workbook.xml": "<workbook/>"}),  # xlsx content
        lambda d: _write_bytes(d / "prices.csv", OLE2 + bytes(64)),  # .xls content
    ],
    ids=["xlsx-extension", "xlsx-bytes", "xls-bytes"],
)
def test_read_excel_file_says_it_is_excel(tmp_path, make):
    path = make(tmp_path)
    with pytest.raises(DataIntegrityError, match="this is an Excel file") as info:
        read_price_csv(path)
    assert "pandas.read_excel" in str(info.value) and "save the sheet as CSV" in str(info.value)


def test_read_book_excel_file_says_it_is_excel(seeded_cache, tmp_path):
    renamed = tmp_path / "Indices.csv"
    renamed.write_bytes((seeded_cache / "book/chapter01/Indices.xlsx").read_bytes())
    with pytest.raises(DataIntegrityError, match="this is an Excel file"):
        read_price_csv(renamed)


def test_read_zip_archive_says_unzip(tmp_path):
    path = _zip(tmp_path / "prices.csv", {"prices.csv": "Date,A\n2024-01-02,1\n"})
    with pytest.raises(DataIntegrityError, match="ZIP archive.*unzip it"):
        read_price_csv(path)


OHLCV = (
    "Date,Open,High,Low,Close,Adj Close,Volume\n"
    "2024-01-02,10,11,9,10.5,10.4,12000\n"
    "2024-01-03,10.5,11,10,10.8,10.7,0\n"  # a day without trades
)


def test_read_ohlcv_zero_volume_day_is_not_a_bad_price(tmp_path):
    path = _write(tmp_path, OHLCV)
    wide = read_price_csv(path)  # before: "non-positive prices (Volume ...)"
    assert list(wide.columns) == ["Open", "High", "Low", "Close", "Adj Close"]
    assert wide.loc["2024-01-03", "Close"] == 10.8
    assert list(read_price_csv(path, tickers=["Close"]).columns) == ["Close"]
    with pytest.raises(DataIntegrityError, match="non-positive prices"):
        read_price_csv(path, tickers=["Close", "Volume"])  # asked for: checked like a price
    only_volume = _write(tmp_path, "Date,Vol\n2024-01-02,0\n", "v.csv")
    with pytest.raises(DataIntegrityError, match=r"volume columns \['Vol'\] are not prices"):
        read_price_csv(only_volume)


def test_read_long_file_ignores_volume_when_picking_the_price(tmp_path):
    path = _write(tmp_path, "date,ticker,px_a,volume\n2024-01-02,AAA,10,0\n2024-01-02,BBB,20,5\n")
    wide = read_price_csv(path)
    assert list(wide.columns) == ["AAA", "BBB"] and list(wide.iloc[0]) == [10.0, 20.0]


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


# ------------------------------------------------------------- load_prices: dates, cache (issue 6)
def test_load_prices_returns_only_the_requested_dates(tmp_cache, fake_yf):
    # Yahoo (here the fake) answers with a day outside the request: it must not come back,
    # neither from the download nor from the cache written by it
    fake_yf.answer = _yf_frame({"SPY": [436.6, 439.4, 445.8]}, DAYS)
    fresh = load_prices("SPY", "2023-08-28", "2023-08-29")
    assert list(fresh.index) == [pd.Timestamp("2023-08-28"), pd.Timestamp("2023-08-29")]
    fake_yf.answer = ConnectionError("must not be called: the cache has it")
    cached = load_prices("SPY", "2023-08-28", "2023-08-29")
    pd.testing.assert_frame_equal(cached, fresh, check_index_type=False)
    assert len(fake_yf.calls) == 1


def test_load_prices_cache_hit_is_sliced_to_the_request(tmp_cache, fake_yf):
    target = prices._prices_cache_file(["SPY"], "2023-08-28", "2023-08-28", "Close")
    target.parent.mkdir(parents=True)
    target.write_text("date,SPY\n2023-08-25,436.6\n2023-08-28,439.4\n2023-08-29,445.8\n")
    got = load_prices("SPY", "2023-08-28", "2023-08-28")
    assert list(got.index) == [pd.Timestamp("2023-08-28")] and got.iloc[0, 0] == 439.4
    assert fake_yf.calls == [], "a cache hit downloads nothing"


def test_load_prices_unwritable_cache_names_gatam_data_dir(tmp_cache, fake_yf, monkeypatch):
    fake_yf.answer = _yf_frame({"SPY": [1.0, 2.0, 3.0]}, DAYS)

    def refuse(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(pd.DataFrame, "to_csv", refuse)
    with pytest.raises(CacheDirectoryError, match="GATAM_DATA_DIR") as info:
        load_prices("SPY", "2023-08-25", "2023-08-29")
    assert str(tmp_cache) in str(info.value) and "cache=False" in str(info.value)


def test_load_prices_without_cache_ignores_a_bad_gatam_data_dir(tmp_path, fake_yf, monkeypatch):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    monkeypatch.setenv("GATAM_DATA_DIR", str(blocker))
    fake_yf.answer = _yf_frame({"SPY": [1.0, 2.0, 3.0]}, DAYS)
    assert load_prices("SPY", "2023-08-25", "2023-08-29", cache=False).shape == (3, 1)
    with pytest.raises(CacheDirectoryError, match="GATAM_DATA_DIR"):
        load_prices("SPY", "2023-08-25", "2023-08-29")


# =========================================================================== load_price_source
def _offline() -> pd.DataFrame:
    """A stand-in for a notebook's offline data: SPY and BIL on 2023-08-25 .. 2023-09-08."""
    dates = pd.bdate_range("2023-08-25", "2023-09-08", name="date")
    return pd.DataFrame(
        {"SPY": np.linspace(400, 420, len(dates)), "BIL": np.linspace(90, 91, len(dates))},
        index=dates,
    )


@pytest.mark.parametrize("layout", ["wide", "long"])
def test_source_csv_empty_dates_give_the_whole_file(price_csv, layout):
    path = price_csv(["AAA", "BBB"], "2021-03-01", "2022-06-30", layout=layout)
    got = load_price_source("csv", ["BBB", "AAA"], start="", end="", csv_path=str(path))
    assert list(got.columns) == ["BBB", "AAA"]
    assert got.index[0] == pd.Timestamp("2021-03-01") and got.index[-1] == pd.Timestamp(
        "2022-06-30"
    )
    assert len(got) == len(pd.bdate_range("2021-03-01", "2022-06-30"))
    none = load_price_source("csv", "AAA BBB", start=None, end=None, csv_path=path)
    assert len(none) == len(got)


def test_source_csv_start_end_are_inclusive(price_csv):
    path = price_csv(["AAA"], "2022-01-03", "2022-03-31")
    got = load_price_source("CSV ", "AAA", start="2022-02-01", end="2022-02-28", csv_path=path)
    assert got.index[0] == pd.Timestamp("2022-02-01") and got.index[-1] == pd.Timestamp(
        "2022-02-28"
    )
    assert len(got) == 20


def test_source_csv_passes_reading_options(tmp_path):
    path = _write(tmp_path, EUROPEAN)
    got = load_price_source(
        "csv", "Schluss", csv_path=path, sep=";", decimal=",", dayfirst=True, thousands="."
    )
    assert list(got["Schluss"]) == [100.5, 101.25]
    assert got.index[0] == pd.Timestamp("2024-01-02")


@pytest.mark.parametrize("kind", ["book", "packaged", " Book "])
def test_source_offline_calls_the_loader_and_slices(kind):
    calls = []

    def loader():
        calls.append(1)
        return _offline()

    got = load_price_source(kind, ["BIL"], offline=loader)
    assert calls == [1] and list(got.columns) == ["BIL"] and len(got) == 11
    part = load_price_source(kind, "SPY", start="2023-08-28", end="2023-09-01", offline=loader)
    assert list(part.index) == list(pd.bdate_range("2023-08-28", "2023-09-01"))


def test_source_yfinance(tmp_cache, fake_yf):
    fake_yf.answer = _yf_frame({"SPY": [436.6, 439.4, 445.8]}, DAYS)
    got = load_price_source("yfinance", "SPY", start="2023-08-25", end="2023-08-29")
    assert got.shape == (3, 1) and fake_yf.calls[0][1]["start"] == "2023-08-25"
    with pytest.raises(ValueError, match="set START"):
        load_price_source("yfinance", "SPY", start="")


@pytest.mark.parametrize(
    ("kwargs", "error", "phrases"),
    [
        ({"source": "excel"}, ValueError, ["SOURCE must be one of", "'csv'", "'excel'"]),
        ({"source": "csv", "csv_path": ""}, ValueError, ["CSV_PATH is empty"]),
        ({"source": "csv", "csv_path": "   "}, ValueError, ["CSV_PATH is empty"]),
        ({"source": "csv", "csv_path": "."}, DataNotFoundError, ["CSV_PATH '.' is a folder"]),
        (
            {"source": "csv", "csv_path": "no_such_file.csv"},
            DataNotFoundError,
            ["CSV_PATH 'no_such_file.csv' does not exist", "absolute:"],
        ),
        (
            {"source": "book", "start": "2023-09-01", "end": "2023-08-01", "offline": _offline},
            ValueError,
            ["START (2023-09-01) is after END (2023-08-01)"],
        ),
        ({"source": "packaged"}, ValueError, ["needs an offline loader"]),
    ],
    ids=[
        "unknown-source",
        "empty-path",
        "blank-path",
        "folder",
        "missing",
        "start>end",
        "no-loader",
    ],
)
def test_source_errors_name_the_parameter(kwargs, error, phrases):
    with pytest.raises(error) as info:
        load_price_source(tickers="SPY", **kwargs)
    for phrase in phrases:
        assert phrase in str(info.value)


def test_source_unknown_ticker_suggests_close_matches(price_csv):
    with pytest.raises(UnknownDatasetError, match="has no ticker 'SPX'") as info:
        load_price_source("book", ["SPX"], offline=_offline)
    assert "Did you mean 'SPY'" in str(info.value)
    path = price_csv(["AAPL", "MSFT"], "2022-01-03", "2022-01-31")
    with pytest.raises(UnknownDatasetError, match="no ticker 'APPL'") as info:
        load_price_source("csv", "APPL", csv_path=path)
    assert "Did you mean 'AAPL'" in str(info.value)


def test_source_empty_window_names_start_end_and_the_covered_range(price_csv):
    path = price_csv(["AAA"], "2022-01-03", "2022-12-30")
    with pytest.raises(DataIntegrityError) as info:
        load_price_source("csv", "AAA", start="2023-08-25", end="2023-12-11", csv_path=path)
    message = str(info.value)
    assert f"CSV_PATH {str(path)!r}" in message
    assert "START 2023-08-25 and END 2023-12-11" in message
    assert "AAA: 2022-01-03..2022-12-30" in message and "change START/END" in message
    with pytest.raises(DataIntegrityError, match=r"START \(first date\) and END 2020-01-01"):
        load_price_source("book", "SPY", end="2020-01-01", offline=_offline)


def test_source_without_tickers_returns_every_column(price_csv):
    from common.prices import load_price_source

    path = price_csv(["AAA", "BBB", "CCC"], "2020-01-01", "2020-03-31", layout="long")
    for tickers in (None, []):
        wide = load_price_source("csv", tickers, csv_path=str(path))
        assert list(wide.columns) == ["AAA", "BBB", "CCC"]
    offline = load_price_source("packaged", None, offline=lambda: wide)
    assert list(offline.columns) == ["AAA", "BBB", "CCC"]
    with pytest.raises(ValueError, match="TICKERS is empty"):
        load_price_source("yfinance", [], start="2020-01-01")
