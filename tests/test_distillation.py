"""Tests of common.distillation: the loss against a hand computation, the Trainer subclass,
truncation, the student settings, and the cached student (quick settings, tiny subset)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from common import distillation
from common.distillation import (
    UNLABELLED,
    DistillationTrainer,
    distillation_loss,
    softmax_with_temperature,
    student_params,
    train_student,
    transfer_sentences,
    truncated_student,
)
from common.text_classifier import minilm_path

pytestmark = pytest.mark.usefixtures("one_torch_thread")

STUDENT = torch.tensor([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3]])
TEACHER = torch.tensor([[3.0, 1.0, -2.0], [-1.0, 0.0, 2.5]])
LABELS = torch.tensor([0, 2])


def _hand_loss(student, teacher, labels, alpha, t):
    """The loss written out with Python floats: alpha * CE + (1 - alpha) * T^2 * KL(p || q)."""
    def softmax(row, temp):
        e = [math.exp(v / temp) for v in row]
        return [v / sum(e) for v in e]

    ce = kl = 0.0
    for s, te, y in zip(student.tolist(), teacher.tolist(), labels.tolist(), strict=True):
        ce -= math.log(softmax(s, 1.0)[y])
        p, q = softmax(te, t), softmax(s, t)
        kl += sum(pk * math.log(pk / qk) for pk, qk in zip(p, q, strict=True))
    n = len(labels)
    return alpha * ce / n + (1 - alpha) * t**2 * kl / n


def test_softmax_with_temperature_limits():
    logits = torch.tensor([[4.0, 1.0, -3.0]])
    torch.testing.assert_close(softmax_with_temperature(logits, 1.0), torch.softmax(logits, -1))
    probs = [softmax_with_temperature(logits, t)[0] for t in (1.0, 2.0, 10.0, 1000.0)]
    assert all(abs(float(p.sum()) - 1.0) < 1e-6 for p in probs)
    maxima = [float(p.max()) for p in probs]
    assert maxima == sorted(maxima, reverse=True)  # higher T, flatter distribution
    assert float((probs[-1] - 1 / 3).abs().max()) < 3e-3  # T = 1000: nearly uniform
    assert float(probs[0].max()) > 0.95
    with pytest.raises(ValueError, match="temperature"):
        softmax_with_temperature(logits, 0.0)


@pytest.mark.parametrize(("alpha", "t"), [(0.8, 2.0), (0.5, 1.0), (0.0, 4.0), (1.0, 2.0)])
def test_distillation_loss_matches_the_hand_computation(alpha, t):
    ours = distillation_loss(STUDENT, TEACHER, LABELS, alpha=alpha, temperature=t)
    assert abs(float(ours) - _hand_loss(STUDENT, TEACHER, LABELS, alpha, t)) < 1e-5


def test_distillation_loss_pieces_and_gradients():
    # alpha = 1 is the cross-entropy; equal logits make the KL term vanish
    ce = torch.nn.functional.cross_entropy(STUDENT, LABELS)
    torch.testing.assert_close(distillation_loss(STUDENT, TEACHER, LABELS, alpha=1.0, temperature=2.0), ce)
    torch.testing.assert_close(distillation_loss(STUDENT, STUDENT, LABELS, alpha=0.0, temperature=3.0),
                               torch.tensor(0.0), atol=1e-6, rtol=0)
    student = STUDENT.clone().requires_grad_(True)
    teacher = TEACHER.clone().requires_grad_(True)
    distillation_loss(student, teacher, LABELS, alpha=0.8, temperature=2.0).backward()
    assert student.grad is not None and teacher.grad is None  # the teacher is a fixed target


def test_unlabelled_rows_get_the_soft_term_only():
    """A transfer-set row (label UNLABELLED) adds T^2 * KL; labelled rows keep alpha * CE + (1 - alpha) * T^2 * KL."""
    alpha, t = 0.8, 2.0
    one = [distillation_loss(STUDENT[i:i + 1], TEACHER[i:i + 1], LABELS[i:i + 1], alpha=alpha, temperature=t)
           for i in range(2)]
    soft_only = distillation_loss(STUDENT[1:], TEACHER[1:], LABELS[1:], alpha=0.0, temperature=t)
    mixed = distillation_loss(STUDENT, TEACHER, torch.tensor([0, UNLABELLED]), alpha=alpha, temperature=t)
    torch.testing.assert_close(mixed, (one[0] + soft_only) / 2)
    assert abs(float(mixed) - (float(one[0]) + float(one[1])) / 2) > 1e-3  # not the labelled loss
    everything = distillation_loss(STUDENT, TEACHER, torch.tensor([UNLABELLED, UNLABELLED]), alpha=alpha, temperature=t)
    torch.testing.assert_close(everything, distillation_loss(STUDENT, TEACHER, LABELS, alpha=0.0, temperature=t))


@pytest.mark.parametrize(("kwargs", "match"), [({"alpha": 1.5, "temperature": 2.0}, "alpha"),
                                               ({"alpha": 0.8, "temperature": -1.0}, "temperature")])
def test_distillation_loss_rejects_bad_settings(kwargs, match):
    with pytest.raises(ValueError, match=match):
        distillation_loss(STUDENT, TEACHER, LABELS, **kwargs)
    with pytest.raises(ValueError, match="batch, n_classes"):
        distillation_loss(STUDENT, TEACHER[:1], LABELS, alpha=0.8, temperature=2.0)


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory, save_tiny_bert):
    """A 4-layer, 32-wide random BERT with the MiniLM tokenizer, saved as a model folder."""
    return save_tiny_bert(tmp_path_factory.mktemp("tiny_bert"), 4)


def test_truncated_student_keeps_the_first_layers(tiny_bert):
    from transformers import BertModel

    full = BertModel.from_pretrained(tiny_bert)
    student = truncated_student(2, model_path=tiny_bert, n_labels=3)
    assert student.config.num_hidden_layers == 2 and len(student.bert.encoder.layer) == 2
    assert student.config.num_labels == 3
    ref = full.state_dict()
    for name, value in student.bert.state_dict().items():
        if name.startswith(("embeddings.", "encoder.")):
            torch.testing.assert_close(value, ref[name], rtol=0, atol=0, msg=name)
    for bad in (0, 5, 2.5):
        with pytest.raises(ValueError, match="n_layers"):
            truncated_student(bad, model_path=tiny_bert)


def test_truncated_student_keeps_the_listed_layers(tiny_bert, tmp_path):
    from transformers import AutoModelForSequenceClassification, BertModel

    ref = BertModel.from_pretrained(tiny_bert).state_dict()
    student = truncated_student(2, model_path=tiny_bert, layers=[1, 3])
    assert student.config.num_hidden_layers == 2 and len(student.bert.encoder.layer) == 2
    got = student.bert.state_dict()
    for new, old in [(0, 1), (1, 3)]:
        for part in ("attention.self.query.weight", "output.dense.bias"):
            torch.testing.assert_close(got[f"encoder.layer.{new}.{part}"], ref[f"encoder.layer.{old}.{part}"], rtol=0, atol=0)
    student.save_pretrained(tmp_path)  # saved as an ordinary 2-layer model
    again = AutoModelForSequenceClassification.from_pretrained(tmp_path).eval()
    ids = {"input_ids": torch.tensor([[101, 2000, 2001, 102]])}
    torch.testing.assert_close(again(**ids).logits, student.eval()(**ids).logits)
    for bad in ([1], [3, 1], [0, 4], [1, 1], "0,2"):
        with pytest.raises(ValueError, match="layers"):
            truncated_student(2, model_path=tiny_bert, layers=bad)


def test_transfer_sentences_are_new_and_seeded():
    train = ["Operating profit rose to EUR 13.1 mn from EUR 8.7 mn .", "Net sales fell by 5 % in the quarter .",
             "The company is based in Helsinki , Finland .", "Short one"]
    made = transfer_sentences("augment", train, 7, seed=0)
    assert len(made) == 7 and len(set(made)) == 7 and not set(made) & set(train)
    assert made == transfer_sentences("augment", train, 7, seed=0) != transfer_sentences("augment", train, 7, seed=1)
    vocabulary = {w for t in train for w in t.split()}
    assert all(set(t.split()) <= vocabulary for t in made)  # words of the training sentences only
    with pytest.raises(ValueError, match="kind"):
        transfer_sentences("news", train, 3)
    with pytest.raises(ValueError, match="n must"):
        transfer_sentences("augment", train, 0)


def test_truncated_minilm_keeps_layer_zero_to_two():
    from transformers import AutoModel

    base = AutoModel.from_pretrained(minilm_path()).state_dict()
    student = truncated_student(3)
    assert len(student.bert.encoder.layer) == 3
    got = student.bert.state_dict()
    for i in range(3):
        key = f"encoder.layer.{i}.attention.self.query.weight"
        torch.testing.assert_close(got[key], base[key], rtol=0, atol=0)
    assert "encoder.layer.3.attention.self.query.weight" not in got
    assert sum(p.numel() for p in student.parameters()) < 0.8 * sum(v.numel() for v in base.values())


def test_trainer_compute_loss_uses_batch_logits_or_the_teacher(tiny_bert, tmp_path):
    from transformers import AutoTokenizer, TrainingArguments

    tokenizer = AutoTokenizer.from_pretrained(tiny_bert)
    torch.manual_seed(1)
    student, teacher = truncated_student(1, model_path=tiny_bert), truncated_student(2, model_path=tiny_bert)
    args = TrainingArguments(output_dir=str(tmp_path), report_to="none", use_cpu=True, remove_unused_columns=False)
    batch = dict(tokenizer(["profit rose", "sales fell sharply"], padding=True, return_tensors="pt"))
    batch["labels"] = torch.tensor([2, 0])
    with torch.no_grad():
        t_logits = teacher(**{k: v for k, v in batch.items() if k != "labels"}).logits
        s_logits = student(**{k: v for k, v in batch.items() if k != "labels"}).logits
    expected = distillation_loss(s_logits, t_logits, batch["labels"], alpha=0.8, temperature=2.0)
    with_logits = DistillationTrainer(model=student, args=args, alpha=0.8, temperature=2.0)
    with torch.no_grad():
        loss = with_logits.compute_loss(student, {**batch, "teacher_logits": t_logits})
    torch.testing.assert_close(loss, expected)
    with pytest.raises(ValueError, match="no 'teacher_logits'"):
        with_logits.compute_loss(student, batch)
    with_model = DistillationTrainer(model=student, args=args, alpha=0.8, temperature=2.0, teacher=teacher)
    with torch.no_grad():
        torch.testing.assert_close(with_model.compute_loss(student, batch), expected)
    assert not any(p.requires_grad for p in teacher.parameters())
    with pytest.raises(ValueError, match="alpha"):
        DistillationTrainer(model=student, args=args, alpha=-0.1)


def test_train_student_learns_a_toy_task(tiny_bert):
    pos, neg, neu = ["profit rose strongly", "record earnings"], ["loss widened sharply", "shares dropped"], \
        ["the meeting is on monday", "the office is in helsinki"]
    texts, labels = (neg + neu + pos) * 8, np.array([0, 0, 1, 1, 2, 2] * 8)
    soft = np.eye(3, dtype=np.float32)[labels] * 4.0  # a confident "teacher"
    settings = {**student_params({"n_layers": 2, "epochs": 6, "batch_size": 8, "lr": 5e-3, "max_length": 16}),
                "warmup_ratio": 0.0}
    result = train_student(texts, labels, neg + neu + pos, np.array([0, 0, 1, 1, 2, 2]), teacher_train_logits=soft,
                           settings=settings, model_path=tiny_bert, progress=False)
    hist = result.history
    assert list(hist.columns) == ["epoch", "train_loss", "val_loss", "val_accuracy", "val_macro_f1", "lr", "seconds"]
    assert len(hist) == 6 and result.best_epoch == int(hist["val_macro_f1"].idxmax()) + 1
    assert hist["train_loss"].iloc[-1] < hist["train_loss"].iloc[0]
    assert hist["val_accuracy"].max() == 1.0
    assert result.model.config.num_hidden_layers == 2 and result.info["alpha"] == 0.8
    with pytest.raises(ValueError, match="needs a teacher"):
        train_student(texts, labels, texts, labels, settings=settings, model_path=tiny_bert, progress=False)
    # a transfer set: unlabelled sentences with the teacher's logits join every epoch
    extra = ["profit rose", "earnings record", "loss widened", "shares dropped sharply"]
    extra_logits = np.eye(3, dtype=np.float32)[[2, 2, 0, 0]] * 4.0
    with_transfer = train_student(texts, labels, neg + neu + pos, np.array([0, 0, 1, 1, 2, 2]), teacher_train_logits=soft,
                                  settings={**settings, "epochs": 2}, model_path=tiny_bert, progress=False,
                                  transfer_texts=extra, teacher_transfer_logits=extra_logits)
    assert with_transfer.info["n_transfer"] == 4 and len(with_transfer.history) == 2
    with pytest.raises(ValueError, match="carry no labels"):
        train_student(texts, labels, texts, labels, teacher_train_logits=soft, settings={**settings, "alpha": 1.0},
                      model_path=tiny_bert, progress=False, transfer_texts=extra, teacher_transfer_logits=extra_logits)
    with pytest.raises(ValueError, match="teacher_transfer_logits must be"):
        train_student(texts, labels, texts, labels, teacher_train_logits=soft, settings=settings, model_path=tiny_bert,
                      progress=False, transfer_texts=extra, teacher_transfer_logits=extra_logits[:2])


def test_student_params_by_mode_and_errors(monkeypatch):
    monkeypatch.setenv("GATAM_QUICK", "0")
    assert student_params() == distillation.DEFAULT_STUDENT_PARAMS
    official = {k: student_params()[k] for k in ("alpha", "temperature", "batch_size")}
    assert official == {"alpha": 0.8, "temperature": 2.0, "batch_size": 48}  # the official companion's
    assert student_params({"lr": 2e-5, "epochs": 5})["lr"] == 2e-5
    assert student_params({"n_layers": 3, "layers": (0, 2, 4)})["layers"] == [0, 2, 4]  # JSON-ready for the cache key
    assert student_params({"n_layers": 2})["layers"] == [0, 3]  # spread over the teacher's 6 layers
    assert student_params({"n_layers": 2, "layers": None})["layers"] is None  # the first 2
    monkeypatch.setenv("GATAM_QUICK", "1")
    assert student_params()["max_train"] is not None
    for bad, match in [({"learning_rate": 1e-3}, "unknown student parameter"), ({"n_layers": 0}, "n_layers"),
                       ({"alpha": 2}, "alpha"), ({"temperature": 0}, "temperature"), ({"init": "random"}, "init"),
                       ({"layers": [0, 2, 4]}, "layers"), ({"n_layers": 2, "layers": [0, 6]}, "layers"),
                       ({"transfer": "news", "transfer_size": 10}, "transfer"),
                       ({"transfer": "augment", "transfer_size": 0}, "transfer_size"),
                       ({"transfer": None, "transfer_size": 10}, "transfer_size")]:
        with pytest.raises(ValueError, match=match):
            student_params(bad)


def test_student_classifier_trains_once_then_loads(phrasebank_cache, capsys):
    """Quick settings on a tiny subset, in an empty model cache: teacher and student trained, then loaded."""
    teacher = {"max_train": 16, "max_val": 8, "max_length": 24, "batch_size": 8}
    params = {"max_train": 16, "max_val": 8, "max_length": 24, "batch_size": 8,
              "transfer": None, "transfer_size": 0}  # the default FOMC transfer set is not in this cache
    first = distillation.student_classifier(True, params, teacher_params=teacher, progress=False)
    out = capsys.readouterr().out
    assert "trained phrasebank-minilm" in out and "trained phrasebank-student-minilm" in out
    second = distillation.student_classifier(True, params, teacher_params=teacher, progress=False)
    assert "loaded phrasebank-student-minilm" in capsys.readouterr().out
    assert first.info["distilled"] and first.info["teacher"].startswith("phrasebank-minilm-")
    assert second.model.config.num_hidden_layers == 2 and second.model.config.id2label[2] == "positive"
    labels_only = distillation.student_classifier(False, params, teacher_params=teacher, progress=False)
    assert "trained phrasebank-student-minilm-labels" in capsys.readouterr().out
    assert labels_only.info["alpha"] == 1.0 and not labels_only.info["distilled"]
    # another teacher gives another student (the teacher's key is part of the student's)
    distillation.student_classifier(True, params, teacher_params={**teacher, "seed": 1}, progress=False)
    assert "no phrasebank-student-minilm for these settings" in capsys.readouterr().out
    with pytest.raises(TypeError, match="distilled"):
        distillation.student_classifier("yes")
