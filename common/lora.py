"""LoRA and BitFit for chapter 10 notebook 03: a from-scratch LoRA layer and the small CPU runs.

LoRA (Hu et al. 2021, "LoRA: Low-Rank Adaptation of Large Language Models"; Book §10.5) freezes
a pretrained weight ``W0`` (``d_out x d_in``) and learns a low-rank update ``B A`` with
``A`` (``r x d_in``) and ``B`` (``d_out x r``): ``h = W0 x + (alpha / r) B A x``. ``B`` starts at
zero, so the adapted model equals the base model before training; after training ``B A`` can be
added into ``W0`` (merging), which leaves a plain linear layer and no extra latency. BitFit
(Ben Zaken et al. 2022) trains only the bias terms (and the task head).

- :class:`LoRALinear`: the layer written out (``A`` initialized like ``peft``: Kaiming-uniform with
  ``a = sqrt(5)``; ``B = 0``), :meth:`LoRALinear.merge` returns the merged ``nn.Linear``; the tests
  check it against ``peft``'s ``LoraLayer``.
- :func:`lora_parameter_count`: ``r (d_in + d_out)`` per adapted matrix.
- :func:`bitfit`: freeze everything but the biases and the head; returns the trainable count.
- :func:`train_classifier`: the training recipe of :func:`common.text_classifier.fine_tune`
  (AdamW, warm-up then linear decay, length-bucketed batches, best validation macro F1 kept)
  applied to a model whose trainable parameters were chosen beforehand (LoRA, BitFit).
- The small causal language model of the notebook: :func:`fomc_corpora` (the FOMC press
  conference text: the Chair's words of 2011-2017 for pretraining, the question/answer exchanges
  of 2018-2022 for adaptation), :func:`train_bpe_tokenizer`, :func:`tiny_llama_config`,
  :func:`lm_blocks`, :func:`train_lm`, :func:`lm_loss` and :func:`generate`.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "LoRALinear",
    "bitfit",
    "fomc_corpora",
    "generate",
    "lm_blocks",
    "lm_loss",
    "lora_parameter_count",
    "tiny_llama_config",
    "train_bpe_tokenizer",
    "train_classifier",
    "train_lm",
]


class LoRALinear(nn.Module):
    """``h = W0 x + b + (alpha / r) B (A dropout(x))`` with ``W0`` and ``b`` frozen.

    Args:
        base: the pretrained ``nn.Linear`` (its weight and bias are frozen, not copied).
        r: rank of the update (positive integer).
        alpha: scaling numerator; the update is multiplied by ``alpha / r``.
        dropout: dropout on the input of the low-rank path (0 = none).
    """

    def __init__(self, base: nn.Linear, r: int, alpha: float, dropout: float = 0.0):
        super().__init__()
        if not isinstance(base, nn.Linear):
            raise TypeError(f"base must be an nn.Linear, got {type(base).__name__}")
        if isinstance(r, bool) or not isinstance(r, int) or r < 1:
            raise ValueError(f"r must be a positive integer, got {r!r}")
        if not alpha > 0:
            raise ValueError(f"alpha must be positive, got {alpha!r}")
        self.base, self.r, self.scaling = base, r, float(alpha) / r
        for p in self.base.parameters():
            p.requires_grad_(False)
        self.lora_A = nn.Parameter(torch.empty(r, base.in_features))
        self.lora_B = nn.Parameter(torch.zeros(base.out_features, r))
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()

    def delta_weight(self) -> torch.Tensor:
        """``(alpha / r) B A``, the update in the shape of ``W0``."""
        return self.scaling * (self.lora_B @ self.lora_A)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.base(x) + self.scaling * (self.dropout(x) @ self.lora_A.T @ self.lora_B.T)

    @torch.no_grad()
    def merge(self) -> nn.Linear:
        """A new ``nn.Linear`` with weight ``W0 + (alpha / r) B A`` (and the same bias)."""
        merged = nn.Linear(self.base.in_features, self.base.out_features, bias=self.base.bias is not None)
        merged.weight.copy_(self.base.weight + self.delta_weight())
        if self.base.bias is not None:
            merged.bias.copy_(self.base.bias)
        return merged.to(self.base.weight.device, self.base.weight.dtype)


def lora_parameter_count(d_in: int, d_out: int, r: int) -> int:
    """Trainable parameters of a rank-``r`` LoRA update of one ``d_out x d_in`` matrix."""
    for name, value in (("d_in", d_in), ("d_out", d_out), ("r", r)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(r) * (int(d_in) + int(d_out))


def bitfit(model: nn.Module, head: tuple[str, ...] = ("classifier",)) -> int:
    """Freeze every parameter except the biases and those whose name starts with a ``head`` prefix.

    Returns:
        The number of trainable parameters left.
    """
    n = 0
    for name, param in model.named_parameters():
        keep = name.endswith(".bias") or name == "bias" or name.startswith(tuple(head))
        param.requires_grad_(keep)
        n += param.numel() if keep else 0
    if n == 0:
        raise ValueError("bitfit left no trainable parameter: the model has no biases and no head")
    return n


def train_classifier(model, tokenizer, train_texts, train_labels, val_texts, val_labels, *, lr: float,
                     epochs: int, batch_size: int = 32, max_length: int = 64, seed: int = 0,
                     weight_decay: float = 0.01, warmup_ratio: float = 0.1, progress: bool = True) -> dict:
    """Train the parameters of ``model`` that require gradients, with the recipe of ``fine_tune``.

    The same batches, schedule and model selection as :func:`common.text_classifier.fine_tune`
    (AdamW without weight decay on biases and LayerNorm, linear warm-up over ``warmup_ratio`` of
    the steps then linear decay to 0, gradient clipping at norm 1, length-bucketed shuffled
    batches seeded by ``seed``); after every epoch the validation accuracy and macro F1 are
    measured and the trainable weights of the best epoch (macro F1) are restored at the end.

    Returns:
        ``{"history": DataFrame, "train_seconds", "cpu_seconds", "best_epoch", "trainable"}``.
    """
    import pandas as pd
    from sklearn.metrics import accuracy_score, f1_score
    from transformers import get_linear_schedule_with_warmup

    from common.text_classifier import _check_labels, _check_texts, _logits, labelled_batches
    from common.train import fit

    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}")
    if not 0 < lr < 1:
        raise ValueError(f"lr must be in (0, 1), got {lr!r}")
    train_texts, val_texts = _check_texts(train_texts, "train_texts"), _check_texts(val_texts, "val_texts")
    n_labels = int(model.config.num_labels)
    y_train = _check_labels(train_labels, len(train_texts), n_labels, "train_labels")
    y_val = _check_labels(val_labels, len(val_texts), n_labels, "val_labels")
    trainable = {n: p for n, p in model.named_parameters() if p.requires_grad}
    if not trainable:
        raise ValueError("the model has no trainable parameter")

    loader = labelled_batches(tokenizer, train_texts, y_train, batch_size=batch_size, max_length=max_length,
                              seed=seed)
    criterion = nn.CrossEntropyLoss()

    def loss_fn(net, batch):
        labels = batch.pop("labels")
        return criterion(net(**batch).logits.float(), labels)

    no_decay = [p for n, p in trainable.items() if n.endswith("bias") or "LayerNorm" in n]
    decay = [p for n, p in trainable.items() if not (n.endswith("bias") or "LayerNorm" in n)]
    groups = [g for g in ({"params": decay, "weight_decay": weight_decay},
                          {"params": no_decay, "weight_decay": 0.0}) if g["params"]]
    optimizer = torch.optim.AdamW(groups, lr=lr)
    total = epochs * len(loader)
    scheduler = get_linear_schedule_with_warmup(optimizer, int(round(warmup_ratio * total)), total)
    device = next(model.parameters()).device
    rows, best_f1, best_state, best_epoch = [], -1.0, None, 0
    start, cpu_start = time.perf_counter(), time.process_time()
    for epoch in range(1, epochs + 1):
        t0 = time.perf_counter()
        hist = fit(model, loss_fn, loader, optimizer=optimizer, scheduler=scheduler, scheduler_interval="step",
                   epochs=1, device=device, progress=progress, desc=f"epoch {epoch}/{epochs}")
        logits = _logits(model, tokenizer, val_texts, 64, max_length)
        pred = logits.argmax(1)
        f1 = float(f1_score(y_val, pred, average="macro", labels=list(range(n_labels)), zero_division=0))
        rows.append({"epoch": epoch, "train_loss": float(hist["train_loss"].iloc[-1]),
                     "val_accuracy": float(accuracy_score(y_val, pred)), "val_macro_f1": f1,
                     "seconds": time.perf_counter() - t0})
        if f1 > best_f1:
            best_f1, best_epoch = f1, epoch
            best_state = {n: p.detach().clone() for n, p in trainable.items()}
    train_seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    with torch.no_grad():
        for name, param in trainable.items():
            param.copy_(best_state[name])
    model.eval()
    return {"history": pd.DataFrame(rows), "train_seconds": train_seconds, "cpu_seconds": cpu_seconds,
            "best_epoch": best_epoch, "trainable": sum(p.numel() for p in trainable.values())}


# ---------------------------------------------------------------- the small causal language model

#: Press conferences up to this date (Bernanke, Yellen) give the pretraining text; later ones
#: (Powell) give the question/answer text of the adaptation.
PRETRAIN_END = "2017-12-31"


def fomc_corpora(n_heldout: int = 4) -> dict[str, list[str]]:
    """The two texts of the notebook's causal language model, from the 63 FOMC press conferences.

    - ``pretrain`` / ``pretrain_heldout``: the Chair's sentences of each conference up to
      :data:`PRETRAIN_END`, one string per conference (the last ``n_heldout`` conferences held out).
    - ``qa`` / ``qa_heldout``: the exchanges of the later conferences as ``"Q: <question>\\nA:
      <answer>"`` strings (a question = consecutive sentences of other speakers, the answer = the
      Chair's sentences that follow; the Chair's opening statement is dropped); the exchanges of the
      last ``n_heldout`` conferences are held out.
    """
    import pandas as pd

    from common.fomc import _chair_mask, load_press_conference, press_conference_dates

    if isinstance(n_heldout, bool) or not isinstance(n_heldout, int) or n_heldout < 1:
        raise ValueError(f"n_heldout must be a positive integer, got {n_heldout!r}")
    dates = press_conference_dates()
    early = [d for d in dates if d <= pd.Timestamp(PRETRAIN_END)]
    late = [d for d in dates if d > pd.Timestamp(PRETRAIN_END)]
    pretrain = [" ".join(load_press_conference(d)["sentence"]) for d in early]
    qa_by_date = []
    for d in late:
        frame = load_press_conference(d, speaker=None)
        chair = _chair_mask(frame["speaker"]).to_numpy()
        pairs, question, answer = [], [], []
        for is_chair, sentence in zip(chair, frame["sentence"], strict=True):
            if not is_chair:
                if answer and question:
                    pairs.append(f"Q: {' '.join(question)}\nA: {' '.join(answer)}")
                if answer:
                    question, answer = [], []
                question.append(sentence)
            elif question:
                answer.append(sentence)
        if answer and question:
            pairs.append(f"Q: {' '.join(question)}\nA: {' '.join(answer)}")
        qa_by_date.append(pairs)
    return {
        "pretrain": pretrain[:-n_heldout],
        "pretrain_heldout": pretrain[-n_heldout:],
        "qa": [p for pairs in qa_by_date[:-n_heldout] for p in pairs],
        "qa_heldout": [p for pairs in qa_by_date[-n_heldout:] for p in pairs],
    }


def train_bpe_tokenizer(texts: list[str], vocab_size: int = 2048):
    """A byte-level BPE tokenizer (``tokenizers``) trained on ``texts``; ``<eos>`` is id 0."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["<eos>"], show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tokenizer.train_from_iterator(texts, trainer=trainer)
    return tokenizer


