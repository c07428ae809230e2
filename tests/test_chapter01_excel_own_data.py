"""Notebook 1.03 (Book §1.3) on a reader's own price file (issue item 13).

The notebook's book-specific parameters (QUESTION_DATE, SHARPE_TICKER, SHARPE_START/END) are empty
by default and then follow the data: the book's question on the book's sheet, the last date /
first ticker / whole range on any other file. These tests run it in quick mode with only SOURCE
and CSV_PATH set, on a generated file of another period, in the wide and the long layout, and
check that a bad parameter is named in the error.
"""

from __future__ import annotations

import papermill
import pytest

NOTEBOOK = "chapter01/03_excel_indices.ipynb"
TICKERS = ["A Index", "B Index", "C Index", "D Index"]


@pytest.mark.parametrize("layout", ["wide", "long"])
def test_excel_notebook_runs_on_a_readers_csv(
    price_csv, run_quick, outputs_text, tmp_path, monkeypatch, layout
):
    monkeypatch.setenv("GATAM_BUILD_DIR", str(tmp_path / "build"))  # never the repository's
    path = price_csv(TICKERS, "2016-01-01", "2019-12-31", layout=layout, seed=5)
    text = outputs_text(run_quick(NOTEBOOK, SOURCE="csv", CSV_PATH=str(path)))
    assert "2016-01-01 .. 2019-12-31" in text  # the Sharpe window is the whole file
    assert "daily returns on 2019-12-31" in text  # the question date is the file's last one
    assert "book checks off" in text and "Verdict: your data; A Index Sharpe" in text
    assert (tmp_path / "build" / "chapter01" / "Indices_daily_returns.csv").is_file()


def test_excel_notebook_names_a_bad_parameter(run_quick):
    with pytest.raises(papermill.PapermillExecutionError, match="PERIODS_PER_YEAR"):
        run_quick(NOTEBOOK, PERIODS_PER_YEAR=-5)
