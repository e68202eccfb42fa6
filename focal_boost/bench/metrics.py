"""Held-out metrics of class probabilities, binary and multiclass, and the validation-chosen F1 threshold.

Conventions (stated in every report):

- PR-AUC is average precision; multiclass: macro average of one-vs-rest average precision.
- ROC-AUC; multiclass: macro one-vs-rest.
- Binary F1 and recall of the positive class at the threshold that maximises F1 on the validation split; multiclass:
  macro F1 and macro recall of the argmax prediction (no threshold).
- Brier score: binary ``mean((p1 - y)^2)``; multiclass ``mean(sum_k (p_k - [y = k])^2)``.
- Log loss: mean negative log-likelihood, probabilities clipped to [1e-15, 1 - 1e-15] for the log only.
- ECE (expected calibration error), 15 equal-width bins: binary on the positive-class probability, multiclass on the
  top-label confidence (max probability vs whether the argmax is right).
- Multi-label (labels ``Y`` and probabilities ``P`` both (n, L)): every metric is the macro average over the labels
  of the binary metric of that label's column (PR-AUC and ROC-AUC over the labels with positives in ``Y``; F1 and
  recall at each label's own validation-chosen threshold); ``pr_auc_per_label`` lists the per-label PR-AUC.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score, f1_score, precision_recall_curve, recall_score, roc_auc_score

__all__ = ["HIGHER_IS_BETTER", "METRICS", "best_f1_threshold", "ece", "evaluate", "evaluate_multilabel", "pr_auc",
           "thresholds"]

METRICS = ("pr_auc", "roc_auc", "f1", "recall", "brier", "log_loss", "ece", "fit_time_s")
HIGHER_IS_BETTER = {"pr_auc": True, "roc_auc": True, "f1": True, "recall": True, "brier": False,
                    "log_loss": False, "ece": False, "fit_time_s": False}
PROBABILITY_METRICS = ("brier", "log_loss", "ece")
ECE_BINS = 15
EPS = 1e-15


def pr_auc(y: np.ndarray, proba: np.ndarray) -> float:
    """Average precision; multiclass: macro over classes present in ``y`` (one-vs-rest). ``proba`` (n, K);
    multi-label ``y`` and ``proba`` (n, L): macro over the labels with positives."""
    if y.ndim == 2:
        return float(np.mean(_per_label_pr_auc(y, proba)))
    if proba.shape[1] == 2:
        return float(average_precision_score(y, proba[:, 1]))
    present = [k for k in range(proba.shape[1]) if np.any(y == k)]
    return float(np.mean([average_precision_score(y == k, proba[:, k]) for k in present]))


def _per_label_pr_auc(Y: np.ndarray, P: np.ndarray) -> list[float]:
    return [float(average_precision_score(Y[:, j], P[:, j])) if Y[:, j].any() else float("nan")
            for j in range(Y.shape[1])]


def thresholds(y: np.ndarray, proba: np.ndarray) -> float | np.ndarray | None:
    """The validation-chosen F1 thresholds: binary a float, multi-label one per label, multiclass ``None``."""
    if y.ndim == 2:
        return np.array([best_f1_threshold(y[:, j], proba[:, j]) if y[:, j].any() else 0.5
                         for j in range(y.shape[1])])
    if proba.shape[1] == 2:
        return best_f1_threshold(y, proba[:, 1])
    return None


def evaluate_multilabel(Y: np.ndarray, P: np.ndarray, threshold: np.ndarray) -> dict[str, Any]:
    """Macro averages over labels of the binary metrics (see the module docstring)."""
    per = [evaluate(Y[:, j], np.column_stack([1.0 - P[:, j], P[:, j]]), float(threshold[j]))
           for j in range(Y.shape[1]) if Y[:, j].any() and not Y[:, j].all()]
    out: dict[str, Any] = {m: float(np.mean([p[m] for p in per])) for m in per[0]}
    out["pr_auc_per_label"] = " ".join(f"{v:.4f}" for v in _per_label_pr_auc(Y, P))
    return out


def best_f1_threshold(y: np.ndarray, p1: np.ndarray) -> float:
    """The positive-class probability threshold with the highest F1 on (y, p1); predictions are ``p1 >= t``."""
    precision, recall, thresholds = precision_recall_curve(y, p1)
    precision, recall = precision[:-1], recall[:-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    return float(thresholds[int(np.argmax(f1))])


def ece(y: np.ndarray, proba: np.ndarray, n_bins: int = ECE_BINS) -> float:
    """Expected calibration error with equal-width bins (see the module docstring for what is binned)."""
    if proba.shape[1] == 2:
        conf, hit = proba[:, 1], (y == 1).astype(np.float64)
    else:
        conf = proba.max(axis=1)
        hit = (proba.argmax(axis=1) == y).astype(np.float64)
    bins = np.minimum((conf * n_bins).astype(np.int64), n_bins - 1)
    total = 0.0
    for b in np.unique(bins):
        m = bins == b
        total += m.sum() * abs(hit[m].mean() - conf[m].mean())
    return float(total / len(y))


def evaluate(y: np.ndarray, proba: np.ndarray, threshold: float | np.ndarray | None) -> dict[str, Any]:
    """All held-out metrics of probabilities ``proba`` (n, K) for labels ``y`` in 0..K-1.

    ``threshold`` (binary only): positive-class probability threshold chosen on the validation split.
    """
    proba = np.asarray(proba, dtype=np.float64)
    if y.ndim == 2:
        return evaluate_multilabel(y, proba, np.asarray(threshold))
    k = proba.shape[1]
    onehot = np.eye(k)[y]
    out = {"pr_auc": pr_auc(y, proba)}
    if k == 2:
        p1 = proba[:, 1]
        out["roc_auc"] = float(roc_auc_score(y, p1))
        pred = (p1 >= threshold).astype(np.int64)
        out["f1"] = float(f1_score(y, pred, zero_division=0.0))
        out["recall"] = float(recall_score(y, pred, zero_division=0.0))
        out["brier"] = float(np.mean((p1 - y) ** 2))
    else:
        present = np.unique(y)
        if len(present) == k:
            out["roc_auc"] = float(roc_auc_score(y, proba, multi_class="ovr", average="macro", labels=np.arange(k)))
        else:  # a class absent from this fold: macro over the classes present
            out["roc_auc"] = float(np.mean([roc_auc_score(y == c, proba[:, c]) for c in present]))
        pred = proba.argmax(axis=1)
        out["f1"] = float(f1_score(y, pred, average="macro", labels=present, zero_division=0.0))
        out["recall"] = float(recall_score(y, pred, average="macro", labels=present, zero_division=0.0))
        out["brier"] = float(np.mean(np.sum((proba - onehot) ** 2, axis=1)))
    p_true = np.clip(proba[np.arange(len(y)), y], EPS, 1.0 - EPS)
    out["log_loss"] = float(-np.mean(np.log(p_true)))
    out["ece"] = ece(y, proba)
    return out
