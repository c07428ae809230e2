"""Tests of common.train: the shared PyTorch training loop (CPU; the CUDA test needs a GPU)."""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np
import pandas as pd
import pytest
import torch
from torch.utils.data import DataLoader, Dataset, TensorDataset

from common.config import seed_everything
from common.train import HISTORY_COLUMNS, evaluate, fit, supervised, to_device

MSE = supervised(torch.nn.MSELoss())


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _regression(n=512, noise=0.01, seed=0):
    """y = X w + b + noise with known w, b (float32 tensors, y of shape (n, 1))."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 3))
    w, b = np.array([1.5, -2.0, 0.5]), 0.3
    y = x @ w + b + noise * rng.standard_normal(n)
    return torch.tensor(x, dtype=torch.float32), torch.tensor(y[:, None], dtype=torch.float32)


def _params(model):
    return torch.cat([p.detach().reshape(-1).clone() for p in model.parameters()])


# ------------------------------------------------------------------------------------------
# correctness of the fit
# ------------------------------------------------------------------------------------------


def test_linear_regression_matches_least_squares():
    x, y = _regression()
    loader = DataLoader(TensorDataset(x, y), batch_size=512)  # full batch: plain gradient descent
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    history = fit(
        model,
        MSE,
        loader,
        optimizer=lambda p: torch.optim.SGD(p, lr=0.5),
        epochs=40,
        grad_clip=None,
        device="cpu",
        progress=False,
    )
    xd, yd = x.double().numpy(), y.double().numpy()[:, 0]
    design = np.column_stack([xd, np.ones(len(xd))])
    coef, *_ = np.linalg.lstsq(design, yd, rcond=None)
    fitted = np.r_[model.weight.detach().double().numpy()[0], model.bias.item()]
    np.testing.assert_allclose(fitted, coef, atol=1e-4)
    # the last epoch's train loss is the loss of the (converged) weights: the OLS residual MSE
    resid_mse = np.mean((yd - design @ coef) ** 2)
    assert history["train_loss"].iloc[-1] == pytest.approx(resid_mse, rel=1e-3)
    assert list(history.columns) == HISTORY_COLUMNS
    assert len(history) == 40 and history["steps"].iloc[-1] == 40
    assert history["train_loss"].iloc[0] > 100 * history["train_loss"].iloc[-1]
    assert history["val_loss"].isna().all()
    assert history.attrs["best_epoch"] is None and math.isnan(history.attrs["best_val_loss"])
    assert history.attrs["device"] == "cpu" and history.attrs["amp_dtype"] is None
    assert not model.training  # returned in eval mode


def test_default_adam_minibatches_converges():
    x, y = _regression()
    torch.manual_seed(0)
    loader = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True)
    model = torch.nn.Linear(3, 1)
    history = fit(model, MSE, loader, lr=0.05, epochs=40, device="cpu", progress=False)
    assert history["lr"].eq(0.05).all()
    np.testing.assert_allclose(model.weight.detach().numpy()[0], [1.5, -2.0, 0.5], atol=0.02)
    assert model.bias.item() == pytest.approx(0.3, abs=0.02)


def test_evaluate_weights_batches_by_size():
    # 10 samples in batches of 4, 4, 2: a plain mean over batches would be wrong
    x = torch.arange(10, dtype=torch.float32)[:, None]
    y = torch.zeros(10, 1)
    model = torch.nn.Linear(1, 1)
    with torch.no_grad():
        model.weight.fill_(1.0)
        model.bias.fill_(0.0)
    loader = DataLoader(TensorDataset(x, y), batch_size=4)
    expected = float((x**2).mean())  # 28.5
    plain = np.mean([float((xb**2).mean()) for xb, _ in loader])
    assert expected != pytest.approx(plain)
    model.train()
    assert evaluate(model, MSE, loader) == pytest.approx(expected, rel=1e-12)
    assert model.training  # mode restored


def _drift_data():
    """Train on y = 2x, validate on y = x: starting from w = 0 the validation loss falls until
    w passes 1, then rises, so early stopping has a clear best epoch in the middle."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(256, 1, generator=g)
    xv = torch.randn(128, 1, generator=g)
    train = DataLoader(TensorDataset(x, 2 * x), batch_size=64)
    val = DataLoader(TensorDataset(xv, xv), batch_size=50)  # uneven last batch on purpose
    model = torch.nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        model.weight.zero_()
    return model, train, val


