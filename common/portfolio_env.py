"""A daily portfolio environment for reinforcement learning (``gymnasium``), with costs and drift.

Book §3.3 (deep reinforcement learning for portfolios); used by ``chapter03/10_deep_rl_portfolio``.

Timing of one step (no look-ahead). Row ``t`` of ``returns`` is the simple return of each asset
from the close of day ``t - 1`` to the close of day ``t``. At the close of day ``t`` the agent
sees an observation built from rows ``t - lookback + 1 .. t`` only and from the weights it holds
at that moment (its last targets, drifted by day ``t``'s prices). It then chooses target
weights ``w_t``; the trade happens at that close and the portfolio earns row ``t + 1``::

    w_t        = softmax(logit_scale * clip(action, -1, 1))        target weights, sum to 1
    turnover_t = sum_i |w_t,i - h_t,i|                             h_t = weights held before trading
    cost_t     = cost_rate * turnover_t                            fraction of capital
    gross_t+1  = sum_i w_t,i * r_t+1,i                             simple returns, not exp(w . log r)
    net_t+1    = gross_t+1 - cost_t                                the reward (times reward_scale)
    h_t+1,i    = w_t,i (1 + r_t+1,i) / (1 + gross_t+1)              weights drift with prices

so an agent that asks for equal weights every day pays, every day, for the trades that undo the
drift (a fixed-weight portfolio is not free), and one that leaves the drifted weights in place
pays nothing. Costs are charged on the L1 turnover (buys plus sells) at ``cost_rate`` per unit
traded (0.001 = 10 basis points); ``net = gross - cost`` is the usual additive approximation.
The first holdings ``h`` of an episode are ``initial_weights`` (equal weights by default), taken
as already held (no entry cost).

Observation (``float32``, shape ``(n_assets * (len(horizons) + 1) + n_assets,)``), for each
asset in column order: for every horizon ``k`` in ``horizons`` the standardized past return
``sum(r[t-k+1..t]) / (sd * sqrt(k))`` with ``sd`` the daily standard deviation over the last
``lookback`` rows, then the log of that volatility relative to 1 % a day; after all assets the
held weights ``h_t``. Features are clipped to [-10, 10]. Nothing after row ``t`` enters.

Episodes start at a random row (drawn from the environment's seeded ``np_random``) or at
``options={"start": t}`` and last ``episode_length`` steps (``truncated``); they end early with
``terminated`` when the data run out. ``episode_length=None`` runs from the start to the end of
the data (an evaluation pass over a test period).

Sources: the environment API is Farama's ``gymnasium`` (``gymnasium.Env``, checked with
``gymnasium.utils.env_checker.check_env``); the drift and turnover conventions are those of
:func:`common.backtest.backtest` with ``drift=True``.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

__all__ = ["PortfolioEnv", "batched_rollouts", "drift_weights", "observation_features", "softmax", "window_features"]


def softmax(logits: np.ndarray) -> np.ndarray:
    """Softmax over the last axis (stable): logits (..., n) -> weights (..., n), rows sum to 1."""
    z = np.asarray(logits, dtype="float64")
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def drift_weights(weights: np.ndarray, asset_returns: np.ndarray) -> np.ndarray:
    """Weights after one period of price moves: ``w (1 + r) / (1 + w . r)``, shapes (..., n)."""
    grown = np.asarray(weights) * (1.0 + np.asarray(asset_returns))
    return grown / grown.sum(axis=-1, keepdims=True)


def observation_features(window: np.ndarray, horizons: tuple[int, ...] = (5, 20, 60)) -> np.ndarray:
    """Features of one look-back window of returns (the observation without the weights).

    Args:
        window: array (..., lookback, n_assets) of daily simple returns, the last row being the
            decision day ``t``; ``lookback >= max(horizons)``. Leading dimensions (a batch of
            paths) are kept.
        horizons: look-back lengths k in days of the standardized returns.

    Returns:
        array (..., n_assets * (len(horizons) + 1)): per asset the standardized k-day returns
        ``sum(last k) / (sd sqrt(k))`` and ``log(sd / 0.01)``, ``sd`` = standard deviation of the
        window (ddof 0); clipped to [-10, 10].
    """
    w = np.asarray(window, dtype="float64")
    sd = np.maximum(w.std(axis=-2), 1e-8)  # (..., n)
    parts = [w[..., -k:, :].sum(axis=-2) / (sd * np.sqrt(k)) for k in horizons]
    parts.append(np.log(sd / 0.01))
    feats = np.stack(parts, axis=-1)  # (..., n, n_features_per_asset)
    return np.clip(feats.reshape(*feats.shape[:-2], -1), -10.0, 10.0)


def window_features(series: np.ndarray, lookback: int = 60, horizons: tuple[int, ...] = (5, 20, 60)) -> np.ndarray:
    """:func:`observation_features` of every decision row ``t >= lookback - 1`` of a return series.

    Args:
        series: array (T, n_assets) of daily simple returns.
        lookback: rows behind each observation (the environment's ``lookback``).
        horizons: as in :func:`observation_features`.

    Returns:
        array (T - lookback + 1, n_assets * (len(horizons) + 1)); row ``j`` holds the features of
        decision row ``t = j + lookback - 1``, computed from rows ``t - lookback + 1 .. t`` only.
    """
    windows = np.lib.stride_tricks.sliding_window_view(np.asarray(series, dtype="float64"), lookback, axis=0)
    return observation_features(windows.transpose(0, 2, 1), horizons)


def batched_rollouts(theta: np.ndarray, features: np.ndarray, series: np.ndarray, starts: np.ndarray, *,
                     horizon: int, cost_rate: float, logit_scale: float, lookback: int = 60,
                     noise_sd: float = 0.0, rng: np.random.Generator | None = None):
    """Net daily returns of many linear-softmax policies on many episodes at once (NumPy).

    The accounting is :class:`PortfolioEnv`'s step for step (targets from the clipped action,
    costs on L1 turnover against the drifted holdings, the next row's simple returns, drift),
    starting each episode from equal weights; ``tests/test_portfolio_env.py`` checks the two agree.
    The policy of parameters ``theta[p]`` (shape ``(F + n + 1, n)``) maps the observation
    ``[features, held weights, 1]`` to the action ``obs @ theta[p]``. With ``noise_sd > 0`` the
    action gets Gaussian noise ``noise_sd * eps`` (the exploration of REINFORCE with a Gaussian
    policy, Williams 1992) and the score ``sum_t obs_t (x) eps_t / noise_sd`` is returned too.

    Args:
        theta: array (P, F + n + 1, n): P policies.
        features: :func:`window_features` of ``series`` (row ``t - lookback + 1`` for row ``t``).
        series: array (T, n) of daily simple returns.
        starts: int array (S,) of first decision rows (``>= lookback - 1``, ``< T - horizon``).
        horizon: decision days per episode.
        cost_rate: cost per unit of turnover (fraction; 0.001 = 10 bp).
        logit_scale: the environment's ``logit_scale``.
        lookback: the rows behind each feature row.
        noise_sd: action noise (0: deterministic policies).
        rng: generator for the noise (needed when ``noise_sd > 0``).

    Returns:
        ``(net, score)``: net returns (P, S, horizon) as fractions per day, and the score
        (P, S, F + n + 1, n) or None without noise.

    Raises:
        ValueError: ``noise_sd > 0`` without ``rng``, or an episode that runs past the data.
    """
    starts = np.asarray(starts)
    n = series.shape[1]
    if noise_sd and rng is None:
        raise ValueError("noise_sd > 0 needs rng")
    if starts.min() < lookback - 1 or starts.max() + horizon >= len(series):
        raise ValueError(f"starts must lie in [{lookback - 1}, {len(series) - horizon - 1}]")
    P, S = theta.shape[0], len(starts)
    held = np.full((P, S, n), 1.0 / n)
    net = np.empty((P, S, horizon))
    score = np.zeros((P, S) + theta.shape[1:]) if noise_sd else None
    for k in range(horizon):
        t = starts + k
        obs = np.concatenate([np.broadcast_to(features[t - lookback + 1], (P, S, features.shape[1])), held,
                              np.ones((P, S, 1))], -1)  # fmt: skip
        action = np.einsum("psd,pdn->psn", obs, theta)
        if noise_sd:
            eps = rng.standard_normal(action.shape)
            action = action + noise_sd * eps
            score += np.einsum("psd,psn->psdn", obs, eps) / noise_sd
        w = softmax(logit_scale * np.clip(action, -1, 1))
        r = series[t + 1]  # (S, n): the next day's returns
        gross = (w * r).sum(-1)
        net[:, :, k] = gross - cost_rate * np.abs(w - held).sum(-1)
        held = w * (1 + r) / (1 + gross)[..., None]
    return net, score


class PortfolioEnv(gym.Env):
    """Long-only daily allocation among ``n`` assets with proportional costs and drifting weights.

    Args:
        returns: array (T, n) of daily simple returns (fractions), no NaN, all > -1.
        cost_rate: cost per unit of L1 turnover (fraction; 0.001 = 0.1 % = 10 bp), >= 0.
        episode_length: steps per episode, or None (run to the end of the data).
        lookback: rows of returns behind each observation (>= max(horizons)).
        horizons: look-back lengths of the standardized-return features, days.
        logit_scale: the action in [-1, 1]^n is multiplied by this before the softmax (5: the
            largest weight ratio is e^10).
        reward_scale: the reward is the net return times this (e.g. 100: percent), for learners
            that like rewards of order 1; ``info`` always holds unscaled fractions.
        initial_weights: holdings at the start of an episode (default equal weights).

    ``step`` returns ``info`` with ``t`` (the decision row), ``weights`` (targets ``w_t``),
    ``held`` (``h_t`` before trading), ``turnover``, ``cost``, ``gross``, ``net`` (fractions) and
    ``drifted`` (``h_{t+1}``).
    """

    metadata = {"render_modes": []}

    def __init__(
        self,
        returns: Any,
        *,
        cost_rate: float = 0.001,
        episode_length: int | None = 120,
        lookback: int = 60,
        horizons: tuple[int, ...] | list[int] = (5, 20, 60),
        logit_scale: float = 5.0,
        reward_scale: float = 1.0,
        initial_weights: Any = None,
    ) -> None:
        r = np.asarray(returns, dtype="float64")
        if r.ndim != 2 or r.shape[1] < 2:
            raise ValueError(
                f"returns must be an array (T, n) with n >= 2 assets, got shape {r.shape}"
            )
        if not np.isfinite(r).all() or (r <= -1).any():
            raise ValueError("returns must be finite simple returns above -1 (no NaN)")
        self.horizons = tuple(int(k) for k in horizons)
        if not self.horizons or min(self.horizons) < 1:
            raise ValueError(f"horizons must be positive integers, got {horizons!r}")
        if not isinstance(lookback, int) or lookback < max(self.horizons) or lookback < 2:
            raise ValueError(
                f"lookback must be an integer >= max(horizons) and >= 2, got {lookback!r}"
            )
        if not (np.isfinite(cost_rate) and cost_rate >= 0):
            raise ValueError(f"cost_rate must be a fraction >= 0, got {cost_rate!r}")
        if episode_length is not None and (
            not isinstance(episode_length, int) or episode_length < 1
        ):
            raise ValueError(
                f"episode_length must be a positive integer or None, got {episode_length!r}"
            )
        min_rows = lookback + 1 + (episode_length or 1)
        if r.shape[0] < min_rows:
            raise ValueError(
                f"returns have {r.shape[0]} rows; lookback + episode_length + 1 = {min_rows} needed"
            )
        if not logit_scale > 0 or not reward_scale > 0:
            raise ValueError("logit_scale and reward_scale must be positive")
        self.returns = r
        self.n_assets = r.shape[1]
        self.cost_rate = float(cost_rate)
        self.episode_length = episode_length
        self.lookback = lookback
        self.logit_scale = float(logit_scale)
        self.reward_scale = float(reward_scale)
        w0 = (
            np.full(self.n_assets, 1.0 / self.n_assets)
            if initial_weights is None
            else np.asarray(initial_weights, dtype="float64")
        )
        if w0.shape != (self.n_assets,) or (w0 < 0).any() or not np.isclose(w0.sum(), 1.0):
            raise ValueError("initial_weights must be n non-negative weights summing to 1")
        self.initial_weights = w0
        n_obs = self.n_assets * (len(self.horizons) + 1) + self.n_assets
        self.observation_space = gym.spaces.Box(-10.0, 10.0, shape=(n_obs,), dtype=np.float32)
        self.action_space = gym.spaces.Box(-1.0, 1.0, shape=(self.n_assets,), dtype=np.float32)
        self._t = lookback - 1
        self._steps = 0
        self._held = w0.copy()

    @property
    def first_start(self) -> int:
        """Earliest decision row: the first with a full look-back window."""
        return self.lookback - 1

    @property
    def last_start(self) -> int:
        """Latest start row that leaves a full episode (or one step when episode_length is None)."""
        return self.returns.shape[0] - 1 - (self.episode_length or 1)

    def weights_from_action(self, action: Any) -> np.ndarray:
        """Target weights ``softmax(logit_scale * clip(action, -1, 1))``, shape (n,)."""
        a = np.clip(np.asarray(action, dtype="float64").reshape(self.n_assets), -1.0, 1.0)
        return softmax(self.logit_scale * a)

    def _observation(self) -> np.ndarray:
        window = self.returns[self._t - self.lookback + 1 : self._t + 1]  # rows up to t only
        feats = observation_features(window, self.horizons)
        return np.concatenate([feats, self._held]).astype(np.float32)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        """Start an episode at ``options["start"]`` or at a random row; returns (obs, info)."""
        super().reset(seed=seed)
        start = (options or {}).get("start")
        if start is None:
            start = int(self.np_random.integers(self.first_start, self.last_start + 1))
        elif not (self.first_start <= int(start) <= self.returns.shape[0] - 2):
            raise ValueError(
                f"start must be in [{self.first_start}, {self.returns.shape[0] - 2}], got {start!r}"
            )
        self._t = int(start)
        self._steps = 0
        self._held = self.initial_weights.copy()
        return self._observation(), {"t": self._t}

    def step(self, action: Any):
        """Trade to the target weights at the close of row t, earn row t + 1, drift; see module."""
        w = self.weights_from_action(action)
        held = self._held
        turnover = float(np.abs(w - held).sum())
        cost = self.cost_rate * turnover
        r_next = self.returns[self._t + 1]
        gross = float(w @ r_next)
        net = gross - cost
        drifted = drift_weights(w, r_next)
        info = {"t": self._t, "weights": w, "held": held, "turnover": turnover, "cost": cost,
                "gross": gross, "net": net, "drifted": drifted}  # fmt: skip
        self._held = drifted
        self._t += 1
        self._steps += 1
        terminated = self._t >= self.returns.shape[0] - 1
        truncated = (
            (not terminated)
            and self.episode_length is not None
            and self._steps >= self.episode_length
        )
        return self._observation(), float(net * self.reward_scale), terminated, truncated, info
