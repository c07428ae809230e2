"""common.ssm: discretization vs scipy, convolution form vs recurrence, S4D and Mamba block."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.signal import cont2discrete

from common import ssm


def _diagonal_system(kind: str):
    rng = np.random.default_rng(0)
    n = 6
    if kind == "complex":  # S4D-Lin eigenvalues with a random real part
        A = -rng.uniform(0.1, 1.0, n) + 1j * np.pi * np.arange(n)
        B = rng.normal(size=n) + 1j * rng.normal(size=n)
    else:  # S4D-Real eigenvalues
        A = -(np.arange(n) + 1.0)
        B = rng.normal(size=n)
    return A, B


@pytest.mark.parametrize("kind", ["complex", "real"])
@pytest.mark.parametrize("method", ["zoh", "bilinear"])
@pytest.mark.parametrize("dt", [1e-3, 0.1, 0.7])
def test_discretize_matches_scipy_cont2discrete(kind, method, dt):
    A, B = _diagonal_system(kind)
    n = len(A)
    Ad, Bd, *_ = cont2discrete((np.diag(A), B[:, None], np.ones((1, n)), np.zeros((1, 1))), dt, method=method)
    A_bar, B_bar = ssm.discretize(torch.from_numpy(A), torch.from_numpy(B), dt, method)
    np.testing.assert_allclose(A_bar.numpy(), np.diag(Ad), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(B_bar.numpy(), Bd[:, 0], rtol=1e-10, atol=1e-12)
    off_diagonal = Ad - np.diag(np.diag(Ad))
    assert np.abs(off_diagonal).max() < 1e-12  # a diagonal A stays diagonal


def test_discretize_rejects_unknown_method():
    with pytest.raises(ValueError, match="method"):
        ssm.discretize(torch.tensor([-1.0]), torch.tensor([1.0]), 0.1, "euler")


@pytest.mark.parametrize("kind", ["complex", "real"])
@pytest.mark.parametrize("method", ["zoh", "bilinear"])
def test_convolution_form_equals_recurrence(kind, method):
    A, B = _diagonal_system(kind)
    gen = torch.Generator().manual_seed(1)
    H, L = 3, 50
    A_t = torch.from_numpy(A).repeat(H, 1)
    dt = torch.tensor([[0.01], [0.1], [0.5]], dtype=torch.float64)
    A_bar, B_bar = ssm.discretize(A_t, torch.from_numpy(B), dt, method)
    C = torch.randn(H, len(A), dtype=torch.float64, generator=gen).to(A_bar.dtype)
    u = torch.randn(2, H, L, dtype=torch.float64, generator=gen)
    K = ssm.ssm_kernel(A_bar, B_bar, C, L)  # (H, L)
    y_rec = ssm.ssm_recurrence(A_bar, B_bar, C, u)
    y_conv = ssm.causal_convolution(u, K.real) + 1j * ssm.causal_convolution(u, K.imag)
    np.testing.assert_allclose(y_conv.numpy(), y_rec.numpy(), atol=1e-10)
    # the kernel is the impulse response: feed a unit impulse through the recurrence
    impulse = torch.zeros(1, H, L, dtype=torch.float64)
    impulse[..., 0] = 1.0
    np.testing.assert_allclose(ssm.ssm_recurrence(A_bar, B_bar, C, impulse)[0].numpy(), K.numpy(), atol=1e-12)


def test_causal_convolution_is_causal_and_matches_direct_sum():
    gen = torch.Generator().manual_seed(2)
    u, K = torch.randn(4, 40, generator=gen, dtype=torch.float64), torch.randn(40, generator=gen, dtype=torch.float64)
    direct = torch.stack([(K[: k + 1].flip(0) * u[:, : k + 1]).sum(-1) for k in range(40)], dim=-1)
    np.testing.assert_allclose(ssm.causal_convolution(u, K).numpy(), direct.numpy(), atol=1e-12)


@pytest.mark.parametrize("method", ["zoh", "bilinear"])
def test_s4d_forward_equals_step_by_step(method):
    torch.manual_seed(0)
    layer = ssm.S4D(d_model=4, d_state=8, method=method).double()
    u = torch.randn(2, 25, 4, dtype=torch.float64)
    with torch.no_grad():
        y = layer(u)
        state, steps = None, []
        for t in range(u.shape[1]):
            y_t, state = layer.step(u[:, t], state)
            steps.append(y_t)
    np.testing.assert_allclose(torch.stack(steps, dim=1).numpy(), y.numpy(), atol=1e-10)
    assert y.shape == u.shape


def test_s4d_validates_arguments():
    with pytest.raises(ValueError, match="d_state"):
        ssm.S4D(4, d_state=7)
    with pytest.raises(ValueError, match="method"):
        ssm.S4D(4, method="euler")


def test_selective_scan_with_constant_inputs_is_the_lti_convolution():
    gen = torch.Generator().manual_seed(3)
    batch, L, d, N = 2, 30, 3, 5
    A = -torch.arange(1, N + 1, dtype=torch.float64).repeat(d, 1)
    dt = torch.tensor([0.05, 0.2, 0.6], dtype=torch.float64)
    B, C = torch.randn(N, generator=gen, dtype=torch.float64), torch.randn(N, generator=gen, dtype=torch.float64)
    u = torch.randn(batch, L, d, generator=gen, dtype=torch.float64)
    y = ssm.selective_scan(u, dt.expand(batch, L, d), A, B.expand(batch, L, N), C.expand(batch, L, N))
    K = ssm.ssm_kernel(torch.exp(dt[:, None] * A), dt[:, None] * B, C, L).real  # Euler B_bar = dt B
    y_conv = ssm.causal_convolution(u.transpose(1, 2), K).transpose(1, 2)
    np.testing.assert_allclose(y.numpy(), y_conv.numpy(), atol=1e-10)


def test_mamba_block_is_causal_and_shape_preserving():
    torch.manual_seed(0)
    block = ssm.MambaBlock(d_model=8, d_state=4).double()
    x = torch.randn(2, 20, 8, dtype=torch.float64)
    x2 = x.clone()
    x2[:, 12:] += 1.0  # change the future from t = 12 on
    with torch.no_grad():
        y, y2 = block(x), block(x2)
    assert y.shape == x.shape
    np.testing.assert_allclose(y[:, :12].numpy(), y2[:, :12].numpy(), atol=1e-12)
    assert (y[:, 12:] - y2[:, 12:]).abs().max() > 1e-3
    delta, B, C = block.ssm_inputs(torch.randn(2, 20, block.d_inner, dtype=torch.float64))
    assert delta.min() > 0 and B.shape == C.shape == (2, 20, 4)
    assert delta.std(dim=1).mean() > 0  # Delta varies with the input: the model is selective
