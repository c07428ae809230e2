"""common.lora: the from-scratch LoRA layer against peft, parameter counts, BitFit, the small LM helpers."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from common.lora import (
    LoRALinear,
    bitfit,
    lm_blocks,
    lm_loss,
    lora_parameter_count,
    tiny_llama_config,
    train_bpe_tokenizer,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _layer(d_in=12, d_out=7, seed=0):
    torch.manual_seed(seed)
    return nn.Linear(d_in, d_out)


def test_zero_init_lora_equals_the_base_layer_exactly():
    base = _layer()
    lora = LoRALinear(base, r=3, alpha=6)
    x = torch.randn(5, 4, 12)
    assert torch.count_nonzero(lora.lora_B) == 0 and torch.count_nonzero(lora.lora_A) > 0
    assert torch.equal(lora(x), base(x))
    assert not base.weight.requires_grad and not base.bias.requires_grad
    assert {n for n, p in lora.named_parameters() if p.requires_grad} == {"lora_A", "lora_B"}


def test_trained_update_differs_and_merging_reproduces_it():
    base = _layer()
    lora = LoRALinear(base, r=2, alpha=4)
    with torch.no_grad():
        lora.lora_B.normal_()
    x = torch.randn(6, 12)
    expected = x @ base.weight.T + base.bias + 2.0 * (x @ lora.lora_A.T) @ lora.lora_B.T
    assert torch.allclose(lora(x), expected, atol=1e-5)
    assert (lora(x) - base(x)).abs().max() > 1e-2
    merged = lora.merge()
    assert isinstance(merged, nn.Linear) and merged.weight.shape == base.weight.shape
    assert torch.allclose(merged(x), lora(x), atol=1e-5)
    assert torch.allclose(merged.weight - base.weight, lora.delta_weight())


def test_lora_layer_matches_peft_with_the_same_matrices():
    from peft import LoraConfig, get_peft_model

    base = _layer(10, 10)
    ours = LoRALinear(base, r=4, alpha=8)
    with torch.no_grad():
        ours.lora_B.normal_()
    wrapped = get_peft_model(nn.Sequential(_layer(10, 10)), LoraConfig(r=4, lora_alpha=8, target_modules=["0"]))
    peft_layer = wrapped.base_model.model[0]
    with torch.no_grad():
        peft_layer.lora_A["default"].weight.copy_(ours.lora_A)
        peft_layer.lora_B["default"].weight.copy_(ours.lora_B)
    x = torch.randn(3, 10)
    assert torch.allclose(wrapped(x), ours(x), atol=1e-5)
    assert math.isclose(peft_layer.scaling["default"], ours.scaling)
    assert sum(p.numel() for p in wrapped.parameters() if p.requires_grad) == lora_parameter_count(10, 10, 4)


@pytest.mark.parametrize("kwargs, match", [({"r": 0, "alpha": 1}, "r must"), ({"r": 2, "alpha": 0}, "alpha must")])
def test_bad_lora_settings_fail_clearly(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LoRALinear(_layer(), **kwargs)
    with pytest.raises(TypeError, match="nn.Linear"):
        LoRALinear(nn.Conv1d(2, 2, 1), r=1, alpha=1)


def test_parameter_counts_gpt3_and_llama_3_1_8b_on_meta():
    from peft import LoraConfig, get_peft_model
    from transformers import LlamaConfig, LlamaForCausalLM

    assert lora_parameter_count(12_288, 12_288, 1) == 24_576
    assert 96 * 2 * lora_parameter_count(12_288, 12_288, 1) == 4_718_592  # LoRA paper Table 4: 4.7M
    with pytest.raises(ValueError, match="r must"):
        lora_parameter_count(4, 4, 0)
    config = LlamaConfig(vocab_size=128_256, hidden_size=4096, intermediate_size=14_336, num_hidden_layers=32,
                         num_attention_heads=32, num_key_value_heads=8, tie_word_embeddings=False)
    with torch.device("meta"):
        model = LlamaForCausalLM(config)
    assert sum(p.numel() for p in model.parameters()) == 8_030_261_248
    targets = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    wrapped = get_peft_model(model, LoraConfig(r=16, lora_alpha=16, target_modules=targets, task_type="CAUSAL_LM"))
    trainable, total = wrapped.get_nb_trainable_parameters()
    assert trainable == 41_943_040
    assert round(100 * trainable / total, 2) == 0.52  # the official companion's print-out


def test_bitfit_keeps_only_biases_and_the_head():
    model = nn.Sequential(nn.Linear(4, 5), nn.LayerNorm(5), nn.Linear(5, 3, bias=False))
    n = bitfit(model, head=("2.",))
    trainable = {name for name, p in model.named_parameters() if p.requires_grad}
    assert trainable == {"0.bias", "1.bias", "2.weight"}
    assert n == 5 + 5 + 15
    with pytest.raises(ValueError, match="no trainable"):
        bitfit(nn.Linear(3, 3, bias=False), head=())


def test_tokenizer_blocks_and_zero_init_adapter_on_a_tiny_llama():
    from peft import LoraConfig, get_peft_model
    from transformers import LlamaForCausalLM

    texts = ["The Committee decided to raise the target range for the federal funds rate."] * 40
    tok = train_bpe_tokenizer(texts, vocab_size=300)
    assert tok.decode(tok.encode(texts[0]).ids) == texts[0]
    blocks = lm_blocks(tok, texts, 16)
    assert blocks.dtype == torch.long and blocks.shape[1] == 16 and (blocks == tok.token_to_id("<eos>")).any()
    with pytest.raises(ValueError, match="fewer than one block"):
        lm_blocks(tok, ["short"], 10_000)
    torch.manual_seed(0)
    model = LlamaForCausalLM(tiny_llama_config(tok.get_vocab_size(), hidden=16, layers=1, heads=2, block_size=16))
    before = lm_loss(model, blocks)
    assert 0 < before < 2 * math.log(tok.get_vocab_size())
    adapted = get_peft_model(model, LoraConfig(r=2, lora_alpha=4, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM"))
    assert lm_loss(adapted, blocks) == pytest.approx(before, abs=1e-6)  # B = 0: the base model
