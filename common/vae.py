"""Evidence lower bound (ELBO) pieces for variational autoencoders with a diagonal Gaussian encoder.

A VAE (Kingma & Welling 2014, "Auto-Encoding Variational Bayes", ICLR; Book §6.4-6.5) has a prior
``p(z) = N(0, I)``, a decoder ``p(x | z)`` and an encoder ``q(z | x) = N(mu, diag(exp(logvar)))``.
For every ``x`` and every ``q``,

    log p(x) = ELBO(q) + KL(q(z | x) || p(z | x)),
    ELBO(q)  = E_q[log p(x | z)] - KL(q(z | x) || p(z)),

so the ELBO is a lower bound on the log-likelihood, tight when ``q`` is the exact posterior.
The expectation is estimated with the reparameterized sample ``z = mu + exp(logvar / 2) * eps``,
``eps ~ N(0, I)`` (Kingma & Welling 2014, §2.4), which lets gradients flow into ``mu`` and
``logvar``; the KL to the standard-normal prior is in closed form (their Appendix B). The
importance-weighted bound of Burda, Grosse & Salakhutdinov (2016, "Importance Weighted
Autoencoders", ICLR) with ``K`` draws lies between the ELBO (``K = 1``) and ``log p(x)``.

Shapes: ``B`` is the batch size, ``L`` the latent dimension, ``S`` the number of Monte Carlo
draws; ``x`` may have any event shape after the batch dimension (``(B, D)``, ``(B, C, H, W)``,
``(B, T, F)``); log-densities are summed over every non-batch dimension and come back as one
value per example, shape ``(B,)``, in nats. Everything is written with plain tensor operations,
so it runs on any device and in float32 or float64.

Used by chapter06/03_vae_digits (convolutional VAE on scikit-learn's digits) and
chapter06/04_timevae (TimeVAE, Desai et al. 2021).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

__all__ = [
    "bernoulli_log_likelihood",
    "elbo",
    "gaussian_log_likelihood",
    "iwae_bound",
    "kl_diagonal_gaussians",
    "kl_standard_normal",
    "log_importance_weights",
    "reparameterize",
]

LOG_2PI = math.log(2.0 * math.pi)

Decoder = Callable[[torch.Tensor], torch.Tensor]


def _sum_event(values: torch.Tensor) -> torch.Tensor:
    """Sum over every dimension after the first: (B, ...) -> (B,)."""
    return values.reshape(values.shape[0], -1).sum(dim=1)


def _check_pair(mu: torch.Tensor, logvar: torch.Tensor) -> None:
    if mu.shape != logvar.shape:
        raise ValueError(
            f"mu and logvar must have the same shape (B, L); got {tuple(mu.shape)} and "
            f"{tuple(logvar.shape)}"
        )
    if mu.ndim != 2:
        raise ValueError(f"mu and logvar must be 2-D, shape (B, L); got shape {tuple(mu.shape)}")


def reparameterize(
    mu: torch.Tensor,
    logvar: torch.Tensor,
    n_samples: int | None = None,
    *,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Draw ``z = mu + sigma * eps`` with ``eps ~ N(0, I)`` and ``sigma = exp(logvar / 2)``.

    The randomness sits in ``eps``, which does not depend on the parameters, so ``z`` is a
    differentiable function of ``mu`` and ``logvar`` (the reparameterization trick, Kingma &
    Welling 2014, §2.4; Book §6.5).

    Args:
        mu, logvar: encoder outputs, shape ``(B, L)``.
        n_samples: ``None`` for one draw of shape ``(B, L)``; an integer ``S >= 1`` for
            ``S`` independent draws stacked as ``(S, B, L)``.
        generator: optional ``torch.Generator`` for reproducible draws.

    Returns:
        The sample(s), same dtype and device as ``mu``.
    """
    _check_pair(mu, logvar)
    shape = mu.shape if n_samples is None else (int(n_samples), *mu.shape)
    if n_samples is not None and int(n_samples) < 1:
        raise ValueError(f"n_samples must be None or an integer >= 1; got {n_samples!r}")
    eps = torch.randn(shape, dtype=mu.dtype, device=mu.device, generator=generator)
    return mu + torch.exp(0.5 * logvar) * eps


