"""The landing page and the health check."""
from __future__ import annotations

from flask import Blueprint, jsonify, render_template
from sqlalchemy import func, select, text

from app.extensions import db
from app.models import HumanTask, Job, JobStatus, ProcessDefinition, ProcessInstance, TaskStatus

bp = Blueprint("main", __name__)


@bp.get("/")
def index() -> str:
    """Show what is deployed and how much work is open."""
    summary = {
        "definitions": db.session.execute(select(func.count(ProcessDefinition.id))).scalar(),
        "instances": db.session.execute(select(func.count(ProcessInstance.id))).scalar(),
        "open_tasks": db.session.execute(select(func.count(HumanTask.id))
                                         .where(HumanTask.status == TaskStatus.OPEN.value)).scalar(),
        "queued_jobs": db.session.execute(select(func.count(Job.id))
                                          .where(Job.status == JobStatus.QUEUED.value)).scalar(),
    }
    latest = db.session.execute(select(ProcessDefinition).order_by(ProcessDefinition.version.desc())
                                .limit(1)).scalar_one_or_none()
    return render_template("index.html", summary=summary, latest=latest)


@bp.get("/health")
def health():  # type: ignore[no-untyped-def]
    """Answer 200 when the database answers."""
    db.session.execute(text("SELECT 1"))
    return jsonify(status="ok")
