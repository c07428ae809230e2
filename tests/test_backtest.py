"""Tests of common.backtest: splits (walk-forward, purged k-fold), the backtester, weights."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from common import metrics
from common.backtest import (
    BacktestResult,
    Split,
    backtest,
    equal_weight,
    purged_kfold_splits,
    top_bottom_weights,
    walk_forward_splits,
)

BPS = 10.0  # cost used in the hand-checked cases: 10 bps = 0.001 per unit traded


def dates(n: int, start: str = "2024-01-01") -> pd.DatetimeIndex:
    return pd.bdate_range(start, periods=n, name="date")


def frame(rows, index=None, columns=("A", "B")) -> pd.DataFrame:
    rows = np.asarray(rows, dtype=float)
    return pd.DataFrame(
        rows, index=index if index is not None else dates(len(rows)), columns=list(columns)
    )


# --------------------------------------------------------------------------------------------
# walk_forward_splits
# --------------------------------------------------------------------------------------------


def as_lists(splits):
    return [(s.train.tolist(), s.test.tolist()) for s in splits]


def test_walk_forward_expanding_and_rolling_by_hand():
    expanding = walk_forward_splits(10, train_size=4, test_size=2)
    assert as_lists(expanding) == [
        ([0, 1, 2, 3], [4, 5]),
        ([0, 1, 2, 3, 4, 5], [6, 7]),
        ([0, 1, 2, 3, 4, 5, 6, 7], [8, 9]),
    ]
    rolling = walk_forward_splits(10, train_size=4, test_size=2, expanding=False)
    assert as_lists(rolling) == [
        ([0, 1, 2, 3], [4, 5]),
        ([2, 3, 4, 5], [6, 7]),
        ([4, 5, 6, 7], [8, 9]),
    ]


def test_walk_forward_purge_step_and_partial_last_by_hand():
    purged = walk_forward_splits(10, train_size=4, test_size=2, purge=1, expanding=False)
    # training keeps train_size observations; one observation is left out before each test
    assert as_lists(purged) == [([0, 1, 2, 3], [5, 6]), ([2, 3, 4, 5], [7, 8])]
    assert as_lists(
        walk_forward_splits(
            10, train_size=4, test_size=2, purge=1, expanding=False, partial_last=True
        )
    )[-1] == ([4, 5, 6, 7], [9])
    # overlapping test blocks (step < test_size): starts 4, 6; 8 would not fit
    stepped = walk_forward_splits(10, train_size=4, test_size=3, step=2)
    assert [s.test.tolist() for s in stepped] == [[4, 5, 6], [6, 7, 8]]
    stepped = walk_forward_splits(10, train_size=4, test_size=3, step=2, partial_last=True)
    assert [s.test.tolist() for s in stepped] == [[4, 5, 6], [6, 7, 8], [8, 9]]
    # gaps (step > test_size)
    gapped = walk_forward_splits(12, train_size=4, test_size=1, step=3)
    assert [s.test.tolist() for s in gapped] == [[4], [7], [10]]


def test_walk_forward_embargo_by_hand():
    splits = walk_forward_splits(12, train_size=4, test_size=2, embargo=1)
    # the first observation after each earlier test block leaves the later training sets
    assert as_lists(splits) == [
        ([0, 1, 2, 3], [4, 5]),
        ([0, 1, 2, 3, 4, 5], [6, 7]),  # 6 is right after block [4, 5] but is the test
        ([0, 1, 2, 3, 4, 5, 7], [8, 9]),
        ([0, 1, 2, 3, 4, 5, 7, 9], [10, 11]),
    ]


WF_GRID = list(
    itertools.product(
        [31],  # n
        [5, 8],  # train_size
        [1, 3, 4],  # test_size
        [None, 2, 5],  # step
        [True, False],  # expanding
        [0, 1, 3],  # purge
        [0, 2],  # embargo
        [False, True],  # partial_last
    )
)


def expected_walk_forward(n, train_size, test_size, step, expanding, purge, embargo, partial_last):
    """The splits restated from the definition, with sets (None if a training set is empty)."""
    stride = test_size if step is None else step
    out, ends, start = [], [], train_size + purge
    while start < n and (partial_last or start + test_size <= n):
        end = min(start + test_size, n)
        first = 0 if expanding else start - purge - train_size
        banned = {t for e in ends for t in range(e, e + embargo)}
        train = [t for t in range(first, start - purge) if t not in banned]
        if not train:
            return None
        out.append((train, list(range(start, end))))
        ends.append(end)
        if end == n:
            break
        start += stride
    return out


def test_walk_forward_invariants():
    for n, train_size, test_size, step, expanding, purge, embargo, partial in WF_GRID:
        kwargs = dict(
            train_size=train_size,
            test_size=test_size,
            step=step,
            expanding=expanding,
            purge=purge,
            embargo=embargo,
            partial_last=partial,
        )
        expected = expected_walk_forward(n, **kwargs)
        if expected is None:  # e.g. rolling 1-day tests with a 2-day embargo: nothing left
            with pytest.raises(ValueError, match="no training observation left"):
                walk_forward_splits(n, **kwargs)
            continue
        splits = walk_forward_splits(n, **kwargs)
        assert as_lists(splits) == expected
        stride = test_size if step is None else step
        assert len(splits) >= 1
        for j, s in enumerate(splits):
            start = train_size + purge + j * stride
            assert s.test[0] == start
            if not partial:
                assert s.test.size == test_size
            assert np.intersect1d(s.train, s.test).size == 0
            # every training index is at least `purge` positions before the test block
            assert s.train.max() <= start - purge - 1
            if expanding:
                assert s.train[0] == 0
                if embargo == 0:
                    assert s.train.size == start - purge
            else:
                assert s.train[0] >= start - purge - train_size
                if embargo == 0:
                    assert s.train.size == train_size
            for earlier in splits[:j]:  # embargo after every earlier test block
                end = earlier.test[-1] + 1
                assert not np.isin(s.train, np.arange(end, end + embargo)).any()
            assert np.all(np.diff(s.train) > 0)
        # the splits cover everything that fits: one more block would not
        nxt = splits[-1].test[0] + stride
        assert splits[-1].test[-1] == n - 1 or nxt + (1 if partial else test_size) > n


def test_walk_forward_matches_skfolio():
    skms = pytest.importorskip("skfolio.model_selection")
    for train_size, test_size, purge, expanding, partial in itertools.product(
        [3, 7], [1, 4], [0, 2], [True, False], [True, False]
    ):
        ours = walk_forward_splits(
            25,
            train_size=train_size,
            test_size=test_size,
            purge=purge,
            expanding=expanding,
            partial_last=partial,
        )
        cv = skms.WalkForward(
            test_size=test_size,
            train_size=train_size,
            purged_size=purge,
            expand_train=expanding,
            reduce_test=partial,
        )
        theirs = list(cv.split(np.zeros((25, 1))))
        assert as_lists(ours) == [(a.tolist(), b.tolist()) for a, b in theirs]


def test_split_dates_unpacking_and_readonly():
    idx = dates(10)
    splits = walk_forward_splits(idx, train_size=6, test_size=2)
    train, test = splits[0]
    assert train.tolist() == list(range(6)) and test.tolist() == [6, 7]
    assert splits[0].train_dates.equals(idx[:6])
    assert splits[1].test_dates.equals(idx[8:10])
    assert "2024-01-09" in repr(splits[0])
    with pytest.raises(ValueError, match="read-only"):
        train[0] = 5
    # a DataFrame gives its index
    df = pd.DataFrame({"x": range(10)}, index=idx)
    assert walk_forward_splits(df, train_size=6, test_size=2)[0].test_dates.equals(idx[6:8])
    bare = walk_forward_splits(10, train_size=6, test_size=2)[0]
    with pytest.raises(ValueError, match="no dates"):
        _ = bare.test_dates


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"train_size": 0, "test_size": 2}, ValueError, "train_size must be a positive"),
        ({"train_size": 4, "test_size": 0}, ValueError, "test_size must be a positive"),
        ({"train_size": 4, "test_size": 2, "step": 0}, ValueError, "step must be"),
        ({"train_size": 4, "test_size": 2, "purge": -1}, ValueError, "purge must be"),
        ({"train_size": 4, "test_size": 2, "embargo": -1}, ValueError, "embargo must be"),
        ({"train_size": 9, "test_size": 2}, ValueError, "exceeds the 10 observations"),
        ({"train_size": 7, "test_size": 2, "purge": 2}, ValueError, "no test block fits"),
        ({"train_size": 4.0, "test_size": 2}, TypeError, "train_size must be an integer"),
        ({"train_size": True, "test_size": 2}, TypeError, "train_size must be an integer"),
    ],
)
def test_walk_forward_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        walk_forward_splits(10, **kwargs)


def test_walk_forward_partial_last_needs_one_test_observation():
    assert as_lists(walk_forward_splits(10, train_size=9, test_size=2, partial_last=True)) == [
        (list(range(9)), [9])
    ]
    with pytest.raises(ValueError, match="exceeds the 10"):
        walk_forward_splits(10, train_size=10, test_size=2, partial_last=True)


def test_split_functions_reject_bad_indexes():
    idx = dates(10)
    with pytest.raises(ValueError, match="sorted"):
        walk_forward_splits(idx[::-1], train_size=4, test_size=2)
    with pytest.raises(ValueError, match="duplicate"):
        purged_kfold_splits(idx[[0, 1, 1, 2, 3]], n_splits=2)
    with pytest.raises(TypeError, match="len\\(X\\)"):
        walk_forward_splits(np.zeros((10, 2)), train_size=4, test_size=2)
    with pytest.raises(ValueError, match="positive"):
        purged_kfold_splits(0)
    with pytest.raises(ValueError, match="empty"):
        purged_kfold_splits(pd.DatetimeIndex([]))


# --------------------------------------------------------------------------------------------
# purged_kfold_splits
# --------------------------------------------------------------------------------------------


def test_purged_kfold_by_hand():
    plain = purged_kfold_splits(10, n_splits=3)
    # scikit-learn's KFold layout: the first n % k folds are one longer
    assert [s.test.tolist() for s in plain] == [[0, 1, 2, 3], [4, 5, 6], [7, 8, 9]]
    assert plain[1].train.tolist() == [0, 1, 2, 3, 7, 8, 9]
    s = purged_kfold_splits(12, n_splits=3, purge=1, embargo=1)[1]
    assert s.test.tolist() == [4, 5, 6, 7]
    # purge 3 (before) and 8 (after); embargo 9
    assert s.train.tolist() == [0, 1, 2, 10, 11]
    one_sided = purged_kfold_splits(12, n_splits=3, purge=1, embargo=1, purge_after=False)[1]
    assert one_sided.train.tolist() == [0, 1, 2, 9, 10, 11]
    first = purged_kfold_splits(12, n_splits=3, purge=2, embargo=1)[0]
    assert first.train.tolist() == [7, 8, 9, 10, 11]
    last = purged_kfold_splits(12, n_splits=3, purge=2, embargo=1)[2]
    assert last.train.tolist() == [0, 1, 2, 3, 4, 5]


def brute_force_kfold_train(n, test, purge, embargo, purge_after):
    """Training set from the definition: no overlap of label intervals [t, t + purge]."""
    a, b = test[0], test[-1] + 1
    last_label_end = b - 1 + purge if purge_after else b - 1
    keep = []
    for t in range(n):
        if a <= t < b:
            continue
        overlaps = t + purge >= a and t <= last_label_end  # [t, t+h] meets [a, b-1+h]
        embargoed = last_label_end < t <= last_label_end + embargo
        if not (overlaps or embargoed):
            keep.append(t)
    return keep


@pytest.mark.parametrize("purge_after", [True, False])
def test_purged_kfold_matches_label_overlap_definition(purge_after):
    for n, k, purge, embargo in itertools.product([17, 20], [2, 3, 5], [0, 1, 2], [0, 1, 3]):
        splits = purged_kfold_splits(
            n, n_splits=k, purge=purge, embargo=embargo, purge_after=purge_after
        )
        assert len(splits) == k
        tests = np.concatenate([s.test for s in splits])
        assert np.array_equal(tests, np.arange(n))  # folds tile the data, in order
        assert max(s.test.size for s in splits) - min(s.test.size for s in splits) <= 1
        for s in splits:
            assert np.intersect1d(s.train, s.test).size == 0
            a, b = s.test[0], s.test[-1] + 1
            before, after = s.train[s.train < a], s.train[s.train >= b]
            assert before.size == 0 or before.max() <= a - 1 - purge
            gap = (purge if purge_after else 0) + embargo
            assert after.size == 0 or after.min() >= b + gap
            expected = brute_force_kfold_train(n, s.test, purge, embargo, purge_after)
            assert s.train.tolist() == expected


def test_purged_kfold_matches_skfolio_combinatorial():
    """skfolio's CPCV with 2 test folds = our two single-fold training sets intersected."""
    skms = pytest.importorskip("skfolio.model_selection")
    n, k = 24, 4  # n divisible by k: both libraries use the same fold layout
    for purge, embargo in [(0, 0), (1, 0), (1, 2), (2, 1)]:
        ours = purged_kfold_splits(n, n_splits=k, purge=purge, embargo=embargo)
        cv = skms.CombinatorialPurgedCV(
            n_folds=k, n_test_folds=2, purged_size=purge, embargo_size=embargo
        )
        for (train, _tests), (i, j) in zip(
            cv.split(np.zeros((n, 1))), cv.test_set_index, strict=True
        ):
            assert train.tolist() == np.intersect1d(ours[i].train, ours[j].train).tolist()


