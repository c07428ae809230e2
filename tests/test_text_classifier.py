"""Tests of common.text_classifier on a tiny random BERT (fast) and the bundled MiniLM (encode)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from common.text_classifier import (
    FineTuned,
    _param_groups,
    encode_frozen,
    fine_tune,
    minilm_path,
    predict_proba,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")

POS = ["profit rose strongly", "sales grew and margins improved", "record earnings", "shares jumped"]
NEG = ["loss widened sharply", "sales fell and costs rose", "the company cut jobs", "shares dropped"]


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory, save_tiny_bert):
    """A 2-layer, 32-wide random BERT with the MiniLM tokenizer, saved as a model folder."""
    return save_tiny_bert(tmp_path_factory.mktemp("tiny_bert"), 2)


def test_minilm_path_is_a_model_folder():
    path = minilm_path()
    assert (path / "config.json").is_file() and (path / "tokenizer.json").is_file()


def test_encode_frozen_shapes_order_and_padding_invariance():
    texts = ["Operating profit rose to EUR 13.1 mn.", "Sales fell.", "The company has no plans to move production to Russia."]
    emb = encode_frozen(texts, batch_size=2, progress=False)
    assert emb.shape == (3, 384) and emb.dtype == np.float32
    # alone (no padding) == in a padded batch, and rows come back in input order
    alone = encode_frozen([texts[1]], progress=False)
    np.testing.assert_allclose(emb[1], alone[0], atol=1e-4)
    assert not np.allclose(emb[0], emb[1])


def test_encode_frozen_rejects_a_single_string():
    with pytest.raises(TypeError, match="sequence of strings"):
        encode_frozen("one sentence", progress=False)


def test_fine_tune_learns_a_separable_toy_task_and_round_trips(tiny_bert, tmp_path):
    texts, labels = POS * 4 + NEG * 4, np.array([1] * 16 + [0] * 16)
    result = fine_tune(texts, labels, POS + NEG, np.array([1] * 4 + [0] * 4), n_labels=2,
                       model_path=tiny_bert, lr=5e-3, epochs=10, batch_size=8, warmup_ratio=0.0,
                       progress=False)
    hist = result.history
    assert list(hist.columns) == ["epoch", "train_loss", "val_loss", "val_accuracy", "val_macro_f1", "lr", "seconds"]
    assert len(hist) == 10 and result.best_epoch == int(hist["val_macro_f1"].idxmax()) + 1
    assert hist["train_loss"].iloc[-1] < hist["train_loss"].iloc[0]
    assert hist["val_accuracy"].max() == 1.0
    prob = predict_proba(result.model, result.tokenizer, NEG + POS)
    assert prob.shape == (8, 2) and np.allclose(prob.sum(1), 1.0, atol=1e-5)
    assert (prob.argmax(1) == np.array([0] * 4 + [1] * 4)).all()
    assert result.n_parameters == sum(p.numel() for p in result.model.parameters())
    assert result.train_seconds > 0

    result.save(tmp_path / "model")
    loaded = FineTuned.load(tmp_path / "model")
    np.testing.assert_allclose(predict_proba(loaded.model, loaded.tokenizer, NEG + POS), prob, atol=1e-5)
    pd.testing.assert_frame_equal(loaded.history, hist, check_dtype=False)
    assert loaded.best_epoch == result.best_epoch and loaded.info["lr"] == 5e-3


def test_fine_tune_keeps_the_best_epoch_weights(tiny_bert):
    """A huge learning rate wrecks later epochs; the kept model is the best epoch's."""
    texts, labels = POS * 2 + NEG * 2, np.array([1] * 8 + [0] * 8)
    result = fine_tune(texts, labels, POS + NEG, np.array([1] * 4 + [0] * 4), n_labels=2,
                       model_path=tiny_bert, lr=0.5, epochs=3, batch_size=4, warmup_ratio=0.0,
                       progress=False)
    pred = predict_proba(result.model, result.tokenizer, POS + NEG).argmax(1)
    from sklearn.metrics import f1_score

    f1 = f1_score([1] * 4 + [0] * 4, pred, average="macro", labels=[0, 1], zero_division=0)
    assert f1 == pytest.approx(result.history["val_macro_f1"].max())


