"""Tests of common.gan: the WGAN-GP gradient penalty on critics with a known gradient."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from common.gan import gradient_penalty, interpolate_gradient_norms


def test_linear_critic_has_the_norm_of_its_weights_everywhere():
    critic = nn.Linear(3, 1)
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([[3.0, 0.0, 4.0]]))  # ||w|| = 5
    real, fake = torch.randn(8, 3), torch.randn(8, 3)
    norms = interpolate_gradient_norms(critic, real, fake)
    torch.testing.assert_close(norms, torch.full((8,), 5.0))
    assert gradient_penalty(critic, real, fake).item() == pytest.approx(16.0)  # (5 - 1)^2
    assert gradient_penalty(critic, real, fake, target=5.0).item() == pytest.approx(0.0, abs=1e-10)


def test_quadratic_critic_gradient_at_the_interpolate():
    # critic(x) = sum(x^2): grad = 2 x_hat, x_hat = eps * real + (1 - eps) * fake
    critic = lambda x: (x**2).reshape(len(x), -1).sum(1)  # noqa: E731
    real = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    fake = torch.tensor([[3.0, 0.0], [0.0, 0.0]])
    eps = torch.tensor([0.5, 0.25])
    norms = interpolate_gradient_norms(critic, real, fake, eps)
    torch.testing.assert_close(norms, torch.tensor([4.0, 1.0]))  # x_hat = (2, 0) and (0, 0.5)
    assert gradient_penalty(critic, real, fake, eps).item() == pytest.approx((9 + 0) / 2)


def test_penalty_back_propagates_into_the_critic_and_windows_work():
    critic = nn.Sequential(nn.Flatten(), nn.Linear(10, 1))
    real, fake = torch.randn(4, 5, 2), torch.randn(4, 5, 2)
    gradient_penalty(critic, real, fake, generator=torch.Generator().manual_seed(0)).backward()
    assert critic[1].weight.grad is not None and critic[1].weight.grad.abs().sum() > 0


def test_bad_shapes_are_named():
    critic = nn.Linear(2, 1)
    with pytest.raises(ValueError, match="same shape"):
        gradient_penalty(critic, torch.zeros(3, 2), torch.zeros(4, 2))
    with pytest.raises(ValueError, match="eps must have shape"):
        gradient_penalty(critic, torch.zeros(3, 2), torch.zeros(3, 2), torch.zeros(2))