def test_purged_kfold_bad_arguments():
    with pytest.raises(ValueError, match="n_splits must be an integer >= 2"):
        purged_kfold_splits(10, n_splits=1)
    with pytest.raises(ValueError, match="larger than the 3 observations"):
        purged_kfold_splits(3, n_splits=4)
    with pytest.raises(ValueError, match="purge must be"):
        purged_kfold_splits(10, purge=-2)
    with pytest.raises(ValueError, match="no training observation"):
        purged_kfold_splits(6, n_splits=2, purge=3)


# --------------------------------------------------------------------------------------------
# backtest: costs and timing
# --------------------------------------------------------------------------------------------


def test_cost_charged_once_when_holding():
    r = frame([[0.00, 0.00], [0.01, 0.02], [0.02, -0.01], [-0.01, 0.03]])
    w = frame([[1, 0]] * 4)
    res = backtest(w, r, cost_bps=BPS)
    assert isinstance(res, BacktestResult)
    assert res.returns.index.equals(r.index[1:])
    np.testing.assert_allclose(res.turnover, [1.0, 0.0, 0.0])
    np.testing.assert_allclose(res.costs, [0.001, 0.0, 0.0])
    np.testing.assert_allclose(res.gross, [0.01, 0.02, -0.01])
    np.testing.assert_allclose(res.returns, [0.01 - 0.001, 0.02, -0.01])
    assert res.returns.sum() == pytest.approx(0.02 - 0.001)


