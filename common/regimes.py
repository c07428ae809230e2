"""Regime models: the forward (filtering) recursion of a Gaussian hidden Markov model.

``hmmlearn``'s :meth:`GaussianHMM.predict_proba` returns *smoothed* probabilities
``P(s_t = k | x_1..x_T)``: every day's regime is inferred from the whole sample, later days
included, so a trading rule that uses them looks ahead. :func:`forward_filter` returns the
*filtered* probabilities ``P(s_t = k | x_1..x_t)``, which use data up to day ``t`` only
(given the model's parameters).

The recursion (normalized forward algorithm, i.e. the Hamilton filter)::

    predicted_1 = startprob                        (K,)
    predicted_t = filtered_{t-1} @ transmat        (K,)  P(s_t | x_1..x_{t-1})
    joint_t     = predicted_t * N(x_t; means_k, covars_k)
    c_t         = sum_k joint_t[k]                 p(x_t | x_1..x_{t-1})
    filtered_t  = joint_t / c_t                    (K,)  P(s_t | x_1..x_t)

``sum_t log c_t`` is the log-likelihood ``log p(x_1..x_T)`` (what ``hmmlearn``'s ``score``
returns), and ``filtered_T`` equals the smoothed probability of the last day.

Sources: J. D. Hamilton (1989), "A New Approach to the Economic Analysis of Nonstationary Time
Series and the Business Cycle", *Econometrica* 57(2), 357-384 (the filter, section 4);
L. R. Rabiner (1989), "A Tutorial on Hidden Markov Models and Selected Applications in Speech
Recognition", *Proc. IEEE* 77(2), 257-286 (forward algorithm with scaling, section V.A).
Book §6.3.3 (Gaussian mixtures and regimes).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["TwoRegimeSimulator", "forward_filter", "gaussian_log_densities"]


def gaussian_log_densities(x: np.ndarray, means: np.ndarray, covars: np.ndarray) -> np.ndarray:
    """Log-density of every observation under every Gaussian component.

    Args:
        x: observations, array (T, d).
        means: component means, array (K, d).
        covars: full covariance matrices, array (K, d, d), each positive definite.

    Returns:
        array (T, K): ``log N(x_t; means_k, covars_k)``.
    """
    x = np.asarray(x, dtype=float)
    t, d = x.shape
    out = np.empty((t, len(means)))
    for k, (mu, cov) in enumerate(zip(means, covars, strict=True)):
        chol = np.linalg.cholesky(cov)
        z = np.linalg.solve(chol, (x - mu).T)  # (d, T): whitened deviations
        log_det = 2.0 * np.sum(np.log(np.diag(chol)))
        out[:, k] = -0.5 * (d * np.log(2 * np.pi) + log_det + np.sum(z**2, axis=0))
    return out


def _full_covariances(model: Any, k: int, d: int) -> np.ndarray:
    """Covariance matrices (K, d, d) of a GaussianHMM for every ``covariance_type``.

    After fitting, hmmlearn 0.3.3 stores spherical variances tiled to (K, d), and its
    ``covars_`` property then has the wrong shape (K*d, d, d); so the stored parameters
    ``_covars_`` are expanded here.
    """
    kind = getattr(model, "covariance_type", "full")
    raw = np.asarray(getattr(model, "_covars_", model.covars_), dtype=float)
    if kind == "spherical":
        return raw.reshape(k, -1)[:, 0, None, None] * np.eye(d)
    if kind == "diag":
        return np.stack([np.diag(v) for v in raw.reshape(k, d)])
    if kind == "tied":
        return np.broadcast_to(raw.reshape(d, d), (k, d, d)).copy()
    return raw.reshape(k, d, d)


def forward_filter(model: Any, x: Any) -> tuple[np.ndarray, np.ndarray]:
    """Filtered regime probabilities ``P(s_t = k | x_1..x_t)`` of a fitted Gaussian HMM.

    Row ``t`` of the result depends on ``x[0..t]`` only: changing later observations leaves it
    unchanged (unlike ``model.predict_proba``, which smooths over the whole sample).

    Args:
        model: a fitted ``hmmlearn.hmm.GaussianHMM`` (any ``covariance_type``); its
            ``startprob_`` (K,), ``transmat_`` (K, K), ``means_`` (K, d) and its covariances
            (expanded to full (K, d, d) matrices from ``covariance_type``) are used.
        x: observations, array (T, d) (a 1-D array is read as d = 1), in the units the model
            was fitted in, rows in time order, no NaN.

    Returns:
        ``(filtered, log_norm)``: ``filtered`` array (T, K), rows summing to 1, state order as
        in ``model``; ``log_norm`` array (T,), ``log p(x_t | x_1..x_{t-1})``, whose sum is the
        log-likelihood ``model.score(x)``.

    Raises:
        ValueError: ``x`` is empty, has NaN / inf, or its dimension differs from the model's.
    """
    x = np.asarray(x, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    means = np.asarray(model.means_, dtype=float)
    if x.ndim != 2 or len(x) == 0 or x.shape[1] != means.shape[1]:
        raise ValueError(f"x must be an array (T, {means.shape[1]}) with T >= 1, got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("x contains NaN or inf")
    start = np.asarray(model.startprob_, dtype=float)
    trans = np.asarray(model.transmat_, dtype=float)
    log_b = gaussian_log_densities(x, means, _full_covariances(model, *means.shape))

    filtered = np.empty_like(log_b)
    log_norm = np.empty(len(x))
    predicted = start
    for t in range(len(x)):
        shift = log_b[t].max()  # scale the densities to avoid underflow; added back below
        joint = predicted * np.exp(log_b[t] - shift)
        total = joint.sum()
        filtered[t] = joint / total
        log_norm[t] = np.log(total) + shift
        predicted = filtered[t] @ trans
    return filtered, log_norm


class TwoRegimeSimulator:
    """Daily returns from a two-regime Gaussian Markov chain fitted by ``hmmlearn``.

    :meth:`fit` fits ``GaussianHMM(n_components=2, covariance_type="full")`` to percent returns
    (better conditioned) and orders the regimes calm first (smaller covariance trace). Attributes
    (fractions per day): ``means`` (2, n), ``covs`` (2, n, n), ``trans`` (2, 2) transition
    matrix, ``stationary`` (2,) long-run share of days. :meth:`simulate` draws the first regime
    from ``stationary``, then regime paths from ``trans`` and returns ``means[s] + chol(covs[s]) z``,
    floored at -95 % a day. A simulation for training agents (Book §3.3): it keeps volatility
    clustering and correlations by regime, nothing else (no fat tails within a regime).
    """

    def __init__(self, means: np.ndarray, covs: np.ndarray, trans: np.ndarray):
        self.means, self.covs, self.trans = np.asarray(means), np.asarray(covs), np.asarray(trans)
        self.chol = np.linalg.cholesky(self.covs)
        self.stationary = np.linalg.solve(np.vstack([(self.trans.T - np.eye(2))[:1], np.ones(2)]), [0, 1])

    @classmethod
    def fit(cls, returns: Any, *, n_iter: int = 200, random_state: int = 0) -> TwoRegimeSimulator:
        """Fit to daily simple returns, array or DataFrame (T, n); returns the simulator."""
        from hmmlearn.hmm import GaussianHMM

        hmm = GaussianHMM(n_components=2, covariance_type="full", n_iter=n_iter, random_state=random_state)
        hmm.fit(100 * np.asarray(returns, dtype="float64"))
        order = np.argsort([np.trace(c) for c in hmm.covars_])  # calm regime first
        return cls(hmm.means_[order] / 100, hmm.covars_[order] / 1e4, hmm.transmat_[np.ix_(order, order)])

    def simulate(self, n_days: int, rng: np.random.Generator) -> np.ndarray:
        """``n_days`` days of returns, array (n_days, n), from the generator ``rng``."""
        u = rng.random(n_days)
        states = np.empty(n_days, dtype=int)
        s = int(rng.random() < self.stationary[1])
        for t in range(n_days):
            states[t] = s
            s = int(u[t] < self.trans[s, 1])
        sim = self.means[states] + np.einsum("tij,tj->ti", self.chol[states],
                                             rng.standard_normal((n_days, self.means.shape[1])))  # fmt: skip
        return np.maximum(sim, -0.95)
