"""Tests of common.data: registry downloads, the cache folder, packaged datasets.

Every bad-input case checks the error class AND a phrase of its message. No test needs the
network: pooch's HTTP call is replaced by a fake. Prices, CSV files and dates
(:mod:`common.prices`) are tested in ``tests/test_prices.py``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from common import data
from common.data import (
    REGISTRY,
    CacheDirectoryError,
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
from common.prices import validate_prices

SMALL_KEY = "book/chapter01/BIL_last_100_days.csv"  # 3 KB: the file the download fakes serve


def _files_under(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*"))


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


# =========================================================================== cache folder
def test_cache_dir_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("GATAM_DATA_DIR", str(tmp_path / "elsewhere"))
    assert data.cache_dir() == tmp_path / "elsewhere" and (tmp_path / "elsewhere").is_dir()
    monkeypatch.delenv("GATAM_DATA_DIR")
    assert data.cache_dir() == data.REPO_ROOT / "data" / "cache"


def test_cache_dir_that_is_a_file_names_gatam_data_dir(tmp_path, monkeypatch):
    blocker = tmp_path / "cache.txt"
    blocker.write_text("not a folder")
    monkeypatch.setenv("GATAM_DATA_DIR", str(blocker))
    with pytest.raises(CacheDirectoryError, match="is a file, not a folder") as info:
        data.cache_dir()
    assert f"GATAM_DATA_DIR={str(blocker)!r}" in str(info.value)
    assert isinstance(info.value, DataError) and isinstance(info.value, OSError)


def test_cache_dir_that_cannot_be_created_names_gatam_data_dir(tmp_path, monkeypatch):
    blocker = tmp_path / "cache.txt"
    blocker.write_text("not a folder")
    below = blocker / "cache"  # a file in the way: NotADirectoryError, also for root
    monkeypatch.setenv("GATAM_DATA_DIR", str(below))
    with pytest.raises(CacheDirectoryError, match="cannot create the folder") as info:
        data.cache_dir()
    message = str(info.value)
    assert f"GATAM_DATA_DIR={str(below)!r}" in message and "NotADirectoryError" in message


def test_cache_dir_without_permission_names_gatam_data_dir(tmp_path, monkeypatch):
    def refuse(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setenv("GATAM_DATA_DIR", str(tmp_path / "new_cache"))
    monkeypatch.setattr(Path, "mkdir", refuse)
    with pytest.raises(CacheDirectoryError, match="PermissionError") as info:
        data.cache_dir()
    assert "GATAM_DATA_DIR=" in str(info.value) and str(tmp_path / "new_cache") in str(info.value)


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root may write anywhere"
)
def test_cache_dir_in_a_read_only_folder(tmp_path, monkeypatch):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    try:
        monkeypatch.setenv("GATAM_DATA_DIR", str(locked / "cache"))
        with pytest.raises(CacheDirectoryError, match="GATAM_DATA_DIR"):
            data.cache_dir()
    finally:
        locked.chmod(0o700)


def test_fetch_into_an_unwritable_cache_is_not_a_network_error(tmp_cache, monkeypatch):
    import pooch

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(tmp_cache / SMALL_KEY))

    monkeypatch.setattr(pooch, "retrieve", refuse)
    with pytest.raises(CacheDirectoryError, match="cannot write") as info:
        fetch(SMALL_KEY)
    assert f"GATAM_DATA_DIR={str(tmp_cache)!r}" in str(info.value)