def test_switch_costs_two_units_on_the_first_day_of_the_new_position():
    r = frame([[0.0, 0.0], [0.01, 0.05], [0.02, 0.04], [0.03, -0.02]])
    w = frame([[1, 0], [1, 0], [0, 1], [0, 1]])  # switch A -> B at the close of day 2
    res = backtest(w, r, cost_bps=BPS)
    np.testing.assert_allclose(res.turnover, [1.0, 0.0, 2.0])
    np.testing.assert_allclose(res.costs, [0.001, 0.0, 0.002])
    np.testing.assert_allclose(res.gross, [0.01, 0.02, -0.02])  # B earns from day 3
    np.testing.assert_allclose(res.returns, [0.009, 0.02, -0.022])
    np.testing.assert_allclose(res.weights, [[1, 0], [1, 0], [0, 1]])
    # a short position trades notional too: flipping +1 A into -1 A is 2 units
    flip = backtest(frame([[1, 0], [-1, 0], [-1, 0], [-1, 0]]), r, cost_bps=BPS)
    np.testing.assert_allclose(flip.turnover, [1.0, 2.0, 0.0])


def test_no_look_ahead():
    r = frame([[0.0, 0.0], [0.0, 0.0], [1.0, 0.0], [0.01, 0.0], [0.02, 0.0]])
    w = frame([[0, 0], [0, 0], [1, 0], [1, 0], [1, 0]])  # first set on day 2, when A doubles
    res = backtest(w, r)
    assert res.gross.loc[r.index[2]] == 0.0  # the +100 % of the decision day is not earned
    assert res.gross.loc[r.index[3]] == pytest.approx(0.01)  # the next day's is
    late = backtest(w, r, lag=2)
    assert late.returns.index[0] == r.index[2]
    assert late.gross.loc[r.index[3]] == 0.0
    assert late.gross.loc[r.index[4]] == pytest.approx(0.02)
    assert late.turnover.loc[r.index[4]] == 1.0  # cost falls where the weights start earning


