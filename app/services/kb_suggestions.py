"""Suggestions from the knowledge base: for a customer writing a complaint, and for an agent's task.

Customers get published articles only: archived cases hold other customers' complaints and
replies (personal data), so they never leave the staff side.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from app.extensions import db
from app.models import HumanTask, ProcessInstance, ReplyTemplate
from app.models.complaint import Complaint
from app.services.instance_queries import instance_data
from app.services.kb_search import SearchHit, search, terms

CUSTOMER_LIMIT, TASK_LIMIT, TEXT_MAX = 5, 5, 500


@dataclass(frozen=True)
class TaskSuggestions:
    articles: list[SearchHit]
    cases: list[SearchHit]
    templates: list[ReplyTemplate]


def _min_score(text: str) -> int:
    """A long text must share at least two pieces with a result; a word or two, one."""
    return 2 if len(terms(text)) > 2 else 1


def for_customer(text: str, category: str | None) -> list[SearchHit]:
    """Published articles that may answer what the customer is typing (never cases)."""
    text = (text or "")[:TEXT_MAX]
    return search(text, boost_category=category or None, kinds=("article",), published_only=True,
                  limit=CUSTOMER_LIMIT, min_score=_min_score(text))


def _complaint_text(task: HumanTask, complaint: Complaint | None, now: datetime) -> str:
    """The complaint's text: the stored complaint, else the instance's ``text`` (API-started cases)."""
    if complaint is not None:
        return complaint.description
    instance = db.session.get(ProcessInstance, task.instance_id)
    data = instance_data(instance, now=now) if instance else {}
    return str(data.get("text") or task.title)


def for_task(task: HumanTask, *, now: datetime) -> TaskSuggestions:
    """Articles, similar closed cases and reply templates for a task's complaint text and category."""
    complaint = db.session.execute(select(Complaint).where(Complaint.instance_id == task.instance_id)
                                   ).scalar_one_or_none()
    text = _complaint_text(task, complaint, now)[:TEXT_MAX]
    category = task.category or (complaint.category if complaint else None)
    articles = search(text, boost_category=category, kinds=("article",), limit=TASK_LIMIT, min_score=_min_score(text))
    own = complaint.reference if complaint else task.complaint_ref
    cases = [hit for hit in search(text, boost_category=category, kinds=("case",), published_only=False,
                                   limit=TASK_LIMIT + 1, min_score=_min_score(text))
             if not own or not hit.title.startswith(f"{own} ")][:TASK_LIMIT]
    templates = list(db.session.execute(select(ReplyTemplate).where(
        ReplyTemplate.archived_at.is_(None),
        ReplyTemplate.category.is_(None) | (ReplyTemplate.category == category)).order_by(ReplyTemplate.name)
        ).scalars())
    return TaskSuggestions(articles, cases, templates)
