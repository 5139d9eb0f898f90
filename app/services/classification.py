"""Classification use-cases: train and register versions, record corrections, predict for processes.

Nothing here commits: the CLI command or request that owns the unit of work does.
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from flask import current_app
from sqlalchemy import func, select, update

from app.classification.dataset import LabelledSet, labelled_set, load_dataset
from app.classification.errors import ArtifactError, ClassificationError, NoActiveModel, UnknownLabel
from app.classification.predictor import DEFAULT_THRESHOLD, Prediction, Predictor, PredictorCache
from app.classification.store import load_artifact, save_artifact
from app.classification.taxonomy import CATEGORY_CODES, EMOTION_CODES, is_category, is_emotion
from app.errors import ValidationFailed
from app.extensions import db
from app.models.classifier import ClassifierModel, LabelCorrection
from workflows.services import ServiceCall, ServiceError

if TYPE_CHECKING:
    from app.classification.training import TrainingConfig

SEED_DATA = Path(__file__).resolve().parent.parent / "classification" / "data" / "complaints_zh_seed.csv"
THRESHOLD_KEY = "CLASSIFIER_CONFIDENCE_THRESHOLD"

_predictors = PredictorCache()


class OperatorRegistry(Protocol):
    def register(self, name: str, handler: Any, *, parameters: tuple[str, ...] = (),
                 description: str = "") -> Any: ...


def models_dir(instance_dir: str | Path) -> Path:
    """Return the folder that holds the model artifacts of an instance."""
    return Path(instance_dir) / "models"


def active_model() -> ClassifierModel | None:
    """Return the active model version, if any."""
    return db.session.execute(select(ClassifierModel).where(ClassifierModel.is_active)).scalar_one_or_none()


def train_and_register(data_csv: str | Path, *, with_corrections: bool, now: datetime, models_dir: Path,
                       config: TrainingConfig | None = None) -> ClassifierModel:
    """Train on a labelled CSV (plus agents' corrections), store the artifact and register the version.

    The version becomes active when it beats the keyword baseline and does not score worse
    than the active version on the same held-out split. Raises DatasetError or TrainingFailed.
    """
    # Imported here: scikit-learn takes over a second to import, and the web app and
    # worker only need it once a model is loaded, not at start.
    from app.classification.training import TrainingConfig, passes_baseline, train

    config = config or TrainingConfig()
    data = load_dataset(data_csv)
    result = train(data, extra=corrections_as_labelled_set() if with_corrections else None, config=config)
    version = (db.session.execute(select(func.max(ClassifierModel.version))).scalar() or 0) + 1
    path = models_dir / f"classifier-v{version}.joblib"
    sha256 = save_artifact(result.bundle, path)
    model = ClassifierModel(version=version, artifact_path=str(path), artifact_sha256=sha256,
                            data_hash=result.metrics["data_hash"], trained_at=now, metrics=result.metrics,
                            is_active=False, passed=passes_baseline(result.metrics))
    is_better, comparison = _compare_with_active(result.metrics, data, config)
    model.notes = _decision_note(model.passed, is_better, comparison)
    db.session.add(model)
    if model.passed and is_better:
        _activate(model)
    db.session.flush()
    return model


def _compare_with_active(metrics: dict[str, Any], data: LabelledSet, config: TrainingConfig) -> tuple[bool, str]:
    """Return (not worse than the active version on the held-out split, an explanation)."""
    active = active_model()
    if active is None:
        return True, "no version was active"
    new_score = metrics["holdout"]["score"]
    if active.metrics.get("holdout", {}).get("fingerprint") == metrics["holdout"]["fingerprint"]:
        old_score = active.metrics["holdout"]["score"]
        how = "same held-out split"
    else:
        try:
            old_score = _score_artifact(active, data, config)
        except ArtifactError as error:
            return True, f"active v{active.version} cannot be loaded ({error.message})"
        # Conservative: the active model may have trained on some of these rows.
        how = "active model scored on this data's held-out rows"
    return new_score >= old_score, f"held-out score {new_score:.4f} vs active v{active.version} {old_score:.4f} ({how})"


def _score_artifact(model: ClassifierModel, data: LabelledSet, config: TrainingConfig) -> float:
    from app.classification.evaluation import evaluate_bundle
    from app.classification.training import combined_score, holdout_rows

    bundle = load_artifact(resolve_artifact_path(model.artifact_path), model.artifact_sha256)
    return combined_score(evaluate_bundle(bundle, holdout_rows(data, config)))


def _decision_note(passed: bool, is_better: bool, comparison: str) -> str:
    if not passed:
        return "not activated: cross-validated macro-F1 does not beat the keyword baseline"
    return f"{'activated' if is_better else 'not activated: scores worse than the active version'}; {comparison}"


def _activate(model: ClassifierModel) -> None:
    # Deactivate first and flush, so the one-active index never sees two active rows.
    db.session.execute(update(ClassifierModel).where(ClassifierModel.is_active).values(is_active=False))
    db.session.flush()
    model.is_active = True


def record_correction(*, text: str, category: str, emotion: str, corrected_by: str, now: datetime,
                      source_ref: str | None = None) -> LabelCorrection:
    """Store an agent's category and emotion for a text as a labelled example for retraining."""
    problems = {"text": "the complaint text is empty"} if not text.strip() else {}
    if not is_category(category):
        problems["category"] = f"choose one of {', '.join(CATEGORY_CODES)}"
    if not is_emotion(emotion):
        problems["emotion"] = f"choose one of {', '.join(EMOTION_CODES)}"
    if problems:
        raise ValidationFailed("the correction cannot be stored", fields=problems)
    correction = LabelCorrection(text=text, category=category, emotion=emotion, source_ref=source_ref,
                                 corrected_by=corrected_by, created_at=now)
    db.session.add(correction)
    db.session.flush()
    return correction


def corrections_as_labelled_set() -> LabelledSet:
    """Return every correction as labelled rows; for a text corrected twice, the latest wins."""
    latest: dict[str, tuple[str, str, str]] = {}
    for row in db.session.execute(select(LabelCorrection).order_by(LabelCorrection.id)).scalars():
        latest[row.text] = (row.text, row.category, row.emotion)
    return labelled_set(list(latest.values()))


def resolve_artifact_path(artifact_path: str) -> Path:
    """Return an artifact's path; a relative one is read from the instance folder."""
    path = Path(artifact_path)
    return path if path.is_absolute() else Path(current_app.config["INSTANCE_DIR"]) / path


def get_predictor() -> Predictor:
    """Return this process's predictor for the active version, loading it once per version.

    Raises NoActiveModel, ArtifactMissing or ArtifactCorrupt with what to do about it.
    """
    model = active_model()
    if model is None:
        raise NoActiveModel("no classifier model is active; train one with `flask --app wsgi ml train`")
    threshold = float(current_app.config.get(THRESHOLD_KEY, DEFAULT_THRESHOLD))
    path, sha256, version = resolve_artifact_path(model.artifact_path), model.artifact_sha256, model.version
    return _predictors.get((model.id, version, sha256, threshold), lambda: Predictor(
        load_artifact(path, sha256), threshold=threshold, version=version))


def prediction_payload(prediction: Prediction, model_version: int | None) -> dict[str, Any]:
    """Return a prediction as the JSON-serialisable dict that processes receive."""
    return {
        "category": prediction.category,
        "category_confidence": prediction.category_confidence,
        "top3": [{"code": code, "confidence": p} for code, p in prediction.top3],
        "emotion": prediction.emotion,
        "emotion_confidence": prediction.emotion_confidence,
        "needs_triage": prediction.needs_triage,
        "triage_reason": prediction.triage_reason,
        "customer_category": prediction.customer_category,
        "disagrees_with_customer": prediction.disagrees_with_customer,
        "model_version": model_version,
    }


def classify_operator(call: ServiceCall) -> dict[str, Any]:
    """Service-task operator `classify`: params ``text`` and optional ``chosen_category``."""
    text = call.params.get("text")
    if not isinstance(text, str):
        raise ServiceError("classify needs a `text` parameter holding the complaint text", code="invalid_input")
    try:
        predictor = get_predictor()
        prediction = predictor.predict(text, call.params.get("chosen_category") or None)
    except UnknownLabel as error:
        raise ServiceError(error.message, code="invalid_input") from None
    except ClassificationError as error:
        raise ServiceError(error.message, code="classifier_unavailable") from None
    return prediction_payload(prediction, predictor.version)


def register_operators(registry: OperatorRegistry) -> None:
    """Register the classification operators with the engine's registry."""
    registry.register("classify", classify_operator, parameters=("text", "chosen_category"),
                      description="Classify complaint text: category, emotion, confidence, triage flag")
