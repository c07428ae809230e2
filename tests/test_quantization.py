"""Tests of common.quantization: integer ranges, S and Z, the round trip, agreement with PyTorch."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from common.quantization import (
    dequantize,
    integer_range,
    linear_quantize,
    quantize,
    scale_zero_point,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _observer(dtype, qscheme):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from torch.ao.quantization.observer import MinMaxObserver

        return MinMaxObserver(dtype=dtype, qscheme=qscheme)


@pytest.mark.parametrize(
    ("bits", "signed", "expected"),
    [(2, True, (-2, 1)), (2, False, (0, 3)), (4, True, (-8, 7)), (8, True, (-128, 127)),
     (8, False, (0, 255)), (16, True, (-32768, 32767)), (32, True, (-(2**31), 2**31 - 1))],
)
def test_integer_range(bits, signed, expected):
    assert integer_range(bits, signed) == expected


@pytest.mark.parametrize("bad", [0, 33, 2.0, True, "8"])
def test_integer_range_rejects_bad_bits(bad):
    with pytest.raises(ValueError, match="bits"):
        integer_range(bad)


def test_scale_zero_point_by_hand():
    # [-1, 2] on signed 2-bit [-2, 1]: S = 3 / 3 = 1, Z = -2 - round(-1 / 1) = -1
    assert scale_zero_point(-1.0, 2.0, bits=2) == (1.0, -1)
    # unsigned 8-bit on [-0.5, 2.05]: S = 2.55 / 255 = 0.01, Z = 0 - round(-50) = 50
    scale, zero = scale_zero_point(-0.5, 2.05, bits=8, signed=False)
    assert scale == pytest.approx(0.01) and zero == 50
    # the range is widened to contain 0: [1, 3] behaves like [0, 3]
    assert scale_zero_point(1.0, 3.0, bits=2) == scale_zero_point(0.0, 3.0, bits=2) == (1.0, -2)
    # symmetric signed: Z = 0, S = max|r| / 127.5
    assert scale_zero_point(-0.3, 2.55, symmetric=True) == (pytest.approx(0.02), 0)
    assert scale_zero_point(0.0, 0.0) == (1.0, -128)


def test_scale_zero_point_rejects_bad_ranges():
    with pytest.raises(ValueError, match="r_min must be <= r_max"):
        scale_zero_point(1.0, -1.0)
    with pytest.raises(ValueError, match="finite"):
        scale_zero_point(-np.inf, 1.0)
    with pytest.raises(ValueError, match="scale"):
        quantize([1.0], 0.0, 0)


@pytest.mark.parametrize("bits", [2, 3, 4, 8])
@pytest.mark.parametrize("signed", [True, False])
def test_round_trip_error_at_most_half_a_step(bits, signed):
    r = np.random.default_rng(bits).normal(size=(40, 30))
    q, scale, zero = linear_quantize(r, bits=bits, signed=signed)
    q_min, q_max = integer_range(bits, signed)
    assert q.min() >= q_min and q.max() <= q_max
    assert q.min() == q_min and q.max() == q_max  # the range's ends use the integer range's ends
    error = np.abs(r - dequantize(q, scale, zero))
    assert error.max() <= scale / 2 + 1e-12
    assert error.max() > scale / 4  # a real rounding error, not a lossless identity


def test_values_outside_the_range_are_clipped():
    q = quantize([-10.0, 0.0, 10.0], 0.1, 0, bits=8)
    assert q.tolist() == [-100, 0, 100]
    q = quantize([-100.0, 100.0], 0.1, 0, bits=8)
    assert q.tolist() == [-128, 127]


def test_rounding_is_half_to_even_like_torch():
    r = np.array([0.5, 1.5, 2.5, -0.5, -1.5])
    ours = quantize(r, 1.0, 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = torch.quantize_per_tensor(torch.tensor(r, dtype=torch.float32), 1.0, 0, torch.qint8).int_repr()
    assert ours.tolist() == theirs.tolist() == [0, 2, 2, 0, -2]


@pytest.mark.parametrize(
    ("dtype", "signed", "qscheme", "symmetric"),
    [(torch.qint8, True, torch.per_tensor_affine, False), (torch.quint8, False, torch.per_tensor_affine, False),
     (torch.qint8, True, torch.per_tensor_symmetric, True), (torch.quint8, False, torch.per_tensor_symmetric, True)],
)
def test_scale_and_zero_point_match_torch_observer(dtype, signed, qscheme, symmetric):
    w = torch.randn(64, 48, generator=torch.Generator().manual_seed(0)) * 0.05 + 0.01
    observer = _observer(dtype, qscheme)
    observer(w)
    torch_scale, torch_zero = observer.calculate_qparams()
    scale, zero = scale_zero_point(w.min().item(), w.max().item(), signed=signed, symmetric=symmetric)
    assert scale == pytest.approx(torch_scale.item(), rel=1e-6)
    assert zero == torch_zero.item()


@pytest.mark.parametrize(("dtype", "signed"), [(torch.qint8, True), (torch.quint8, False)])
def test_quantize_matches_torch_quantize_per_tensor(dtype, signed):
    w = torch.randn(384, 384, generator=torch.Generator().manual_seed(1)) * 0.04
    q, scale, zero = linear_quantize(w.numpy(), signed=signed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = torch.quantize_per_tensor(w, scale, zero, dtype)
    mismatch = np.abs(q - theirs.int_repr().numpy().astype(np.int64))
    assert mismatch.max() <= 1 and (mismatch > 0).mean() < 1e-4  # float32 vs float64 at exact halves only
    np.testing.assert_allclose(dequantize(q, scale, zero), theirs.dequantize().numpy(), atol=scale * 1.001)


def test_linear_quantize_rejects_empty():
    with pytest.raises(ValueError, match="empty"):
        linear_quantize(np.array([]))


@pytest.fixture(scope="module")
def tiny_classifier():
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    from common.text_classifier import minilm_path

    torch.manual_seed(0)
    config = BertConfig(vocab_size=30522, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, num_labels=3)
    return BertForSequenceClassification(config).eval(), AutoTokenizer.from_pretrained(minilm_path())


TEXTS = ["Operating profit rose to EUR 13.1 mn.", "Sales fell.", "The meeting is on Monday in Helsinki."]


def test_onnx_export_and_int8_agree_with_torch(tiny_classifier, tmp_path):
    from common.benchmark import size_on_disk_mib
    from common.quantization import export_onnx, onnx_logits, onnx_session, quantize_onnx_int8

    model, tokenizer = tiny_classifier
    with torch.no_grad():
        expected = model(**tokenizer(TEXTS, return_tensors="pt", padding=True)).logits.numpy()
    fp32 = export_onnx(model, tokenizer, tmp_path / "model.onnx")
    with torch.no_grad():  # the export leaves the model itself unchanged
        np.testing.assert_array_equal(model(**tokenizer(TEXTS, return_tensors="pt", padding=True)).logits.numpy(), expected)
    int8 = quantize_onnx_int8(fp32, tmp_path / "model-int8.onnx")
    np.testing.assert_allclose(onnx_logits(onnx_session(fp32, threads=1), tokenizer, TEXTS, max_length=32),
                               expected, atol=1e-4)
    got8 = onnx_logits(onnx_session(int8, threads=1), tokenizer, TEXTS, max_length=32)
    assert got8.shape == expected.shape and np.abs(got8 - expected).max() < 0.2
    assert size_on_disk_mib(int8) < 0.4 * size_on_disk_mib(fp32)  # int8 weights incl. the embedding table
    one = onnx_logits(onnx_session(fp32, threads=1), tokenizer, TEXTS[1:2], max_length=32)  # other batch and length
    np.testing.assert_allclose(one, expected[1:2], atol=1e-4)


def test_torch_dynamic_int8_quantizes_linear_and_embedding(tiny_classifier):
    from common.quantization import torch_dynamic_int8

    model, tokenizer = tiny_classifier
    enc = tokenizer(TEXTS, return_tensors="pt", padding=True)
    qmodel = torch_dynamic_int8(model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from torch.ao.nn.quantized import Embedding as QEmbedding
        from torch.ao.nn.quantized.dynamic import Linear as QLinear
    assert isinstance(qmodel.classifier, QLinear) and isinstance(qmodel.bert.encoder.layer[0].attention.self.query, QLinear)
    assert isinstance(qmodel.bert.embeddings.word_embeddings, QEmbedding)
    assert isinstance(model.classifier, torch.nn.Linear)  # the original is left alone
    with torch.no_grad():
        expected, got = model(**enc).logits, qmodel(**enc).logits
    assert (got - expected).abs().max() < 0.2 and not torch.equal(got, expected)
    linear_only = torch_dynamic_int8(model, embeddings=False)
    assert isinstance(linear_only.bert.embeddings.word_embeddings, torch.nn.Embedding)


def test_onnx_session_rejects_bad_threads(tmp_path):
    from common.quantization import onnx_session

    with pytest.raises(ValueError, match="threads"):
        onnx_session(tmp_path / "missing.onnx", threads=0)
