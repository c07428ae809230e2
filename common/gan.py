"""Pieces of adversarial training shared by chapter 8: the WGAN-GP gradient penalty.

Gulrajani, Ahmed, Arjovsky, Dumoulin and Courville, "Improved Training of Wasserstein GANs"
(NeurIPS 2017), eq. (3); Book §8.5. The critic of a Wasserstein GAN must be 1-Lipschitz; instead of
clipping its weights, the penalty pushes the norm of the critic's input gradient towards 1 at
random points on the lines between real and generated samples.
"""

from __future__ import annotations

import torch

__all__ = ["gradient_penalty", "interpolate_gradient_norms"]


def interpolate_gradient_norms(critic, real: torch.Tensor, fake: torch.Tensor, eps: torch.Tensor | None = None,
                               *, generator: torch.Generator | None = None) -> torch.Tensor:
    """``||grad_x critic(x_hat)||_2`` at ``x_hat = eps * real + (1 - eps) * fake``, per sample.

    Args:
        critic: a module mapping ``(batch, *shape)`` to ``(batch,)`` or ``(batch, 1)`` scores.
        real, fake: samples of the same shape ``(batch, *shape)``.
        eps: mixing weights ``(batch,)`` in [0, 1]; default uniform draws (``generator``).
        generator: optional ``torch.Generator`` for the draws.

    Returns:
        Gradient norms, shape ``(batch,)``, kept in the autograd graph (``create_graph=True``) so
        a penalty built from them can be back-propagated into the critic.

    Raises:
        ValueError: ``real`` and ``fake`` differ in shape, or ``eps`` has the wrong length.
    """
    if real.shape != fake.shape:
        raise ValueError(f"real and fake must have the same shape; got {tuple(real.shape)} and {tuple(fake.shape)}")
    if eps is None:
        eps = torch.rand(len(real), generator=generator).to(real.device, real.dtype)
    if eps.shape != (len(real),):
        raise ValueError(f"eps must have shape ({len(real)},); got {tuple(eps.shape)}")
    eps = eps.view(-1, *([1] * (real.dim() - 1)))
    x_hat = (eps * real.detach() + (1 - eps) * fake.detach()).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    return grad.reshape(len(real), -1).norm(dim=1)


def gradient_penalty(critic, real: torch.Tensor, fake: torch.Tensor, eps: torch.Tensor | None = None,
                     *, target: float = 1.0, generator: torch.Generator | None = None) -> torch.Tensor:
    """WGAN-GP penalty ``mean((||grad critic(x_hat)|| - target)^2)``: a scalar tensor.

    Multiply by lambda (10 in the paper) and add it to the critic's loss. Arguments as
    :func:`interpolate_gradient_norms`.
    """
    return ((interpolate_gradient_norms(critic, real, fake, eps, generator=generator) - target) ** 2).mean()
