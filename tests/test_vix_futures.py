"""common.vix_futures: the VX settlement calendar, CBOE's file format, the simulated curve.

The refusals of broken CBOE files were checked inside notebook 2.02 before; they live here now.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from common import vix_futures as vxf
from common.data import DataError, DataIntegrityError, DataNotFoundError, load_dataset

HEADER = ",".join(vxf.CFE_COLUMNS)
GOOD_ROW = "2018-01-02,G (Feb 2018),12.50,12.90,12.40,12.60,12.6500,0.10,100,0,500"
SIM = dict(
    long_term=17.0,
    kappa=8.0,
    premium=1.0,
    premium_tau=0.25,
    noise_sd=0.15,
    noise_ar=0.8,
    noise_tau=0.04,
    n_contracts=4,
)


# ------------------------------------------------------------------ calendar


def test_settlement_dates_match_cboe_2018():
    cboe = ["01-17", "02-14", "03-21", "04-18", "05-16", "06-20"]
    cboe += ["07-18", "08-22", "09-19", "10-17", "11-21", "12-19"]
    ours = [vxf.vx_settlement_date(2018, m) for m in range(1, 13)]
    assert ours == [pd.Timestamp(f"2018-{d}") for d in cboe]
    assert all(d.day_name() == "Wednesday" for d in ours)


@pytest.mark.parametrize(
    ("year", "month", "expected"),
    [(2014, 3, "2014-03-18"), (2019, 3, "2019-03-19"), (2022, 3, "2022-03-15")],
)
def test_good_friday_moves_settlement_to_tuesday(year, month, expected):
    assert vxf.vx_settlement_date(year, month) == pd.Timestamp(expected)


@pytest.mark.parametrize(
    ("args", "error"),
    [((2018, 13), ValueError), ((2003, 5), ValueError), ((2018.0, 1), TypeError),
     ((True, 1), TypeError), ((2035, 1), ValueError)],
)  # fmt: skip
def test_settlement_date_refuses_bad_input(args, error):
    with pytest.raises(error):
        vxf.vx_settlement_date(*args)


def test_holidays_equal_weekdays_without_a_vix_close():
    vix = load_dataset("vix")
    no_vix = pd.bdate_range(vix.index[0], vix.index[-1]).difference(vix.index)
    assert list(vxf.exchange_holidays(vix.index[0], vix.index[-1])) == list(no_vix)


def test_unscheduled_closures_and_range():
    closed = vxf.exchange_holidays("2012-10-01", "2025-01-31")
    for day in ("2012-10-29", "2012-10-30", "2018-12-05", "2025-01-09"):
        assert pd.Timestamp(day) in closed
    with pytest.raises(ValueError, match="before start"):
        vxf.exchange_holidays("2018-02-01", "2018-01-01")
    with pytest.raises(ValueError, match="calendar covers"):
        vxf.exchange_holidays("1999-01-01", "2000-01-01")


def test_business_days_to_settlement():
    tts = vxf.business_days_to_settlement(
        ["2018-01-17", "2018-01-03", "2018-01-10"], ["2018-01-17", "2018-01-10", "2018-01-17"]
    )
    assert list(tts) == [0, 5, 4]  # 0 on the day; a plain week; MLK day 2018-01-15
    with pytest.raises(ValueError, match="after their contract"):
        vxf.business_days_to_settlement(["2018-01-18"], ["2018-01-17"])
    with pytest.raises(ValueError, match="2 dates but 1"):
        vxf.business_days_to_settlement(["2018-01-02", "2018-01-03"], ["2018-01-17"])


def test_contract_labels_round_trip():
    for year, month in [(2018, 1), (2007, 12), (2030, 6)]:
        assert vxf.parse_contract_label(vxf.contract_label(year, month)) == (year, month)
    assert vxf.parse_contract_label(" F (JAN 14) ") == (2014, 1)


# ------------------------------------------------------------------ CBOE files: 15 refusals

CASES = {
    "no Settle column": (HEADER.replace("Settle,", ""), [GOOD_ROW.replace("12.6500,", "")],
                         "missing column"),
    "date twice": (HEADER, [GOOD_ROW, GOOD_ROW], "repeat"),
    "negative settle": (HEADER, [GOOD_ROW.replace("12.6500", "-1.0")], "non-positive"),
    "zero settle": (HEADER, [GOOD_ROW.replace("12.6500", "0")], "zero_settle"),
    "bad date": (HEADER, [GOOD_ROW.replace("2018-01-02", "2018-13-45")], "Trade Date"),
    "text settle": (HEADER, [GOOD_ROW.replace("12.6500", "n/a")], "not a number"),
    "weekly contract": (HEADER, [GOOD_ROW.replace("G (Feb 2018)", "VX02 (Jan 2018)")], "weekly"),
    "code and month disagree": (HEADER, [GOOD_ROW.replace("G (Feb 2018)", "G (Jan 2018)")],
                                "not Jan"),
    "after settlement": (HEADER, [GOOD_ROW.replace("2018-01-02", "2018-02-15")],
                         "after the contract's settlement"),
    "before the 2007 rescaling": (
        HEADER, [GOOD_ROW.replace("2018-01-02", "2007-03-23").replace("G (Feb 2018)", "K (May 2007)")],
        "10 x VIX"),
    "not a CBOE file": ("date,close", ["2018-01-02,12.6"], "Trade Date"),
    "short line": (HEADER, [GOOD_ROW.rsplit(",", 3)[0]], "fewer fields"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CASES))
def test_loader_refuses_broken_files(tmp_path, case):
    header, body, fragment = CASES[case]
    path = tmp_path / "VX.csv"
    path.write_text("\n".join([header, *body]) + "\n", encoding="utf-8")
    with pytest.raises(DataIntegrityError, match=fragment) as info:
        vxf.load_cboe_vx_settlements(path)
    assert "VX.csv" in str(info.value) or "repeat" in str(info.value)  # names the file


def test_loader_zero_settle_drop(tmp_path):
    path = tmp_path / "zero.csv"
    rows = [HEADER, GOOD_ROW.replace("12.6500", "0"), GOOD_ROW.replace("2018-01-02", "2018-01-03")]
    path.write_text("\n".join(rows) + "\n")
    frame = vxf.load_cboe_vx_settlements(path, zero_settle="drop")
    assert list(frame["trade_date"]) == [pd.Timestamp("2018-01-03")]
    with pytest.raises(ValueError, match="zero_settle"):
        vxf.load_cboe_vx_settlements(path, zero_settle="skip")


def test_loader_missing_paths(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataNotFoundError, match="no \\*.csv"):
        vxf.load_cboe_vx_settlements(tmp_path / "empty")
    with pytest.raises(DataNotFoundError, match="does not exist"):
        vxf.load_cboe_vx_settlements(tmp_path / "no_such_file.csv")
    header_only = tmp_path / "header.csv"
    header_only.write_text(HEADER + "\n")
    with pytest.raises(DataNotFoundError, match="no data rows"):
        vxf.load_cboe_vx_settlements(header_only)


def test_loader_same_rows_in_two_files(tmp_path):
    for k in range(2):
        (tmp_path / f"part{k}.csv").write_text("\n".join([HEADER, GOOD_ROW]) + "\n")
    with pytest.raises(DataError, match="part0.csv line 2"):
        vxf.load_cboe_vx_settlements(tmp_path)


# ------------------------------------------------------------------ simulation and round trip


@pytest.fixture(scope="module")
def curves():
    vix = load_dataset("vix")["vix"].loc["2017-10-02":"2018-03-29"]
    return vxf.simulate_vx_curves(vix, rng=np.random.default_rng(0), **SIM), vix


def test_simulated_curve_shape(curves):
    frame, vix = curves
    assert list(frame.columns) == vxf.CURVE_COLUMNS
    assert (frame.groupby("trade_date").size() == SIM["n_contracts"]).all()
    assert (frame["settle"] > 0).all() and (frame["trade_date"] <= frame["expiry"]).all()
    on_expiry = frame[frame["trade_date"] == frame["expiry"]]  # converges to the VIX
    assert np.allclose(on_expiry["settle"], vix.loc[on_expiry["trade_date"]], atol=1e-4)
    pd.testing.assert_frame_equal(vxf.check_curves(frame), frame)


@pytest.mark.parametrize(
    ("change", "fragment"),
    [({"kappa": 0.0}, "kappa"), ({"noise_ar": 1.0}, "noise_ar"), ({"premium": -1.0}, "premium"),
     ({"n_contracts": 1}, "n_contracts"), ({"noise_tau": -0.1}, "noise_tau")],
)  # fmt: skip
def test_simulation_names_bad_parameters(change, fragment):
    vix = load_dataset("vix")["vix"].iloc[:30]
    with pytest.raises(ValueError, match=fragment):
        vxf.simulate_vx_curves(vix, rng=np.random.default_rng(0), **{**SIM, **change})
    with pytest.raises(TypeError):
        vxf.simulate_vx_curves(vix.to_numpy(), rng=np.random.default_rng(0), **SIM)


def test_cboe_format_round_trip(tmp_path, curves):
    """Writing each contract in CBOE's format (one in the old style) and reading the folder back
    gives the same frame: the real-data path feeds the engine exactly what the simulation does."""
    frame, _ = curves
    for k, (_, rows) in enumerate(frame.groupby("expiry")):
        year, month = vxf.parse_contract_label(rows["contract"].iat[0])
        name = f"CFE_{vxf.MONTH_CODES[month - 1]}{year % 100:02d}_VX.csv"
        vxf.write_cboe_vx_file(tmp_path / name, rows, old_style=(k == 1))
    assert (tmp_path / "CFE_G18_VX.csv").read_text().count("\n") > 10
    reloaded = vxf.load_cboe_vx_settlements(tmp_path)
    pd.testing.assert_frame_equal(reloaded, frame, check_dtype=False, rtol=0, atol=1e-9)


def test_check_curves_refuses(curves):
    frame, _ = curves
    with pytest.raises(DataIntegrityError, match="lacks column"):
        vxf.check_curves(frame.drop(columns="expiry"))
    with pytest.raises(DataIntegrityError, match="repeats"):
        vxf.check_curves(pd.concat([frame, frame.iloc[:1]]))
    with pytest.raises(DataIntegrityError, match="non-positive"):
        vxf.check_curves(frame.assign(settle=-frame["settle"]))


# ------------------------------------------------------------------ front contract panel


def test_front_contract_panel(curves):
    frame, vix = curves
    es = load_dataset("sp500_ohlc")["Close"]
    panel, settles = vxf.front_contract_panel(frame, vix, es, min_tts=10)
    assert (panel["tts"] >= 10).all() and list(panel.index) == list(vix.index)
    # dvx is the change of the previous day's front contract, with its TTS on the same day
    switch = np.flatnonzero(panel["contract"].to_numpy()[1:] != panel["contract"].to_numpy()[:-1])
    day = switch[0] + 1  # first day with a new front contract
    old = panel["expiry"].iat[day - 1]
    expected = settles[old].iat[day] - settles[old].iat[day - 1]
    assert panel["dvx"].iat[day] == pytest.approx(expected)
    assert panel["tts_dvx"].iat[day] == panel["tts"].iat[day - 1] - 1
    assert panel["tts_dvx"].iat[day] != panel["tts"].iat[day]
    es_change = es[panel.index[day]] / es[panel.index[day - 1]] - 1
    assert panel["es_pct"].iat[day] == pytest.approx(100 * es_change)  # percent
    with pytest.raises(DataIntegrityError, match="no contract with >= 120"):
        vxf.front_contract_panel(frame, vix, es, min_tts=120)
    with pytest.raises(ValueError, match="min_tts"):
        vxf.front_contract_panel(frame, vix, es, min_tts=0)


def test_plot_term_structure(curves):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    frame, vix = curves
    panel, _ = vxf.front_contract_panel(frame, vix, load_dataset("sp500_ohlc")["Close"], min_tts=10)
    fig = vxf.plot_term_structure(frame, panel, label="SIMULATION")
    ax_c, ax_t = fig.axes
    assert all(ax.get_title().startswith("SIMULATION: ") for ax in fig.axes)
    days = [panel["vix"].idxmin(), panel["vix"].idxmax()]
    lows, highs = ax_c.lines[0], ax_c.lines[2]  # lowest, median, highest VIX
    for line, day in zip([lows, highs], days, strict=True):
        assert line.get_xdata()[0] == 0 and line.get_ydata()[0] == panel.at[day, "vix"]
        assert len(line.get_xdata()) == SIM["n_contracts"] + 1  # the VIX, then each contract
        assert f"{day:%Y-%m-%d}" in line.get_label()
    assert [line.get_label() for line in ax_t.lines] == ["VIX (real)", "front VX", "next VX"]
    plt.close(fig)


# ------------------------------------------------------------------ backtest bookkeeping


def _book():
    """Two trades over five days, $: a short that wins 300 and a long that loses 150."""
    trades = pd.DataFrame({"side": [-1, 1], "pnl": [300.0, -150.0]})
    daily = pd.DataFrame(
        {
            "vx_pnl": [0.0, 400.0, -100.0, -200.0, 100.0],
            "es_pnl": [0.0, -50.0, 20.0, 0.0, 30.0],
            "costs": [10.0, 0.0, 20.0, 10.0, 10.0],
        },
        index=pd.bdate_range("2018-01-02", periods=5),
    )
    daily["pnl"] = daily["vx_pnl"] + daily["es_pnl"] - daily["costs"]  # -10 350 -100 -210 120
    return trades, daily


def test_summarize_backtest():
    trades, daily = _book()
    row = vxf.summarize_backtest(trades, daily)
    assert row["trades"] == 2 and row["short / long"] == "1 / 1" and row["hit rate"] == 0.5
    assert row["mean $ per trade"] == 75.0
    assert row["total $"] == 150.0 and row["total $ before costs"] == 200.0
    # cumulative -10, 340, 240, 30, 150: the peak counts from 0, so day 1 is a 10 $ drawdown and
    # the deepest is 340 -> 30
    assert row["max drawdown $"] == -310.0
    pnl = daily["pnl"].to_numpy()
    assert row["Sharpe (ann.)"] == pytest.approx(pnl.mean() / pnl.std(ddof=1) * np.sqrt(252))
    assert vxf.summarize_backtest(trades, daily, periods=12)["Sharpe (ann.)"] == pytest.approx(
        pnl.mean() / pnl.std(ddof=1) * np.sqrt(12)
    )


def test_pnl_breakdown():
    _, daily = _book()
    parts = vxf.pnl_breakdown(daily)
    assert parts["VX leg $"] == 200.0 and parts["ES leg $"] == 0.0 and parts["costs $"] == -50.0
    assert parts["VX leg $"] + parts["ES leg $"] + parts["costs $"] == parts["total $"] == 150.0
    pnl = daily["pnl"].to_numpy()
    assert parts["Sharpe (ann.)"] == pytest.approx(pnl.mean() / pnl.std(ddof=1) * np.sqrt(252))


def test_simulate_scenarios():
    vix = load_dataset("vix")["vix"].loc["2017-10-02":"2017-12-29"]
    seen = []

    def run(frame):
        seen.append(frame)
        return {"mean settle": frame["settle"].mean(), "total $": frame["settle"].iat[0] - 13.0}

    scenarios = {"base": SIM, "again": dict(SIM), "more premium": {**SIM, "premium": 3.0}}
    runs, summary = vxf.simulate_scenarios(vix, scenarios, run, n_paths=3, seed=7)
    assert list(runs.columns) == ["scenario", "mean settle", "total $"] and len(runs) == 9
    assert list(summary.index) == list(scenarios)  # the given order, not sorted
    assert list(summary.columns) == [
        "median mean settle",
        "median total $",
        "paths",
        "share with profit",
    ]
    assert (summary["paths"] == 3).all()
    # path s of every scenario uses the same random numbers: equal parameters, equal curves
    pd.testing.assert_frame_equal(seen[0], seen[3])
    assert not seen[0].equals(seen[1])  # different paths differ
    assert (
        summary.loc["more premium", "median mean settle"]
        > summary.loc["base", "median mean settle"]
    )
    base = runs.loc[runs["scenario"] == "base"]
    assert summary.loc["base", "median total $"] == base["total $"].median()
    assert summary.loc["base", "share with profit"] == (base["total $"] > 0).mean()
    with pytest.raises(ValueError, match="profit must name"):
        vxf.simulate_scenarios(vix, {"base": SIM}, run, n_paths=1, seed=0, profit="pnl")
    with pytest.raises(ValueError, match="n_paths"):
        vxf.simulate_scenarios(vix, {"base": SIM}, run, n_paths=0, seed=0)
    with pytest.raises(ValueError, match="scenarios is empty"):
        vxf.simulate_scenarios(vix, {}, run, n_paths=1, seed=0)


# ------------------------------------------------------------------ the notebook on a reader's data

NOTEBOOK = "chapter02/02_vix_futures_carry.ipynb"


def test_notebook_names_a_bad_parameter(run_quick):
    import papermill

    with pytest.raises(papermill.PapermillExecutionError, match="THRESHOLD must be a positive"):
        run_quick(NOTEBOOK, THRESHOLD=-0.1)


def test_notebook_runs_on_cboe_files_of_another_period(tmp_path, run_quick):
    """A reader's own CBOE files (here written from a simulated curve for 2016-2018, another
    period than the default) run through the notebook with the dates taken from the files."""
    vix = load_dataset("vix")["vix"].loc["2016-03-01":"2018-06-29"]
    frame = vxf.simulate_vx_curves(vix, rng=np.random.default_rng(1), **SIM)
    folder = tmp_path / "cboe"
    folder.mkdir()
    for expiry, rows in frame.groupby("expiry"):
        vxf.write_cboe_vx_file(folder / f"VX_{expiry:%Y%m}.csv", rows)
    nb = run_quick(NOTEBOOK, SOURCE="cboe", CBOE_DIR=str(folder))
    text = "\n".join(
        "".join(o.get("text", "")) for c in nb.cells if c.cell_type == "code" for o in c.outputs
    )
    assert "VX settlements (CBOE data)" in text and "2016-03-01..2018-06-29" in text
    assert "Verdict: CBOE data:" in text