def kl_standard_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """``KL(N(mu, diag(exp(logvar))) || N(0, I))`` in closed form, one value per example.

    ``0.5 * sum_j (mu_j^2 + exp(logvar_j) - 1 - logvar_j)`` (Kingma & Welling 2014, Appendix B).

    Args:
        mu, logvar: shape ``(B, L)``.

    Returns:
        Shape ``(B,)``, in nats, >= 0.
    """
    _check_pair(mu, logvar)
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=1)


def kl_diagonal_gaussians(
    mu_q: torch.Tensor, logvar_q: torch.Tensor, mu_p: torch.Tensor, logvar_p: torch.Tensor
) -> torch.Tensor:
    """``KL(N(mu_q, diag(exp(logvar_q))) || N(mu_p, diag(exp(logvar_p))))``, per example.

    ``0.5 * sum_j (logvar_p - logvar_q + (exp(logvar_q) + (mu_q - mu_p)^2) / exp(logvar_p) - 1)``;
    with ``mu_p = 0, logvar_p = 0`` it is :func:`kl_standard_normal`.

    Args:
        mu_q, logvar_q, mu_p, logvar_p: shape ``(B, L)`` (the ``p`` pair may broadcast).

    Returns:
        Shape ``(B,)``, in nats.
    """
    _check_pair(mu_q, logvar_q)
    ratio = (logvar_q.exp() + (mu_q - mu_p).pow(2)) / logvar_p.exp()
    return 0.5 * (logvar_p - logvar_q + ratio - 1.0).sum(dim=1)


def bernoulli_log_likelihood(x: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """``log p(x | z)`` of independent Bernoulli pixels with the given logits, per example.

    ``sum_i x_i * logits_i - log(1 + exp(logits_i))`` written as minus the binary cross-entropy
    with logits (numerically stable). ``x`` holds 0/1 values (values in [0, 1] give the
    cross-entropy, which is not a normalized density for non-binary data).

    Args:
        x: targets, shape ``(B, ...)``.
        logits: decoder outputs, the same shape as ``x``.

    Returns:
        Shape ``(B,)``, in nats, <= 0.
    """
    if x.shape != logits.shape:
        raise ValueError(f"x {tuple(x.shape)} and logits {tuple(logits.shape)} must match")
    nll = torch.nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="none")
    return -_sum_event(nll)


def gaussian_log_likelihood(
    x: torch.Tensor, mean: torch.Tensor, logvar: torch.Tensor | float = 0.0
) -> torch.Tensor:
    """``log N(x; mean, diag(exp(logvar)))`` summed over the event dimensions, per example.

    ``-0.5 * sum_i (log(2 pi) + logvar_i + (x_i - mean_i)^2 / exp(logvar_i))``.

    Args:
        x: data, shape ``(B, ...)``.
        mean: decoder mean, the same shape as ``x``.
        logvar: the observation noise log-variance: a float, or a tensor that broadcasts to
            ``x`` (a learned scalar, one per feature, or one per element).

    Returns:
        Shape ``(B,)``, in nats.
    """
    if x.shape != mean.shape:
        raise ValueError(f"x {tuple(x.shape)} and mean {tuple(mean.shape)} must match")
    logvar = torch.as_tensor(logvar, dtype=x.dtype, device=x.device)
    log_density = -0.5 * (LOG_2PI + logvar + (x - mean).pow(2) / logvar.exp())
    return _sum_event(log_density.expand_as(x))


def _log_likelihood(
    x: torch.Tensor, out: torch.Tensor, likelihood: str, obs_logvar: torch.Tensor | float
) -> torch.Tensor:
    if likelihood == "bernoulli":
        return bernoulli_log_likelihood(x, out)
    if likelihood == "gaussian":
        return gaussian_log_likelihood(x, out, obs_logvar)
    raise ValueError(f"likelihood must be 'bernoulli' or 'gaussian'; got {likelihood!r}")


def _decode_draws(
    x: torch.Tensor, z: torch.Tensor, decode: Decoder, likelihood: str, obs_logvar
) -> torch.Tensor:
    """log p(x | z_s) for draws z of shape (S, B, L): returns (S, B)."""
    s, b = z.shape[:2]
    out = decode(z.reshape(s * b, -1))
    x_rep = x.unsqueeze(0).expand(s, *x.shape).reshape(s * b, *x.shape[1:])
    return _log_likelihood(x_rep, out.reshape(x_rep.shape), likelihood, obs_logvar).reshape(s, b)


