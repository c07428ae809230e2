"""Linear (affine) quantization of chapter 10, plus ONNX Runtime export and int8 helpers.

A real number ``r`` is stored as a ``bits``-bit integer ``q`` with ``r ≈ S (q - Z)``: the scale
``S`` is the real step between two neighbouring integers and the zero point ``Z`` is the integer
that stands for the real 0 (Book §10.4). From a range ``[r_min, r_max]`` mapped onto the integer
range ``[q_min, q_max]``::

    S = (r_max - r_min) / (q_max - q_min)
    Z = q_min - round(r_min / S)           (clipped to [q_min, q_max])
    q = clip(round(r / S) + Z, q_min, q_max)
    r_hat = S (q - Z)                      |r - r_hat| <= S / 2 for r in the range

which is what PyTorch's ``MinMaxObserver`` computes and ``torch.quantize_per_tensor`` applies
(the tests check both). Signed ``bits``-bit integers cover ``[-2**(bits-1), 2**(bits-1) - 1]``
(two's complement: 2 bits = [-2, 1]), unsigned ones ``[0, 2**bits - 1]``. Like PyTorch, the
range is widened to contain 0 so that 0 (padding, a ReLU's output) is stored exactly.
``symmetric=True`` is the special case ``Z = 0`` (signed) with ``S = max|r| / ((q_max - q_min) / 2)``
that PyTorch and ONNX Runtime use for int8 weights.

Rounding is half to even (``np.rint``), as in PyTorch. Notebook 10.02 writes the formulas out
and calls these functions as a cross-check.

The ONNX helpers export a Hugging Face sequence classifier to ONNX (:func:`export_onnx`),
quantize its weights to int8 with ONNX Runtime (:func:`quantize_onnx_int8`), and run it on CPU
with a fixed thread count (:func:`onnx_session`, :func:`onnx_logits`).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

__all__ = [
    "dequantize",
    "export_onnx",
    "integer_range",
    "linear_quantize",
    "onnx_logits",
    "onnx_session",
    "quantize",
    "quantize_onnx_int8",
    "scale_zero_point",
    "torch_dynamic_int8",
]


def integer_range(bits: int, signed: bool = True) -> tuple[int, int]:
    """``(q_min, q_max)`` of a ``bits``-bit integer: ``[-2**(bits-1), 2**(bits-1)-1]`` or ``[0, 2**bits-1]``."""
    if isinstance(bits, bool) or not isinstance(bits, (int, np.integer)) or not 1 <= bits <= 32:
        raise ValueError(f"bits must be an integer in 1..32, got {bits!r}")
    bits = int(bits)
    if signed:
        return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    return 0, 2**bits - 1


def scale_zero_point(r_min: float, r_max: float, *, bits: int = 8, signed: bool = True,
                     symmetric: bool = False) -> tuple[float, int]:
    """Scale ``S`` and zero point ``Z`` that map ``[r_min, r_max]`` (widened to contain 0) onto the integers.

    Affine: ``S = (r_max - r_min) / (q_max - q_min)``, ``Z = q_min - round(r_min / S)`` clipped to
    the integer range. Symmetric: ``S = max(|r_min|, |r_max|) / ((q_max - q_min) / 2)`` and ``Z = 0``
    (signed) or ``(q_min + q_max + 1) / 2`` (unsigned). A range of zero width gives ``S = 1``.
    """
    q_min, q_max = integer_range(bits, signed)
    r_min, r_max = float(r_min), float(r_max)
    if not (np.isfinite(r_min) and np.isfinite(r_max)):
        raise ValueError(f"the range must be finite, got [{r_min}, {r_max}]")
    if r_min > r_max:
        raise ValueError(f"r_min must be <= r_max, got [{r_min}, {r_max}]")
    r_min, r_max = min(r_min, 0.0), max(r_max, 0.0)
    if symmetric:
        scale = max(-r_min, r_max) / ((q_max - q_min) / 2)
        zero_point = 0 if signed else (q_min + q_max + 1) // 2
        return (scale if scale > 0 else 1.0), zero_point
    scale = (r_max - r_min) / (q_max - q_min)
    if scale == 0:
        scale = 1.0
    zero_point = int(np.clip(q_min - np.rint(r_min / scale), q_min, q_max))
    return scale, zero_point


def quantize(r, scale: float, zero_point: int, *, bits: int = 8, signed: bool = True) -> np.ndarray:
    """``q = clip(round(r / S) + Z, q_min, q_max)`` as an int64 array (round half to even)."""
    q_min, q_max = integer_range(bits, signed)
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale!r}")
    r = np.asarray(r, dtype=np.float64)
    return np.clip(np.rint(r / scale) + zero_point, q_min, q_max).astype(np.int64)


def dequantize(q, scale: float, zero_point: int) -> np.ndarray:
    """``r_hat = S (q - Z)`` as a float64 array."""
    return scale * (np.asarray(q, dtype=np.float64) - zero_point)


def linear_quantize(r, *, bits: int = 8, signed: bool = True,
                    symmetric: bool = False) -> tuple[np.ndarray, float, int]:
    """Quantize ``r`` with ``S`` and ``Z`` from its own min and max: ``(q, S, Z)``."""
    r = np.asarray(r, dtype=np.float64)
    if r.size == 0:
        raise ValueError("r must not be empty")
    scale, zero_point = scale_zero_point(r.min(), r.max(), bits=bits, signed=signed, symmetric=symmetric)
    return quantize(r, scale, zero_point, bits=bits, signed=signed), scale, zero_point


# --- whole models -----------------------------------------------------------------------------


def torch_dynamic_int8(model, *, embeddings: bool = True):
    """PyTorch dynamic int8 quantization of a copy of ``model`` (CPU).

    ``nn.Linear`` weights become int8 (symmetric, per tensor); activations are quantized on the
    fly, batch by batch. With ``embeddings`` the ``nn.Embedding`` tables are stored as 8-bit rows
    too (one scale and offset per row), which matters for small encoders whose word-embedding
    table is a large share of the weights. ``torch.ao.quantization`` is deprecated in favour of
    ``torchao``; its deprecation warnings are silenced here.
    """
    import copy

    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from torch.ao.quantization import (
            default_dynamic_qconfig,
            float_qparams_weight_only_qconfig,
            quantize_dynamic,
        )

        spec = {torch.nn.Linear: default_dynamic_qconfig}
        if embeddings:
            spec[torch.nn.Embedding] = float_qparams_weight_only_qconfig
        return quantize_dynamic(copy.deepcopy(model).cpu().eval(), spec, dtype=torch.qint8)


def export_onnx(model, tokenizer, path, *, opset: int = 17) -> Path:
    """Export a Hugging Face sequence classifier to ``path`` (.onnx), batch and length dynamic.

    Inputs are the tokenizer's tensors (``input_ids``, ``attention_mask`` and, when the tokenizer
    makes them, ``token_type_ids``); the output is ``logits``. Uses the TorchScript exporter
    (``dynamo=False``), which needs no ``onnxscript`` and handles BERT-family encoders.
    """
    import copy

    import torch

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    enc = tokenizer(["An example sentence for the export.", "A second, longer example sentence."],
                    return_tensors="pt", padding=True)
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in enc]
    axes = {n: {0: "batch", 1: "sequence"} for n in names} | {"logits": {0: "batch"}}
    model = copy.deepcopy(model).cpu().eval()  # tracing leaves state behind that changes a BERT's later outputs

    class _Logits(torch.nn.Module):  # positional inputs in a fixed order, logits out
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, *tensors):
            return self.inner(**dict(zip(names, tensors, strict=True))).logits

    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(_Logits(model), tuple(enc[n] for n in names), str(path), input_names=names,
                          output_names=["logits"], dynamic_axes=axes, opset_version=opset, dynamo=False)
    return path


def quantize_onnx_int8(src, dst) -> Path:
    """ONNX Runtime dynamic quantization: int8 weights (MatMul, Gather), activations on the fly."""
    import logging

    from onnxruntime.quantization import QuantType, quantize_dynamic

    dst = Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # its "consider pre-processing" advice is about static quantization
    try:
        quantize_dynamic(str(src), str(dst), weight_type=QuantType.QInt8)
    finally:
        root.setLevel(level)
    return dst


def onnx_session(path, *, threads: int):
    """A CPU ``onnxruntime.InferenceSession`` with ``threads`` intra-op threads and one inter-op thread."""
    import onnxruntime as ort

    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads must be a positive integer, got {threads!r}")
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def onnx_logits(session, tokenizer, texts: list[str], *, max_length: int) -> np.ndarray:
    """Logits of one batch of ``texts`` (padded to the longest, truncated at ``max_length``)."""
    enc = tokenizer(list(texts), return_tensors="np", padding=True, truncation=True, max_length=max_length)
    names = {i.name for i in session.get_inputs()}
    return session.run(["logits"], {k: v.astype(np.int64) for k, v in enc.items() if k in names})[0]