def test_early_stopping_restores_best_weights():
    model, train, val = _drift_data()
    patience = 3
    history = fit(
        model,
        MSE,
        train,
        val,
        optimizer=lambda p: torch.optim.SGD(p, lr=0.02),
        epochs=100,
        patience=patience,
        device="cpu",
        progress=False,
    )
    attrs = history.attrs
    assert attrs["stopped_early"] is True
    best = attrs["best_epoch"]
    assert 1 < best < len(history) < 100
    assert len(history) == best + patience
    assert attrs["best_val_loss"] == history["val_loss"].min()
    assert history.loc[history["epoch"] == best, "val_loss"].item() == attrs["best_val_loss"]
    assert history["val_loss"].iloc[-1] > attrs["best_val_loss"]
    # the returned model is the best epoch's, not the last one's
    assert evaluate(model, MSE, val) == attrs["best_val_loss"]
    assert 0.5 < model.weight.item() < 1.5


def test_without_restore_best_keeps_last_weights():
    model, train, val = _drift_data()
    history = fit(
        model,
        MSE,
        train,
        val,
        optimizer=lambda p: torch.optim.SGD(p, lr=0.02),
        epochs=100,
        patience=3,
        restore_best=False,
        device="cpu",
        progress=False,
    )
    assert evaluate(model, MSE, val) == history["val_loss"].iloc[-1]
    assert history["val_loss"].iloc[-1] > history.attrs["best_val_loss"]


def test_min_delta_stops_sooner():
    results = {}
    for min_delta in (0.0, 0.05):
        model, train, val = _drift_data()
        history = fit(
            model,
            MSE,
            train,
            val,
            optimizer=lambda p: torch.optim.SGD(p, lr=0.02),
            epochs=100,
            patience=2,
            min_delta=min_delta,
            device="cpu",
            progress=False,
        )
        results[min_delta] = len(history)
    assert results[0.05] < results[0.0]


def test_max_steps_ends_mid_epoch():
    x, y = _regression(n=64)
    loader = DataLoader(TensorDataset(x, y), batch_size=16)  # 4 batches per epoch
    history = fit(
        torch.nn.Linear(3, 1), MSE, loader, loader, epochs=None, max_steps=6, progress=False
    )
    assert history["steps"].tolist() == [4, 6]
    assert history.attrs["steps"] == 6
    assert history["val_loss"].notna().all()
    history = fit(torch.nn.Linear(3, 1), MSE, loader, epochs=1, max_steps=100, progress=False)
    assert history["steps"].tolist() == [4]


def test_scheduler_per_epoch_and_per_step():
    x, y = _regression(n=64)
    loader = DataLoader(TensorDataset(x, y), batch_size=16)
    history = fit(
        torch.nn.Linear(3, 1),
        MSE,
        loader,
        lr=0.1,
        epochs=3,
        scheduler=lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5),
        progress=False,
    )
    np.testing.assert_allclose(history["lr"], [0.1, 0.05, 0.025])
    history = fit(
        torch.nn.Linear(3, 1),
        MSE,
        loader,
        lr=0.1,
        epochs=2,
        scheduler=lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5),
        scheduler_interval="step",
        progress=False,
    )
    np.testing.assert_allclose(history["lr"], [0.1, 0.1 * 0.5**4])


def test_optimizer_instance_and_plateau_scheduler():
    model, train, val = _drift_data()
    opt = torch.optim.SGD(model.parameters(), lr=0.02)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=0)
    history = fit(
        model, MSE, train, val, optimizer=opt, lr=123.0, scheduler=sched, epochs=40, progress=False
    )
    lrs = history["lr"].to_numpy()
    assert lrs[0] == 0.02  # lr= is ignored when an optimizer instance is given
    best = history.attrs["best_epoch"]
    assert 1 < best < 40
    # lr is the one at the start of each epoch: unchanged while the validation loss falls,
    # halved by the plateau scheduler once it stops falling, never raised
    falling = int(np.argmax(np.diff(history["val_loss"].to_numpy()) >= -1e-4))  # 0-based epoch
    assert falling >= 5 and np.all(lrs[: falling + 1] == 0.02)
    assert lrs[best + 1] < 0.02 and lrs[-1] < 1e-3
    assert np.all(np.diff(lrs) <= 0)


