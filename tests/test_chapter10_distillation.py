"""Notebook 10.01 (knowledge distillation): the hand-written loss, bad parameters, the quick run.

The loss, the Trainer subclass and the truncation are tested with the module
(tests/test_distillation.py); here the notebook's own hand computation (cell tagged ``hand_loss``)
against the library on one batch, and the notebook's behaviour in quick mode.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

NOTEBOOK = "chapter10/01_knowledge_distillation.ipynb"


@pytest.fixture(scope="module")
def hand(tagged_cell):
    return tagged_cell(NOTEBOOK, "hand_loss", {"np": np})


def test_hand_loss_matches_the_library_on_one_batch(hand):
    from common.distillation import distillation_loss

    rng = np.random.default_rng(0)
    student, teacher = rng.normal(size=(8, 3)) * 2, rng.normal(size=(8, 3)) * 3
    labels = rng.integers(0, 3, size=8)
    for alpha, t in [(0.8, 2.0), (0.3, 5.0), (1.0, 1.0)]:
        ours, ce, kl = hand["hand_distillation_loss"](student, teacher, labels, alpha, t)
        lib = distillation_loss(torch.tensor(student), torch.tensor(teacher), torch.tensor(labels),
                                alpha=alpha, temperature=t)
        assert abs(ours - float(lib)) < 1e-6  # the library computes in float32
        assert abs(ours - (alpha * ce + (1 - alpha) * t**2 * kl)) < 1e-12
    # the KL term is zero when the student copies the teacher, positive otherwise
    assert abs(hand["hand_distillation_loss"](teacher, teacher, labels, 0.0, 2.0)[2]) < 1e-12
    assert hand["hand_distillation_loss"](student, teacher, labels, 0.0, 2.0)[2] > 0.01


@pytest.mark.parametrize(("name", "value"), [("THREADS", 0), ("TEMPERATURES", [1, -2]),
                                             ("STUDENT_PARAMS", {"alpha": 1.5}),
                                             ("STUDENT_PARAMS", {"learning_rate": 1e-3})])
def test_bad_parameters_are_named(assert_bad_parameter, name, value):
    assert_bad_parameter(NOTEBOOK, name, value)


def test_quick_run_with_unreachable_finbert(run_quick, outputs_text, seeded_cache):
    text = outputs_text(run_quick(NOTEBOOK, TEACHER_MODEL="ProsusAI/finbert"))
    assert "TEACHER_MODEL='ProsusAI/finbert'" in text and "not reachable" in text
    assert "max |student weight - teacher weight|" in text or "max |student weight - base weight|" in text
    assert "DistillationTrainer.compute_loss" in text and "latency b=1" in text
    assert "Verdict: quick mode" in text