def test_fine_tune_validates_arguments(tiny_bert):
    kw = {"n_labels": 2, "model_path": tiny_bert, "progress": False}
    with pytest.raises(ValueError, match="train_labels"):
        fine_tune(POS, [0, 1], POS, [0, 1, 0, 1], **kw)
    with pytest.raises(ValueError, match="integers in 0..1"):
        fine_tune(POS, [0, 1, 2, 0], POS, [0, 1, 0, 1], **kw)
    with pytest.raises(ValueError, match="epochs"):
        fine_tune(POS, [0, 1, 0, 1], POS, [0, 1, 0, 1], epochs=0, **kw)
    with pytest.raises(ValueError, match="class_weights"):
        fine_tune(POS, [0, 1, 0, 1], POS, [0, 1, 0, 1], class_weights=[1.0], **kw)


def test_param_groups_layer_decay_and_no_decay_on_bias(tiny_bert):
    from transformers import AutoModelForSequenceClassification

    model = AutoModelForSequenceClassification.from_pretrained(tiny_bert, num_labels=3)
    groups = _param_groups(model, 1e-3, 0.01, 0.5)
    by_param = {id(p): (g["lr"], g["weight_decay"]) for g in groups for p in g["params"]}
    named = dict(model.named_parameters())
    assert by_param[id(named["classifier.weight"])] == (1e-3, 0.01)
    assert by_param[id(named["classifier.bias"])] == (1e-3, 0.0)
    assert by_param[id(named["bert.encoder.layer.1.output.dense.weight"])][0] == pytest.approx(1e-3 * 0.5)
    assert by_param[id(named["bert.encoder.layer.0.output.dense.weight"])][0] == pytest.approx(1e-3 * 0.25)
    assert by_param[id(named["bert.embeddings.word_embeddings.weight"])][0] == pytest.approx(1e-3 * 0.125)
    assert sum(len(g["params"]) for g in groups) == len(named)


def test_balanced_class_weights_change_the_loss(tiny_bert):
    texts, labels = POS * 3 + NEG, np.array([1] * 12 + [0] * 4)
    kw = {"n_labels": 2, "model_path": tiny_bert, "epochs": 1, "batch_size": 16, "progress": False}
    plain = fine_tune(texts, labels, POS + NEG, [1] * 4 + [0] * 4, **kw)
    weighted = fine_tune(texts, labels, POS + NEG, [1] * 4 + [0] * 4, class_weights="balanced", **kw)
    assert weighted.info["class_weights"] == pytest.approx([2.0, 2 / 3])
    assert plain.history["train_loss"].iloc[0] != pytest.approx(weighted.history["train_loss"].iloc[0])


def test_bucket_batches_cover_every_sentence_once_with_little_padding():
    from common.text_classifier import _BucketBatches

    rng = np.random.default_rng(0)
    lengths = rng.integers(5, 80, size=1000).tolist()
    sampler = _BucketBatches(lengths, 16, seed=0)
    first, second = list(sampler), list(sampler)
    assert len(first) == len(sampler) == 63
    for epoch in (first, second):
        flat = sorted(i for batch in epoch for i in batch)
        assert flat == list(range(1000))
        assert all(len(b) <= 16 for b in epoch)
    assert first != second  # a new order every epoch
    padded = sum(len(b) * max(lengths[i] for i in b) for b in first)
    assert padded < 1.1 * sum(lengths)  # random batches of 16 would pad to about 1.5x
    again = list(_BucketBatches(lengths, 16, seed=0))
    assert again == first  # seeded
