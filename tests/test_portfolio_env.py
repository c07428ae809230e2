"""common.portfolio_env: step accounting (costs on L1 turnover, drift), no future data, check_env."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from gymnasium.utils.env_checker import check_env

from common.backtest import backtest
from common.portfolio_env import (
    PortfolioEnv,
    batched_rollouts,
    drift_weights,
    observation_features,
    softmax,
    window_features,
)


def _returns(T=200, n=3, seed=0):
    return np.random.default_rng(seed).normal(0.0004, 0.012, (T, n))


@pytest.mark.filterwarnings("error")  # not even a warning from the checker
def test_check_env_passes():
    env = PortfolioEnv(_returns(), episode_length=20, lookback=30, horizons=(5, 20))
    check_env(env, skip_render_check=True)


def test_one_step_accounting_by_hand():
    r = _returns()
    env = PortfolioEnv(r, cost_rate=0.002, episode_length=5, lookback=60, reward_scale=100.0)
    obs, info = env.reset(options={"start": 70})
    np.testing.assert_allclose(obs[-3:], 1 / 3, rtol=1e-6)  # equal weights held at the start
    action = np.array([0.4, -0.2, 0.1])
    w = np.exp(5 * action) / np.exp(5 * action).sum()
    obs, reward, terminated, truncated, info = env.step(action)
    turnover = np.abs(w - 1 / 3).sum()
    gross = w @ r[71]
    assert info["turnover"] == pytest.approx(turnover, rel=1e-12)
    assert info["cost"] == pytest.approx(0.002 * turnover, rel=1e-12)
    assert info["gross"] == pytest.approx(gross, rel=1e-12)  # w . r, not exp(w . log(1 + r)) - 1
    assert reward == pytest.approx(100 * (gross - 0.002 * turnover), rel=1e-12)
    held = w * (1 + r[71]) / (1 + gross)
    np.testing.assert_allclose(info["drifted"], held, rtol=1e-12)
    np.testing.assert_allclose(obs[-3:], held, rtol=1e-6)  # the next observation shows the drift
    assert not terminated and not truncated
    # holding the drifted weights costs nothing; asking for the old targets costs the drift back
    same = np.log(held) / 5
    _, _, _, _, info2 = env.step(same - same.mean())
    assert info2["turnover"] == pytest.approx(0.0, abs=1e-12) and info2["cost"] == pytest.approx(
        0.0, abs=1e-15
    )


def test_equal_weight_pays_for_undoing_drift():
    r = _returns(seed=3)
    env = PortfolioEnv(r, cost_rate=0.001, episode_length=10)
    env.reset(options={"start": 100})
    costs = [env.step(np.zeros(3))[4]["cost"] for _ in range(10)]
    assert costs[0] == pytest.approx(0.0, abs=1e-15)  # starts equal-weighted
    assert all(c > 0 for c in costs[1:])  # every later day trades back to 1/N


def test_episode_matches_common_backtest_with_drift():
    rng = np.random.default_rng(1)
    r = _returns(T=150, n=4, seed=1)
    env = PortfolioEnv(r, cost_rate=0.001, episode_length=None, lookback=60, reward_scale=1.0)
    env.reset(options={"start": 59})
    targets, nets = [], []
    done = False
    while not done:
        action = rng.uniform(-1, 1, 4)
        _, reward, term, trunc, info = env.step(action)
        targets.append(info["weights"])
        nets.append(reward)
        done = term or trunc
    dates = pd.bdate_range("2020-01-01", periods=len(r))
    rets = pd.DataFrame(r, index=dates)
    weights = pd.DataFrame(np.nan, index=dates, columns=rets.columns)
    w0 = 0.25 / (1 + r[59])  # bought at the close of row 58, these drift to 1/4 by row 59 ...
    weights.iloc[58] = w0 / w0.sum()  # ... the equal weights the episode starts from
    weights.iloc[59 : 59 + len(targets)] = np.array(targets)
    res = backtest(weights.iloc[58:], rets.iloc[58:], cost_bps=10, drift=True)
    np.testing.assert_allclose(np.array(nets), res.returns.to_numpy()[1:], atol=1e-14)


def test_observation_ignores_future_returns():
    r = _returns(T=300, n=3, seed=2)
    env = PortfolioEnv(r, episode_length=5)
    obs, _ = env.reset(options={"start": 150})
    r2 = r.copy()
    r2[151:] = np.random.default_rng(9).normal(0.0, 0.05, r2[151:].shape)  # rewrite the future
    env2 = PortfolioEnv(r2, episode_length=5)
    obs2, _ = env2.reset(options={"start": 150})
    np.testing.assert_array_equal(obs, obs2)
    r3 = r.copy()
    r3[150] += 0.03  # the decision day's own return is known at its close and does enter
    obs3, _ = PortfolioEnv(r3, episode_length=5).reset(options={"start": 150})
    assert not np.allclose(obs, obs3)
    # after one step the observation uses row 151 (now past), still nothing beyond it
    a = np.zeros(3)
    o1 = env.step(a)[0]
    r4 = r.copy()
    r4[152:] += 0.01
    env4 = PortfolioEnv(r4, episode_length=5)
    env4.reset(options={"start": 150})
    np.testing.assert_array_equal(o1, env4.step(a)[0])


def test_features_by_hand_and_batched():
    r = _returns(T=60, n=2, seed=4)
    f = observation_features(r, (5, 20))
    sd = r.std(axis=0)
    expected = [r[-5:, 0].sum() / (sd[0] * np.sqrt(5)), r[-20:, 0].sum() / (sd[0] * np.sqrt(20)),
                np.log(sd[0] / 0.01)]  # fmt: skip
    np.testing.assert_allclose(f[:3], expected, rtol=1e-12)
    batch = np.stack([r, r[::-1]])
    np.testing.assert_allclose(observation_features(batch, (5, 20))[0], f)


def test_episode_ends_and_random_starts_are_seeded():
    env = PortfolioEnv(_returns(), episode_length=3)
    starts = [env.reset(seed=7)[1]["t"], env.reset(seed=7)[1]["t"]]
    assert starts[0] == starts[1] and env.first_start <= starts[0] <= env.last_start
    flags = [env.step(np.zeros(3))[3] for _ in range(3)]
    assert flags == [False, False, True]
    env = PortfolioEnv(_returns(T=70), episode_length=None)
    env.reset(options={"start": 67})
    assert env.step(np.zeros(3))[2] is False
    assert env.step(np.zeros(3))[2] is True  # data end: terminated


def test_helpers_and_bad_inputs():
    np.testing.assert_allclose(softmax(np.array([[0.0, np.log(3.0)]])), [[0.25, 0.75]])
    np.testing.assert_allclose(
        drift_weights(np.array([0.5, 0.5]), np.array([0.1, -0.1])), [0.55, 0.45]
    )
    with pytest.raises(ValueError, match="returns"):
        PortfolioEnv(np.zeros((100, 1)))
    with pytest.raises(ValueError, match="returns"):
        PortfolioEnv(np.full((100, 2), np.nan))
    with pytest.raises(ValueError, match="cost_rate"):
        PortfolioEnv(_returns(), cost_rate=-0.1)
    with pytest.raises(ValueError, match="lookback"):
        PortfolioEnv(_returns(), lookback=10)
    with pytest.raises(ValueError, match="rows"):
        PortfolioEnv(_returns(T=100), episode_length=120)
    with pytest.raises(ValueError, match="start"):
        PortfolioEnv(_returns()).reset(options={"start": 5})


def test_batched_rollouts_equal_the_environment_step_by_step():
    """Linear-softmax policies rolled out in NumPy give PortfolioEnv's net returns, episode by episode."""
    r = _returns(T=300, n=3, seed=4)
    feats = window_features(r, lookback=60)
    assert feats.shape == (241, 12)
    np.testing.assert_allclose(feats[10], observation_features(r[10:70]), rtol=1e-12)  # row t = 69
    theta = np.random.default_rng(1).normal(0, 0.5, (2, 12 + 3 + 1, 3))
    starts = np.array([59, 150])
    net, score = batched_rollouts(theta, feats, r, starts, horizon=25, cost_rate=0.002, logit_scale=5.0)
    assert net.shape == (2, 2, 25) and score is None
    env = PortfolioEnv(r, cost_rate=0.002, episode_length=25, logit_scale=5.0)
    for p in range(2):
        for s, start in enumerate(starts):
            obs, _ = env.reset(options={"start": int(start)})
            for k in range(25):
                obs, _, _, _, info = env.step(np.clip(np.append(obs, 1.0) @ theta[p], -1, 1))
                assert info["net"] == pytest.approx(net[p, s, k], abs=1e-7)  # float32 observations
    noisy, score = batched_rollouts(theta, feats, r, starts, horizon=25, cost_rate=0.002, logit_scale=5.0,
                                    noise_sd=0.1, rng=np.random.default_rng(0))
    assert score.shape == (2, 2, 16, 3) and not np.allclose(noisy, net)
    with pytest.raises(ValueError, match="rng"):
        batched_rollouts(theta, feats, r, starts, horizon=25, cost_rate=0.0, logit_scale=5.0, noise_sd=0.1)
    with pytest.raises(ValueError, match="starts"):
        batched_rollouts(theta, feats, r, np.array([58]), horizon=25, cost_rate=0.0, logit_scale=5.0)
