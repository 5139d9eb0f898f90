"""The trained classifier as stored in an artifact: shared text features plus two calibrated models."""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from app.classification.taxonomy import CATEGORY_CODES, EMOTION_CODES

ARTIFACT_FORMAT = 1


def normalise_text(text: str) -> str:
    """Fold full-width forms and case, so that "ＯＫ！" and "ok!" give the same features."""
    return unicodedata.normalize("NFKC", text).lower()


@dataclass
class ClassifierBundle:
    """Fitted text features and the category and emotion models that read them."""

    features: Any
    category_model: Any
    emotion_model: Any
    data_hash: str
    trained_rows: int
    sklearn_version: str
    format: int = ARTIFACT_FORMAT
    columns: dict[str, np.ndarray] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Where each model's classes sit in the taxonomy order; a model trained without some
        # class has fewer columns, and that class gets probability 0.
        self.columns = {"category": _positions(self.category_model.classes_, CATEGORY_CODES),
                        "emotion": _positions(self.emotion_model.classes_, EMOTION_CODES)}

    def probabilities(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Return category and emotion probabilities, columns in CATEGORY_CODES and EMOTION_CODES order."""
        matrix = self.features.transform(texts)
        return (_aligned(self.category_model, matrix, self.columns["category"], len(CATEGORY_CODES)),
                _aligned(self.emotion_model, matrix, self.columns["emotion"], len(EMOTION_CODES)))


def _positions(classes: Sequence[str], codes: tuple[str, ...]) -> np.ndarray:
    return np.array([codes.index(code) for code in classes])


def _aligned(model: Any, matrix: Any, columns: np.ndarray, width: int) -> np.ndarray:
    aligned = np.zeros((matrix.shape[0], width))
    aligned[:, columns] = model.predict_proba(matrix)
    return aligned
