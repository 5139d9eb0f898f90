"""`flask ml train|evaluate|status`: the complaint classifier's lifecycle."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, NoReturn

import click
from flask import current_app
from flask.cli import AppGroup

from app.classification.dataset import load_dataset
from app.classification.errors import ArtifactError, ClassificationError, DatasetError, NoActiveModel
from app.extensions import db
from app.runtime import get_runtime
from app.services import classification

cli = AppGroup("ml", help="Train, evaluate and inspect the complaint classifier.")


def _fail(message: str, code: int) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


@cli.command("train")
@click.option("--data", "data_csv", default=None, metavar="CSV",
              help="Labelled CSV (id,text,category,emotion); the shipped seed by default.")
@click.option("--with-corrections", is_flag=True, help="Add the labels agents corrected.")
@click.option("--if-missing", is_flag=True, help="Do nothing when an active model exists.")
def train_command(data_csv: str | None, with_corrections: bool, if_missing: bool) -> None:
    """Train, cross-validate and register a model version; activate it if it is good enough."""
    if if_missing and _active_model_loads():
        click.echo(f"model v{classification.get_predictor().version} is active; nothing to do")
        return
    try:
        model = classification.train_and_register(
            data_csv or classification.SEED_DATA, with_corrections=with_corrections,
            now=get_runtime().clock.now(), models_dir=classification.models_dir(current_app.config["INSTANCE_DIR"]))
        db.session.commit()
    except DatasetError as error:
        db.session.rollback()
        _fail(error.message, 2)
    except ClassificationError as error:
        db.session.rollback()
        _fail(error.message, 1)
    _echo_trained(model.version, model.metrics, model.notes or "")


def _active_model_loads() -> bool:
    try:
        classification.get_predictor()
    except NoActiveModel:
        return False
    except ArtifactError as error:
        click.echo(f"warning: {error.message}; training a new version", err=True)
        return False
    return True


def _echo_trained(version: int, metrics: dict[str, Any], notes: str) -> None:
    cv, baseline = metrics["cross_validation"], metrics["baseline"]
    click.echo(f"model v{version}: {metrics['rows']} rows + {metrics['extra_rows']} corrections; {notes}")
    for task in ("category", "emotion"):
        click.echo(f"  {task:<9} {cv['folds']}-fold CV accuracy {cv[task]['accuracy']:.3f} "
                   f"macro-F1 {cv[task]['macro_f1']:.3f}   keyword baseline accuracy "
                   f"{baseline[task]['accuracy']:.3f} macro-F1 {baseline[task]['macro_f1']:.3f}")


@cli.command("evaluate")
@click.option("--data", "data_csv", required=True, metavar="CSV", help="Labelled CSV (id,text,category,emotion).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def evaluate_command(data_csv: str, as_json: bool) -> None:
    """Score the active model and the keyword baseline on a labelled CSV."""
    from app.classification.evaluation import evaluate_labelled_set

    try:
        data = load_dataset(Path(data_csv))
    except DatasetError as error:
        _fail(error.message, 2)
    try:
        predictor = classification.get_predictor()
    except ClassificationError as error:
        _fail(error.message, 1)
    result = evaluate_labelled_set(predictor.bundle, data)
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False))
        return
    _echo_evaluation(predictor.version, result)


def _echo_evaluation(version: int | None, result: dict[str, Any]) -> None:
    click.echo(f"model v{version} on {result['rows']} rows (keyword baseline in brackets)")
    for task in ("category", "emotion"):
        model, baseline = result[task], result["baseline"][task]
        click.echo(f"\n{task}: accuracy {model['accuracy']:.3f} [{baseline['accuracy']:.3f}]  "
                   f"macro-F1 {model['macro_f1']:.3f} [{baseline['macro_f1']:.3f}]")
        click.echo(f"  {'label':<26}{'precision':>10}{'recall':>8}{'f1':>7}{'support':>9}")
        for label, row in model["per_class"].items():
            click.echo(f"  {label:<26}{row['precision']:>10.3f}{row['recall']:>8.3f}{row['f1']:>7.3f}"
                       f"{row['support']:>9}")


@cli.command("status")
def status_command() -> None:
    """Show the active model version and check that its artifact loads."""
    model = classification.active_model()
    try:
        predictor = classification.get_predictor()
    except ClassificationError as error:
        _fail(error.message, 1)
    assert model is not None, "get_predictor raises NoActiveModel when no version is active"
    cv = model.metrics["cross_validation"]
    click.echo(f"model v{model.version} active, trained {model.trained_at:%Y-%m-%d %H:%M} UTC on "
               f"{model.metrics['rows']} rows + {model.metrics['extra_rows']} corrections; "
               f"CV category macro-F1 {cv['category']['macro_f1']:.3f}, emotion {cv['emotion']['macro_f1']:.3f}; "
               f"triage below confidence {predictor.threshold}")