# ------------------------------------------------------------------------------------------
# gradient clipping and non-finite values
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("grad_clip", [1e-3, None])
def test_gradient_clipping_bounds_each_step(grad_clip):
    x, y = _regression(n=64)
    y = 100 * y  # large gradients
    loader = DataLoader(TensorDataset(x, y), batch_size=64)
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    before = _params(model)
    lr = 1.0
    history = fit(
        model,
        MSE,
        loader,
        optimizer=lambda p: torch.optim.SGD(p, lr=lr),
        max_steps=1,
        grad_clip=grad_clip,
        progress=False,
    )
    step_norm = torch.linalg.vector_norm(_params(model) - before).item()
    assert history["grad_norm"].iloc[0] > 10  # the recorded norm is the one before clipping
    if grad_clip is None:
        assert step_norm == pytest.approx(lr * history["grad_norm"].iloc[0], rel=1e-4)
    else:
        assert step_norm <= lr * grad_clip * (1 + 1e-4)
        assert step_norm == pytest.approx(lr * grad_clip, rel=1e-3)


def test_nan_loss_raises_and_does_not_step():
    x, y = _regression(n=64)
    loader = DataLoader(TensorDataset(x, y), batch_size=16)
    model = torch.nn.Linear(3, 1)
    before = _params(model)

    def nan_loss(m, batch):
        return MSE(m, batch) * float("nan")

    with pytest.raises(FloatingPointError, match=r"non-finite training loss.*epoch 1, step 1"):
        fit(model, nan_loss, loader, epochs=2, progress=False)
    assert torch.equal(_params(model), before)


def test_nan_loss_later_names_epoch_and_step():
    x, y = _regression(n=64)
    loader = DataLoader(TensorDataset(x, y), batch_size=16)  # 4 steps per epoch
    calls = {"n": 0}

    def loss_fn(m, batch):
        calls["n"] += 1
        loss = MSE(m, batch)
        return loss * float("inf") if calls["n"] == 6 else loss

    with pytest.raises(FloatingPointError, match=r"epoch 2, step 6 \(batch 2 of the epoch\)"):
        fit(torch.nn.Linear(3, 1), loss_fn, loader, epochs=3, progress=False)


def test_nan_gradient_with_finite_loss_raises():
    x, y = _regression(n=32)
    loader = DataLoader(TensorDataset(x, y), batch_size=32)

    def loss_fn(m, batch):
        xb, yb = batch
        return torch.sqrt(0.0 * m(xb)).sum() + ((m(xb) - yb) ** 2).mean()  # d sqrt / dx at 0

    with pytest.raises(FloatingPointError, match="non-finite gradient norm"):
        fit(torch.nn.Linear(3, 1), loss_fn, loader, epochs=1, grad_clip=None, progress=False)


def test_nan_validation_loss_raises():
    x, y = _regression(n=32)
    train = DataLoader(TensorDataset(x, y), batch_size=16)
    val = DataLoader(TensorDataset(x, torch.full_like(y, float("nan"))), batch_size=16)
    with pytest.raises(FloatingPointError, match="validation after epoch 1"):
        fit(torch.nn.Linear(3, 1), MSE, train, val, epochs=2, progress=False)


# ------------------------------------------------------------------------------------------
# batch layouts, custom losses, determinism
# ------------------------------------------------------------------------------------------


class _DictData(Dataset):
    def __init__(self, x, y):
        self.x, self.y = x, y

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return {"features": self.x[i], "target": self.y[i], "ticker": "SPY"}


