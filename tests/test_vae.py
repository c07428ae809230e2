"""The ELBO pieces of common.vae on a model with a closed form (chapter 6, Book §6.4-6.5).

Linear-Gaussian model: p(z) = N(0, I_L), p(x | z) = N(W z + b, sigma^2 I_D). Then exactly
x ~ N(b, W W' + sigma^2 I) and the posterior is N(m, S) with S = (I + W'W / sigma^2)^-1,
m = S W'(x - b) / sigma^2. W has orthogonal columns, so S is diagonal and the exact posterior is
inside the diagonal-Gaussian family of the encoder: the ELBO must equal log p(x) there and fall
short of it by KL(q || posterior) for every other q.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import stats

from common import vae

D, L, SIGMA = 6, 2, 0.5


@pytest.fixture(scope="module")
def model():
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.normal(size=(D, L)))
    w = q * np.array([2.0, 0.7])  # orthogonal columns: W'W = diag(4, 0.49)
    b = rng.normal(size=D)
    x = rng.multivariate_normal(b, w @ w.T + SIGMA**2 * np.eye(D), size=4)
    log_px = stats.multivariate_normal(b, w @ w.T + SIGMA**2 * np.eye(D)).logpdf(x)
    precision = np.eye(L) + w.T @ w / SIGMA**2
    assert np.allclose(precision, np.diag(np.diag(precision)))  # diagonal posterior
    post_var = 1.0 / np.diag(precision)
    post_mean = (x - b) @ w / SIGMA**2 * post_var
    t = lambda a: torch.as_tensor(a, dtype=torch.float64)  # noqa: E731
    w_t, b_t = t(w), t(b)
    return {
        "x": t(x),
        "log_px": t(log_px),
        "mu": t(post_mean),
        "logvar": t(np.log(post_var)).expand(len(x), L).clone(),
        "decode": lambda z: z @ w_t.T + b_t,
        "w": w_t,
        "b": b_t,
    }


def _elbo(m, mu, logvar, n, seed=0):
    g = torch.Generator().manual_seed(seed)
    return vae.elbo(
        m["x"],
        mu,
        logvar,
        m["decode"],
        likelihood="gaussian",
        obs_logvar=2 * math.log(SIGMA),
        n_samples=n,
        generator=g,
    )


def _analytic_elbo(m, mu, logvar):
    """E_q[log p(x|z)] in closed form for the linear decoder, minus the closed-form KL."""
    resid = m["x"] - mu @ m["w"].T - m["b"]
    trace = (logvar.exp() * (m["w"] ** 2).sum(0)).sum(1)  # tr(W diag(v) W')
    expected = -0.5 * D * math.log(2 * math.pi * SIGMA**2) - (resid.pow(2).sum(1) + trace) / (
        2 * SIGMA**2
    )
    return expected - vae.kl_standard_normal(mu, logvar)


def test_elbo_equals_log_px_at_exact_posterior(model):
    # at the exact posterior log p(x, z) - log q(z) = log p(x) for every z: no Monte Carlo noise
    iw = vae.log_importance_weights(
        model["x"],
        model["mu"],
        model["logvar"],
        model["decode"],
        likelihood="gaussian",
        obs_logvar=2 * math.log(SIGMA),
        n_samples=50,
    )
    torch.testing.assert_close(iw, model["log_px"].expand(50, -1), rtol=0, atol=1e-10)
    torch.testing.assert_close(
        _analytic_elbo(model, model["mu"], model["logvar"]), model["log_px"], rtol=0, atol=1e-10
    )
    # the ELBO estimator with the closed-form KL is noisy per draw, but unbiased
    torch.testing.assert_close(
        _elbo(model, model["mu"], model["logvar"], 5_000), model["log_px"], rtol=0, atol=0.06
    )


@pytest.mark.parametrize("shift, scale", [(1.0, 0.0), (0.0, 1.0), (-0.6, -0.5), (1.5, 0.5)])
def test_gap_is_kl_to_posterior(model, shift, scale):
    # q: mean moved by `shift` posterior standard deviations, log-variance moved by `scale`
    mu = model["mu"] + shift * (0.5 * model["logvar"]).exp()
    logvar = model["logvar"] + scale
    gap_kl = vae.kl_diagonal_gaussians(mu, logvar, model["mu"], model["logvar"])
    assert (gap_kl > 1e-3).all()
    analytic = _analytic_elbo(model, mu, logvar)
    torch.testing.assert_close(analytic, model["log_px"] - gap_kl, rtol=0, atol=1e-10)
    mc = _elbo(model, mu, logvar, 5_000, seed=1)
    assert (mc < model["log_px"]).all()
    torch.testing.assert_close(mc, analytic, rtol=0, atol=0.15)
    # the mean of the log importance weights is another unbiased ELBO estimate: 5 standard errors
    log_w = vae.log_importance_weights(
        model["x"],
        mu,
        logvar,
        model["decode"],
        likelihood="gaussian",
        obs_logvar=2 * math.log(SIGMA),
        n_samples=5000,
        generator=torch.Generator().manual_seed(5),
    )
    se = log_w.std(0) / math.sqrt(log_w.shape[0])
    assert ((log_w.mean(0) - analytic).abs() < 5 * se).all()
    # importance weighting closes most of the gap (a single estimate may overshoot log p(x)
    # slightly: only its expectation is a bound)
    iwae = vae.iwae_bound(
        model["x"],
        mu,
        logvar,
        model["decode"],
        likelihood="gaussian",
        obs_logvar=2 * math.log(SIGMA),
        n_samples=2000,
        generator=torch.Generator().manual_seed(2),
    )
    assert (iwae > analytic).all()
    assert ((model["log_px"] - iwae).abs() < 0.2 * gap_kl).all()


def test_prior_as_q_gap(model):
    # q = p(z): the ELBO is E_p(z)[log p(x|z)] and the gap is KL(p(z) || p(z|x))
    zeros = torch.zeros_like(model["mu"])
    assert torch.equal(
        vae.kl_standard_normal(zeros, zeros), torch.zeros(len(zeros), dtype=zeros.dtype)
    )
    gap = model["log_px"] - _analytic_elbo(model, zeros, zeros)
    torch.testing.assert_close(
        gap, vae.kl_diagonal_gaussians(zeros, zeros, model["mu"], model["logvar"])
    )


def test_kl_and_likelihoods_match_torch_distributions():
    g = torch.Generator().manual_seed(3)
    mu, logvar = torch.randn(5, 3, generator=g), torch.randn(5, 3, generator=g)
    q = torch.distributions.Normal(mu, (0.5 * logvar).exp())
    p = torch.distributions.Normal(torch.zeros(3), torch.ones(3))
    torch.testing.assert_close(
        vae.kl_standard_normal(mu, logvar), torch.distributions.kl_divergence(q, p).sum(1)
    )
    x = (torch.rand(5, 1, 4, 4, generator=g) > 0.5).float()
    logits = torch.randn(5, 1, 4, 4, generator=g)
    bernoulli = torch.distributions.Bernoulli(logits=logits)
    torch.testing.assert_close(
        vae.bernoulli_log_likelihood(x, logits), bernoulli.log_prob(x).sum((1, 2, 3))
    )
    mean = torch.randn(5, 1, 4, 4, generator=g)
    normal = torch.distributions.Normal(mean, math.exp(-0.2))  # log-variance -0.4
    torch.testing.assert_close(
        vae.gaussian_log_likelihood(x, mean, -0.4), normal.log_prob(x).sum((1, 2, 3))
    )


def test_reparameterized_sample_shapes_moments_and_gradient():
    mu = torch.tensor([[1.0, -2.0]], requires_grad=True)
    logvar = torch.tensor([[0.0, math.log(4.0)]], requires_grad=True)
    z = vae.reparameterize(mu, logvar, 50_000, generator=torch.Generator().manual_seed(4))
    assert z.shape == (50_000, 1, 2)
    torch.testing.assert_close(z.mean(0), mu.detach(), rtol=0, atol=0.02)
    torch.testing.assert_close(z.std(0), torch.tensor([[1.0, 2.0]]), rtol=0, atol=0.02)
    # loss = (E[z_1^2] + E[z_2^2]) / 2 with E[z_j^2] = mu_j^2 + exp(logvar_j): gradients flow
    # through the sample to d/dmu = mu and d/dlogvar = exp(logvar) / 2
    z.pow(2).mean().backward()
    torch.testing.assert_close(mu.grad, torch.tensor([[1.0, -2.0]]), rtol=0, atol=0.03)
    torch.testing.assert_close(logvar.grad, torch.tensor([[0.5, 2.0]]), rtol=0, atol=0.04)
    assert vae.reparameterize(mu, logvar).shape == (1, 2)
    with pytest.raises(ValueError, match="same shape"):
        vae.reparameterize(mu, logvar[:, :1])
    with pytest.raises(ValueError, match="likelihood"):
        vae.elbo(torch.zeros(1, 2), mu, logvar, lambda z: z, likelihood="poisson")
