"""Chronos tokenization (notebook 5.08): mean scaling and uniform bins, round trip and clipping.

The notebook writes the tokenizer out in NumPy and checks it against chronos-forecasting's
``MeanScaleUniformBins``; these tests pin down the library behaviour it relies on, with the
configuration of the Chronos-T5 models (4096 tokens, 2 special tokens, bin centres on [-15, 15]):
a value inside the limits comes back within half a bin width times the context's scale, a value
beyond them comes back as the outermost centre times the scale, zero is represented exactly, and
the EOS token is appended to contexts and labels.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
chronos = pytest.importorskip("chronos")

N_TOKENS, N_SPECIAL, LOW, HIGH = 4096, 2, -15.0, 15.0
N_BINS = N_TOKENS - N_SPECIAL - 1  # 4093 centres; token id = centre index + 3
WIDTH = (HIGH - LOW) / (N_BINS - 1)


@pytest.fixture(scope="module")
def tokenizer():
    config = chronos.ChronosConfig(
        tokenizer_class="MeanScaleUniformBins",
        tokenizer_kwargs={"low_limit": LOW, "high_limit": HIGH},
        context_length=30,
        prediction_length=1,
        n_tokens=N_TOKENS,
        n_special_tokens=N_SPECIAL,
        pad_token_id=0,
        eos_token_id=1,
        use_eos_token=True,
        model_type="seq2seq",
        num_samples=20,
        temperature=1.0,
        top_k=0,
        top_p=1.0,
    )
    return config.create_tokenizer()


def round_trip(tokenizer, contexts):
    """Tokenize contexts (batch, 30) and decode them again with the library's own methods."""
    ids, mask, scale = tokenizer.context_input_transform(torch.tensor(contexts))
    decoded = tokenizer.output_transform(ids[:, None, :-1], scale)[:, 0]
    return ids, mask, scale.double().numpy(), decoded.double().numpy()


def test_bins_and_special_tokens(tokenizer):
    centres = tokenizer.centers.double().numpy()
    assert len(centres) == N_BINS
    assert centres[0] == LOW and centres[-1] == HIGH
    np.testing.assert_allclose(np.diff(centres), WIDTH, rtol=1e-4)
    ids, mask, scale, decoded = round_trip(tokenizer, np.zeros((1, 30)) + [[0.0] * 29 + [1.0]])
    assert ids.shape == (1, 31) and int(ids[0, -1]) == 1  # EOS appended
    assert bool(mask.all())
    assert int(ids[0, 0]) == N_SPECIAL + 1 + N_BINS // 2  # zero is the middle centre ...
    assert abs(decoded[0, 0]) < 1e-6 * scale[0]  # ... and decodes to 0 up to float32 rounding of linspace
    assert int(ids[:, :-1].min()) >= N_SPECIAL + 1  # token 2 is never produced by a finite value


def test_round_trip_within_half_a_bin(tokenizer):
    rng = np.random.default_rng(0)
    vol = np.exp(rng.normal(-5, 1, size=(256, 1)))  # daily-return-like scales
    contexts = vol * rng.standard_t(3, size=(256, 30))
    contexts[:8, :10] = 0.0  # stale prices, as in the exchange-rate file
    ids, _, scale, decoded = round_trip(tokenizer, contexts)
    np.testing.assert_allclose(scale, np.abs(contexts).mean(axis=1), rtol=1e-6)  # mean scaling
    z = contexts / scale[:, None]
    inside = np.abs(z) <= HIGH
    error = np.abs(decoded - contexts)
    bound = WIDTH / 2 * scale[:, None] * np.ones_like(contexts)
    assert np.all(error[inside] <= bound[inside] * (1 + 1e-5) + 1e-12)
    assert (error / bound)[inside].max() > 0.9  # the bound is tight: some values sit near a bin edge


def test_values_beyond_the_limits_are_clipped(tokenizer):
    contexts = np.full((2, 30), 0.01)
    contexts[0, -1], contexts[1, -1] = 10.0, -10.0  # about 30 x the scale: beyond +-15
    ids, _, scale, decoded = round_trip(tokenizer, contexts)
    assert np.all(np.abs(contexts[:, -1]) > HIGH * scale)
    assert int(ids[0, -2]) == N_TOKENS - 1 and int(ids[1, -2]) == N_SPECIAL + 1
    np.testing.assert_allclose(decoded[:, -1], [HIGH * scale[0], LOW * scale[1]], rtol=1e-6)


def test_label_uses_the_context_scale(tokenizer):
    contexts = np.full((1, 30), 0.002)
    _, _, scale_t = tokenizer.context_input_transform(torch.tensor(contexts))
    for target, expected in [(0.002, N_SPECIAL + 1 + N_BINS // 2 + round(1 / WIDTH)), (1.0, N_TOKENS - 1)]:
        labels, mask = tokenizer.label_input_transform(torch.tensor([[target]]), scale_t)
        assert labels.tolist() == [[expected, 1]] and bool(mask.all())


def test_sampled_special_tokens_decode_to_the_lowest_bin(tokenizer):
    """A model that samples PAD/EOS/token 2 gets -15 x scale back: the notebook reports that mass."""
    scale = torch.tensor([0.01])
    out = tokenizer.output_transform(torch.tensor([[[0], [1], [2], [3]]]), scale)[0, :, 0]
    np.testing.assert_allclose(out.numpy(), [LOW * 0.01] * 4, rtol=1e-6)