def test_same_day_weights_need_explicit_opt_in():
    r = frame([[0.0, 0.0], [1.0, 0.0], [0.0, 0.0]])
    w = frame([[0, 0], [1, 0], [0, 0]])
    with pytest.raises(ValueError, match="look-ahead"):
        backtest(w, r, lag=0)
    cheat = backtest(w, r, lag=0, allow_same_day=True)
    assert cheat.gross.loc[r.index[1]] == 1.0  # the bias it shows
    np.testing.assert_allclose(cheat.turnover, [0.0, 1.0, 1.0])


def test_top_bottom_perfect_foresight_earns_next_day_spread():
    rng = np.random.default_rng(0)
    r = pd.DataFrame(rng.normal(0, 0.01, (30, 6)), index=dates(30), columns=list("ABCDEF"))
    scores = r.shift(-1)  # tomorrow's return: only valid if the timing is right
    w = top_bottom_weights(scores, 2, gross=2.0)
    res = backtest(w, r)
    srt = np.sort(r.to_numpy()[1:], axis=1)
    spread = srt[:, -2:].mean(axis=1) - srt[:, :2].mean(axis=1)
    np.testing.assert_allclose(res.gross.to_numpy(), spread)
    assert (res.gross > 0).all()
    # weights decided from *today's* return earn nothing special tomorrow: no look-ahead
    honest = backtest(top_bottom_weights(r, 2, gross=2.0), r)
    assert not np.allclose(honest.gross.to_numpy(), spread)


