"""Normalizing-flow building blocks for chapter 7: coupling layers, a rescaling layer, a flow.

A flow maps data ``x`` to a latent ``z = f(x)`` with a tractable Jacobian, so the exact
log-likelihood is the change-of-variables formula (Book §7.2)::

    log p(x) = log N(f(x); 0, I) + log |det df/dx|

The layers here follow Dinh, Krueger and Bengio, "NICE: Non-linear Independent Components
Estimation" (2014) (:class:`AdditiveCoupling`, :class:`Rescale`) and Dinh, Sohl-Dickstein and
Bengio, "Density estimation using Real NVP" (2017) (:class:`AffineCoupling`); a layer that also
receives a ``context`` vector is the conditioning of Rasul et al., "Multivariate Probabilistic Time
Series Forecasting via Conditioned Normalizing Flows" (ICLR 2021). Book §7.5.

Shapes: every layer works on a batch of events of any fixed shape, ``(batch, *event_shape)``
(e.g. windows ``(batch, length, n_features)`` or vectors ``(batch, D)``); a binary ``mask`` of
``event_shape`` says which entries pass through unchanged and condition the others. Each
``forward`` returns ``(y, log_det)`` with ``log_det`` of shape ``(batch,)`` in nats; each
``inverse`` returns ``x``.
"""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = [
    "AdditiveCoupling",
    "AffineCoupling",
    "Flow",
    "Rescale",
    "alternating_mask",
    "standard_normal_log_prob",
]


def alternating_mask(event_shape, parity: int = 0, axis: int = 0) -> torch.Tensor:
    """Binary mask of ``event_shape``: 1 where the index along ``axis`` is even (``parity`` 0).

    For windows ``(length, n_features)`` with ``axis=0`` the mask alternates over TIME STEPS
    (days 1, 3, 5, ... condition days 2, 4, 6, ...); with ``axis=1`` over features. Alternate the
    parity between successive coupling layers so that every entry is transformed.

    Raises:
        ValueError: ``parity`` not 0 or 1, ``axis`` out of range, or an axis of length < 2
            (a mask that transforms nothing or everything).
    """
    shape = tuple(int(s) for s in (event_shape if hasattr(event_shape, "__len__") else (event_shape,)))
    if parity not in (0, 1):
        raise ValueError(f"parity must be 0 or 1, got {parity!r}")
    if not -len(shape) <= axis < len(shape):
        raise ValueError(f"axis {axis} is out of range for an event of shape {shape}")
    if shape[axis] < 2:
        raise ValueError(f"the masked axis must have length >= 2; event shape {shape}, axis {axis}")
    index = torch.arange(shape[axis])
    line = ((index % 2) == parity).float()
    view = [1] * len(shape)
    view[axis] = shape[axis]
    return line.view(view).expand(shape).clone()


def standard_normal_log_prob(z: torch.Tensor) -> torch.Tensor:
    """``log N(z; 0, I)`` summed over all but the batch dimension: shape ``(batch,)``, nats."""
    flat = z.reshape(len(z), -1)
    return -0.5 * (flat**2).sum(1) - 0.5 * flat.shape[1] * math.log(2 * math.pi)


