"""The classifier registry, corrections, the `classify` operator and `flask ml`, on each database."""
from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable, Iterator

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.classification import training
from app.classification.dataset import LabelledSet, load_dataset
from app.classification.errors import ArtifactCorrupt, ArtifactMissing, NoActiveModel
from app.classification.taxonomy import CATEGORY_CODES
from app.clock import FrozenClock
from app.commands import ml
from app.errors import ValidationFailed
from app.extensions import db
from app.models import ClassifierModel, LabelCorrection
from app.services import classification
from workflows.services import OperatorRegistry, ServiceError

SEED = classification.SEED_DATA
HEADER = "id,text,category,emotion\n"
MetricsEdit = Callable[[dict[str, Any]], None]


@dataclass
class FakeTraining:
    """Each call to training.train: its arguments; and edits applied to the metrics it returns."""

    calls: list[dict[str, Any]] = field(default_factory=list)
    edits: list[MetricsEdit] = field(default_factory=list)


@pytest.fixture(scope="module")
def seed_result() -> training.TrainingResult:
    """The seed model, trained once for the module, as `ml train` trains it."""
    return training.train(load_dataset(SEED), config=training.TrainingConfig())


@pytest.fixture(autouse=True)
def fresh_predictor_cache() -> Iterator[None]:
    # Versions and ids repeat from test to test (each rolls back): start every test cold.
    classification._predictors.clear()
    yield
    classification._predictors.clear()


@pytest.fixture
def ml_cli(app: Flask, cli_runner: Any) -> Any:
    """The CLI runner with the `ml` group registered (idempotent on the shared app)."""
    if "ml" not in app.cli.commands:
        app.cli.add_command(ml.cli)
    return cli_runner


@pytest.fixture
def models_dir(tmp_path: Path) -> Path:
    return tmp_path / "models"


@pytest.fixture
def fake_training(monkeypatch: pytest.MonkeyPatch, seed_result: training.TrainingResult) -> FakeTraining:
    """Make training return the module's seed result (metrics edited as a test says); record calls."""
    fake = FakeTraining()

    def fake_train(data: LabelledSet, *, extra: LabelledSet | None = None,
                   config: training.TrainingConfig | None = None) -> training.TrainingResult:
        fake.calls.append({"rows": len(data), "extra": extra})
        metrics = copy.deepcopy(seed_result.metrics)
        for edit in fake.edits:
            edit(metrics)
        return training.TrainingResult(seed_result.bundle, metrics)

    monkeypatch.setattr(training, "train", fake_train)
    return fake


def _register(clock: FrozenClock, models_dir: Path, *, with_corrections: bool = False) -> ClassifierModel:
    return classification.train_and_register(SEED, with_corrections=with_corrections, now=clock.now(),
                                             models_dir=models_dir)


def _versions() -> list[tuple[int, bool, bool]]:
    rows = db.session.execute(select(ClassifierModel).order_by(ClassifierModel.version)).scalars()
    return [(m.version, m.is_active, m.passed) for m in rows]


# --- the registry -----------------------------------------------------------------------------

def test_ml_train_registers_an_active_version_that_reproduces_its_metrics(
        app: Flask, db_session: Any, ml_cli: Any, clock: FrozenClock,
        seed_result: training.TrainingResult) -> None:
    result = ml_cli.invoke(args=["ml", "train"])
    assert result.exit_code == 0, result.output
    assert "model v1: 2000 rows + 0 corrections; activated" in result.output
    model = classification.active_model()
    assert model is not None and (model.version, model.passed) == (1, True)
    assert model.metrics == seed_result.metrics  # same data, same random_state, same figures
    assert model.trained_at == clock.now() and model.trained_at.tzinfo is not None
    artifact = Path(model.artifact_path)
    assert artifact == Path(app.config["INSTANCE_DIR"]) / "models" / "classifier-v1.joblib"
    assert classification.get_predictor().version == 1

    again = ml_cli.invoke(args=["ml", "train", "--if-missing"])
    assert (again.exit_code, again.output.strip()) == (0, "model v1 is active; nothing to do")
    assert _versions() == [(1, True, True)]


def test_the_newest_passing_version_becomes_active(db_session: Any, clock: FrozenClock, models_dir: Path,
                                                   fake_training: FakeTraining) -> None:
    first = _register(clock, models_dir)
    second = _register(clock, models_dir)
    assert _versions() == [(1, False, True), (2, True, True)]
    assert second.notes is not None and second.notes.startswith("activated; held-out score")
    assert Path(first.artifact_path).name == "classifier-v1.joblib"