def test_equal_weight_rebalanced_and_buy_and_hold():
    rng = np.random.default_rng(1)
    r = pd.DataFrame(rng.normal(0.001, 0.02, (40, 3)), index=dates(40), columns=list("XYZ"))
    # rebalanced every day: the cross-sectional mean return
    rebal = backtest(equal_weight(r), r, cost_bps=BPS)
    np.testing.assert_allclose(rebal.gross, r.iloc[1:].mean(axis=1))
    np.testing.assert_allclose(rebal.turnover.iloc[1:], 0.0)  # target-to-target convention
    drifted = backtest(equal_weight(r), r, cost_bps=BPS, drift=True)
    assert (drifted.turnover.iloc[1:] > 0).all()  # undoing the drift trades
    # buy and hold from the close of day 0: wealth = mean of the assets' growth
    growth = (1 + r.iloc[1:]).cumprod()
    manual = growth.mean(axis=1)  # equal amounts invested at the close of day 0
    hold_w = pd.concat(
        [
            pd.DataFrame([[1 / 3] * 3], index=r.index[:1], columns=r.columns),
            growth.div(growth.sum(axis=1), axis=0),
        ]
    )
    bh = backtest(hold_w, r, cost_bps=BPS, drift=True)
    np.testing.assert_allclose(bh.equity(gross=True), manual)
    np.testing.assert_allclose(bh.turnover.iloc[1:], 0.0, atol=1e-12)  # no trade after entry
    assert bh.costs.iloc[0] == pytest.approx(0.001)
    np.testing.assert_allclose(bh.equity(), manual * (1 - 0.001), rtol=1e-3)


def test_drift_turnover_by_hand():
    r = frame([[0.0, 0.0], [0.10, 0.0], [0.0, 0.0]])
    w = frame([[0.5, 0.5]] * 3)
    res = backtest(w, r, drift=True)
    # after A gains 10 %: A = 0.55 / 1.05, B = 0.50 / 1.05; back to 50/50
    expected = abs(0.5 - 0.55 / 1.05) + abs(0.5 - 0.5 / 1.05)
    np.testing.assert_allclose(res.turnover, [1.0, expected])
    np.testing.assert_allclose(backtest(w, r).turnover, [1.0, 0.0])


