"""Write and read model artifacts (joblib files), checking their sha256 before unpickling them."""
from __future__ import annotations

import hashlib
import os
import pickle
import warnings
from importlib.metadata import version
from pathlib import Path

import joblib

from app.classification.bundle import ARTIFACT_FORMAT, ClassifierBundle
from app.classification.errors import ArtifactCorrupt, ArtifactMissing

RETRAIN_HINT = "retrain with `flask --app wsgi ml train`"


def file_sha256(path: Path) -> str:
    """Return the hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def save_artifact(bundle: ClassifierBundle, path: Path) -> str:
    """Write ``bundle`` to ``path`` atomically and return the file's sha256."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    joblib.dump(bundle, partial, compress=3)
    os.replace(partial, path)
    return file_sha256(path)


def load_artifact(path: Path, expected_sha256: str | None = None) -> ClassifierBundle:
    """Load a bundle; raise ArtifactMissing or ArtifactCorrupt with what to do about it.

    The checksum is verified before unpickling, so a file altered after training is never
    executed as a pickle.
    """
    if not path.is_file():
        raise ArtifactMissing(f"classifier model file {path} does not exist; {RETRAIN_HINT}")
    if expected_sha256 is not None and file_sha256(path) != expected_sha256:
        raise ArtifactCorrupt(f"classifier model file {path} does not match the sha256 recorded when it "
                              f"was trained (it was changed or damaged); {RETRAIN_HINT}")
    bundle, held_back = _unpickle(path)
    if not isinstance(bundle, ClassifierBundle) or bundle.format != ARTIFACT_FORMAT:
        raise ArtifactCorrupt(f"{path} does not hold a Kesu classifier (format {ARTIFACT_FORMAT}); {RETRAIN_HINT}")
    running = version("scikit-learn")
    if bundle.sklearn_version != running:
        raise ArtifactCorrupt(f"classifier model file {path} was trained with scikit-learn "
                              f"{bundle.sklearn_version}, this process runs {running}; {RETRAIN_HINT}")
    for warning in held_back:
        warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    return bundle


def _unpickle(path: Path) -> tuple[object, list[warnings.WarningMessage]]:
    # Unpickling a model from another scikit-learn version warns and may misbehave later, so
    # warnings are held back until the version check has turned a mismatch into a clear error.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            return joblib.load(path), caught
        except (pickle.UnpicklingError, EOFError, ValueError, KeyError, AttributeError,
                ImportError, IndexError, TypeError, OSError) as error:
            raise ArtifactCorrupt(f"classifier model file {path} cannot be read ({type(error).__name__}: "
                                  f"{error}); {RETRAIN_HINT}") from None