def test_dict_batches_and_custom_loss():
    x, y = _regression(n=256)
    train = DataLoader(_DictData(x[:192], y[:192]), batch_size=32, shuffle=True)
    val = DataLoader(_DictData(x[192:], y[192:]), batch_size=32)
    seen = []

    def huber(model, batch):
        assert isinstance(batch, dict) and batch["ticker"] == ["SPY"] * len(batch["target"])
        seen.append(batch["features"].device.type)
        return torch.nn.functional.huber_loss(model(batch["features"]), batch["target"])

    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    history = fit(model, huber, train, val, lr=0.05, epochs=30, device="cpu", progress=False)
    assert set(seen) == {"cpu"}
    assert history["val_loss"].iloc[-1] < 0.01 * history["val_loss"].iloc[0]
    assert history.attrs["best_val_loss"] == pytest.approx(evaluate(model, huber, val))


def test_to_device_recurses_and_keeps_structure():
    Pair = namedtuple("Pair", ["x", "y"])
    t = torch.ones(2, 3)
    batch = {"a": (t, [t, "meta"]), "b": Pair(t, 5), "c": None}
    moved = to_device(batch, "cpu")
    assert isinstance(moved, dict) and isinstance(moved["a"], tuple)
    assert isinstance(moved["a"][1], list) and moved["a"][1][1] == "meta"
    assert isinstance(moved["b"], Pair) and moved["b"].y == 5 and moved["c"] is None
    assert torch.equal(moved["b"].x, t)
    meta = torch.device("meta")  # a real device change without a GPU
    moved = to_device(batch, meta)
    assert moved["a"][0].device == meta and moved["b"].x.device == meta


def test_supervised_rejects_non_pairs():
    with pytest.raises(TypeError, match="callable"):
        supervised("mse")
    with pytest.raises(ValueError, match=r"\(x, y\) batches"):
        MSE(torch.nn.Linear(3, 1), (torch.ones(2, 3),))


def _seeded_run():
    seed_everything(0)
    x, y = _regression(n=128)
    train = DataLoader(TensorDataset(x[:96], y[:96]), batch_size=16, shuffle=True)
    val = DataLoader(TensorDataset(x[96:], y[96:]), batch_size=16)
    model = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    history = fit(model, MSE, train, val, epochs=4, progress=True, desc="det")
    return history.drop(columns="seconds"), _params(model)


def test_same_seed_gives_identical_history():
    h1, p1 = _seeded_run()
    h2, p2 = _seeded_run()
    pd.testing.assert_frame_equal(h1, h2, check_exact=True)
    assert torch.equal(p1, p2)
    assert h1["train_loss"].nunique() == len(h1)  # the run actually trained


# ------------------------------------------------------------------------------------------
# bad input
# ------------------------------------------------------------------------------------------


def _loader():
    x, y = _regression(n=32)
    return DataLoader(TensorDataset(x, y), batch_size=16)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"epochs": None}, ValueError, "epochs, max_steps"),
        ({"epochs": 0}, ValueError, "epochs must be an integer >= 1"),
        ({"epochs": 2.5}, ValueError, "epochs must be"),
        ({"max_steps": 0}, ValueError, "max_steps must be"),
        ({"patience": 2}, ValueError, "needs a val_loader"),
        ({"grad_clip": -1.0}, ValueError, "grad_clip"),
        ({"min_delta": -0.1}, ValueError, "min_delta"),
        ({"lr": 0.0}, ValueError, "lr must be"),
        ({"log_every": 0}, ValueError, "log_every"),
        ({"optimizer": "adam"}, TypeError, "optimizer must be"),
        ({"optimizer": lambda p: None}, TypeError, "must return a torch.optim.Optimizer"),
        ({"scheduler": 3}, TypeError, "scheduler must be"),
        ({"scheduler_interval": "batch"}, ValueError, "scheduler_interval"),
    ],
)
def test_bad_settings_raise(kwargs, error, match):
    with pytest.raises(error, match=match):
        fit(torch.nn.Linear(3, 1), MSE, _loader(), progress=False, **kwargs)


def test_optimizer_of_another_model_raises():
    other = torch.optim.SGD(torch.nn.Linear(3, 1).parameters(), lr=0.1)
    with pytest.raises(ValueError, match="none of the model's parameters"):
        fit(torch.nn.Linear(3, 1), MSE, _loader(), optimizer=other, progress=False)