# --------------------------------------------------------------------------------------------
# backtest: missing values, alignment, bad input
# --------------------------------------------------------------------------------------------


def test_nan_weights_are_cash_and_nan_returns_allowed_only_when_not_held():
    r = frame([[0.0, np.nan], [0.01, np.nan], [0.02, 0.03], [0.01, 0.01]])
    w = frame([[np.nan, np.nan], [1, np.nan], [0.5, 0.5], [0.5, 0.5]])
    res = backtest(w, r)
    np.testing.assert_allclose(res.gross, [0.0, 0.02, 0.01])
    np.testing.assert_allclose(res.weights, [[0, 0], [1, 0], [0.5, 0.5]])
    bad = frame([[0.0, 0.0], [0.01, np.nan], [0.02, 0.03]])
    with pytest.raises(ValueError, match=r"NaN on 2024-01-02 for 'B'.*decided on 2024-01-01"):
        backtest(frame([[0.5, 0.5]] * 3), bad)


def test_columns_are_matched_by_name():
    r = frame([[0.0, 0.0], [0.01, 0.05], [0.02, 0.04]])
    w = frame([[1, 0]] * 3)
    swapped = backtest(w[["B", "A"]], r)
    pd.testing.assert_series_equal(swapped.returns, backtest(w, r).returns)
    with pytest.raises(ValueError, match=r"Only in weights: \['C'\]; only in returns: \['B'\]"):
        backtest(w.rename(columns={"B": "C"}), r)


def test_dates_are_aligned_on_the_common_span():
    r = frame(np.full((8, 2), 0.01))
    w = frame([[1, 0]] * 5, index=r.index[2:7])
    res = backtest(w, r)
    assert res.returns.index.equals(r.index[3:7])
    # a weight row on a date without returns is dropped
    extra = pd.concat([w, frame([[0, 1]], index=pd.DatetimeIndex(["2024-01-06"]))])
    res2 = backtest(extra.sort_index(), r)
    pd.testing.assert_series_equal(res2.returns, res.returns)
    # a return date without a weights row would lose a period: refuse
    gappy = r.index[[0, 1, 2, 3, 4, 6]]  # no weights for 2024-01-08 (position 5)
    with pytest.raises(ValueError, match=r"no row for 1 of the 7 return dates.*2024-01-08.*ffill"):
        backtest(frame([[1, 0]] * 6, index=gappy), r)
    with pytest.raises(ValueError, match="no date in common"):
        backtest(frame([[1, 0]] * 2, index=dates(2, "2030-01-01")), r)
    with pytest.raises(ValueError, match="at least 2 are needed"):
        backtest(frame([[1, 0]], index=r.index[:1]), r)


@pytest.mark.parametrize(
    ("weights", "returns", "kwargs", "error", "match"),
    [
        (lambda w: w.reset_index(drop=True), None, {}, TypeError, "DatetimeIndex"),
        (lambda w: w["A"], None, {}, TypeError, "to_frame"),
        (None, lambda r: r * 100 - 50, {}, ValueError, "percent"),
        (None, None, {"cost_bps": -1}, ValueError, "cost_bps must be a finite number >= 0"),
        (None, None, {"cost_bps": "5"}, TypeError, "cost_bps must be a number"),
        (None, None, {"lag": 1.0}, TypeError, "lag must be an integer"),
        (None, None, {"lag": -1}, ValueError, "lag must be an integer >= 0"),
        (lambda w: w.iloc[::-1], None, {}, ValueError, "sorted"),
        (lambda w: w.astype(str), None, {}, TypeError, "numeric"),
        (None, lambda r: r.replace(0.01, np.inf), {}, ValueError, "infinite"),
        (lambda w: w.tz_localize("UTC"), None, {}, ValueError, "time zones"),
    ],
)
def test_backtest_bad_input(weights, returns, kwargs, error, match):
    r = frame([[0.0, 0.0], [0.01, 0.05], [0.02, 0.04]])
    w = frame([[1, 0]] * 3)
    with pytest.raises(error, match=match):
        backtest(weights(w) if weights else w, returns(r) if returns else r, **kwargs)


