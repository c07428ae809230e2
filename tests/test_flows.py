"""Tests of common.flows: coupling-layer invertibility and log-determinants (chapter 7)."""

from __future__ import annotations

import math

import pytest
import torch
from torch.autograd.functional import jacobian

from common import flows


def _randomize(module, seed=0):
    """Coupling nets start at the identity; random weights make the tests meaningful."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(0.5 * torch.randn(p.shape, generator=gen))
    return module


def _jacobian_log_det(layer, x, context=None):
    """log|det J| by brute force: the full Jacobian of one event, flattened."""
    def f(v):
        out, _ = layer(v.view(1, *x.shape[1:]), None if context is None else context[:1])
        return out.reshape(-1)

    jac = jacobian(f, x[:1].reshape(-1))
    return torch.linalg.slogdet(jac)[1]


def test_alternating_mask_over_time_steps():
    mask = flows.alternating_mask((5, 2), parity=0, axis=0)
    assert mask[:, 0].tolist() == [1, 0, 1, 0, 1] and (mask[:, 0] == mask[:, 1]).all()
    assert (flows.alternating_mask((5, 2), parity=1) == 1 - mask).all()
    assert flows.alternating_mask((3, 4), axis=1)[0].tolist() == [1, 0, 1, 0]


@pytest.mark.parametrize("kwargs, match", [({"parity": 2}, "parity"), ({"axis": 3}, "out of range"),
                                           ({"shape": (1, 3)}, "length >= 2")])
def test_alternating_mask_rejects_bad_input(kwargs, match):
    shape = kwargs.pop("shape", (4, 2))
    with pytest.raises(ValueError, match=match):
        flows.alternating_mask(shape, **kwargs)


@pytest.mark.parametrize("cls", [flows.AdditiveCoupling, flows.AffineCoupling])
@pytest.mark.parametrize("context_dim", [0, 3])
def test_coupling_is_exactly_invertible_and_log_det_matches_the_jacobian(cls, context_dim):
    torch.manual_seed(0)
    layer = _randomize(cls(flows.alternating_mask((6, 2), parity=1), hidden=8, context_dim=context_dim))
    x = torch.randn(4, 6, 2, dtype=torch.float64)
    layer = layer.double()
    context = torch.randn(4, context_dim, dtype=torch.float64) if context_dim else None
    y, log_det = layer(x, context)
    assert not torch.allclose(y, x)  # the layer really transforms something
    torch.testing.assert_close(layer.inverse(y, context), x, atol=1e-12, rtol=0)
    mask = layer.mask.bool()
    torch.testing.assert_close(y[:, mask], x[:, mask])  # the conditioning half passes unchanged
    expected = _jacobian_log_det(layer, x, context)
    assert log_det[0].item() == pytest.approx(expected.item(), abs=1e-10)
    if cls is flows.AdditiveCoupling:
        assert log_det.abs().max().item() == 0.0


def test_affine_scale_is_bounded():
    layer = flows.AffineCoupling(flows.alternating_mask(4), hidden=4, scale_bound=0.5)
    with torch.no_grad():
        for p in layer.parameters():
            p.fill_(10.0)  # saturate tanh
    _, log_det = layer(torch.ones(2, 4))
    assert log_det.abs().max().item() <= 2 * 0.5 + 1e-6  # two transformed entries, |s| <= 0.5


def test_rescale_log_det_and_flow_log_prob():
    torch.manual_seed(1)
    layers = [flows.AffineCoupling(flows.alternating_mask((4, 2), parity=p), hidden=8) for p in (0, 1)]
    layers.append(flows.Rescale((4, 2)))
    flow = _randomize(flows.Flow(layers, (4, 2)), seed=3).double()
    x = torch.randn(5, 4, 2, dtype=torch.float64)
    z, log_det = flow(x)
    torch.testing.assert_close(flow.inverse(z), x, atol=1e-10, rtol=0)
    # log p(x) = log N(z) + log|det J|, with the Jacobian of the whole flow by brute force
    jac = jacobian(lambda v: flow(v.view(1, 4, 2))[0].reshape(-1), x[:1].reshape(-1))
    expected = -0.5 * (z[0] ** 2).sum() - 4 * math.log(2 * math.pi) + torch.linalg.slogdet(jac)[1]
    assert flow.log_prob(x)[0].item() == pytest.approx(expected.item(), abs=1e-9)
    assert log_det[0].item() == pytest.approx(torch.linalg.slogdet(jac)[1].item(), abs=1e-9)


def test_untrained_flow_is_the_standard_normal_and_samples_have_the_event_shape():
    flow = flows.Flow([flows.AdditiveCoupling(flows.alternating_mask(3), hidden=4), flows.Rescale(3)], 3)
    x = torch.randn(6, 3)
    torch.testing.assert_close(flow.log_prob(x), torch.distributions.Normal(0, 1).log_prob(x).sum(1))
    sample = flow.sample(7, generator=torch.Generator().manual_seed(0))
    assert sample.shape == (7, 3)


def test_context_errors_are_clear():
    layer = flows.AffineCoupling(flows.alternating_mask(4), hidden=4, context_dim=2)
    with pytest.raises(ValueError, match="needs a context"):
        layer(torch.zeros(3, 4))
    with pytest.raises(ValueError, match="takes no context"):
        flows.AdditiveCoupling(flows.alternating_mask(4))(torch.zeros(3, 4), torch.zeros(3, 2))
    with pytest.raises(ValueError, match="event"):
        layer(torch.zeros(3, 5), torch.zeros(3, 2))
    with pytest.raises(ValueError, match="both 0s and 1s"):
        flows.AdditiveCoupling(torch.ones(4))
    with pytest.raises(ValueError, match="context's batch size"):
        flows.Flow([layer], 4).sample(2, context=torch.zeros(3, 2))
