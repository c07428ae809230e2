"""The HMM forward filter of chapter 6 (common.regimes): no look-ahead, and agreement with hmmlearn."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hmmlearn.hmm import GaussianHMM

from common.regimes import TwoRegimeSimulator, forward_filter


def _regime_series(seed: int = 0, n: int = 300) -> np.ndarray:
    """Calm / turbulent returns (percent) from a persistent 2-state chain, array (n, 1)."""
    rng = np.random.default_rng(seed)
    state, x = 0, np.empty(n)
    for t in range(n):
        if rng.random() < 0.03:
            state = 1 - state
        x[t] = rng.normal(0.05, 0.7) if state == 0 else rng.normal(-0.1, 2.0)
    return x[:, None]


@pytest.fixture(scope="module")
def hmm_and_data():
    """A 2-state HMM with set parameters (no EM: fast and deterministic) and its data."""
    model = GaussianHMM(2, covariance_type="full")
    model.n_features = 1
    model.startprob_ = np.array([0.6, 0.4])
    model.transmat_ = np.array([[0.97, 0.03], [0.05, 0.95]])
    model.means_ = np.array([[0.05], [-0.1]])
    model.covars_ = np.array([[[0.5]], [[4.0]]])
    return model, _regime_series()


def test_filtered_probabilities_do_not_use_later_data(hmm_and_data):
    model, x = hmm_and_data
    cut = 200
    changed = x.copy()
    changed[cut + 1 :] = np.random.default_rng(1).normal(0.0, 3.0, size=changed[cut + 1 :].shape)
    before, _ = forward_filter(model, x)
    after, _ = forward_filter(model, changed)
    np.testing.assert_array_equal(before[: cut + 1], after[: cut + 1])
    assert np.abs(before[cut + 1 :] - after[cut + 1 :]).max() > 1e-3  # later rows do react
    # control: hmmlearn's smoothed probabilities at dates <= cut change, so the test can fail
    smoothed_before = model.predict_proba(x)[: cut + 1]
    smoothed_after = model.predict_proba(changed)[: cut + 1]
    assert np.abs(smoothed_before - smoothed_after).max() > 1e-3


def test_filter_matches_hmmlearn(hmm_and_data):
    model, x = hmm_and_data
    filtered, log_norm = forward_filter(model, x)
    np.testing.assert_allclose(filtered.sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(filtered[-1], model.predict_proba(x)[-1], atol=1e-8)
    np.testing.assert_allclose(log_norm.sum(), model.score(x), rtol=1e-10)
    # on a prefix, the last filtered row is hmmlearn's smoothed last row of that prefix
    np.testing.assert_allclose(filtered[99], model.predict_proba(x[:100])[-1], atol=1e-8)


def test_filter_matches_brute_force_enumeration(hmm_and_data):
    """Independent check: P(s_t | x_1..x_t) by summing over all state paths (T = 5, K = 2)."""
    model, x = hmm_and_data
    obs = x[:5, 0]
    means, sds = model.means_[:, 0], np.sqrt(model.covars_[:, 0, 0])
    dens = np.exp(-0.5 * ((obs[:, None] - means) / sds) ** 2) / (sds * np.sqrt(2 * np.pi))
    filtered, log_norm = forward_filter(model, obs)
    for t in range(5):
        weight = np.zeros(2)
        for path in itertools.product(range(2), repeat=t + 1):
            p = model.startprob_[path[0]] * dens[0, path[0]]
            for s in range(1, t + 1):
                p *= model.transmat_[path[s - 1], path[s]] * dens[s, path[s]]
            weight[path[-1]] += p
        np.testing.assert_allclose(filtered[t], weight / weight.sum(), rtol=1e-10)
        if t == 4:
            np.testing.assert_allclose(log_norm.sum(), np.log(weight.sum()), rtol=1e-10)


@pytest.mark.parametrize("covariance_type", ["diag", "spherical", "tied"])
def test_filter_works_for_every_fitted_covariance_type(covariance_type):
    x = np.column_stack([_regime_series(2, 120)[:, 0], _regime_series(3, 120)[:, 0]])
    model = GaussianHMM(2, covariance_type=covariance_type, n_iter=3, random_state=0).fit(x)
    filtered, log_norm = forward_filter(model, x)
    assert filtered.shape == (len(x), 2)
    np.testing.assert_allclose(log_norm.sum(), model.score(x), rtol=1e-10)


def test_filter_rejects_bad_input(hmm_and_data):
    model, x = hmm_and_data
    with pytest.raises(ValueError, match="NaN"):
        forward_filter(model, np.where(np.arange(len(x))[:, None] == 3, np.nan, x))
    with pytest.raises(ValueError, match="array"):
        forward_filter(model, np.zeros((5, 2)))


def test_two_regime_simulator_recovers_its_regimes():
    """Fitted to a simulation of known regimes, the simulator finds them (calm first) and reproduces them."""
    truth = TwoRegimeSimulator(means=np.array([[0.0005, 0.0002], [-0.001, 0.0004]]),
                               covs=np.array([np.diag([1e-4, 2e-5]), np.diag([9e-4, 4e-5])]),
                               trans=np.array([[0.98, 0.02], [0.05, 0.95]]))  # fmt: skip
    np.testing.assert_allclose(truth.stationary, [5 / 7, 2 / 7], rtol=1e-12)
    np.testing.assert_allclose(truth.stationary @ truth.trans, truth.stationary, rtol=1e-12)
    x = truth.simulate(20_000, np.random.default_rng(0))
    np.testing.assert_array_equal(x, truth.simulate(20_000, np.random.default_rng(0)))  # seeded
    fitted = TwoRegimeSimulator.fit(x)
    np.testing.assert_allclose(np.sqrt(fitted.covs[:, 0, 0]), [0.01, 0.03], rtol=0.05)  # calm regime first
    np.testing.assert_allclose(np.diag(fitted.trans), [0.98, 0.95], atol=0.01)
    np.testing.assert_allclose(fitted.simulate(50_000, np.random.default_rng(1)).std(0), x.std(0), rtol=0.05)
