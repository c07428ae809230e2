"""Notebook 3.08 (neural networks from scratch): the hand-written backpropagation is right.

The notebook's network (the cell tagged ``mlp``: ``init_mlp``, ``forward``, ``backward``,
``dropout_masks``) and its training loop (tagged ``train``: ``train_mlp``) are run here, outside
the notebook, on seeded problems of other shapes than the notebook's. The gradients must equal an
independent PyTorch autograd version of the same network (written here, float64) and central
finite differences, with and without dropout masks; a backward pass with a bug (the dropout mask
forgotten) must fail the same check, so the check can fail. Then one quick run of the notebook
must print its gradient check with every row "ok", and bad parameters stop the quick run in the
validation cell with a message that names them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

NOTEBOOK = "chapter03/08_neural_networks_from_scratch.ipynb"
pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def code(tagged_cell):
    namespace = tagged_cell(NOTEBOOK, "mlp", {"np": np})
    return tagged_cell(NOTEBOOK, "train", {**namespace, "pd": pd})


def _batch(seed, n, d, hidden, keep_in, keep_hidden, code):
    rng = np.random.default_rng(seed)
    P = code["init_mlp"](d, hidden, rng)
    X, y = rng.standard_normal((n, d)), (rng.random(n) < 0.5).astype(float)
    masks = code["dropout_masks"](rng, n, d, hidden, keep_in, keep_hidden)
    return P, X, y, masks


def _autograd(P, X, y, m_in, m_h):
    """The same network and mean log loss, written independently in PyTorch (float64)."""
    t = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in P.items()}
    h = torch.clamp(torch.tensor(X * m_in) @ t["W1"] + t["b1"], min=0) * torch.tensor(m_h)
    s = (h @ t["W2"] + t["b2"]).squeeze(1)
    y_t = torch.tensor(y)
    loss = torch.mean(torch.nn.functional.softplus(s) - y_t * s)
    loss.backward()
    return loss.item(), {k: v.grad.numpy() for k, v in t.items()}


def _finite_differences(code, P, X, y, m_in, m_h, step=1e-6):
    out = {}
    for k, value in P.items():
        out[k] = np.zeros_like(value)
        for j in np.ndindex(value.shape):
            for sign in (1, -1):
                shifted = {**P, k: value.copy()}
                shifted[k][j] += sign * step
                out[k][j] += sign * code["forward"](shifted, X, y, m_in, m_h)[0] / (2 * step)
    return out


@pytest.mark.parametrize(
    ("seed", "n", "d", "hidden", "keep_in", "keep_hidden"),
    [(0, 16, 3, 7, 1.0, 1.0), (1, 40, 6, 5, 0.8, 0.5), (2, 1, 4, 9, 1.0, 0.5), (3, 25, 1, 2, 0.5, 0.8)],
)
def test_backward_equals_autograd_and_finite_differences(code, seed, n, d, hidden, keep_in, keep_hidden):
    P, X, y, (m_in, m_h) = _batch(seed, n, d, hidden, keep_in, keep_hidden, code)
    loss, cache = code["forward"](P, X, y, m_in, m_h)
    hand = code["backward"](P, y, cache, m_h)
    loss_t, auto = _autograd(P, X, y, m_in, m_h)
    numeric = _finite_differences(code, P, X, y, m_in, m_h)
    assert loss == pytest.approx(loss_t, abs=1e-12)
    assert set(hand) == set(P)
    for k in P:
        assert hand[k].shape == P[k].shape, k
        np.testing.assert_allclose(hand[k], auto[k], rtol=0, atol=1e-12, err_msg=f"autograd, {k}")
        np.testing.assert_allclose(hand[k], numeric[k], rtol=0, atol=1e-6, err_msg=f"finite diff., {k}")
    assert max(np.abs(hand[k]).max() for k in P) > 1e-3  # the gradients are not trivially zero


def test_the_check_catches_a_wrong_backward_pass(code):
    """Forgetting the hidden dropout mask in the backward pass must show up as a gradient error."""
    P, X, y, (m_in, m_h) = _batch(4, 32, 5, 6, 1.0, 0.5, code)
    wrong = code["backward"](P, y, code["forward"](P, X, y, m_in, m_h)[1], None)
    numeric = _finite_differences(code, P, X, y, m_in, m_h)
    assert max(np.abs(wrong[k] - numeric[k]).max() for k in ("W1", "b1")) > 1e-4


def test_initialization_is_uniform_within_one_over_sqrt_fan_in(code):
    P = code["init_mlp"](400, 300, np.random.default_rng(5))
    for k, bound in [("W1", 1 / np.sqrt(400)), ("b1", 1 / np.sqrt(400)), ("W2", 1 / np.sqrt(300)),
                     ("b2", 1 / np.sqrt(300))]:
        assert np.abs(P[k]).max() < bound, k
    assert np.abs(P["W1"]).max() > 0.99 / np.sqrt(400)
    assert P["W1"].std() == pytest.approx(1 / np.sqrt(3 * 400), rel=0.02)  # uniform's sd
    assert P["W1"].shape == (400, 300) and P["b2"].shape == (1,)


def test_dropout_masks_are_inverted_and_keep_the_mean(code):
    m_in, m_h = code["dropout_masks"](np.random.default_rng(6), 20_000, 10, 8, 0.8, 0.5)
    assert set(np.unique(m_in)) == {0.0, 1 / 0.8} and set(np.unique(m_h)) == {0.0, 2.0}
    assert m_in.mean() == pytest.approx(1.0, abs=0.01) and m_h.mean() == pytest.approx(1.0, abs=0.01)


def test_training_learns_and_early_stopping_keeps_the_best_epoch(code):
    rng = np.random.default_rng(7)
    X = rng.standard_normal((600, 4))
    y = (X[:, 0] * X[:, 1] > 0).astype(float)  # XOR: no straight line separates it
    P, history = code["train_mlp"](X[:300], y[:300], X[300:], y[300:], epochs=60, lr=0.1, momentum=0.9,
                                   final_lr_share=0.01, patience=10, hidden=32, batch_size=30, seed=0)
    val_loss = code["forward"](P, X[300:], y[300:])[0]
    assert val_loss == pytest.approx(history["validation"].min(), abs=1e-12)  # the best epoch's weights
    assert history["validation"].min() < 0.5 < history["validation"].iloc[0]  # it learned XOR
    accuracy = np.mean((code["forward"](P, X[300:], y[300:])[1][3] > 0) == y[300:])
    assert accuracy > 0.85


def test_quick_run_prints_a_passing_gradient_check(run_quick, outputs_text):
    text = outputs_text(run_quick(NOTEBOOK))
    rows = [line for line in text.splitlines() if line.startswith(("autograd[", "finite differences["))]
    assert len(rows) == 8, rows
    assert all(line.split()[-1] == "ok" for line in rows), rows
    assert "hand-written backpropagation equals autograd" in text
    assert "within two standard errors of zero" in text and "significantly positive" in text


@pytest.mark.parametrize(
    ("name", "value"),
    [("KEEP_HIDDEN", 0.0), ("SERIES_LENGTH", 5), ("REG_BETA", "1, 2"), ("BATCH_SIZE", 10**6),
     ("RHO", 1.0)],
)
def test_bad_parameter_fails_naming_it(assert_bad_parameter, name, value):
    assert_bad_parameter(NOTEBOOK, name, value)
