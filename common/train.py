"""The one PyTorch training loop shared by every deep-learning notebook.

A notebook writes its model and a loss function ``loss_fn(model, batch) -> scalar tensor``; this
module does the rest: device placement, mixed precision on CUDA, gradient clipping, early
stopping on a validation loader with the best weights restored, a tqdm progress bar, and a
per-epoch history as a :class:`pandas.DataFrame`.

Because the loss takes the model and the whole batch, one loop serves supervised regression on
``(x, y)`` pairs (wrap a criterion with :func:`supervised`), VAEs (loss = negative ELBO),
normalizing flows (loss = negative log-likelihood), sequence models and transformers alike.

The loop follows standard PyTorch practice: ``model.train()`` / ``model.eval()`` with
``torch.no_grad()`` for validation, ``zero_grad(set_to_none=True)``, automatic mixed precision
with ``torch.autocast`` and, for float16 only, a ``GradScaler`` whose gradients are unscaled
before clipping (PyTorch documentation, "Automatic Mixed Precision examples":
https://pytorch.org/docs/stable/notes/amp_examples.html), and clipping by global norm with
``torch.nn.utils.clip_grad_norm_``.

Importing this module applies the thread policy of :func:`common.config.set_thread_policy`
once (one PyTorch thread per process under pytest-xdist or in quick mode, ``GATAM_THREADS``
to override).

Example:
    >>> import torch
    >>> from torch.utils.data import DataLoader, TensorDataset
    >>> from common.train import fit, supervised
    >>> x = torch.randn(256, 3)
    >>> y = x @ torch.tensor([[1.0], [-2.0], [0.5]])
    >>> loader = DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True)
    >>> model = torch.nn.Linear(3, 1)
    >>> history = fit(model, supervised(torch.nn.MSELoss()), loader, epochs=5, progress=False)
    >>> list(history.columns)
    ['epoch', 'steps', 'train_loss', 'val_loss', 'lr', 'grad_norm', 'seconds']
"""

from __future__ import annotations

import contextlib
import copy
import itertools
import math
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import pandas as pd
import torch
from tqdm.auto import tqdm

from common.config import get_device, set_thread_policy

__all__ = ["HISTORY_COLUMNS", "evaluate", "fit", "supervised", "to_device"]

set_thread_policy()  # one intra-op thread per process under pytest-xdist / quick mode

LossFn = Callable[[torch.nn.Module, Any], torch.Tensor]

HISTORY_COLUMNS = ["epoch", "steps", "train_loss", "val_loss", "lr", "grad_norm", "seconds"]


# --------------------------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------------------------


def to_device(batch: Any, device: torch.device | str) -> Any:
    """Move a batch to ``device``, recursing into tuples, lists, named tuples and mappings.

    Tensors are moved with ``Tensor.to(device, non_blocking=True)`` when the target is CUDA
    (asynchronous copies from pinned memory, as in the PyTorch data-loading docs) and blocking
    otherwise. Anything that is not a tensor or a container (ints, strings, None) is returned
    unchanged, so batches may carry metadata such as tickers or dates.

    Args:
        batch: a tensor, or a (possibly nested) tuple / list / named tuple / mapping of them.
        device: target device, e.g. ``"cpu"``, ``"cuda"`` or a ``torch.device``.

    Returns:
        A batch of the same structure with every tensor on ``device``. Mappings keep their type
        when it can be rebuilt from a plain dict, else they come back as a ``dict``.
    """
    device = torch.device(device)
    non_blocking = device.type == "cuda"

    def move(obj: Any) -> Any:
        if isinstance(obj, torch.Tensor):
            return obj.to(device, non_blocking=non_blocking)
        if isinstance(obj, Mapping):
            moved = {k: move(v) for k, v in obj.items()}
            if type(obj) is dict:
                return moved
            try:
                return type(obj)(moved)
            except TypeError:  # e.g. defaultdict, whose constructor wants a factory first
                return moved
        if isinstance(obj, tuple) and hasattr(obj, "_fields"):  # named tuple
            return type(obj)(*(move(v) for v in obj))
        if isinstance(obj, (tuple, list)):
            return type(obj)(move(v) for v in obj)
        return obj

    return move(batch)


