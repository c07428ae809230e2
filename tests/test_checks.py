"""Tests of common.checks: the printed book checks (compare) and the closing scorecard."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from common.checks import compare, scorecard


# =========================================================================== compare
def test_compare_passing_returns_and_prints_the_table(capsys):
    table = compare(0.4213, 0.42, 0.01, name="Sharpe")
    printed = capsys.readouterr().out
    assert list(table.columns) == ["ours", "book", "difference", "tolerance", "ok"]
    assert list(table.index) == ["Sharpe"]
    row = table.loc["Sharpe"]
    assert row["ours"] == 0.4213 and row["book"] == 0.42 and row["ok"] == "ok"
    assert row["difference"] == pytest.approx(0.0013) and row["tolerance"] == 0.01
    assert "Sharpe" in printed and "0.4213" in printed and "1.3e-03" in printed
    assert "ok" in printed


def test_compare_miss_raises_naming_the_row(capsys):
    with pytest.raises(AssertionError, match=r"1 of 2 values differ from Matlab") as info:
        compare([1.0, 2.5], [1.0, 2.0], 0.1, reference_name="Matlab", name="w")
    assert "'w[1]'" in str(info.value) and "'w[0]'" not in str(info.value)
    printed = capsys.readouterr().out
    assert "FAIL" in printed and "Matlab" in printed, "the table is printed before raising"


def test_compare_scalar_default_row_name(capsys):
    assert list(compare(1.0, 1.0, 0.0).index) == ["value"]


def test_compare_nan_matches_only_nan(capsys):
    table = compare([1.0, math.nan], [1.0, np.nan], 0.0)
    assert list(table["ok"]) == ["ok", "ok"]
    with pytest.raises(AssertionError, match=r"'value\[1\]'"):
        compare([1.0, math.nan], [1.0, 2.0], 1e9)
    with pytest.raises(AssertionError, match=r"'value'"):
        compare(3.0, math.nan, 1e9)


def test_compare_relative(capsys):
    table = compare(101.0, 100.0, 0.02, relative=True, name="price")
    assert table.loc["price", "rel. difference"] == pytest.approx(0.01)
    assert "rel. difference" in capsys.readouterr().out
    with pytest.raises(AssertionError):
        compare(103.0, 100.0, 0.02, relative=True)
    # a zero reference falls back to the absolute difference
    assert compare(0.001, 0.0, 0.01, relative=True).iloc[0]["ok"] == "ok"


def test_compare_series_labels_become_rows(capsys):
    ours = pd.Series({"SPY": 0.31, "BIL": 0.69})
    book = pd.Series({"SPY": 0.3, "BIL": 0.7})
    table = compare(ours, book, 0.02)
    assert list(table.index) == ["SPY", "BIL"]
    prefixed = compare(ours, book, 0.02, name="weight")
    assert list(prefixed.index) == ["weight[SPY]", "weight[BIL]"]
    printed = capsys.readouterr().out
    assert "weight[SPY]" in printed


def test_compare_dict_with_per_key_tolerance(capsys):
    ours = {"mean": 0.101, "weights": [0.5, 0.5]}
    book = {"mean": 0.1, "weights": [0.49, 0.51]}
    table = compare(ours, book, {"mean": 0.01, "weights": 0.02})
    assert list(table.index) == ["mean", "weights[0]", "weights[1]"]
    assert list(table["tolerance"]) == [0.01, 0.02, 0.02]
    with pytest.raises(AssertionError, match=r"'weights\[0\]', 'weights\[1\]'"):
        compare(ours, book, {"mean": 0.01, "weights": 0.001})
    with pytest.raises(ValueError, match="tolerance for 'weights' is None"):
        compare(ours, book, {"mean": 0.01})


@pytest.mark.parametrize(
    ("ours", "reference", "phrase"),
    [
        ([1.0, 2.0], [1.0, 2.0, 3.0], "ours has rows"),
        (pd.Series({"A": 1.0}), pd.Series({"B": 1.0}), "ours has rows"),
        ({"a": 1.0}, 1.0, "both values as mappings"),
        ({"a": 1.0}, {"b": 1.0}, "ours has rows"),
        (np.ones((2, 2)), np.ones((2, 2)), "pass 1-D values"),
    ],
    ids=["lengths", "labels", "mapping-vs-scalar", "keys", "2-D"],
)
def test_compare_mismatched_rows_raise_value_error(ours, reference, phrase):
    with pytest.raises(ValueError, match=phrase):
        compare(ours, reference, 0.1)


@pytest.mark.parametrize("tol", [-0.1, math.nan])
def test_compare_rejects_a_negative_or_nan_tolerance(tol):
    with pytest.raises(ValueError, match="tolerance for"):
        compare(1.0, 1.0, tol)


# =========================================================================== scorecard
def test_scorecard_prints_rows_and_the_verdict(capsys):
    rows = [
        {"quantity": "Sharpe (test)", "ours": 0.4213, "book": 0.42, "baseline": None},
        {"quantity": "p-value", "ours": 0.23, "book": math.nan, "baseline": 0.5},
    ]
    sharpe = rows[0]["ours"]
    verdict = f"Sharpe {sharpe:.2f}: {'no evidence' if rows[1]['ours'] > 0.05 else 'evidence'}"
    assert scorecard(rows, verdict) is None
    printed = capsys.readouterr().out
    lines = printed.splitlines()
    assert lines[0].split() == ["ours", "book", "baseline"]
    assert lines[1].split() == ["Sharpe", "(test)", "0.4213", "0.4200", "-"]
    assert lines[2].split() == ["p-value", "0.2300", "-", "0.5000"]
    assert lines[-1] == "Verdict: Sharpe 0.42: no evidence"


def test_scorecard_accepts_a_dataframe_and_digits(capsys):
    frame = pd.DataFrame({"ours": [1.23456], "note": ["text"]}, index=["x"])
    scorecard(frame, "fine", digits=2)
    printed = capsys.readouterr().out
    assert "1.23" in printed and "1.2346" not in printed and "text" in printed
    assert printed.rstrip().endswith("Verdict: fine")


@pytest.mark.parametrize(
    ("table", "verdict"),
    [([], "a verdict"), (pd.DataFrame(), "a verdict"), ([{"q": "x", "ours": 1.0}], "  ")],
    ids=["empty-list", "empty-frame", "blank-verdict"],
)
def test_scorecard_refuses_empty_table_or_verdict(table, verdict, capsys):
    with pytest.raises(ValueError, match="at least one row and a verdict"):
        scorecard(table, verdict)
    assert capsys.readouterr().out == ""


def test_scorecard_prints_missing_cells_of_nullable_columns_as_dash(capsys):
    # a nullable Float64 column holds pd.NA, which printed as "<NA>" before
    frame = pd.DataFrame({"ours": [0.5], "book": pd.array([None], dtype="Float64")}, index=["x"])
    scorecard(frame, "v")
    printed = capsys.readouterr().out
    assert "<NA>" not in printed and printed.splitlines()[1].split() == ["x", "0.5000", "-"]