def test_a_version_that_scores_worse_is_registered_but_not_activated(
        db_session: Any, clock: FrozenClock, models_dir: Path, fake_training: FakeTraining) -> None:
    _register(clock, models_dir)
    fake_training.edits.append(lambda m: m["holdout"].update(score=m["holdout"]["score"] - 0.01))
    worse = _register(clock, models_dir)
    assert _versions() == [(1, True, True), (2, False, True)]
    assert worse.notes is not None and "not activated: scores worse than the active version" in worse.notes


def test_a_version_that_does_not_beat_the_baseline_is_not_activated(
        db_session: Any, clock: FrozenClock, models_dir: Path, fake_training: FakeTraining) -> None:
    fake_training.edits.append(lambda m: m["cross_validation"]["emotion"].update(macro_f1=0.1))
    model = _register(clock, models_dir)
    assert _versions() == [(1, False, False)]
    assert model.notes == "not activated: cross-validated macro-F1 does not beat the keyword baseline"
    with pytest.raises(NoActiveModel, match="ml train"):
        classification.get_predictor()


def test_a_different_held_out_split_is_compared_by_scoring_the_active_model(
        db_session: Any, clock: FrozenClock, models_dir: Path, fake_training: FakeTraining) -> None:
    _register(clock, models_dir)
    fake_training.edits.append(lambda m: m["holdout"].update(fingerprint="another data set", score=0.0))
    model = _register(clock, models_dir)
    assert _versions() == [(1, True, True), (2, False, True)]
    assert model.notes is not None and "active model scored on this data's held-out rows" in model.notes


def test_the_database_allows_only_one_active_version(db_session: Any, clock: FrozenClock) -> None:
    def row(version: int) -> ClassifierModel:
        return ClassifierModel(version=version, artifact_path="x", artifact_sha256="0" * 64, data_hash="0" * 64,
                               trained_at=clock.now(), metrics={}, is_active=True, passed=True)

    db.session.add(row(1))
    db.session.flush()
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.add(row(2))
        db.session.flush()


def test_an_active_version_must_have_passed(db_session: Any, clock: FrozenClock) -> None:
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.add(ClassifierModel(version=1, artifact_path="x", artifact_sha256="0" * 64, data_hash="0" * 64,
                                       trained_at=clock.now(), metrics={}, is_active=True, passed=False))
        db.session.flush()


# --- corrections ------------------------------------------------------------------------------

def test_a_correction_is_stored_with_who_and_when_and_used_for_retraining(
        db_session: Any, clock: FrozenClock, models_dir: Path, fake_training: FakeTraining) -> None:
    first_at = clock.now()
    classification.record_correction(text="箱子压坏了", category="delivery.damaged", emotion="angry",
                                     corrected_by="agent1", now=first_at, source_ref="complaint:12")
    clock.advance(minutes=5)
    classification.record_correction(text="箱子压坏了", category="delivery.damaged", emotion="dissatisfied",
                                     corrected_by="agent2", now=clock.now())
    stored = db.session.execute(select(LabelCorrection).order_by(LabelCorrection.id)).scalars().all()
    assert [(c.corrected_by, c.source_ref, c.created_at) for c in stored] == [
        ("agent1", "complaint:12", first_at), ("agent2", None, clock.now())]

    _register(clock, models_dir)
    _register(clock, models_dir, with_corrections=True)
    assert fake_training.calls[0]["extra"] is None
    assert fake_training.calls[1]["extra"] == LabelledSet(("箱子压坏了",), ("delivery.damaged",), ("dissatisfied",))


def test_a_correction_with_unknown_codes_is_refused(db_session: Any, clock: FrozenClock) -> None:
    with pytest.raises(ValidationFailed) as caught:
        classification.record_correction(text=" ", category="late", emotion="furious", corrected_by="agent1",
                                         now=clock.now())
    assert set(caught.value.fields) == {"text", "category", "emotion"}
    assert "delivery.late" in caught.value.fields["category"]


def test_ml_train_with_corrections_trains_on_them(db_session: Any, ml_cli: Any, clock: FrozenClock,
                                                  fake_training: FakeTraining) -> None:
    classification.record_correction(text="三天才到", category="delivery.late", emotion="calm",
                                     corrected_by="agent1", now=clock.now())
    result = ml_cli.invoke(args=["ml", "train", "--with-corrections"])
    assert result.exit_code == 0, result.output
    assert len(fake_training.calls[0]["extra"]) == 1


# --- prediction through the registry ----------------------------------------------------------

def test_the_predictor_is_loaded_once_and_reloaded_when_the_active_version_changes(
        db_session: Any, clock: FrozenClock, models_dir: Path, fake_training: FakeTraining) -> None:
    _register(clock, models_dir)
    first = classification.get_predictor()
    assert classification.get_predictor() is first and first.version == 1
    _register(clock, models_dir)
    assert classification.get_predictor().version == 2


