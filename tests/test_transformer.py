"""Unit tests of ``common.transformer``: the blocks that chapter 5 notebooks 06, 07, 09 and 13 build on.

Each block is checked against PyTorch's own implementation (``scaled_dot_product_attention``,
``nn.TransformerEncoderLayer(norm_first=True)``), the causal block against leakage from later
tokens, the positional embeddings against values computed by hand, and the bad-input cases
against their error messages. Small sizes in float64 keep the file fast (well under 5 s).
"""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from common.transformer import (
    FeedForward,
    LearnedPositions,
    MultiHeadAttention,
    TransformerBlock,
    causal_mask,
    scaled_dot_product_attention,
    sinusoidal_positions,
)

TOL = 1e-10  # float64


@pytest.fixture
def qkv():
    gen = torch.Generator().manual_seed(0)
    shape = (2, 3, 5, 4)  # batch, heads, time, d_k
    return tuple(torch.randn(*shape, generator=gen, dtype=torch.float64) for _ in range(3))


def _encoder_layer(d_model=16, n_heads=4, d_ff=32, activation="gelu", seed=0):
    torch.manual_seed(seed)
    layer = nn.TransformerEncoderLayer(d_model, n_heads, d_ff, dropout=0.0, activation=activation,
                                       batch_first=True, norm_first=True).eval()
    with torch.no_grad():  # non-zero biases and LayerNorm parameters, so copying them is tested too
        for p in layer.parameters():
            if p.dim() == 1:
                p.add_(0.1 * torch.randn_like(p))
    return layer  # float32: from_torch builds float32 modules; both are cast to float64 after copying


def test_attention_equals_torch_without_mask(qkv):
    q, k, v = qkv
    out, weights = scaled_dot_product_attention(q, k, v)
    assert out.shape == (2, 3, 5, 4) and weights.shape == (2, 3, 5, 5)
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v), atol=TOL, rtol=0)


def test_attention_equals_torch_with_boolean_and_causal_masks(qkv):
    q, k, v = qkv
    gen = torch.Generator().manual_seed(1)
    mask = torch.rand(5, 5, generator=gen) > 0.4
    mask[:, 0] = True  # every row allows at least one position
    for m in (mask, causal_mask(5)):
        out, weights = scaled_dot_product_attention(q, k, v, m)
        torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v, attn_mask=m), atol=TOL, rtol=0)
        assert torch.all(weights[..., ~m] == 0), "blocked positions must get exactly zero weight"
    out, _ = scaled_dot_product_attention(q, k, v, causal_mask(5))
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v, is_causal=True), atol=TOL, rtol=0)


def test_attention_with_float_mask_adds_to_scores(qkv):
    q, k, v = qkv
    bias = torch.randn(5, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    out, _ = scaled_dot_product_attention(q, k, v, bias)
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v, attn_mask=bias), atol=TOL, rtol=0)


def test_attention_weights_rows_sum_to_one_and_match_formula(qkv):
    q, k, v = qkv
    _, weights = scaled_dot_product_attention(q, k, v, causal_mask(5))
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, 3, 5, dtype=torch.float64), atol=TOL, rtol=0)
    scores = q[0, 0, 2] @ k[0, 0, :3].T / math.sqrt(4)  # row 2 sees positions 0..2
    expected = torch.exp(scores) / torch.exp(scores).sum()
    torch.testing.assert_close(weights[0, 0, 2, :3], expected, atol=TOL, rtol=0)


def test_causal_mask_is_lower_triangular():
    m = causal_mask(4)
    assert m.dtype == torch.bool
    assert m.tolist() == [[True, False, False, False], [True, True, False, False],
                          [True, True, True, False], [True, True, True, True]]