def tiny_llama_config(vocab_size: int, *, hidden: int = 128, layers: int = 4, heads: int = 4,
                      block_size: int = 128):
    """A ``LlamaConfig`` of the Llama architecture at toy size (tied embeddings, MLP 3x hidden)."""
    from transformers import LlamaConfig

    return LlamaConfig(vocab_size=vocab_size, hidden_size=hidden, intermediate_size=3 * hidden,
                       num_hidden_layers=layers, num_attention_heads=heads, num_key_value_heads=heads,
                       max_position_embeddings=block_size, tie_word_embeddings=True,
                       bos_token_id=0, eos_token_id=0, pad_token_id=0)


def lm_blocks(tokenizer, texts: list[str], block_size: int) -> torch.Tensor:
    """The texts tokenized, joined with ``<eos>`` and cut into ``(n, block_size)`` blocks."""
    eos = tokenizer.token_to_id("<eos>")
    ids: list[int] = []
    for enc in tokenizer.encode_batch(list(texts)):
        ids += enc.ids + [eos]
    n = len(ids) // block_size
    if n < 1:
        raise ValueError(f"the texts hold {len(ids)} tokens, fewer than one block of {block_size}")
    return torch.tensor(ids[: n * block_size], dtype=torch.long).view(n, block_size)