def elbo(
    x: torch.Tensor,
    mu: torch.Tensor,
    logvar: torch.Tensor,
    decode: Decoder,
    *,
    likelihood: str = "bernoulli",
    obs_logvar: torch.Tensor | float = 0.0,
    n_samples: int = 1,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Monte Carlo ELBO per example: ``mean_s log p(x | z_s) - KL(q(z | x) || N(0, I))``.

    The reconstruction term uses ``n_samples`` reparameterized draws ``z_s`` from
    ``q(z | x) = N(mu, diag(exp(logvar)))`` (:func:`reparameterize`); the KL term is exact
    (:func:`kl_standard_normal`). This is the estimator of Kingma & Welling (2014), eq. (7);
    minimize ``-elbo(...).mean()`` to train a VAE.

    Args:
        x: data, shape ``(B, ...)``.
        mu, logvar: encoder outputs for ``x``, shape ``(B, L)``.
        decode: ``z (N, L) -> out (N, ...)``: Bernoulli logits or Gaussian means with the
            event shape of ``x`` (any shape with the same number of elements is reshaped).
        likelihood: ``"bernoulli"`` (binary data) or ``"gaussian"`` (real-valued data).
        obs_logvar: observation log-variance of the Gaussian decoder (float or tensor).
        n_samples: Monte Carlo draws of ``z`` per example (``S >= 1``).
        generator: optional ``torch.Generator`` for reproducible draws.

    Returns:
        Shape ``(B,)``, nats per example; differentiable in ``mu``, ``logvar`` and the decoder.
    """
    z = reparameterize(mu, logvar, n_samples, generator=generator)  # (S, B, L)
    recon = _decode_draws(x, z, decode, likelihood, obs_logvar).mean(dim=0)
    return recon - kl_standard_normal(mu, logvar)


def log_importance_weights(
    x: torch.Tensor,
    mu: torch.Tensor,
    logvar: torch.Tensor,
    decode: Decoder,
    *,
    likelihood: str = "bernoulli",
    obs_logvar: torch.Tensor | float = 0.0,
    n_samples: int = 1,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """``log w_s = log p(x | z_s) + log p(z_s) - log q(z_s | x)`` for draws ``z_s ~ q``.

    Their mean over ``s`` is an (unbiased) single-sample-style ELBO estimate; their
    log-mean-exp is the importance-weighted bound (:func:`iwae_bound`).

    Args:
        as for :func:`elbo`; ``n_samples`` is ``K``.

    Returns:
        Shape ``(K, B)``, in nats.
    """
    z = reparameterize(mu, logvar, n_samples, generator=generator)  # (K, B, L)
    log_px_z = _decode_draws(x, z, decode, likelihood, obs_logvar)
    log_pz = -0.5 * (LOG_2PI + z.pow(2)).sum(dim=-1)
    log_qz = -0.5 * (LOG_2PI + logvar + (z - mu).pow(2) / logvar.exp()).sum(dim=-1)
    return log_px_z + log_pz - log_qz


def iwae_bound(
    x: torch.Tensor,
    mu: torch.Tensor,
    logvar: torch.Tensor,
    decode: Decoder,
    *,
    likelihood: str = "bernoulli",
    obs_logvar: torch.Tensor | float = 0.0,
    n_samples: int = 100,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Importance-weighted bound ``log (1/K) sum_k w_k`` per example (Burda et al. 2016).

    ``ELBO <= IWAE_K <= IWAE_{K+1} <= log p(x)`` in expectation; it converges to ``log p(x)``
    as ``K`` grows, so a large ``K`` gives an estimate of the log-likelihood.

    Args:
        as for :func:`elbo`; ``n_samples`` is ``K``.

    Returns:
        Shape ``(B,)``, in nats.
    """
    log_w = log_importance_weights(
        x,
        mu,
        logvar,
        decode,
        likelihood=likelihood,
        obs_logvar=obs_logvar,
        n_samples=n_samples,
        generator=generator,
    )
    return torch.logsumexp(log_w, dim=0) - math.log(log_w.shape[0])
