"""State-space sequence layers in plain PyTorch: S4D and a Mamba-style selective scan.

``chapter05/13_state_space_models`` writes the arithmetic out cell by cell and checks it against
this module (and the discretization against ``scipy.signal.cont2discrete``); the forecaster and
the timing study there use these classes, so what the reader checked is what runs.

A linear time-invariant state-space model maps an input signal u(t) to an output y(t) through a
state x(t) of N dimensions::

    x'(t) = A x(t) + B u(t),    y(t) = C x(t) + D u(t).

With a *diagonal* A (complex eigenvalues), each of the N state dimensions evolves on its own, and
everything below is elementwise over the last axis ``N``.

Functions:

- :func:`discretize`: step size ``dt`` -> (A_bar, B_bar) by zero-order hold (``"zoh"``) or the
  bilinear (Tustin) transform, the two rules of S4 / S4D; both equal
  ``scipy.signal.cont2discrete`` for a diagonal A.
- :func:`ssm_kernel`: the convolution kernel K = (C B_bar, C A_bar B_bar, C A_bar^2 B_bar, ...).
- :func:`causal_convolution`: y = K * u by FFT, O(L log L).
- :func:`ssm_recurrence`: x_k = A_bar x_{k-1} + B_bar u_k, y_k = C x_k step by step, O(L);
  equals ``causal_convolution(u, ssm_kernel(...))``.
- :func:`selective_scan`: the recurrence with input-dependent Delta, B and C (Mamba), which no
  fixed kernel can express, run as a sequential scan.

Layers:

- :class:`S4D`: H independent diagonal SSMs (one per channel) with N/2 complex conjugate pairs,
  S4D-Lin initialisation, trained through the convolution kernel; ``step`` runs it as a
  recurrence (constant cost per new token). Gu, Gupta, Goel & Ré (2022), "On the
  parameterization and initialization of diagonal state space models", NeurIPS (S4D).
- :class:`MambaBlock`: in-projection, causal depthwise convolution, SiLU, the selective SSM with
  Delta, B, C computed from the input, a SiLU gate, out-projection. Gu & Dao (2023), "Mamba:
  linear-time sequence modeling with selective state spaces", arXiv:2312.00752, §3 and
  Algorithm 2. This is a readable reference, not the hardware-aware parallel scan of the paper.

Shapes: batch first, ``(batch, L, channels)`` for layers; functions document their own.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

__all__ = [
    "MambaBlock",
    "S4D",
    "causal_convolution",
    "discretize",
    "selective_scan",
    "ssm_kernel",
    "ssm_recurrence",
]

METHODS = ("zoh", "bilinear")


def discretize(
    A: torch.Tensor, B: torch.Tensor, dt: torch.Tensor | float, method: str = "zoh"
) -> tuple[torch.Tensor, torch.Tensor]:
    """Discretize the diagonal SSM x' = A x + B u with step ``dt`` (elementwise over the state).

    Zero-order hold (the input is held constant over each step):
        A_bar = exp(dt A),  B_bar = (exp(dt A) - 1) / A * B.
    Bilinear (Tustin, trapezoidal rule):
        A_bar = (1 + dt A / 2) / (1 - dt A / 2),  B_bar = dt B / (1 - dt A / 2).

    These are the diagonal cases of ``scipy.signal.cont2discrete(..., method="zoh" | "bilinear")``
    (C and D stay as they are in S4D; scipy's bilinear rule also rescales C, which S4D does not).

    Args:
        A: (..., N) diagonal of the state matrix, real or complex, nonzero (ZOH divides by A).
        B: broadcastable to A, the input vector.
        dt: step size, a positive number or a tensor broadcastable to A (e.g. (H, 1)).
        method: ``"zoh"`` or ``"bilinear"``.

    Returns:
        (A_bar, B_bar), both of A's broadcast shape.

    Raises:
        ValueError: unknown ``method``.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    dtA = dt * A
    if method == "zoh":
        A_bar = torch.exp(dtA)
        return A_bar, (A_bar - 1) / A * B
    denominator = 1 - dtA / 2
    return (1 + dtA / 2) / denominator, dt * B / denominator


def _complex(x: torch.Tensor) -> torch.Tensor:
    return x if x.is_complex() else x.to(torch.complex128 if x.dtype == torch.float64 else torch.complex64)


def ssm_kernel(A_bar: torch.Tensor, B_bar: torch.Tensor, C: torch.Tensor, length: int) -> torch.Tensor:
    """The SSM convolution kernel K[..., l] = sum_n C_n A_bar_n^l B_bar_n, l = 0..length-1.

    Unrolling x_k = A_bar x_{k-1} + B_bar u_k, y_k = C x_k from x_{-1} = 0 gives
    y_k = sum_{l<=k} C A_bar^l B_bar u_{k-l}: a causal convolution of u with
    K = (C B_bar, C A_bar B_bar, C A_bar^2 B_bar, ...). The powers A_bar^l (a Vandermonde
    matrix) come from a cumulative product, which stays exact where A_bar = 0.

    Args:
        A_bar, B_bar, C: (..., N) discretized diagonal SSM (broadcastable).
        length: L, the number of kernel taps.

    Returns:
        (..., L) complex kernel (take ``2 * K.real`` for S4D's conjugate pairs, ``K.real`` when
        A, B, C are real).
    """
    A_bar, B_bar, C = (_complex(t) for t in (A_bar, B_bar, C))
    A_bar = A_bar.unsqueeze(-1).expand(*A_bar.shape, length)
    vandermonde = torch.cat([torch.ones_like(A_bar[..., :1]), A_bar[..., 1:]], -1).cumprod(-1)  # A_bar^l
    return ((C * B_bar).unsqueeze(-1) * vandermonde).sum(dim=-2)


def causal_convolution(u: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """y[..., k] = sum_{l<=k} K[..., l] u[..., k-l] by FFT (zero-padded to 2L: no wrap-around).

    Args:
        u: (..., L) real input; K: (..., L) real kernel, broadcastable against u.

    Returns:
        (..., L) real output, O(L log L) per channel.
    """
    length = u.shape[-1]
    n = 2 * length
    return torch.fft.irfft(torch.fft.rfft(u, n=n) * torch.fft.rfft(K, n=n), n=n)[..., :length]


def ssm_recurrence(
    A_bar: torch.Tensor, B_bar: torch.Tensor, C: torch.Tensor, u: torch.Tensor
) -> torch.Tensor:
    """Run x_k = A_bar x_{k-1} + B_bar u_k, y_k = sum_n C_n x_{k,n} from x_{-1} = 0.

    Args:
        A_bar, B_bar, C: (H, N) discretized diagonal SSM, one per channel.
        u: (batch, H, L) input.

    Returns:
        (batch, H, L) complex output; equals ``causal_convolution`` with :func:`ssm_kernel`.
    """
    A_bar, B_bar, C = (_complex(t) for t in (A_bar, B_bar, C))
    x = torch.zeros(u.shape[0], *A_bar.shape, dtype=A_bar.dtype, device=u.device)
    ys = []
    for u_k in u.unbind(-1):
        x = A_bar * x + B_bar * u_k.unsqueeze(-1)  # (batch, H, N)
        ys.append((C * x).sum(dim=-1))
    return torch.stack(ys, dim=-1)


def selective_scan(
    u: torch.Tensor,
    delta: torch.Tensor,
    A: torch.Tensor,
    B: torch.Tensor,
    C: torch.Tensor,
    D: torch.Tensor | None = None,
) -> torch.Tensor:
    """Mamba's selective SSM (Gu & Dao 2023, Algorithm 2) as a sequential scan.

    For every channel d and time t, with input-dependent step Delta_t and vectors B_t, C_t::

        h_t = exp(Delta_t A) * h_{t-1} + Delta_t B_t u_t     (ZOH for A, Euler for B, as Mamba)
        y_t = <C_t, h_t> + D u_t

    With Delta, B and C constant over time this is the LTI recurrence of :func:`ssm_recurrence`.

    Args:
        u: (batch, L, d) input; delta: (batch, L, d) positive steps; A: (d, N) real, negative;
        B, C: (batch, L, N), shared by the d channels; D: optional (d,) skip connection.

    Returns:
        (batch, L, d) output.
    """
    decay = torch.exp(delta.unsqueeze(-1) * A)  # (batch, L, d, N): A_bar_t
    drive = (delta * u).unsqueeze(-1) * B.unsqueeze(2)  # (batch, L, d, N): B_bar_t u_t
    h = torch.zeros_like(decay[:, 0])
    states = []
    for decay_t, drive_t in zip(decay.unbind(1), drive.unbind(1), strict=True):
        h = decay_t * h + drive_t  # unbind, not [:, t]: slicing costs a full-size gradient per step
        states.append(h)
    y = (torch.stack(states, dim=1) * C.unsqueeze(2)).sum(dim=-1)  # <C_t, h_t> for all t at once
    return y if D is None else y + u * D


class S4D(nn.Module):
    """H independent diagonal SSMs, one per channel, applied as a long convolution (S4D).

    Parameters per channel h (Gu et al. 2022, S4D): step dt_h = exp(log_dt_h), log-uniform in
    [dt_min, dt_max]; N/2 complex eigenvalues A_hn = -exp(log_A_real) + i A_imag, initialised
    S4D-Lin: -1/2 + i pi n; B = 1 (fixed; its scale is absorbed in C); C complex, standard normal;
    skip D. Each eigenvalue stands for a conjugate pair, so the real kernel is 2 Re(K).

    Args:
        d_model: H channels; d_state: N (even), state size per channel; dt_min, dt_max: range of
        the initial steps; method: discretization (``"zoh"`` as S4D, or ``"bilinear"`` as S4).

    Forward:
        ``u`` (batch, L, H) -> (batch, L, H): y = K * u + D u with K = :meth:`kernel` (L).
    """

    def __init__(
        self,
        d_model: int,
        d_state: int = 64,
        dt_min: float = 1e-3,
        dt_max: float = 1e-1,
        method: str = "zoh",
    ):
        super().__init__()
        if d_state < 2 or d_state % 2:
            raise ValueError(f"d_state must be an even integer >= 2, got {d_state!r}")
        if method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {method!r}")
        self.method = method
        half = d_state // 2
        log_dt = torch.rand(d_model) * (math.log(dt_max) - math.log(dt_min)) + math.log(dt_min)
        self.log_dt = nn.Parameter(log_dt)
        self.log_A_real = nn.Parameter(torch.full((d_model, half), math.log(0.5)))
        self.A_imag = nn.Parameter(math.pi * torch.arange(half, dtype=torch.float32).repeat(d_model, 1))
        self.C = nn.Parameter(torch.view_as_real(torch.randn(d_model, half, dtype=torch.cfloat)))
        self.D = nn.Parameter(torch.randn(d_model))

    def discretized(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(A_bar, B_bar, C), each (H, N/2) complex, by ``self.method``."""
        A = torch.complex(-torch.exp(self.log_A_real), self.A_imag)
        dt = torch.exp(self.log_dt).unsqueeze(-1)  # (H, 1)
        A_bar, B_bar = discretize(A, torch.ones_like(A), dt, self.method)
        return A_bar, B_bar, torch.view_as_complex(self.C)

    def kernel(self, length: int) -> torch.Tensor:
        """(H, L) real kernel 2 Re(C A_bar^l B_bar), l = 0..L-1."""
        return 2 * ssm_kernel(*self.discretized(), length).real

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        x = u.transpose(1, 2)  # (batch, H, L)
        y = causal_convolution(x, self.kernel(x.shape[-1])) + self.D.unsqueeze(-1) * x
        return y.transpose(1, 2)

    def step(self, u_t: torch.Tensor, state: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """One recurrent step: ``u_t`` (batch, H), ``state`` (batch, H, N/2) complex or None.

        Returns (y_t (batch, H), new state); the cost does not depend on how many steps came
        before. Running it over u[:, 0], u[:, 1], ... reproduces :meth:`forward`.
        """
        A_bar, B_bar, C = self.discretized()
        if state is None:
            state = torch.zeros(u_t.shape[0], *A_bar.shape, dtype=A_bar.dtype, device=u_t.device)
        state = A_bar * state + B_bar * u_t.unsqueeze(-1)
        return 2 * (C * state).sum(dim=-1).real + self.D * u_t, state


class MambaBlock(nn.Module):
    """A Mamba block (Gu & Dao 2023, Figure 3) around :func:`selective_scan`.

    x (batch, L, d_model) -> in_proj -> two streams of d_inner = expand * d_model: the main
    stream goes through a causal depthwise Conv1d (kernel d_conv) and SiLU, then the selective
    SSM, whose Delta (via a rank-``dt_rank`` projection and softplus), B and C (N each) are linear
    functions of that stream at each time step; the other stream gates the result through SiLU;
    out_proj maps back to d_model. A = -exp(A_log) is initialised S4D-Real, A_n = -(n + 1); the
    bias of the Delta projection so that softplus(bias) is log-uniform in [dt_min, dt_max].

    Args:
        d_model, d_state (N), expand, d_conv, dt_rank (default ceil(d_model / 16)), dt_min, dt_max.

    Forward:
        ``x`` (batch, L, d_model) -> (batch, L, d_model); causal (output t sees inputs <= t).
    """

    def __init__(
        self,
        d_model: int,
        d_state: int = 16,
        expand: int = 2,
        d_conv: int = 4,
        dt_rank: int | None = None,
        dt_min: float = 1e-3,
        dt_max: float = 1e-1,
    ):
        super().__init__()
        self.d_inner = expand * d_model
        self.d_state = d_state
        self.dt_rank = dt_rank or math.ceil(d_model / 16)
        self.in_proj = nn.Linear(d_model, 2 * self.d_inner, bias=False)
        self.conv1d = nn.Conv1d(self.d_inner, self.d_inner, d_conv, groups=self.d_inner, padding=d_conv - 1)
        self.x_proj = nn.Linear(self.d_inner, self.dt_rank + 2 * d_state, bias=False)
        self.dt_proj = nn.Linear(self.dt_rank, self.d_inner)
        dt = torch.exp(torch.rand(self.d_inner) * (math.log(dt_max) - math.log(dt_min)) + math.log(dt_min))
        with torch.no_grad():
            self.dt_proj.bias.copy_(dt + torch.log(-torch.expm1(-dt)))  # inverse softplus
        self.A_log = nn.Parameter(torch.log(torch.arange(1, d_state + 1, dtype=torch.float32)).repeat(self.d_inner, 1))
        self.D = nn.Parameter(torch.ones(self.d_inner))
        self.out_proj = nn.Linear(self.d_inner, d_model, bias=False)

    def ssm_inputs(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Input-dependent (Delta (batch, L, d_inner), B (batch, L, N), C (batch, L, N))."""
        dt, B, C = self.x_proj(x).split([self.dt_rank, self.d_state, self.d_state], dim=-1)
        return F.softplus(self.dt_proj(dt)), B, C

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        length = x.shape[1]
        x, z = self.in_proj(x).chunk(2, dim=-1)
        x = F.silu(self.conv1d(x.transpose(1, 2))[..., :length].transpose(1, 2))  # causal: trim the right pad
        delta, B, C = self.ssm_inputs(x)
        y = selective_scan(x, delta, -torch.exp(self.A_log), B, C, self.D)
        return self.out_proj(y * F.silu(z))
