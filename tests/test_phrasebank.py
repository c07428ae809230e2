"""Tests of common.phrasebank: the files, the label mapping, FinBERT's split, the cached classifier."""

from __future__ import annotations

import numpy as np
import pytest

from common import phrasebank
from common.phrasebank import (
    LABELS,
    classifier_params,
    encode_labels,
    finbert_split,
    load_phrasebank,
)


@pytest.fixture(scope="module")
def fifty(seeded_cache):
    return load_phrasebank("50")


def test_labels_and_their_ids():
    assert LABELS == ("negative", "neutral", "positive")
    assert encode_labels(["positive", "negative", "neutral"]).tolist() == [2, 0, 1]
    with pytest.raises(ValueError, match="unknown label 'bullish'"):
        encode_labels(["bullish"])


def test_the_fifty_percent_file(fifty):
    assert list(fifty.columns) == ["sentence", "label"] and len(fifty) == 4846
    assert fifty["label"].value_counts().to_dict() == {"neutral": 2879, "positive": 1363, "negative": 604}
    assert fifty["sentence"].str.contains("@").sum() == 0
    # Latin-1 decoding: accented Finnish names survive
    assert fifty["sentence"].str.contains("ä").any()


def test_stricter_files_are_subsets(seeded_cache, fifty):
    sizes = {a: len(load_phrasebank(a)) for a in ("66", "75", "all")}
    assert sizes == {"66": 4217, "75": 3453, "all": 2264}
    # the files spell some Finnish names differently (mojibake in the AllAgree file), so the
    # subset relation holds on letters and digits only, not on the raw text
    key = lambda s: s.str.lower().str.replace(r"[^a-z0-9]", "", regex=True)  # noqa: E731
    every = load_phrasebank("all")
    assert not set(every["sentence"]) <= set(fifty["sentence"])
    assert set(key(every["sentence"])) <= set(key(fifty["sentence"]))


def test_finbert_split_sizes_disjoint_and_reproducible(fifty):
    train, val, test = finbert_split(fifty)
    assert (len(train), len(val), len(test)) == (3488, 388, 970)
    assert not set(train.index) & set(val.index) and not set(val.index) & set(test.index)
    assert len(set(train.index) | set(val.index) | set(test.index)) == 4846
    again = finbert_split(fifty)
    assert all((a.index == b.index).all() for a, b in zip((train, val, test), again, strict=True))


def test_malformed_line_and_bad_agreement(tmp_cache):
    key = phrasebank.data_key("50")
    target = tmp_cache / key
    target.parent.mkdir(parents=True)
    target.write_text("Profit rose .@positive\nno label here\n", encoding="latin-1")
    from common import data

    sha = data.sha256_of(target)
    patched = {**data.REGISTRY, key: {**data.REGISTRY[key], "sha256": sha}}
    mp = pytest.MonkeyPatch()
    mp.setattr(data, "REGISTRY", patched)
    try:
        with pytest.raises(ValueError, match="line 2"):
            load_phrasebank("50")
    finally:
        mp.undo()
    with pytest.raises(ValueError, match="agreement"):
        load_phrasebank("90")


def test_classifier_params_by_mode(monkeypatch):
    monkeypatch.setenv("GATAM_QUICK", "0")
    assert classifier_params() == phrasebank.DEFAULT_CLASSIFIER_PARAMS
    assert classifier_params({"epochs": 5})["epochs"] == 5
    monkeypatch.setenv("GATAM_QUICK", "1")
    quick = classifier_params()
    assert quick["max_train"] is not None and quick != phrasebank.DEFAULT_CLASSIFIER_PARAMS
    with pytest.raises(ValueError, match="unknown classifier parameter"):
        classifier_params({"learning_rate": 1e-3})


def test_phrasebank_classifier_trains_once_then_loads(phrasebank_cache, capsys):
    """Quick settings on a tiny subset: trained into an empty model cache, then loaded."""
    params = {"max_train": 16, "max_val": 8, "max_length": 24, "batch_size": 8}
    first = phrasebank.phrasebank_classifier(params)
    assert "trained" in capsys.readouterr().out
    second = phrasebank.phrasebank_classifier(params)
    assert "loaded" in capsys.readouterr().out
    assert first.model.config.id2label == dict(enumerate(LABELS))
    assert first.info["n_train"] == 16 and second.best_epoch == first.best_epoch
    from common.text_classifier import predict_proba

    prob = predict_proba(second.model, second.tokenizer, ["Operating profit rose."])
    assert prob.shape == (1, 3) and np.isclose(prob.sum(), 1.0)
