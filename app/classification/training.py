"""Train the classifier: text features, calibrated linear models, cross-validation, a held-out score.

Features are character 1-3-grams (Chinese has no spaces; characters and their pairs carry
most of the meaning) unioned with Latin-word 1-2-grams (English and mixed text, brand and
model names). Each label is a LinearSVC with balanced class weights, so the small classes
count, wrapped in CalibratedClassifierCV with temperature scaling: one parameter fitted on
held-out folds, which keeps each SVM's ranking of the classes and copes with classes of three
examples, where per-class sigmoid calibration had too few positives to fit.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import sklearn
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion
from sklearn.svm import LinearSVC

from app.classification.bundle import ClassifierBundle, normalise_text
from app.classification.dataset import LabelledSet
from app.classification.errors import TrainingFailed
from app.classification.evaluation import (evaluate_baseline, evaluate_bundle, evaluate_probabilities,
                                           headline, triage_table)
from app.classification.splits import ClassPreservingKFold, class_preserving_folds, holdout_split
from app.classification.taxonomy import CATEGORY_CODES, EMOTION_CODES

LATIN_WORD = r"(?u)\b[a-z][a-z0-9]+\b"
MIN_ROWS = 30


@dataclass(frozen=True)
class TrainingConfig:
    """Hyper-parameters (chosen by 5-fold cross-validation on the seed) and split settings."""

    category_c: float = 0.2
    emotion_c: float = 0.3
    cv_folds: int = 5
    calibration_folds: int = 3
    holdout_fraction: float = 0.2
    random_state: int = 0


@dataclass(frozen=True)
class TrainingResult:
    """A model fitted on all the rows, and the figures that describe it."""

    bundle: ClassifierBundle
    metrics: dict[str, Any]


def build_features(texts: tuple[str, ...]) -> FeatureUnion:
    """Return unfitted features: character n-grams, plus Latin words when the texts have any."""
    parts: list[tuple[str, Any]] = [("chars", TfidfVectorizer(
        analyzer="char", ngram_range=(1, 3), min_df=2, sublinear_tf=True, preprocessor=normalise_text))]
    if any(re.search(LATIN_WORD, normalise_text(text)) for text in texts):
        parts.append(("latin_words", TfidfVectorizer(
            analyzer="word", token_pattern=LATIN_WORD, ngram_range=(1, 2), sublinear_tf=True,
            preprocessor=normalise_text)))
    return FeatureUnion(parts)


def build_model(c: float, config: TrainingConfig) -> CalibratedClassifierCV:
    """Return an unfitted, temperature-calibrated, class-balanced linear SVM."""
    svm = LinearSVC(C=c, class_weight="balanced", random_state=config.random_state)
    return CalibratedClassifierCV(svm, method="temperature",
                                  cv=ClassPreservingKFold(config.calibration_folds, config.random_state))


def fit_bundle(data: LabelledSet, config: TrainingConfig) -> ClassifierBundle:
    """Fit features and both models on every row of ``data``."""
    _check_trainable(data)
    features = build_features(data.texts)
    matrix = features.fit_transform(data.texts)
    category = build_model(config.category_c, config).fit(matrix, np.asarray(data.categories))
    emotion = build_model(config.emotion_c, config).fit(matrix, np.asarray(data.emotions))
    return ClassifierBundle(features, category, emotion, data_hash=data.data_hash(),
                            trained_rows=len(data), sklearn_version=sklearn.__version__)


def cross_validate(data: LabelledSet, config: TrainingConfig) -> dict[str, Any]:
    """Return out-of-fold metrics and the triage table over stratified, class-preserving folds."""
    category_proba = np.zeros((len(data), len(CATEGORY_CODES)))
    emotion_proba = np.zeros((len(data), len(EMOTION_CODES)))
    folds = class_preserving_folds(data.categories, config.cv_folds, config.random_state)
    for train, test in folds:
        bundle = fit_bundle(data.subset(train.tolist()), config)
        category_proba[test], emotion_proba[test] = bundle.probabilities([data.texts[i] for i in test])
    tested = sorted(set(np.concatenate([test for _, test in folds]).tolist()))
    scored = evaluate_probabilities(category_proba[tested], emotion_proba[tested], data.subset(tested))
    untested = sorted(set(data.categories) - set(data.subset(tested).categories))
    return {"folds": config.cv_folds, "rows": len(tested), "untested_categories": untested, **scored,
            "triage": triage_table(category_proba[tested], data.subset(tested).categories)}


def holdout_rows(data: LabelledSet, config: TrainingConfig) -> LabelledSet:
    """Return the held-out part of ``data``: the rows every version trained on it is compared on."""
    return data.subset(holdout_split(data.texts, data.categories, config.holdout_fraction)[1])


def holdout_score(data: LabelledSet, extra: LabelledSet, config: TrainingConfig) -> dict[str, Any]:
    """Fit on the training part of ``data`` plus ``extra``; score on the held-out part of ``data``."""
    train, held = holdout_split(data.texts, data.categories, config.holdout_fraction)
    holdout = data.subset(held)
    held_texts = set(holdout.texts)
    extra = extra.subset([i for i, text in enumerate(extra.texts) if text not in held_texts])
    scored = evaluate_bundle(fit_bundle(data.subset(train) + extra, config), holdout)
    return {"rows": len(holdout), "fingerprint": holdout.data_hash(),
            "category": headline(scored["category"]), "emotion": headline(scored["emotion"]),
            "score": combined_score(scored)}


def combined_score(scored: dict[str, Any]) -> float:
    """Return the mean of category and emotion macro-F1: the figure versions are compared on."""
    return round(float(scored["category"]["macro_f1"] + scored["emotion"]["macro_f1"]) / 2, 4)


def train(data: LabelledSet, *, extra: LabelledSet | None = None,
          config: TrainingConfig | None = None) -> TrainingResult:
    """Cross-validate, score on the held-out split, then fit on all rows (``data`` plus ``extra``)."""
    config = config or TrainingConfig()
    extra = extra or LabelledSet((), (), ())
    everything = data + extra
    _check_trainable(everything)
    metrics = {
        "rows": len(data), "extra_rows": len(extra), "data_hash": everything.data_hash(),
        "cross_validation": cross_validate(everything, config),
        "baseline": {task: headline(report) for task, report in evaluate_baseline(everything).items()},
        "holdout": holdout_score(data, extra, config),
        "config": asdict(config), "sklearn_version": sklearn.__version__,
    }
    return TrainingResult(fit_bundle(everything, config), metrics)


def passes_baseline(metrics: dict[str, Any]) -> bool:
    """Return whether cross-validated macro-F1 beats the keyword baseline for category and emotion."""
    cv, baseline = metrics["cross_validation"], metrics["baseline"]
    return all(cv[task]["macro_f1"] > baseline[task]["macro_f1"] for task in ("category", "emotion"))


def _check_trainable(data: LabelledSet) -> None:
    if len(data) < MIN_ROWS:
        raise TrainingFailed(f"{len(data)} labelled rows is too few to train on; give at least {MIN_ROWS}")
    for name, labels in (("categories", data.categories), ("emotions", data.emotions)):
        if len(set(labels)) < 2:
            raise TrainingFailed(f"the data has only one of the {name} ({labels[0]}); a classifier needs two")
