"""Notebook 10.03 (LoRA, BitFit, peft): a quick run end to end, and bad parameters named.

The LoRA arithmetic (zero-init equivalence, merging, agreement with peft, the Llama-3.1-8B count)
is tested with the module in tests/test_lora.py; here the notebook's own checks in quick mode.
"""

from __future__ import annotations

import pytest

NOTEBOOK = "chapter10/03_lora_peft.ipynb"


@pytest.mark.parametrize("name, value", [("LORA_RANK", 0), ("LORA_TARGETS", ["q_proj"]), ("LORA_LR", -1.0),
                                         ("QLORA_CHECKPOINT", 8)])
def test_bad_parameters_are_named(assert_bad_parameter, name, value):
    assert_bad_parameter(NOTEBOOK, name, value)


def test_quick_run_checks_pass_and_the_gpu_recipe_says_it_is_skipped(run_quick, outputs_text, seeded_cache):
    text = outputs_text(run_quick(NOTEBOOK))
    for row in ("max |LoRA - base| at B = 0", "peft trainable count", "Llama-3.1-8B trainable (%)",
                "max |merged - unmerged| logit", "adapter off: Chair-text loss"):
        assert row in text
    assert "41,943,040" in text and "0.5196%" in text
    assert "QLoRA recipe SKIPPED" in text
    assert "Verdict: quick mode smoke test: the Llama-3.1-8B count gives 0.52% (matches" in text