def _mlp(n_in: int, n_out: int, hidden: int, n_hidden_layers: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    width = n_in
    for _ in range(n_hidden_layers):
        layers += [nn.Linear(width, hidden), nn.ReLU()]
        width = hidden
    last = nn.Linear(width, n_out)
    nn.init.zeros_(last.weight)  # start as the identity map: a stable first step
    nn.init.zeros_(last.bias)
    return nn.Sequential(*layers, last)


class _Coupling(nn.Module):
    def __init__(self, mask, hidden, n_hidden_layers, context_dim, n_outputs):
        super().__init__()
        mask = torch.as_tensor(mask, dtype=torch.float32)
        if not ((mask == 0) | (mask == 1)).all() or mask.min() == mask.max():
            raise ValueError("mask must hold both 0s and 1s and nothing else")
        if int(context_dim) < 0 or int(hidden) < 1 or int(n_hidden_layers) < 1:
            raise ValueError(
                f"need hidden >= 1, n_hidden_layers >= 1, context_dim >= 0; got {hidden}, "
                f"{n_hidden_layers}, {context_dim}"
            )
        self.register_buffer("mask", mask)
        self.context_dim = int(context_dim)
        size = mask.numel()
        self.net = _mlp(size + self.context_dim, n_outputs * size, hidden, n_hidden_layers)

    def _conditioner(self, x, context):
        """The network's outputs from the unchanged half (and the context), shaped like x."""
        if x.shape[1:] != self.mask.shape:
            raise ValueError(f"expected events of shape {tuple(self.mask.shape)}, got {tuple(x.shape[1:])}")
        inp = (x * self.mask).reshape(len(x), -1)
        if self.context_dim:
            if context is None or context.shape != (len(x), self.context_dim):
                raise ValueError(
                    f"this layer needs a context of shape (batch, {self.context_dim}); got "
                    f"{None if context is None else tuple(context.shape)}"
                )
            inp = torch.cat([inp, context], 1)
        elif context is not None:
            raise ValueError("this layer was built with context_dim=0 and takes no context")
        out = self.net(inp)
        return out.view(len(x), -1, *self.mask.shape).unbind(1)


class AdditiveCoupling(_Coupling):
    """NICE's additive coupling: ``y = x`` where ``mask`` is 1, ``y = x + t(x_masked)`` elsewhere.

    Volume preserving: ``log |det J| = 0`` exactly (the Jacobian is triangular with ones on the
    diagonal). Book §7.5.1.

    Args:
        mask: binary tensor of the event shape (see :func:`alternating_mask`).
        hidden: width of the conditioner MLP ``t``.
        n_hidden_layers: hidden layers of ``t``.
        context_dim: length of an optional context vector fed to ``t`` (0 = none).
    """

    def __init__(self, mask, hidden: int = 64, n_hidden_layers: int = 2, context_dim: int = 0):
        super().__init__(mask, hidden, n_hidden_layers, context_dim, n_outputs=1)

    def forward(self, x, context=None):
        (t,) = self._conditioner(x, context)
        y = x + (1 - self.mask) * t
        return y, torch.zeros(len(x), dtype=x.dtype, device=x.device)

    def inverse(self, y, context=None):
        (t,) = self._conditioner(y, context)  # the masked half of y equals that of x
        return y - (1 - self.mask) * t


class AffineCoupling(_Coupling):
    """RealNVP's affine coupling with a bounded log-scale.

    Where ``mask`` is 0: ``y = x * exp(s) + t`` with ``s = scale_bound * tanh(s_raw)``, so no
    step can scale by more than ``exp(scale_bound)``; where it is 1, ``y = x``.
    ``log |det J| = sum of s`` over the transformed entries. Book §7.5.2.

    Args:
        mask, hidden, n_hidden_layers, context_dim: as :class:`AdditiveCoupling`.
        scale_bound: the bound on ``|s|`` (> 0).
    """

    def __init__(
        self,
        mask,
        hidden: int = 64,
        n_hidden_layers: int = 2,
        context_dim: int = 0,
        scale_bound: float = 2.0,
    ):
        super().__init__(mask, hidden, n_hidden_layers, context_dim, n_outputs=2)
        if not scale_bound > 0:
            raise ValueError(f"scale_bound must be > 0, got {scale_bound!r}")
        self.scale_bound = float(scale_bound)

    def _scale_shift(self, x, context):
        s_raw, t = self._conditioner(x, context)
        s = self.scale_bound * torch.tanh(s_raw) * (1 - self.mask)
        return s, t * (1 - self.mask)

    def forward(self, x, context=None):
        s, t = self._scale_shift(x, context)
        y = x * torch.exp(s) + t
        return y, s.reshape(len(x), -1).sum(1)

    def inverse(self, y, context=None):
        s, t = self._scale_shift(y, context)
        return (y - t) * torch.exp(-s)


class Rescale(nn.Module):
    """NICE's final diagonal scaling layer: ``y = x * exp(log_scale)``, ``log |det J| = sum log_scale``.

    Additive couplings preserve volume; this layer lets the flow give each entry its own scale
    (Dinh et al. 2014, section 3.3). ``log_scale`` starts at 0 (the identity).
    """

    def __init__(self, event_shape):
        super().__init__()
        shape = tuple(int(s) for s in (event_shape if hasattr(event_shape, "__len__") else (event_shape,)))
        self.log_scale = nn.Parameter(torch.zeros(shape))

    def forward(self, x, context=None):
        return x * torch.exp(self.log_scale), self.log_scale.sum().expand(len(x))

    def inverse(self, y, context=None):
        return y * torch.exp(-self.log_scale)


class Flow(nn.Module):
    """A stack of invertible layers with a standard-normal base distribution.

    ``forward(x, context)`` -> ``(z, log_det)``; ``inverse(z, context)`` -> ``x``;
    ``log_prob(x, context)`` -> exact ``log p(x)`` per event, shape ``(batch,)``, nats;
    ``sample(n, context=None, generator=None)`` -> ``n`` events (with a context, ``n`` must equal
    its batch size).
    """

    def __init__(self, layers, event_shape):
        super().__init__()
        self.layers = nn.ModuleList(layers)
        shape = event_shape if hasattr(event_shape, "__len__") else (event_shape,)
        self.event_shape = tuple(int(s) for s in shape)

    def forward(self, x, context=None):
        log_det = torch.zeros(len(x), dtype=x.dtype, device=x.device)
        for layer in self.layers:
            x, ld = layer(x, context)
            log_det = log_det + ld
        return x, log_det

    def inverse(self, z, context=None):
        for layer in reversed(self.layers):
            z = layer.inverse(z, context)
        return z

    def log_prob(self, x, context=None):
        z, log_det = self.forward(x, context)
        return standard_normal_log_prob(z) + log_det

    def sample(self, n: int, context=None, generator: torch.Generator | None = None):
        if context is not None and len(context) != n:
            raise ValueError(f"n ({n}) must equal the context's batch size ({len(context)})")
        ref = next(self.parameters())
        z = torch.randn((int(n), *self.event_shape), generator=generator).to(ref.device, ref.dtype)
        return self.inverse(z, context)
