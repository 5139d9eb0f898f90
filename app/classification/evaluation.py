"""Metrics for labelled predictions (accuracy, macro-F1, per-class report, confusion), model and baseline."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from sklearn.metrics import (accuracy_score, confusion_matrix, f1_score,
                             precision_recall_fscore_support)

from app.classification.baseline import baseline_category, baseline_emotion
from app.classification.bundle import ClassifierBundle
from app.classification.dataset import LabelledSet
from app.classification.taxonomy import CATEGORY_CODES, EMOTION_CODES

DIGITS = 4
TRIAGE_THRESHOLDS = (0.3, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7)


def classification_report(y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str]) -> dict[str, Any]:
    """Return accuracy, macro_f1, per_class (precision/recall/f1/support) and confusion.

    ``macro_f1`` averages over the labels that occur in ``y_true`` or ``y_pred`` (scikit-learn's
    default): a class that is neither in the data nor predicted does not count, one predicted
    but absent counts with F1 0. ``per_class`` and ``confusion`` cover every label in
    ``labels`` (rows of the matrix are the true labels).
    """
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=list(labels), zero_division=0)
    per_class = {label: {"precision": _round(p), "recall": _round(r), "f1": _round(f), "support": int(s)}
                 for label, p, r, f, s in zip(labels, precision, recall, f1, support)}
    matrix = confusion_matrix(y_true, y_pred, labels=list(labels))
    return {
        "accuracy": _round(accuracy_score(y_true, y_pred)),
        "macro_f1": _round(f1_score(y_true, y_pred, average="macro", zero_division=0)),
        "per_class": per_class,
        "confusion": {"labels": list(labels), "matrix": matrix.tolist()},
    }


def headline(report: dict[str, Any]) -> dict[str, float]:
    """Return just accuracy and macro_f1 of a report."""
    return {"accuracy": report["accuracy"], "macro_f1": report["macro_f1"]}


def _round(value: float) -> float:
    return round(float(value), DIGITS)


def evaluate_probabilities(category_proba: np.ndarray, emotion_proba: np.ndarray,
                           data: LabelledSet) -> dict[str, dict[str, Any]]:
    """Return category and emotion reports for the most probable labels against ``data``'s labels."""
    return {
        "category": classification_report(data.categories, _argmax(category_proba, CATEGORY_CODES), CATEGORY_CODES),
        "emotion": classification_report(data.emotions, _argmax(emotion_proba, EMOTION_CODES), EMOTION_CODES),
    }


def evaluate_bundle(bundle: ClassifierBundle, data: LabelledSet) -> dict[str, dict[str, Any]]:
    """Return category and emotion reports for a trained model on ``data``."""
    return evaluate_probabilities(*bundle.probabilities(list(data.texts)), data)


def evaluate_baseline(data: LabelledSet) -> dict[str, dict[str, Any]]:
    """Return category and emotion reports for the keyword baseline on ``data``."""
    return {
        "category": classification_report(data.categories, [baseline_category(t) for t in data.texts],
                                          CATEGORY_CODES),
        "emotion": classification_report(data.emotions, [baseline_emotion(t) for t in data.texts], EMOTION_CODES),
    }


def evaluate_labelled_set(bundle: ClassifierBundle, data: LabelledSet) -> dict[str, Any]:
    """Return the `ml evaluate` object: model reports, baseline reports and the row count."""
    return {**evaluate_bundle(bundle, data), "baseline": evaluate_baseline(data), "rows": len(data)}


def triage_table(category_proba: np.ndarray, categories: Sequence[str]) -> list[dict[str, float | None]]:
    """Return, per confidence threshold, the share routed automatically and the accuracy each side."""
    confidence = category_proba.max(axis=1)
    correct = np.asarray(_argmax(category_proba, CATEGORY_CODES)) == np.asarray(categories)
    rows: list[dict[str, float | None]] = []
    for threshold in TRIAGE_THRESHOLDS:
        routed = confidence >= threshold
        rows.append({"threshold": threshold, "routed_share": _round(routed.mean()),
                     "routed_accuracy": _round(correct[routed].mean()) if routed.any() else None,
                     "triaged_accuracy": _round(correct[~routed].mean()) if (~routed).any() else None})
    return rows


def _argmax(proba: np.ndarray, codes: tuple[str, ...]) -> list[str]:
    return [codes[i] for i in proba.argmax(axis=1)]
