"""Notebook 9.01 (financial sentiment): the dictionary rule, the all-agree matching, parameters, offline FinBERT.

The split sizes and the label mapping are tested with the module (tests/test_phrasebank.py); here
the notebook's own rules (cell tagged ``rules``) and its behaviour in quick mode.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

NOTEBOOK = "chapter09/01_financial_sentiment.ipynb"


@pytest.fixture(scope="module")
def rules(tagged_cell):
    return tagged_cell(NOTEBOOK, "rules", {"np": np, "pd": pd})


def test_dictionary_rule_maps_polarity_to_the_three_label_ids(rules):
    lm_label = rules["lm_label"]
    pol = [-1.0, -0.5, -0.2, 0.0, 0.2, 0.5, 1.0]
    assert lm_label(pol, 0.0).tolist() == [0, 0, 0, 1, 2, 2, 2]
    assert lm_label(pol, 0.4).tolist() == [0, 0, 1, 1, 1, 2, 2]
    # 0 = negative, 1 = neutral, 2 = positive, as common.phrasebank.LABELS
    from common.phrasebank import LABELS

    assert [LABELS[i] for i in lm_label([-0.9, 0.0, 0.9], 0.2)] == ["negative", "neutral", "positive"]


def test_all_agree_matching_finds_every_sentence(rules, seeded_cache):
    from common.phrasebank import finbert_split, load_phrasebank

    letters = rules["letters"]
    assert letters(["Sepp+Ã±l+Ã± 's sales rose 8 % ."]).tolist() == ["sepplssalesrose8"]
    fifty, every = load_phrasebank("50"), load_phrasebank("all")
    assert letters(every["sentence"]).isin(set(letters(fifty["sentence"]))).all()
    test = finbert_split(fifty)[2]
    in_all = letters(test["sentence"]).isin(set(letters(every["sentence"])))
    exact = test["sentence"].isin(set(every["sentence"]))
    assert in_all.sum() > exact.sum() > 400  # the key recovers sentences that differ only by encoding


@pytest.mark.parametrize(("name", "value"), [("LM_THRESHOLDS", [1.5]), ("TYPO", ["zzzz", "abc"]),
                                             ("CLASSIFIER_PARAMS", {"learning_rate": 1e-3})])
def test_bad_parameters_are_named(assert_bad_parameter, name, value):
    assert_bad_parameter(NOTEBOOK, name, value)


def test_quick_run_with_unreachable_finbert(run_quick, outputs_text, seeded_cache):
    text = outputs_text(run_quick(NOTEBOOK, FINBERT_MODEL="ProsusAI/finbert"))
    assert "FINBERT_MODEL='ProsusAI/finbert'" in text and "not reachable" in text
    assert "['ad', '##qui', '##res']" in text and "['acquire', '##s']" in text
    assert "Verdict: quick mode" in text