def test_the_classify_operator_returns_a_json_ready_prediction(
        app: Flask, db_session: Any, clock: FrozenClock, models_dir: Path, fake_training: FakeTraining) -> None:
    _register(clock, models_dir)
    call = SimpleNamespace(params={"text": "快递太慢了，等了一个星期才送到", "chosen_category": "product.quality"})
    payload = classification.classify_operator(call)  # type: ignore[arg-type]
    assert json.loads(json.dumps(payload)) == payload
    assert set(payload) == {"category", "category_confidence", "top3", "emotion", "emotion_confidence",
                            "needs_triage", "triage_reason", "customer_category", "disagrees_with_customer",
                            "model_version"}
    assert (payload["category"], payload["customer_category"], payload["disagrees_with_customer"]) == (
        "delivery.late", "product.quality", True)
    assert payload["model_version"] == 1 and payload["top3"][0]["code"] == "delivery.late"
    assert all(entry["code"] in CATEGORY_CODES for entry in payload["top3"])


def test_the_classify_operator_reports_what_is_wrong(db_session: Any, clock: FrozenClock, models_dir: Path,
                                                     fake_training: FakeTraining) -> None:
    with pytest.raises(ServiceError, match="no classifier model is active") as caught:
        classification.classify_operator(SimpleNamespace(params={"text": "坏了"}))  # type: ignore[arg-type]
    assert caught.value.code == "classifier_unavailable"
    _register(clock, models_dir)
    for params in ({}, {"text": "坏了", "chosen_category": "broken"}):
        with pytest.raises(ServiceError) as caught:
            classification.classify_operator(SimpleNamespace(params=params))  # type: ignore[arg-type]
        assert caught.value.code == "invalid_input"


def test_the_operator_is_registered_with_its_parameters() -> None:
    registry = OperatorRegistry()
    classification.register_operators(registry)
    assert registry.get("classify").parameters == ("text", "chosen_category")


def test_a_missing_or_changed_artifact_is_a_clear_error_not_a_crash(
        db_session: Any, ml_cli: Any, clock: FrozenClock, models_dir: Path, fake_training: FakeTraining) -> None:
    model = _register(clock, models_dir)
    path = Path(model.artifact_path)
    path.write_bytes(path.read_bytes() + b"tampered")
    with pytest.raises(ArtifactCorrupt, match="does not match the sha256"):
        classification.get_predictor()
    path.unlink()
    with pytest.raises(ArtifactMissing, match="does not exist"):
        classification.get_predictor()
    result = ml_cli.invoke(args=["ml", "status"])
    assert result.exit_code == 1 and "does not exist; retrain with `flask --app wsgi ml train`" in result.output
    healed = ml_cli.invoke(args=["ml", "train", "--if-missing"])
    assert healed.exit_code == 0 and "does not exist" in healed.output and "model v2:" in healed.output
    assert _versions() == [(1, False, True), (2, True, True)]


# --- ml evaluate ------------------------------------------------------------------------------

def test_ml_evaluate_prints_one_json_object(db_session: Any, ml_cli: Any, clock: FrozenClock, models_dir: Path,
                                            fake_training: FakeTraining, tmp_path: Path) -> None:
    _register(clock, models_dir)
    rows = SEED.read_text(encoding="utf-8").splitlines()[:41]
    data = tmp_path / "sample.csv"
    data.write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = ml_cli.invoke(args=["ml", "evaluate", "--data", str(data), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert set(report) == {"category", "emotion", "baseline", "rows"} and report["rows"] == 40
    for scored in (report["category"], report["emotion"], report["baseline"]["category"]):
        assert set(scored) == {"accuracy", "macro_f1", "per_class", "confusion"}
    plain = ml_cli.invoke(args=["ml", "evaluate", "--data", str(data)])
    assert plain.exit_code == 0 and "macro-F1" in plain.output


@pytest.mark.parametrize(("content", "message"), [
    ("id,text,emotion\n1,坏了,calm\n", "missing column(s) category"),
    (HEADER + "1,坏了,product.broken,calm\n", "line 2: unknown category 'product.broken'"),
    (HEADER + "1,,other,calm\n", "line 2: empty text"),
])
def test_ml_evaluate_and_train_refuse_a_malformed_csv_with_exit_2(
        db_session: Any, ml_cli: Any, tmp_path: Path, content: str, message: str) -> None:
    data = tmp_path / "bad.csv"
    data.write_text(content, encoding="utf-8")
    for command in ("evaluate", "train"):
        result = ml_cli.invoke(args=["ml", command, "--data", str(data)])
        assert result.exit_code == 2 and message in result.output, result.output
    assert _versions() == []


def test_ml_evaluate_without_a_model_says_how_to_get_one(db_session: Any, ml_cli: Any) -> None:
    result = ml_cli.invoke(args=["ml", "evaluate", "--data", str(SEED), "--json"])
    assert result.exit_code == 1 and "train one with `flask --app wsgi ml train`" in result.output
