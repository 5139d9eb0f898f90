"""The errors the classification package raises, each with a message that says what to do.

    ClassificationError
    ├── DatasetError          a labelled CSV is malformed; ``row`` names the line when known
    ├── UnknownLabel          a category or emotion code that is not in the taxonomy
    ├── NoActiveModel         no trained model version is active yet
    ├── ArtifactError         a model file cannot be used
    │   ├── ArtifactMissing   the file is not there
    │   └── ArtifactCorrupt   the file is damaged, altered, or from another scikit-learn
    └── TrainingFailed        the data cannot train a model (too few rows or classes)
"""
from __future__ import annotations


class ClassificationError(Exception):
    """Base of every error raised by ``app.classification``."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class DatasetError(ClassificationError):
    """A labelled CSV is malformed; nothing was trained or written."""

    def __init__(self, message: str, *, row: int | None = None) -> None:
        super().__init__(f"line {row}: {message}" if row is not None else message)
        self.row = row


class UnknownLabel(ClassificationError, ValueError):
    """A category or emotion code that is not in the taxonomy."""


class NoActiveModel(ClassificationError):
    """No model version is active: nothing has been trained, or nothing passed."""


class ArtifactError(ClassificationError):
    """A model artifact cannot be loaded."""


class ArtifactMissing(ArtifactError):
    """The model artifact file does not exist."""


class ArtifactCorrupt(ArtifactError):
    """The model artifact is damaged, was altered, or does not hold a Kesu classifier."""


class TrainingFailed(ClassificationError):
    """The data cannot train a classifier."""
