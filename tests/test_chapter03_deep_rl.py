"""Notebook 3.10 (deep RL portfolios): the taught arithmetic checked, and a bad parameter.

The cell tagged ``rollouts`` binds :func:`common.portfolio_env.batched_rollouts` to the notebook's
settings for CEM and REINFORCE; its rollouts must book exactly what
:class:`common.portfolio_env.PortfolioEnv` books (costs on L1 turnover, drifting weights). The cell tagged ``direct_policy`` holds the network and the loss of the
direct policy (minus the annualized Sharpe ratio of the next months, net of costs).
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest
import torch

from common.portfolio_env import PortfolioEnv, batched_rollouts, window_features

NOTEBOOK = "chapter03/10_deep_rl_portfolio.ipynb"


@pytest.fixture(scope="module")
def cells(tagged_cell):
    namespace = {"np": np, "torch": torch, "partial": partial, "batched_rollouts": batched_rollouts,
                 "HORIZON": 30, "LOGIT_SCALE": 5.0,
                 "COST_RATE": 0.002, "PERIODS_PER_YEAR": 252}  # fmt: skip
    tagged_cell(NOTEBOOK, "rollouts", namespace)
    return tagged_cell(NOTEBOOK, "direct_policy", namespace)


def test_batched_rollouts_book_what_the_environment_books(cells):
    rng = np.random.default_rng(0)
    series = rng.normal(0.0003, 0.015, (400, 4))
    theta = rng.normal(0.0, 0.5, (3, 21, 4))
    starts = np.array([59, 120, 300])
    net, score = cells["rollouts"](theta, window_features(series), series, starts)
    assert net.shape == (3, 3, 30) and score is None
    env = PortfolioEnv(series, cost_rate=0.002, episode_length=30, logit_scale=5.0)
    for p in range(3):
        policy = cells["linear_policy"](theta[p])
        for s, start in enumerate(starts):
            obs, _ = env.reset(options={"start": int(start)})
            booked = []
            for _ in range(30):
                obs, reward, *_ = env.step(policy(obs))
                booked.append(reward)
            # the environment's observation is float32, hence 1e-7 rather than 1e-15
            np.testing.assert_allclose(net[p, s], booked, atol=1e-7)


def test_reinforce_noise_and_score_replayed_through_the_environment(cells):
    """Noisy actions a_t = [obs_t, 1] theta + sd eps_t: the same net returns as the environment,
    and the score sum_t [obs_t, 1] (x) eps_t / sd = d log N(a_t; [obs_t, 1] theta, sd^2) / d theta."""
    rng = np.random.default_rng(1)
    series = rng.normal(0.0, 0.01, (200, 4))
    theta = rng.normal(0.0, 0.1, (21, 4))
    net, score = cells["rollouts"](theta[None], window_features(series), series, np.array([80]),
                                   noise_sd=0.3, rng=np.random.default_rng(5))  # fmt: skip
    draws = np.random.default_rng(5)  # the same stream of action noise, one (1, 1, 4) draw a step
    env = PortfolioEnv(series, cost_rate=0.002, episode_length=30, logit_scale=5.0)
    obs, _ = env.reset(options={"start": 80})
    expected, booked = np.zeros((21, 4)), []
    for _ in range(30):
        eps = draws.standard_normal((1, 1, 4))[0, 0]
        x = np.append(obs.astype("float64"), 1.0)
        expected += np.outer(x, eps) / 0.3
        obs, reward, *_ = env.step(np.clip(x @ theta + 0.3 * eps, -1, 1))
        booked.append(reward)
    np.testing.assert_allclose(net[0, 0], booked, atol=1e-7)
    np.testing.assert_allclose(score[0, 0], expected, rtol=1e-5, atol=1e-5)


def test_direct_policy_loss_is_minus_the_sharpe_net_of_costs(cells):
    torch.manual_seed(0)
    model = cells["DirectPolicy"](3, 4, np.zeros(3), np.ones(3))
    x = torch.randn(2, 12, 3)
    r = torch.randn(2, 12, 4) * 0.05
    loss = cells["minus_sharpe"](model, (x, r))
    w = model(x).detach().numpy()
    port = (w * r.numpy()).sum(-1)
    port[:, 1:] -= 0.002 * np.abs(np.diff(w, axis=1)).sum(-1)
    expected = -np.mean(port.mean(1) / port.std(1, ddof=1) * np.sqrt(12))
    assert float(loss.detach()) == pytest.approx(expected, rel=1e-5)


def test_bad_parameter_fails_clearly(assert_bad_parameter):
    assert_bad_parameter(NOTEBOOK, "CEM_ELITE", 80)  # elite as large as the population
