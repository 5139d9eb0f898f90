"""Predict a complaint's category and emotion with a loaded model; one model per process."""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Hashable

import numpy as np

from app.classification.bundle import ClassifierBundle
from app.classification.compiled import CompiledBundle
from app.classification.errors import UnknownLabel
from app.classification.store import load_artifact
from app.classification.taxonomy import CATEGORY_CODES, EMOTION_CODES, is_category

# Below this calibrated confidence the category is a guess: the complaint goes to triage.
# At 0.5, cross-validation on the seed routes ~84% of complaints automatically at ~82%
# accuracy; those below it were right only ~40% of the time (see docs/model-card.md).
DEFAULT_THRESHOLD = 0.5
# The seed is Chinese: a text in which fewer than this share of the units (Han characters
# and Latin words) are Han characters is outside what the model has seen, whatever it says.
MIN_HAN_SHARE = 0.5
DIGITS = 4
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z]+")


@dataclass(frozen=True)
class Prediction:
    """What the model says about one complaint text, and whether a person should look."""

    category: str
    category_confidence: float
    top3: tuple[tuple[str, float], ...]
    emotion: str
    emotion_confidence: float
    needs_triage: bool
    triage_reason: str | None  # empty_text, unfamiliar_language or low_confidence
    customer_category: str | None
    disagrees_with_customer: bool


class Predictor:
    """Predict with one loaded model; predictions only read it, so threads may share it."""

    def __init__(self, bundle: ClassifierBundle, *, threshold: float = DEFAULT_THRESHOLD,
                 version: int | None = None) -> None:
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"confidence threshold must be between 0 and 1, got {threshold}")
        self.bundle = bundle
        self.threshold = threshold
        self.version = version
        self._compiled = _compile(bundle)
        self.is_compiled = self._compiled is not None

    @classmethod
    def from_artifact(cls, path: Path, *, sha256: str | None = None, threshold: float = DEFAULT_THRESHOLD,
                      version: int | None = None) -> Predictor:
        """Load the artifact at ``path`` (checking its sha256) and return a predictor for it."""
        return cls(load_artifact(path, sha256), threshold=threshold, version=version)

    def predict(self, text: str, chosen_category: str | None = None) -> Prediction:
        """Classify ``text``; ``chosen_category`` is the customer's own choice, compared, never overridden."""
        customer = _customer_category(chosen_category)
        if self._compiled is not None:
            category_proba, emotion_proba = self._compiled.probabilities(text)
        else:
            category_proba, emotion_proba = (p[0] for p in self.bundle.probabilities([text]))
        order = np.argsort(-category_proba, kind="stable")
        category, confidence = CATEGORY_CODES[order[0]], _round(category_proba[order[0]])
        reason = triage_reason(text, confidence, self.threshold)
        if reason == "low_confidence" and customer == category and confidence >= self.threshold / 2:
            reason = None  # two independent signals agree: the customer's choice confirms a near miss
        emotion_index = int(emotion_proba.argmax())
        return Prediction(
            category=category,
            category_confidence=confidence,
            top3=tuple((CATEGORY_CODES[i], _round(category_proba[i])) for i in order[:3]),
            emotion=EMOTION_CODES[emotion_index],
            emotion_confidence=_round(emotion_proba[emotion_index]),
            needs_triage=reason is not None,
            triage_reason=reason,
            customer_category=customer,
            disagrees_with_customer=customer is not None and customer != category,
        )


class PredictorCache:
    """Hold the process's predictor, loading it once per model key; safe to call from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entry: tuple[Hashable, Predictor] | None = None

    def get(self, key: Hashable, load: Callable[[], Predictor]) -> Predictor:
        """Return the predictor for ``key``, calling ``load`` only when the key changed."""
        entry = self._entry  # one read: key and predictor always belong together
        if entry is not None and entry[0] == key:
            return entry[1]
        with self._lock:
            if self._entry is None or self._entry[0] != key:
                self._entry = (key, load())
            return self._entry[1]

    def clear(self) -> None:
        """Forget the loaded predictor (the next ``get`` loads again)."""
        with self._lock:
            self._entry = None


def triage_reason(text: str, confidence: float, threshold: float) -> str | None:
    """Return why a person should classify this complaint, or None when the model may route it."""
    if not text.strip():
        return "empty_text"
    han = len(_HAN.findall(text))
    if han < MIN_HAN_SHARE * (han + len(_LATIN_WORD.findall(text))):
        return "unfamiliar_language"
    return "low_confidence" if confidence < threshold else None


def _compile(bundle: ClassifierBundle) -> CompiledBundle | None:
    # The compiled scorer is ~10x faster; scikit-learn's own path is the reference and the
    # fallback when the model has a shape the compiler does not know.
    try:
        compiled = CompiledBundle(bundle)
    except (ValueError, AttributeError):
        return None
    return compiled if compiled.matches(bundle) else None


def _customer_category(chosen: object) -> str | None:
    if chosen is None or (isinstance(chosen, str) and not chosen.strip()):
        return None
    if not isinstance(chosen, str) or not is_category(chosen.strip()):
        raise UnknownLabel(f"the customer's category {chosen!r} is not a category code; "
                           f"use one of {', '.join(CATEGORY_CODES)}")
    return chosen.strip()


def _round(value: float) -> float:
    return round(float(value), DIGITS)