def supervised(criterion: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> LossFn:
    """Turn a criterion ``criterion(prediction, target)`` into a ``loss_fn(model, batch)``.

    The returned callable expects ``(x, y)`` batches (a tuple or list of length 2, as yielded by
    a ``DataLoader`` over a ``TensorDataset(x, y)``) and returns ``criterion(model(x), y)``.

    Args:
        criterion: e.g. ``torch.nn.MSELoss()`` or ``torch.nn.CrossEntropyLoss()``; it should
            reduce to a scalar (``reduction="mean"``, the PyTorch default), so that the loss of
            a batch is a per-sample mean.

    Returns:
        ``loss_fn(model, batch) -> scalar tensor`` for :func:`fit` and :func:`evaluate`.

    Raises:
        TypeError: if ``criterion`` is not callable.
        ValueError: (when called) if a batch is not a pair ``(x, y)``.
    """
    if not callable(criterion):
        raise TypeError(f"criterion must be callable, e.g. torch.nn.MSELoss(); got {criterion!r}")

    def loss_fn(model: torch.nn.Module, batch: Any) -> torch.Tensor:
        if not isinstance(batch, (tuple, list)) or len(batch) != 2:
            kind = type(batch).__name__
            size = f" of length {len(batch)}" if isinstance(batch, (tuple, list)) else ""
            raise ValueError(
                f"supervised(...) expects (x, y) batches; got a {kind}{size}. Write your own "
                "loss_fn(model, batch) for other batch layouts."
            )
        x, y = batch
        return criterion(model(x), y)

    loss_fn.__name__ = f"supervised({getattr(criterion, '__name__', type(criterion).__name__)})"
    return loss_fn


def _batch_size(batch: Any) -> int | None:
    """Leading dimension of the first tensor found in ``batch`` (None if there is none)."""
    if isinstance(batch, torch.Tensor):
        return int(batch.shape[0]) if batch.ndim >= 1 else None
    if isinstance(batch, Mapping):
        items: Iterable[Any] = batch.values()
    elif isinstance(batch, (tuple, list)):
        items = batch
    else:
        return None
    for item in items:
        size = _batch_size(item)
        if size is not None:
            return size
    return None


class _Mean:
    """Mean of per-batch losses, weighted by batch size when every batch's size is known."""

    def __init__(self) -> None:
        self.weighted = 0.0
        self.weight = 0
        self.plain = 0.0
        self.count = 0
        self.all_sized = True

    def add(self, value: float, size: int | None) -> None:
        self.plain += value
        self.count += 1
        if size is None or size <= 0:
            self.all_sized = False
        else:
            self.weighted += value * size
            self.weight += size

    def value(self) -> float:
        if self.count == 0:
            return math.nan
        if self.all_sized:
            return self.weighted / self.weight
        return self.plain / self.count


def _check_loss(loss: Any, where: str) -> torch.Tensor:
    """Validate what ``loss_fn`` returned and return it as a 0-d tensor."""
    if not isinstance(loss, torch.Tensor):
        raise TypeError(
            f"loss_fn must return a scalar torch.Tensor; got {type(loss).__name__} ({where})"
        )
    if loss.numel() != 1:
        raise ValueError(
            f"loss_fn must return a scalar (e.g. a mean over the batch); got a tensor of shape "
            f"{tuple(loss.shape)} ({where})"
        )
    if not loss.is_floating_point():
        raise TypeError(f"loss_fn must return a floating-point tensor; got {loss.dtype} ({where})")
    return loss.reshape(())


def _amp_dtype(device: torch.device) -> torch.dtype:
    """Autocast dtype on CUDA: bfloat16 where the GPU supports it (Ampere and later), else
    float16 (which then needs a GradScaler)."""
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def _autocast_factory(device: torch.device, amp: bool) -> tuple[Callable[[], Any], Any]:
    """Return (context-manager factory, autocast dtype or None) for ``device``."""
    if amp and device.type == "cuda":
        dtype = _amp_dtype(device)
        return (lambda: torch.autocast(device_type="cuda", dtype=dtype)), dtype
    return contextlib.nullcontext, None


def _model_device(model: torch.nn.Module) -> torch.device | None:
    for tensor in itertools.chain(model.parameters(), model.buffers()):
        return tensor.device
    return None


def _cpu_state(model: torch.nn.Module) -> dict[str, Any]:
    """Deep copy of ``model.state_dict()`` with every tensor copied to CPU memory."""
    return {
        k: v.detach().to("cpu", copy=True) if isinstance(v, torch.Tensor) else copy.deepcopy(v)
        for k, v in model.state_dict().items()
    }


def _total_norm(grads: list[torch.Tensor]) -> torch.Tensor:
    """Global L2 norm of ``grads`` (as ``clip_grad_norm_`` computes it), without clipping."""
    get_total_norm = getattr(torch.nn.utils, "get_total_norm", None)
    if get_total_norm is not None:  # torch >= 2.6
        return get_total_norm(grads, norm_type=2.0)
    norms = [torch.linalg.vector_norm(g.detach(), 2.0) for g in grads]  # pragma: no cover
    return torch.linalg.vector_norm(torch.stack([n.to(norms[0].device) for n in norms]), 2.0)


def _check_int(name: str, value: Any, minimum: int, allow_none: bool) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        expected = f"an integer >= {minimum}" + (" or None" if allow_none else "")
        raise ValueError(f"{name} must be {expected}; got {value!r}")


def _evaluate(
    model: torch.nn.Module,
    loss_fn: LossFn,
    loader: Iterable[Any],
    device: torch.device,
    autocast: Callable[[], Any],
    where: str,
) -> float:
    was_training = model.training
    model.eval()
    mean = _Mean()
    try:
        with torch.no_grad():
            for i, batch in enumerate(loader, start=1):
                batch = to_device(batch, device)
                with autocast():
                    loss = _check_loss(loss_fn(model, batch), f"{where}, batch {i}")
                value = float(loss.detach().float())
                if not math.isfinite(value):
                    raise FloatingPointError(
                        f"non-finite validation loss ({value}) at {where}, batch {i}"
                    )
                mean.add(value, _batch_size(batch))
    finally:
        model.train(was_training)
    if mean.count == 0:
        raise ValueError(f"the validation loader yielded no batches ({where})")
    return mean.value()


def evaluate(
    model: torch.nn.Module,
    loss_fn: LossFn,
    loader: Iterable[Any],
    device: torch.device | str | None = None,
    *,
    amp: bool = True,
) -> float:
    """Mean loss of ``model`` over ``loader`` in eval mode, without gradients.

    This is the validation step of :func:`fit`, usable on its own (e.g. on a test loader).

    Args:
        model: the network; its train/eval mode is restored afterwards.
        loss_fn: ``loss_fn(model, batch) -> scalar tensor`` (see :func:`fit`).
        loader: an iterable of batches, typically a ``torch.utils.data.DataLoader``.
        device: where to evaluate; the model is moved there. None: the device the model's
            parameters already live on (or :func:`common.config.get_device` if it has none).
        amp: autocast on CUDA (bfloat16 where supported, else float16); ignored elsewhere.

    Returns:
        The mean of the per-batch losses as a Python float, weighted by batch size (the leading
        dimension of the first tensor in each batch) when it can be inferred for every batch,
        else the plain mean over batches. For a mean-reduced loss this is the loss over the whole
        data set, whatever the size of the last batch.

    Raises:
        ValueError: if the loader yields no batches, or ``loss_fn`` returns a non-scalar.
        TypeError: if ``loss_fn`` does not return a floating-point tensor.
        FloatingPointError: if a batch loss is NaN or infinite.
    """
    if device is None:
        dev = _model_device(model)
        if dev is None:
            dev = get_device()
    else:
        dev = get_device(str(device))
    model.to(dev)
    autocast, _ = _autocast_factory(dev, amp)
    return _evaluate(model, loss_fn, loader, dev, autocast, "evaluate")


def _make_optimizer(model: torch.nn.Module, optimizer: Any, lr: float) -> torch.optim.Optimizer:
    params = [p for p in model.parameters() if p.requires_grad]
    if optimizer is None:
        if not params:
            raise ValueError("the model has no trainable parameters (requires_grad=True)")
        return torch.optim.Adam(params, lr=lr)
    if isinstance(optimizer, torch.optim.Optimizer):
        opt = optimizer
    elif callable(optimizer):
        if not params:
            raise ValueError("the model has no trainable parameters (requires_grad=True)")
        opt = optimizer(params)
        if not isinstance(opt, torch.optim.Optimizer):
            raise TypeError(
                f"optimizer callable must return a torch.optim.Optimizer; got {type(opt).__name__}"
            )
    else:
        raise TypeError(
            "optimizer must be None, a torch.optim.Optimizer, or a callable params -> optimizer; "
            f"got {type(optimizer).__name__}"
        )
    model_ids = {id(p) for p in model.parameters()}
    if not any(id(p) in model_ids for g in opt.param_groups for p in g["params"]):
        raise ValueError(
            "the optimizer holds none of the model's parameters (was it built for another model "
            "instance?); pass a callable such as lambda p: torch.optim.AdamW(p, lr=1e-3) instead"
        )
    return opt


_PLATEAU = torch.optim.lr_scheduler.ReduceLROnPlateau


def _make_scheduler(scheduler: Any, opt: torch.optim.Optimizer, interval: str) -> Any:
    if interval not in ("epoch", "step"):
        raise ValueError(f"scheduler_interval must be 'epoch' or 'step'; got {interval!r}")
    if scheduler is None:
        return None
    if isinstance(scheduler, (torch.optim.lr_scheduler.LRScheduler, _PLATEAU)):
        sched = scheduler
    elif callable(scheduler):
        sched = scheduler(opt)
    else:
        raise TypeError(
            "scheduler must be None, an LR scheduler, or a callable optimizer -> scheduler; got "
            f"{type(scheduler).__name__}"
        )
    if not hasattr(sched, "step"):
        raise TypeError(f"scheduler has no step() method: {sched!r}")
    if getattr(sched, "optimizer", opt) is not opt:
        raise ValueError(
            "the scheduler is attached to a different optimizer than the one fit() trains with; "
            "pass a callable such as lambda opt: torch.optim.lr_scheduler.StepLR(opt, 10)"
        )
    if isinstance(sched, _PLATEAU) and interval != "epoch":
        raise ValueError("ReduceLROnPlateau needs scheduler_interval='epoch'")
    return sched


# --------------------------------------------------------------------------------------------
# the loop
# --------------------------------------------------------------------------------------------


def fit(
    model: torch.nn.Module,
    loss_fn: LossFn,
    train_loader: Iterable[Any],
    val_loader: Iterable[Any] | None = None,
    *,
    optimizer: Any = None,
    lr: float = 1e-3,
    epochs: int | None = 10,
    max_steps: int | None = None,
    device: torch.device | str | None = None,
    amp: bool = True,
    grad_clip: float | None = 1.0,
    patience: int | None = None,
    min_delta: float = 0.0,
    restore_best: bool = True,
    scheduler: Any = None,
    scheduler_interval: str = "epoch",
    progress: bool = True,
    log_every: int = 1,
    desc: str = "train",
) -> pd.DataFrame:
    """Train ``model`` in place by minimizing ``loss_fn`` over ``train_loader``.

    Each epoch: ``model.train()``; for every batch, move it to the device (:func:`to_device`),
    compute ``loss_fn(model, batch)`` (under autocast on CUDA), back-propagate, clip the global
    gradient norm, and take an optimizer step; then, if ``val_loader`` is given, compute the
    validation loss with :func:`evaluate` (``model.eval()`` and ``torch.no_grad()``), track the
    best epoch, and stop early once it has not improved for ``patience`` epochs. The loop
    follows standard PyTorch practice (PyTorch docs, "Automatic Mixed Precision examples" and
    ``torch.nn.utils.clip_grad_norm_``).

    Args:
        model: a ``torch.nn.Module``; moved to ``device`` and trained in place.
        loss_fn: ``loss_fn(model, batch) -> scalar tensor`` to minimize, e.g. the MSE of a
            forecaster (:func:`supervised`), a VAE's negative ELBO, a flow's negative
            log-likelihood. Use a per-sample mean (not a sum) so that losses compare across
            batch sizes; the batch arrives already on ``device``.
        train_loader: an iterable of batches (tensors, tuples/lists, or dicts of tensors),
            typically a ``DataLoader``; re-iterated every epoch (use ``shuffle=True`` there).
        val_loader: optional batches for validation, early stopping and best-weight restoring.
        optimizer: None (``torch.optim.Adam`` over the trainable parameters with ``lr``), a
            ``torch.optim.Optimizer`` instance (``lr`` is then ignored), or a callable
            ``params -> optimizer`` such as ``lambda p: torch.optim.AdamW(p, lr=1e-3)``.
        lr: learning rate of the default Adam optimizer.
        epochs: maximum number of passes over ``train_loader`` (None: no limit, then
            ``max_steps`` must be set).
        max_steps: maximum number of optimizer steps (batches) in total; training stops as
            soon as ``epochs`` or ``max_steps`` is reached, whichever comes first. A partial last
            epoch is validated and recorded like a full one.
        device: None picks :func:`common.config.get_device` (CUDA, then MPS, then CPU, or
            ``$GATAM_DEVICE``); or a device string / ``torch.device``.
        amp: use automatic mixed precision on CUDA: ``torch.autocast`` with bfloat16 where the
            GPU supports it, else float16 with a ``torch.amp.GradScaler``. On CPU and MPS it is
            silently off (full float32), so the same notebook runs everywhere.
        grad_clip: maximum global L2 norm of the gradients (``clip_grad_norm_``); None or 0
            disables clipping (the norm is still recorded).
        patience: stop after this many consecutive epochs without a validation-loss improvement
            of more than ``min_delta``; None: no early stopping. Needs ``val_loader``.
        min_delta: minimum decrease of the validation loss that counts as an improvement
            (same units as the loss, >= 0).
        restore_best: at the end, load the weights of the best epoch (the last one whose
            validation loss improved on the best so far by more than ``min_delta``; kept as a
            CPU copy of the ``state_dict``). No effect without ``val_loader``.
        scheduler: None, an LR scheduler built on ``optimizer``, or a callable
            ``optimizer -> scheduler`` (needed with the default optimizer), e.g.
            ``lambda opt: torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=50)``.
            ``ReduceLROnPlateau`` is stepped with the validation loss (the training loss
            without ``val_loader``).
        scheduler_interval: ``"epoch"`` (step the scheduler after each epoch) or ``"step"``
            (after each optimizer step, e.g. for ``OneCycleLR``).
        progress: show a ``tqdm.auto`` progress bar over epochs with the latest losses.
        log_every: refresh the progress bar's loss display every this many epochs.
        desc: label of the progress bar.

    Returns:
        The training history, one row per epoch, with columns ``epoch`` (1-based), ``steps``
        (optimizer steps so far), ``train_loss`` (mean batch loss over the epoch, weighted by
        batch size where it can be inferred, measured while the weights were changing),
        ``val_loss`` (from :func:`evaluate` after the epoch; NaN without ``val_loader``),
        ``lr`` (learning rate of the first parameter group at the start of the epoch),
        ``grad_norm`` (mean global gradient L2 norm before clipping, over the epoch's steps
        with a finite norm) and ``seconds`` (wall time of the epoch, validation included).
        ``history.attrs`` holds ``best_epoch`` (None without ``val_loader``),
        ``best_val_loss`` (NaN without), ``stopped_early`` (bool), ``steps`` (int),
        ``device`` (str) and ``amp_dtype`` (``"bfloat16"``, ``"float16"`` or None).
        On return the model is on ``device``, in eval mode, holding the best weights when
        ``restore_best`` and ``val_loader`` are given, else the last ones.

    Raises:
        ValueError: for invalid settings (``epochs``/``max_steps`` both None or not positive
            integers, negative ``grad_clip`` or ``min_delta``, ``patience`` without
            ``val_loader``), an empty loader, an optimizer that holds none of the model's
            parameters, a loss that is not a scalar or does not depend on any parameter.
        TypeError: for a wrong ``optimizer`` / ``scheduler`` / loss type.
        FloatingPointError: when a training loss or (without a GradScaler) the gradient norm is
            NaN or infinite, naming the epoch and step; the failing step is not applied. A
            non-finite validation loss raises too.
        RuntimeError: if the requested device is not available (from ``get_device``).
    """
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module; got {type(model).__name__}")
    if not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable as loss_fn(model, batch); got {loss_fn!r}")
    _check_int("epochs", epochs, 1, allow_none=True)
    _check_int("max_steps", max_steps, 1, allow_none=True)
    if epochs is None and max_steps is None:
        raise ValueError("set epochs, max_steps, or both; with neither, training would not end")
    _check_int("log_every", log_every, 1, allow_none=False)
    _check_int("patience", patience, 1, allow_none=True)
    if patience is not None and val_loader is None:
        raise ValueError("patience (early stopping) needs a val_loader to monitor")
    if grad_clip is not None and not (grad_clip >= 0 and math.isfinite(grad_clip)):
        raise ValueError(f"grad_clip must be a finite number >= 0 or None; got {grad_clip!r}")
    if not (min_delta >= 0 and math.isfinite(min_delta)):
        raise ValueError(f"min_delta must be a finite number >= 0; got {min_delta!r}")
    if optimizer is None and not (lr > 0 and math.isfinite(lr)):
        raise ValueError(f"lr must be a positive finite number; got {lr!r}")

    dev = get_device(None if device is None else str(device))
    model.to(dev)
    opt = _make_optimizer(model, optimizer, lr)
    sched = _make_scheduler(scheduler, opt, scheduler_interval)
    autocast, amp_dtype = _autocast_factory(dev, amp)
    scaler = None
    if amp_dtype == torch.float16:
        scaler = torch.amp.GradScaler("cuda")
    clip = float(grad_clip) if grad_clip else None

    total = epochs
    if max_steps is not None:
        try:
            per_epoch = len(train_loader)  # type: ignore[arg-type]
        except TypeError:
            per_epoch = 0
        if per_epoch > 0:
            by_steps = math.ceil(max_steps / per_epoch)
            total = by_steps if epochs is None else min(epochs, by_steps)

    rows: list[dict[str, Any]] = []
    step = 0
    best_val, best_epoch, best_state = math.inf, None, None
    bad_epochs = 0
    stopped_early = False
    bar = tqdm(total=total, desc=desc, unit="epoch", disable=not progress)
    try:
        for epoch in itertools.count(1):
            if epochs is not None and epoch > epochs:
                break
            t0 = time.perf_counter()
            model.train()
            lr_now = float(opt.param_groups[0]["lr"])
            train_mean = _Mean()
            norm_sum, norm_count = 0.0, 0
            for i, batch in enumerate(train_loader, start=1):
                step += 1
                where = f"epoch {epoch}, step {step} (batch {i} of the epoch)"
                batch = to_device(batch, dev)
                opt.zero_grad(set_to_none=True)
                with autocast():
                    loss = _check_loss(loss_fn(model, batch), where)
                if not loss.requires_grad:
                    raise ValueError(
                        f"the loss does not depend on any trainable parameter ({where}); does "
                        "loss_fn call the model, and is it free of .detach() / torch.no_grad()?"
                    )
                if scaler is not None:
                    scaler.scale(loss).backward()
                    scaler.unscale_(opt)
                else:
                    loss.backward()
                with_grad = [p for g in opt.param_groups for p in g["params"] if p.grad is not None]
                if not with_grad:
                    norm = torch.zeros((), device=loss.device)
                elif clip is not None:
                    norm = torch.nn.utils.clip_grad_norm_(with_grad, clip)
                else:
                    norm = _total_norm([p.grad for p in with_grad])
                # one host-device synchronisation per step for both checks
                loss_value, norm_value = torch.stack(
                    [loss.detach().float(), norm.detach().float().to(loss.device)]
                ).tolist()
                if not math.isfinite(loss_value):
                    raise FloatingPointError(
                        f"non-finite training loss ({loss_value}) at {where}; lower the learning "
                        "rate, check the data for NaN/inf, or clip gradients"
                    )
                if not math.isfinite(norm_value) and scaler is None:
                    raise FloatingPointError(
                        f"non-finite gradient norm ({norm_value}) at {where} with a finite loss "
                        f"({loss_value}); check loss_fn for operations with unbounded gradients "
                        "(sqrt or log at 0, division by ~0)"
                    )
                if scaler is not None:
                    scaler.step(opt)  # skipped by the scaler if the fp16 gradients overflowed
                    scaler.update()
                else:
                    opt.step()
                if math.isfinite(norm_value):
                    norm_sum += norm_value
                    norm_count += 1
                train_mean.add(loss_value, _batch_size(batch))
                if sched is not None and scheduler_interval == "step":
                    sched.step()
                if max_steps is not None and step >= max_steps:
                    break
            if train_mean.count == 0:
                raise ValueError(f"train_loader yielded no batches (epoch {epoch})")
            train_loss = train_mean.value()

            val_loss = math.nan
            if val_loader is not None:
                val_loss = _evaluate(
                    model, loss_fn, val_loader, dev, autocast, f"validation after epoch {epoch}"
                )
                if val_loss < best_val - min_delta:
                    best_val, best_epoch, bad_epochs = val_loss, epoch, 0
                    if restore_best:
                        best_state = _cpu_state(model)
                else:
                    bad_epochs += 1

            if sched is not None and scheduler_interval == "epoch":
                if isinstance(sched, _PLATEAU):
                    sched.step(val_loss if val_loader is not None else train_loss)
                else:
                    sched.step()

            rows.append(
                {
                    "epoch": epoch,
                    "steps": step,
                    "train_loss": train_loss,
                    "val_loss": val_loss,
                    "lr": lr_now,
                    "grad_norm": norm_sum / norm_count if norm_count else math.nan,
                    "seconds": time.perf_counter() - t0,
                }
            )
            reached_steps = max_steps is not None and step >= max_steps
            if patience is not None and bad_epochs >= patience:
                stopped_early = True
            last = stopped_early or reached_steps or (epochs is not None and epoch >= epochs)
            if progress and (epoch % log_every == 0 or last):
                postfix = {"train": f"{train_loss:.4g}"}
                if val_loader is not None:
                    postfix["val"] = f"{val_loss:.4g}"
                    postfix["best"] = f"{best_val:.4g}@{best_epoch}"
                bar.set_postfix(postfix, refresh=False)
            bar.update(1)
            if stopped_early or reached_steps:
                break
    finally:
        bar.close()

    if restore_best and best_state is not None:
        model.load_state_dict(best_state)
    model.eval()

    history = pd.DataFrame(rows, columns=HISTORY_COLUMNS)
    history.attrs.update(
        best_epoch=best_epoch,
        best_val_loss=best_val if best_epoch is not None else math.nan,
        stopped_early=stopped_early,
        steps=step,
        device=str(dev),
        amp_dtype=None if amp_dtype is None else str(amp_dtype).removeprefix("torch."),
    )
    return history