def test_summary_and_equity():
    rng = np.random.default_rng(2)
    r = pd.DataFrame(rng.normal(0.0005, 0.01, (60, 2)), index=dates(60), columns=["A", "B"])
    res = backtest(frame([[0.5, 0.5]] * 60, index=r.index), r, cost_bps=5, name="ew")
    table = res.summary()
    assert table.index.tolist() == ["ew"]
    assert table.loc["ew", "Periods"] == 59
    assert table.loc["ew", "CAGR"] == pytest.approx(metrics.cagr(res.returns))
    assert table.loc["ew", "Sharpe (ann.)"] == pytest.approx(
        metrics.sharpe_ratio(res.returns, ddof=1)
    )
    assert table.loc["ew", "Ann. turnover"] == pytest.approx(1.0 / 59 * 252)
    assert table.loc["ew", "Ann. costs"] == pytest.approx(5e-4 / 59 * 252)
    assert res.equity().iloc[-1] == pytest.approx(np.prod(1 + res.returns.to_numpy()))
    assert res.equity().iloc[0] == pytest.approx(1 + res.returns.iloc[0])
    assert "ew" in repr(res) and "59 periods" in repr(res)


def test_net_return_below_minus_100_percent_is_refused_at_that_date():
    """Weights in percent, huge costs or leverage gave negative equity (issue 6)."""
    r = frame([[0.0, 0.0], [0.01, -0.02], [-0.03, 0.01], [0.02, 0.0]])
    # weights in percent: 60/40 instead of 0.6/0.4; on day 3 gross = -60 * 3 % + 40 * 1 % = -1.4
    with pytest.raises(ValueError, match="2024-01-03") as err:
        backtest(frame([[60, 40]] * 4, index=r.index), r)
    text = str(err.value)
    assert "below -100 %" in text and "gross -1.4" in text and "percent" in text
    # costs: 2000 bps on a turnover of 2 (switching A to B) take 40 % on top of a 70 % loss
    w = frame([[1, 0], [0, 1], [0, 1], [0, 1]], index=r.index)
    crash = frame([[0.0, 0.0], [-0.7, 0.0], [0.0, -0.7], [0.0, 0.0]])
    with pytest.raises(ValueError, match="2024-01-03") as err:
        backtest(w, crash, cost_bps=2000)
    assert "cost 0.4" in str(err.value) and "basis points" in str(err.value)
    # leverage: 3 x capital in an asset that falls 40 %
    with pytest.raises(ValueError, match=r"2024-01-02.*leverage: the gross exposure is 3"):
        backtest(frame([[3, 0]] * 4, index=r.index), frame([[0, 0], [-0.4, 0], [0, 0], [0, 0]]))
    # exactly -100 % (wealth 0) is still a valid, if grim, result
    res = backtest(frame([[2, 0]] * 3), frame([[0, 0], [0.0, 0], [-0.5, 0]]))
    assert res.returns.iloc[-1] == pytest.approx(-1.0)


def test_summary_passes_allow_partial_risk_free():
    rng = np.random.default_rng(3)
    r = pd.DataFrame(rng.normal(0.0005, 0.01, (40, 2)), index=dates(40), columns=["A", "B"])
    res = backtest(frame([[0.5, 0.5]] * 40, index=r.index), r)
    rf = pd.Series(1e-4, index=r.index[:30])
    with pytest.raises(ValueError, match="allow_partial_risk_free"):
        res.summary(risk_free=rf)
    table = res.summary(risk_free=rf, allow_partial_risk_free=True)
    assert table.loc["strategy", "Periods"] == 29


# --------------------------------------------------------------------------------------------
# weights helpers
# --------------------------------------------------------------------------------------------


