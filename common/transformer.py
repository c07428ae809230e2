"""Transformer building blocks in plain PyTorch (Book §5.3.5; Vaswani et al. 2017).

``chapter05/06_attention_and_transformers`` derives each block and checks it against PyTorch's
own implementation; the GPT (``07``), the Lag-Llama-style model (``09``) and the timing study of
state-space models (``13``) build on the same classes, so what the reader checked is what runs.

Shapes use ``(batch, time, d_model)`` throughout (``batch_first``). A boolean ``mask`` is
``True`` where attention is ALLOWED (the convention of
``torch.nn.functional.scaled_dot_product_attention``); :func:`causal_mask` gives the
lower-triangular mask of a decoder-only model.

Blocks:

- :func:`scaled_dot_product_attention`: softmax(Q K^T / sqrt(d_k) + mask) V, returning the
  weights too.
- :class:`MultiHeadAttention`: h heads of size d_model / h, projections with bias.
- :class:`FeedForward`: Linear(d_model, d_ff) -> activation -> dropout -> Linear(d_ff, d_model).
- :class:`TransformerBlock`: pre-LayerNorm residual block, x + MHA(LN(x)), then + FF(LN(.)),
  the layout of GPT-2 and of ``torch.nn.TransformerEncoderLayer(norm_first=True)``;
  :meth:`TransformerBlock.from_torch` copies the weights of such a layer.
- :func:`sinusoidal_positions` (fixed) and :class:`LearnedPositions` (trained) positional
  embeddings.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

__all__ = [
    "FeedForward",
    "LearnedPositions",
    "MultiHeadAttention",
    "TransformerBlock",
    "causal_mask",
    "scaled_dot_product_attention",
    "sinusoidal_positions",
]


def _check_positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return value


def causal_mask(n: int, device: torch.device | str | None = None) -> torch.Tensor:
    """Boolean (n, n) mask, True on and below the diagonal: position t may attend to 0..t.

    Raises:
        ValueError: ``n`` is not a positive integer.
    """
    n = _check_positive_int("n", n)
    return torch.ones(n, n, dtype=torch.bool, device=device).tril()


def scaled_dot_product_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    mask: torch.Tensor | None = None,
    dropout: float = 0.0,
    training: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """softmax(q k^T / sqrt(d_k)) v, written out (Vaswani et al. 2017, eq. 1; Book §5.3.5).

    Args:
        q: (..., T_q, d_k) queries; k: (..., T_k, d_k) keys; v: (..., T_k, d_v) values. Leading
            dimensions (batch, heads) broadcast.
        mask: boolean, broadcastable to (..., T_q, T_k), True where attention is allowed; or a
            float mask added to the scores (``-inf`` blocks). ``None``: no mask.
        dropout: dropout probability on the weights (applied only when ``training``).

    Returns:
        (output (..., T_q, d_v), weights (..., T_q, T_k)); each row of weights sums to 1.
        Matches ``torch.nn.functional.scaled_dot_product_attention`` (checked in the tests).

    Raises:
        ValueError: the last dimensions of q and k differ, or a row of a boolean mask
            allows nothing (its softmax would be NaN).
    """
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(f"q and k need the same last dimension, got {q.shape} and {k.shape}")
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is not None:
        if mask.dtype == torch.bool:
            if not mask.any(dim=-1).all():
                raise ValueError("the attention mask has a row that allows no position")
            scores = scores.masked_fill(~mask, float("-inf"))
        else:
            scores = scores + mask
    weights = torch.softmax(scores, dim=-1)
    if dropout > 0.0 and training:
        weights = F.dropout(weights, p=dropout)
    return weights @ v, weights


class MultiHeadAttention(nn.Module):
    """Multi-head self-attention (Vaswani et al. 2017, §3.2.2).

    ``d_model`` is split into ``n_heads`` heads of ``d_model // n_heads`` dimensions each; each
    head attends on its own; the heads are concatenated and projected back.

    Args:
        d_model: model width; must be divisible by ``n_heads``.
        n_heads: number of heads.
        dropout: dropout on the attention weights.

    Forward:
        ``x`` (batch, T, d_model), optional ``mask`` (T, T) or (batch, 1, T, T), True where
        allowed. Returns (batch, T, d_model). After a forward pass, ``last_weights`` holds the
        attention weights (batch, n_heads, T, T) when ``keep_weights`` is True.

    Raises:
        ValueError: ``d_model`` not divisible by ``n_heads``.
    """

    def __init__(self, d_model: int, n_heads: int, dropout: float = 0.0):
        super().__init__()
        _check_positive_int("d_model", d_model)
        _check_positive_int("n_heads", n_heads)
        if d_model % n_heads:
            raise ValueError(f"d_model={d_model} is not divisible by n_heads={n_heads}")
        self.d_model, self.n_heads, self.d_head = d_model, n_heads, d_model // n_heads
        self.q_proj = nn.Linear(d_model, d_model)
        self.k_proj = nn.Linear(d_model, d_model)
        self.v_proj = nn.Linear(d_model, d_model)
        self.out_proj = nn.Linear(d_model, d_model)
        self.dropout = dropout
        self.keep_weights = False
        self.last_weights: torch.Tensor | None = None

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        b, t, _ = x.shape
        return x.view(b, t, self.n_heads, self.d_head).transpose(1, 2)  # (b, h, t, d_head)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        b, t, d = x.shape
        if d != self.d_model:
            raise ValueError(f"expected last dimension {self.d_model}, got {d}")
        q, k, v = (self._heads(p(x)) for p in (self.q_proj, self.k_proj, self.v_proj))
        out, weights = scaled_dot_product_attention(
            q, k, v, mask, dropout=self.dropout, training=self.training
        )
        self.last_weights = weights.detach() if self.keep_weights else None
        return self.out_proj(out.transpose(1, 2).reshape(b, t, d))


class FeedForward(nn.Module):
    """Position-wise feed-forward network: Linear -> activation -> dropout -> Linear.

    Args:
        d_model: input and output width; d_ff: hidden width (4 x d_model in most models);
        activation: ``"gelu"`` (GPT, BERT) or ``"relu"`` (the original Transformer).
    """

    def __init__(self, d_model: int, d_ff: int, dropout: float = 0.0, activation: str = "gelu"):
        super().__init__()
        if activation not in ("gelu", "relu"):
            raise ValueError(f"activation must be 'gelu' or 'relu', got {activation!r}")
        self.linear1 = nn.Linear(d_model, d_ff)
        self.linear2 = nn.Linear(d_ff, d_model)
        self.activation = nn.GELU() if activation == "gelu" else nn.ReLU()
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear2(self.dropout(self.activation(self.linear1(x))))


class TransformerBlock(nn.Module):
    """Pre-LayerNorm Transformer layer: x + MHA(LN1(x)), then + FF(LN2(.)).

    With ``causal=True`` every position attends only to itself and earlier positions (a
    decoder-only / GPT block); otherwise attention is bidirectional (an encoder block, as in
    BERT). Equals ``torch.nn.TransformerEncoderLayer(d_model, n_heads, d_ff, dropout,
    activation, batch_first=True, norm_first=True)`` given the same weights (see
    :meth:`from_torch`).

    Args:
        d_model, n_heads, d_ff, dropout, activation: as in :class:`MultiHeadAttention` and
            :class:`FeedForward`; ``causal``: apply :func:`causal_mask`.

    Forward:
        ``x`` (batch, T, d_model), optional extra boolean ``mask`` (combined with the causal
        one by logical and). Returns (batch, T, d_model).
    """

    def __init__(
        self,
        d_model: int,
        n_heads: int,
        d_ff: int,
        dropout: float = 0.0,
        activation: str = "gelu",
        causal: bool = False,
    ):
        super().__init__()
        self.norm1 = nn.LayerNorm(d_model)
        self.attn = MultiHeadAttention(d_model, n_heads, dropout)
        self.norm2 = nn.LayerNorm(d_model)
        self.ff = FeedForward(d_model, d_ff, dropout, activation)
        self.drop1 = nn.Dropout(dropout)
        self.drop2 = nn.Dropout(dropout)
        self.causal = causal

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        if self.causal:
            cm = causal_mask(x.shape[1], x.device)
            mask = cm if mask is None else (mask & cm)
        x = x + self.drop1(self.attn(self.norm1(x), mask))
        return x + self.drop2(self.ff(self.norm2(x)))

    @classmethod
    def from_torch(
        cls, layer: nn.TransformerEncoderLayer, causal: bool = False
    ) -> TransformerBlock:
        """A block with the weights of a ``norm_first=True`` ``nn.TransformerEncoderLayer``.

        Raises:
            ValueError: the layer is not pre-LayerNorm (``norm_first=False``) or not
                ``batch_first``.
        """
        if not layer.norm_first or not layer.self_attn.batch_first:
            raise ValueError(
                "from_torch needs a layer built with norm_first=True, batch_first=True"
            )
        attn = layer.self_attn
        d_model, n_heads = attn.embed_dim, attn.num_heads
        activation = "gelu" if layer.activation_relu_or_gelu == 2 else "relu"
        block = cls(
            d_model, n_heads, layer.linear1.out_features, layer.dropout.p, activation, causal
        )
        weight = layer.linear1.weight
        block = block.to(device=weight.device, dtype=weight.dtype)  # copy without rounding
        with torch.no_grad():
            w_q, w_k, w_v = attn.in_proj_weight.chunk(3)
            b_q, b_k, b_v = attn.in_proj_bias.chunk(3)
            for proj, w, b in (
                (block.attn.q_proj, w_q, b_q),
                (block.attn.k_proj, w_k, b_k),
                (block.attn.v_proj, w_v, b_v),
            ):
                proj.weight.copy_(w)
                proj.bias.copy_(b)
            block.attn.out_proj.load_state_dict(attn.out_proj.state_dict())
            block.ff.linear1.load_state_dict(layer.linear1.state_dict())
            block.ff.linear2.load_state_dict(layer.linear2.state_dict())
            block.norm1.load_state_dict(layer.norm1.state_dict())
            block.norm2.load_state_dict(layer.norm2.state_dict())
        return block


def sinusoidal_positions(n: int, d_model: int, base: float = 10000.0) -> torch.Tensor:
    """Fixed sinusoidal positional embeddings (Vaswani et al. 2017, §3.5), shape (n, d_model).

    PE[t, 2i] = sin(t / base^(2i/d_model)), PE[t, 2i+1] = cos(t / base^(2i/d_model)).

    Raises:
        ValueError: ``n`` or ``d_model`` not a positive integer, or ``d_model`` odd.
    """
    _check_positive_int("n", n)
    _check_positive_int("d_model", d_model)
    if d_model % 2:
        raise ValueError(f"d_model must be even for sinusoidal positions, got {d_model}")
    position = torch.arange(n, dtype=torch.float32)[:, None]
    freq = base ** (-torch.arange(0, d_model, 2, dtype=torch.float32) / d_model)
    pe = torch.zeros(n, d_model)
    pe[:, 0::2] = torch.sin(position * freq)
    pe[:, 1::2] = torch.cos(position * freq)
    return pe


class LearnedPositions(nn.Module):
    """Trained positional embeddings (GPT-2, BERT): one vector per position up to ``max_len``.

    Forward: ``x`` (batch, T, d_model) -> x + P[:T]. Raises ValueError when T > max_len.
    """

    def __init__(self, max_len: int, d_model: int):
        super().__init__()
        self.max_len = _check_positive_int("max_len", max_len)
        self.embedding = nn.Embedding(max_len, d_model)
        nn.init.normal_(self.embedding.weight, std=0.02)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = x.shape[1]
        if t > self.max_len:
            raise ValueError(f"sequence length {t} exceeds max_len={self.max_len}")
        return x + self.embedding.weight[:t]
