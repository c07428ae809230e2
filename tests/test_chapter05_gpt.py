"""The causal mask of a decoder-only GPT (notebook 5.07) prevents leakage from the future.

A GPT built from ``common.transformer`` blocks (token embedding, learned positions, causal
``TransformerBlock`` layers, a final LayerNorm and a tied LM head, as in the notebook) must give
logits at positions 0..t that do not depend on tokens t+1, t+2, ...: changing those tokens
leaves the earlier logits bit-for-bit (to float rounding) unchanged and changes the later ones.
The same weights with the mask switched off must leak, so the check is shown to be able to fail.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from common.transformer import LearnedPositions, TransformerBlock, causal_mask

VOCAB, MAX_LEN, D_MODEL, N_HEADS, N_LAYERS, D_FF = 37, 16, 32, 4, 2, 64
TOL = 1e-6  # float32: logits at positions <= t after changing tokens > t

pytestmark = pytest.mark.usefixtures("one_torch_thread")


class TinyGPT(nn.Module):
    """Token embedding + learned positions -> causal blocks -> LayerNorm -> tied LM head."""

    def __init__(self, causal: bool = True):
        super().__init__()
        self.tok = nn.Embedding(VOCAB, D_MODEL)
        self.pos = LearnedPositions(MAX_LEN, D_MODEL)
        self.blocks = nn.ModuleList(
            TransformerBlock(D_MODEL, N_HEADS, D_FF, dropout=0.0, causal=causal) for _ in range(N_LAYERS)
        )
        self.norm = nn.LayerNorm(D_MODEL)
        self.head = nn.Linear(D_MODEL, VOCAB, bias=False)
        self.head.weight = self.tok.weight

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        x = self.pos(self.tok(ids))
        for block in self.blocks:
            x = block(x)
        return self.head(self.norm(x))


def _model(causal: bool = True) -> TinyGPT:
    torch.manual_seed(0)
    model = TinyGPT(causal).eval()
    with torch.no_grad():  # larger position vectors than GPT-2's 0.02 so every position matters
        model.pos.embedding.weight.normal_(0, 0.5)
    return model


def _changes(model: TinyGPT, t: int, seed: int = 1) -> tuple[float, float]:
    """Max |logit change| at positions <= t and at positions > t when tokens t+1.. are redrawn."""
    gen = torch.Generator().manual_seed(seed)
    ids = torch.randint(VOCAB, (4, MAX_LEN), generator=gen)
    changed = ids.clone()
    changed[:, t + 1:] = (ids[:, t + 1:] + 1 + torch.randint(VOCAB - 1, ids[:, t + 1:].shape, generator=gen)) % VOCAB
    assert (changed[:, t + 1:] != ids[:, t + 1:]).all()  # every later token really changed
    with torch.no_grad():
        diff = (model(changed) - model(ids)).abs()
    return float(diff[:, : t + 1].max()), float(diff[:, t + 1:].max())


@pytest.mark.parametrize("t", [0, 5, MAX_LEN - 2])
def test_causal_gpt_logits_up_to_t_ignore_later_tokens(t):
    before, after = _changes(_model(causal=True), t)
    assert before <= TOL, f"logits at positions <= {t} moved by {before:.3g} when only later tokens changed"
    assert after > 1e-3, f"logits after {t} should react to the changed tokens, moved only {after:.3g}"


def test_changing_only_token_t_plus_1_leaves_earlier_logits():
    model = _model(causal=True)
    gen = torch.Generator().manual_seed(2)
    ids = torch.randint(VOCAB, (2, MAX_LEN), generator=gen)
    t = 7
    changed = ids.clone()
    changed[:, t + 1] = (ids[:, t + 1] + 5) % VOCAB
    with torch.no_grad():
        diff = (model(changed) - model(ids)).abs().amax(dim=(0, 2))  # per position
    assert diff[: t + 1].max() <= TOL
    assert diff[t + 1] > 1e-3  # the changed position itself reacts (its own input changed)
    assert diff[t + 2:].min() > 1e-4  # and every later position sees it through attention


@pytest.mark.parametrize("t", [0, 5, MAX_LEN - 2])
def test_without_the_mask_the_same_weights_leak(t):
    causal = _model(causal=True)
    leaky = _model(causal=False)
    leaky.load_state_dict(causal.state_dict())
    before, _ = _changes(leaky, t)
    assert before > 1e-3, f"without the causal mask the logits at <= {t} should change; moved {before:.3g}"


def test_attention_weights_above_the_diagonal_are_zero():
    model = _model(causal=True)
    for block in model.blocks:
        block.attn.keep_weights = True
    with torch.no_grad():
        model(torch.randint(VOCAB, (3, MAX_LEN), generator=torch.Generator().manual_seed(3)))
    allowed = causal_mask(MAX_LEN)
    for block in model.blocks:
        w = block.attn.last_weights  # (batch, heads, T, T)
        assert w.shape == (3, N_HEADS, MAX_LEN, MAX_LEN)
        assert torch.all(w[..., ~allowed] == 0)
        assert torch.all(w[..., allowed] > 0)
        assert float((w.sum(-1) - 1).abs().max()) < 1e-6  # each row is a distribution
