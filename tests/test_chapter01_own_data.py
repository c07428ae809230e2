"""Notebooks 1.01 and 1.02 rerun on a reader's own price file (issue 6, items 11 and 13).

Each test runs a notebook in quick mode with papermill on a generated random-walk file of a
period other than the book's 2023 window. Only ``SOURCE`` and ``CSV_PATH`` are passed: the dates
must default to the file's own range, which the outputs prove by printing its first and last
dates. Bad parameters must stop in the validation cell with a message naming the parameter.
"""

from __future__ import annotations

import pandas as pd
import pytest
from papermill.exceptions import PapermillExecutionError

NOTEBOOKS = ["chapter01/01_market_data_and_returns.ipynb", "chapter01/02_sharpe_ratio.ipynb"]
TICKERS = ["SPY", "BIL"]


def _span(start: str, end: str) -> tuple[str, str]:
    """First and last business day the ``price_csv`` fixture writes for ``start..end``."""
    days = pd.bdate_range(start, end)
    return f"{days[0]:%Y-%m-%d}", f"{days[-1]:%Y-%m-%d}"


@pytest.mark.parametrize("layout", ["wide", "long"])
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=["1.01", "1.02"])
def test_own_csv_of_another_period(notebook, layout, price_csv, run_quick, outputs_text):
    path = price_csv(TICKERS, "2018-01-01", "2019-06-30", layout=layout)
    nb = run_quick(notebook, SOURCE="csv", CSV_PATH=str(path))
    text = outputs_text(nb)
    first, last = _span("2018-01-01", "2019-06-30")
    assert first in text and last in text, f"the outputs never mention {first} and {last}"
    assert "book checks off" in text  # the book's numbers are not claimed for a reader's file
    assert "Verdict:" in text


def test_readme_example_wide_file_2022_2023(price_csv, run_quick, outputs_text):
    """The README's "your own data" example: Date, SPY, BIL for 2022-2023, no dates passed."""
    path = price_csv(TICKERS, "2022-01-01", "2023-12-31", layout="wide", name="my_prices.csv")
    nb = run_quick("chapter01/02_sharpe_ratio.ipynb", SOURCE="csv", CSV_PATH=str(path))
    text = outputs_text(nb)
    first, last = _span("2022-01-01", "2023-12-31")
    assert f"SPY: {len(pd.bdate_range(first, last)) - 1} returns, {first} .. {last}" in text
    assert "annualized Sharpe" in text


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=["1.01", "1.02"])
def test_negative_periods_per_year_names_the_parameter(notebook, run_quick):
    with pytest.raises(PapermillExecutionError) as info:
        run_quick(notebook, PERIODS_PER_YEAR=-5)
    assert info.value.ename == "ValueError"
    assert "PERIODS_PER_YEAR must be a positive integer" in info.value.evalue
    assert "-5" in info.value.evalue


def test_zero_ma_window_names_the_parameter(run_quick):
    with pytest.raises(PapermillExecutionError) as info:
        run_quick("chapter01/01_market_data_and_returns.ipynb", MA_WINDOW=0)
    assert "MA_WINDOW must be a positive integer" in info.value.evalue


def test_empty_window_names_the_dates_and_the_file_range(price_csv, run_quick):
    path = price_csv(TICKERS, "2018-01-01", "2019-06-30")
    with pytest.raises(PapermillExecutionError) as info:
        run_quick(
            "chapter01/01_market_data_and_returns.ipynb",
            SOURCE="csv",
            CSV_PATH=str(path),
            START="2023-08-25",
            END="2023-12-11",
        )
    message = info.value.evalue
    assert "START" in message and "END" in message
    assert "2018-01-01..2019-06-28" in message