@pytest.mark.parametrize("activation", ["gelu", "relu"])
def test_block_from_torch_equals_encoder_layer(activation):
    layer = _encoder_layer(activation=activation)
    block = TransformerBlock.from_torch(layer).double().eval()
    layer.double()
    x = torch.randn(3, 7, 16, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        torch.testing.assert_close(block(x), layer(x), atol=TOL, rtol=0)


def test_causal_block_from_torch_equals_encoder_layer_with_causal_mask():
    layer = _encoder_layer(seed=4)
    block = TransformerBlock.from_torch(layer, causal=True).double().eval()
    bidirectional = TransformerBlock.from_torch(layer).double().eval()
    layer.double()
    x = torch.randn(2, 6, 16, dtype=torch.float64, generator=torch.Generator().manual_seed(5))
    torch_mask = nn.Transformer.generate_square_subsequent_mask(6, dtype=torch.float64)  # -inf above diagonal
    with torch.no_grad():
        torch.testing.assert_close(block(x), layer(x, src_mask=torch_mask, is_causal=True), atol=TOL, rtol=0)
        # and the causal block differs from the bidirectional one
        assert (block(x) - bidirectional(x)).abs().max() > 1e-3


def test_causal_block_ignores_later_tokens():
    torch.manual_seed(6)
    block = TransformerBlock(16, 4, 32, causal=True).double().eval()
    x = torch.randn(1, 8, 16, dtype=torch.float64)
    t = 4
    changed = x.clone()
    changed[:, t + 1] = torch.randn(16, dtype=torch.float64)  # change token t+1 only (not by a constant: LayerNorm removes that)
    with torch.no_grad():
        before, after = block(x), block(changed)
    torch.testing.assert_close(after[:, : t + 1], before[:, : t + 1], atol=0, rtol=0)
    assert (after[:, t + 1] - before[:, t + 1]).abs().max() > 1e-3  # token t+1 itself did change
    bidirectional = TransformerBlock(16, 4, 32, causal=False).double().eval()
    bidirectional.load_state_dict(block.state_dict())
    with torch.no_grad():  # control: without the mask, earlier outputs do see the change
        assert (bidirectional(changed)[:, :t + 1] - bidirectional(x)[:, :t + 1]).abs().max() > 1e-3


def test_multi_head_attention_keeps_weights():
    torch.manual_seed(7)
    mha = MultiHeadAttention(12, 3)
    mha.keep_weights = True
    out = mha(torch.randn(2, 5, 12), causal_mask(5))
    assert out.shape == (2, 5, 12)
    assert mha.last_weights.shape == (2, 3, 5, 5)
    torch.testing.assert_close(mha.last_weights.sum(-1), torch.ones(2, 3, 5))
    assert torch.all(mha.last_weights[..., ~causal_mask(5)] == 0)
    mha.keep_weights = False
    mha(torch.randn(2, 5, 12))
    assert mha.last_weights is None


def test_feed_forward_shape_and_parameter_count():
    ff = FeedForward(8, 32)
    assert ff(torch.randn(2, 3, 8)).shape == (2, 3, 8)
    assert sum(p.numel() for p in ff.parameters()) == 8 * 32 + 32 + 32 * 8 + 8


def test_sinusoidal_positions_known_values():
    pe = sinusoidal_positions(3, 4)
    assert pe.shape == (3, 4)
    # position 0: sin(0) = 0, cos(0) = 1; frequencies 1 and 10000^(-2/4) = 0.01
    expected = torch.tensor([
        [0.0, 1.0, 0.0, 1.0],
        [math.sin(1), math.cos(1), math.sin(0.01), math.cos(0.01)],
        [math.sin(2), math.cos(2), math.sin(0.02), math.cos(0.02)],
    ])
    torch.testing.assert_close(pe, expected, atol=1e-6, rtol=0)
    assert sinusoidal_positions(50, 64).abs().max() <= 1.0


def test_learned_positions_add_one_vector_per_position():
    torch.manual_seed(8)
    pos = LearnedPositions(10, 4)
    x = torch.zeros(2, 6, 4)
    out = pos(x)
    torch.testing.assert_close(out[0], pos.embedding.weight[:6])
    torch.testing.assert_close(out[1], out[0])


def test_error_d_model_not_divisible_by_heads():
    with pytest.raises(ValueError, match="not divisible by n_heads"):
        MultiHeadAttention(10, 3)
    with pytest.raises(ValueError, match="not divisible by n_heads"):
        TransformerBlock(10, 4, 20)


def test_error_fully_masked_row(qkv):
    q, k, v = qkv
    mask = causal_mask(5).clone()
    mask[3] = False
    with pytest.raises(ValueError, match="allows no position"):
        scaled_dot_product_attention(q, k, v, mask)


def test_error_learned_positions_too_long():
    pos = LearnedPositions(4, 8)
    with pytest.raises(ValueError, match="exceeds max_len=4"):
        pos(torch.zeros(1, 5, 8))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: causal_mask(0), "n must be a positive integer"),
        (lambda: sinusoidal_positions(4, 5), "d_model must be even"),
        (lambda: sinusoidal_positions(0, 4), "n must be a positive integer"),
        (lambda: LearnedPositions(0, 4), "max_len must be a positive integer"),
        (lambda: FeedForward(4, 8, activation="tanh"), "activation must be"),
        (lambda: scaled_dot_product_attention(torch.zeros(2, 3), torch.zeros(2, 4), torch.zeros(2, 4)),
         "same last dimension"),
        (lambda: MultiHeadAttention(8, 2)(torch.zeros(1, 3, 6)), "expected last dimension 8"),
    ],
)
def test_other_bad_inputs(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_from_torch_rejects_post_norm_layer():
    layer = nn.TransformerEncoderLayer(8, 2, 16, batch_first=True, norm_first=False)
    with pytest.raises(ValueError, match="norm_first=True"):
        TransformerBlock.from_torch(layer)