def test_top_bottom_weights_by_hand_with_ties_and_nan():
    scores = pd.DataFrame(
        [
            [3.0, 1.0, np.nan, 1.0, 0.5, 2.0],  # B and D tie: B (earlier column) ranks higher
            [np.nan] * 6,  # warm-up: no decision
            [1.0, 1.0, 1.0, 1.0, 1.0, 1.0],
        ],  # all tied: column order decides
        index=dates(3),
        columns=list("ABCDEF"),
    )
    w = top_bottom_weights(scores, 2)
    assert w.iloc[0].tolist() == [0.25, 0.0, 0.0, -0.25, -0.25, 0.25]
    assert w.iloc[1].isna().all()
    assert w.iloc[2].tolist() == [0.25, 0.25, 0.0, 0.0, -0.25, -0.25]
    long_only = top_bottom_weights(scores, 2, long_short=False)
    assert long_only.iloc[0].tolist() == [0.5, 0.0, 0.0, 0.0, 0.0, 0.5]
    per_leg = top_bottom_weights(scores, 2, gross=2.0)
    assert per_leg.iloc[0].tolist() == [0.5, 0.0, 0.0, -0.5, -0.5, 0.5]


def test_top_bottom_weights_leg_sums_on_random_scores():
    rng = np.random.default_rng(3)
    values = rng.normal(size=(50, 12))
    values[rng.random(values.shape) < 0.2] = np.nan
    scores = pd.DataFrame(values, index=dates(50))
    w = top_bottom_weights(scores, 3, gross=1.5, insufficient="skip")
    active = w.notna().all(axis=1)
    assert active.sum() > 40
    wa = w[active]
    np.testing.assert_allclose(wa.clip(lower=0).sum(axis=1), 0.75)
    np.testing.assert_allclose(wa.clip(upper=0).sum(axis=1), -0.75)
    assert ((wa != 0).sum(axis=1) == 6).all()
    assert (wa[scores[active].isna()].fillna(0) == 0).all().all()  # NaN scores never held
    # the longs have higher scores than every non-long name
    for t in wa.index:
        s, row = scores.loc[t], wa.loc[t]
        assert s[row > 0].min() >= s[(row <= 0) & s.notna()].max()
        assert s[row < 0].max() <= s[(row >= 0) & s.notna()].min()


def test_top_bottom_weights_too_few_assets_and_bad_arguments():
    scores = pd.DataFrame([[1.0, 2.0, 3.0, np.nan]], index=dates(1), columns=list("ABCD"))
    with pytest.raises(ValueError, match=r"only 3 asset\(s\).*4 needed for k=2"):
        top_bottom_weights(scores, 2)
    assert top_bottom_weights(scores, 2, insufficient="skip").isna().all().all()
    assert top_bottom_weights(scores, 2, long_short=False).iloc[0].tolist() == [0, 0.5, 0.5, 0]
    with pytest.raises(ValueError, match="k must be a positive"):
        top_bottom_weights(scores, 0)
    with pytest.raises(ValueError, match="gross must be"):
        top_bottom_weights(scores, 1, gross=0.0)
    with pytest.raises(ValueError, match="insufficient must be"):
        top_bottom_weights(scores, 1, insufficient="drop")
    with pytest.raises(ValueError, match="infinite"):
        top_bottom_weights(scores.replace(1.0, np.inf), 1)


def test_equal_weight():
    s = equal_weight(["A", "B", "C", "D"])
    assert s.tolist() == [0.25] * 4 and s.index.tolist() == list("ABCD")
    r = pd.DataFrame(
        [[np.nan, 0.01, 0.02], [0.01, 0.02, 0.03], [np.nan] * 3],
        index=dates(3),
        columns=list("ABC"),
    )
    w = equal_weight(r)
    assert w.iloc[0].tolist() == [0.0, 0.5, 0.5]
    np.testing.assert_allclose(w.iloc[1], [1 / 3] * 3)
    assert w.iloc[2].isna().all()
    with pytest.raises(ValueError, match="at least one asset"):
        equal_weight([])
    with pytest.raises(ValueError, match="duplicate"):
        equal_weight(["A", "A"])
    with pytest.raises(TypeError, match="DataFrame of returns or a list"):
        equal_weight(r["A"])


def test_split_is_exported_type():
    assert all(isinstance(s, Split) for s in purged_kfold_splits(dates(10), n_splits=2))