def train_lm(model, blocks: torch.Tensor, *, steps: int, batch_size: int, lr: float, seed: int = 0,
             warmup: int = 20, progress: bool = True) -> pd.DataFrame:
    """Next-token training of the parameters that require gradients (AdamW, warm-up, cosine decay).

    Returns the :func:`common.train.fit` history (``seconds`` summed there).
    """
    from torch.utils.data import DataLoader

    from common.train import fit

    generator = torch.Generator().manual_seed(seed)
    loader = DataLoader(blocks, batch_size=batch_size, shuffle=True, generator=generator, drop_last=True)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)

    def schedule(step):
        if step < warmup:
            return (step + 1) / warmup
        return 0.5 * (1 + math.cos(math.pi * min(1.0, (step - warmup) / max(1, steps - warmup))))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    epochs = -(-steps // max(1, len(loader)))
    return fit(model, lambda net, batch: net(input_ids=batch, labels=batch).loss, loader, optimizer=optimizer,
               scheduler=scheduler, scheduler_interval="step", epochs=epochs, max_steps=steps,
               progress=progress, desc="train LM")


@torch.no_grad()
def lm_loss(model, blocks: torch.Tensor, batch_size: int = 32) -> float:
    """Mean next-token cross-entropy (nats per token) of ``model`` on ``blocks``."""
    model.eval()
    total, count = 0.0, 0
    for start in range(0, len(blocks), batch_size):
        batch = blocks[start : start + batch_size]
        logits = model(input_ids=batch).logits[:, :-1].float()
        loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), batch[:, 1:].reshape(-1),
                                           reduction="sum")
        total, count = total + float(loss), count + batch[:, 1:].numel()
    return total / count


@torch.no_grad()
def generate(model, tokenizer, prompt: str, *, max_new_tokens: int = 40, temperature: float = 0.8,
             top_k: int = 40, seed: int = 0) -> str:
    """Sample a continuation of ``prompt`` (top-k sampling, seeded); returns the new text only."""
    model.eval()
    torch.manual_seed(seed)
    block = model.config.max_position_embeddings
    ids = torch.tensor([tokenizer.encode(prompt).ids[-block:]])
    eos = tokenizer.token_to_id("<eos>")
    new: list[int] = []
    for _ in range(max_new_tokens):
        logits = model(input_ids=ids[:, -block:]).logits[0, -1].float() / temperature
        top = torch.topk(logits, top_k)
        token = int(top.indices[torch.multinomial(torch.softmax(top.values, -1), 1)])
        if token == eos:
            break
        new.append(token)
        ids = torch.cat([ids, torch.tensor([[token]])], dim=1)
    return tokenizer.decode(new)