def test_scheduler_of_another_optimizer_raises():
    other = torch.optim.SGD(torch.nn.Linear(3, 1).parameters(), lr=0.1)
    sched = torch.optim.lr_scheduler.StepLR(other, step_size=1)
    with pytest.raises(ValueError, match="different optimizer"):
        fit(torch.nn.Linear(3, 1), MSE, _loader(), scheduler=sched, progress=False)


def test_empty_loader_raises():
    empty = DataLoader(TensorDataset(torch.zeros(0, 3), torch.zeros(0, 1)), batch_size=4)
    with pytest.raises(ValueError, match="train_loader yielded no batches"):
        fit(torch.nn.Linear(3, 1), MSE, empty, progress=False)
    with pytest.raises(ValueError, match="yielded no batches"):
        evaluate(torch.nn.Linear(3, 1), MSE, empty)


@pytest.mark.parametrize(
    ("loss_fn", "error", "match"),
    [
        (lambda m, b: 1.0, TypeError, "scalar torch.Tensor"),
        (lambda m, b: (m(b[0]) - b[1]) ** 2, ValueError, r"shape \(16, 1\)"),
        (lambda m, b: torch.tensor(1.0), ValueError, "does not depend on any trainable"),
        (lambda m, b: m(b[0]).detach().mean(), ValueError, "does not depend on any trainable"),
    ],
)
def test_bad_loss_raises(loss_fn, error, match):
    with pytest.raises(error, match=match):
        fit(torch.nn.Linear(3, 1), loss_fn, _loader(), progress=False)


# ------------------------------------------------------------------------------------------
# CUDA: device placement and mixed precision
# ------------------------------------------------------------------------------------------


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("amp_dtype", ["auto", "float16"])
def test_cuda_amp_fit(monkeypatch, amp_dtype):
    import common.train as train_mod

    if amp_dtype == "float16":  # force the GradScaler path even on bf16-capable GPUs
        monkeypatch.setattr(train_mod, "_amp_dtype", lambda device: torch.float16)
    x, y = _regression(n=1024)
    train = DataLoader(TensorDataset(x[:768], y[:768]), batch_size=64, shuffle=True)
    val = DataLoader(TensorDataset(x[768:], y[768:]), batch_size=64)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 32), torch.nn.ReLU(), torch.nn.Linear(32, 1))
    history = fit(model, MSE, train, val, lr=1e-2, epochs=20, device="cuda", progress=False)
    assert history.attrs["device"].startswith("cuda")
    expected = (
        "float16"
        if amp_dtype == "float16"
        else ("bfloat16" if torch.cuda.is_bf16_supported() else "float16")
    )
    assert history.attrs["amp_dtype"] == expected
    assert all(p.device.type == "cuda" for p in model.parameters())
    assert all(p.dtype == torch.float32 for p in model.parameters())  # master weights stay fp32
    assert history["val_loss"].iloc[-1] < 0.05 * history["val_loss"].iloc[0]
    assert history.attrs["best_val_loss"] == pytest.approx(evaluate(model, MSE, val), rel=1e-6)
    # full precision on the same GPU gets there too
    model32 = torch.nn.Linear(3, 1)
    fit(model32, MSE, train, lr=0.05, epochs=20, device="cuda", amp=False, progress=False)
    np.testing.assert_allclose(
        model32.weight.detach().cpu().numpy()[0], [1.5, -2.0, 0.5], atol=0.02
    )


def test_import_applies_thread_policy():
    """Issue 6: two torch threads per process under pytest -n 2 on 2 cores slowed small models
    5-10x; importing common.train must apply the thread policy (1 thread under xdist)."""
    import os
    import subprocess
    import sys

    from common.config import REPO_ROOT

    code = (
        "import os, torch, common.train\n"
        "print(torch.get_num_threads(), os.environ['OMP_NUM_THREADS'])"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("GATAM_THREADS", "OMP_NUM_THREADS")}
    env.update(PYTEST_XDIST_WORKER="gw0", GATAM_QUICK="0")
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=REPO_ROOT, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["1", "1"]
