"""Notebook 10.02 (quantization): the hand-written quantizer, bad parameters, the quick run.

The library functions are tested with the module (tests/test_quantization.py); here the
notebook's own formulas (cell tagged ``quantizer``) on the book's toy example and on one MiniLM
weight against ``torch.quantize_per_tensor``, and the notebook's behaviour in quick mode.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

NOTEBOOK = "chapter10/02_quantization.ipynb"


@pytest.fixture(scope="module")
def hand(tagged_cell):
    return tagged_cell(NOTEBOOK, "quantizer", {"np": np})["quantize_by_hand"]


def test_toy_example_shapes_and_ranges(hand):
    np.random.seed(123)
    r = np.random.randn(3, 3)
    toy = hand(r, 2)
    assert (toy["q_min"], toy["q_max"]) == (-2, 1)  # signed 2-bit, the corrected table row
    for key in ("q", "r_hat", "error"):
        assert toy[key].shape == (3, 3)
    assert toy["q"].min() == -2 and toy["q"].max() == 1  # the range's ends use both integer ends
    assert set(np.unique(toy["q"])) <= {-2, -1, 0, 1}
    assert toy["S"] == pytest.approx((r.max() - r.min()) / 3)
    np.testing.assert_allclose(toy["r_hat"], toy["S"] * (toy["q"] - toy["Z"]))
    np.testing.assert_allclose(toy["error"], r - toy["r_hat"])
    assert np.abs(toy["error"]).max() <= toy["S"] / 2


@pytest.mark.parametrize("bits", [2, 3, 4, 8])
@pytest.mark.parametrize("signed", [True, False])
def test_round_trip_error_at_most_half_a_step(hand, bits, signed):
    r = np.random.default_rng(bits).normal(size=(20, 10)) + (0.0 if signed else 1.0)
    out = hand(r, bits, signed)
    assert out["q"].min() >= out["q_min"] and out["q"].max() <= out["q_max"]
    assert np.abs(out["error"]).max() <= out["S"] / 2 + 1e-12
    assert out["q_min"] == (-(2 ** (bits - 1)) if signed else 0)


def test_matches_library_and_torch_on_a_minilm_weight(hand):
    from safetensors.torch import load_file

    from common.quantization import linear_quantize
    from common.text_classifier import minilm_path

    weights = load_file(minilm_path() / "model.safetensors")
    name = next(k for k in weights if k.endswith("layer.0.attention.self.query.weight"))
    w = weights[name].float()
    assert w.shape == (384, 384)
    out = hand(w.numpy(), 8)
    q, scale, zero = linear_quantize(w.numpy(), bits=8)
    assert (out["S"], out["Z"]) == (pytest.approx(scale, rel=1e-12), zero)
    np.testing.assert_array_equal(out["q"], q)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = torch.quantize_per_tensor(w, out["S"], out["Z"], torch.qint8)
    np.testing.assert_array_equal(out["q"], theirs.int_repr().numpy())
    assert w.numpy().nbytes / out["q"].astype(np.int8).nbytes == 4


@pytest.mark.parametrize(("name", "value"), [("TOY_BITS", 1), ("QUANTIZE_EMBEDDINGS", "yes"),
                                             ("STUDENT_PARAMS", {"learning_rate": 1e-3})])
def test_bad_parameters_are_named(assert_bad_parameter, name, value):
    assert_bad_parameter(NOTEBOOK, name, value)


def test_quick_run(run_quick, outputs_text, seeded_cache):
    text = outputs_text(run_quick(NOTEBOOK))
    assert "2-bit signed: integers [-2, 1]" in text
    assert "integers that differ" in text and "storage ratio float32 / int8" in text
    for runtime in ("PyTorch float32", "PyTorch int8", "ONNX Runtime float32", "ONNX Runtime int8"):
        assert runtime in text
    assert "Verdict: quick mode" in text
