"""The landing page, the health check, and the label and time filters every template shares."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, render_template
from flask_login import current_user
from sqlalchemy import text

from app.extensions import db
from app.services import instance_queries, labels, shop_time

bp = Blueprint("main", __name__)

_TASK_ROLES = ("agent", "expert", "qa", "supervisor", "finance")

# The staff sections in top-bar order: (endpoint, label, roles that may open it). The roles
# mirror each view's ``role_required`` so the bar never shows a link that answers 403.
STAFF_SECTIONS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("tasks.index", "Tasks 任务", _TASK_ROLES),
    ("tasks.supervisor", "Team 团队", ("supervisor",)),
    ("dashboard.index", "Dashboard 看板", ("supervisor", "analyst", "finance")),
    ("alerts.index", "Alerts 预警", ("supervisor",)),
    ("outbox.index", "Outbox 发件箱", ("supervisor",)),
    ("refunds.index", "Refunds 退款", ("finance",)),
    ("kb.index", "Knowledge base 知识库", _TASK_ROLES),
    ("studio.index", "Studio 流程设计", ("analyst",)),
    ("audit.index", "Audit 审计", ("auditor",)),
    ("customer_devices.index", "Customer devices 客户设备", ("supervisor",)),
    ("admin.users", "Users 用户", ("admin",)),
)


@bp.app_template_global()
def staff_sections(user: Any) -> list[tuple[str, str]]:
    """The (endpoint, label) pairs of the staff pages ``user`` may open (admins: all of them)."""
    if not getattr(user, "is_authenticated", False) or not hasattr(user, "has_role"):
        return []
    return [(endpoint, label) for endpoint, label, roles in STAFF_SECTIONS
            if any(user.has_role(role) for role in roles)]


# Codes as words in every template: {{ t.category|category_label }}, {{ e.type|event_words }}.
bp.add_app_template_filter(labels.category_label, "category_label")
bp.add_app_template_filter(labels.emotion_label, "emotion_label")
bp.add_app_template_filter(labels.event_words, "event_words")
# Times on the shop's wall clock (staff and customer pages alike): {{ t.due_at|shop_time }} ({{ shop_zone_label() }}).
bp.add_app_template_filter(shop_time.shop_time, "shop_time")
bp.add_app_template_global(shop_time.shop_zone_label, "shop_zone_label")


@bp.get("/")
def index() -> str:
    """Signed-in staff: what is deployed and how much work is open; anyone else: the two doors."""
    if not (current_user.is_authenticated and hasattr(current_user, "has_role")):
        return render_template("index.html", summary=None, latest=None)
    summary, latest = instance_queries.system_summary()
    return render_template("index.html", summary=summary, latest=latest)


@bp.get("/health")
def health():  # type: ignore[no-untyped-def]
    """Answer 200 when the database answers."""
    db.session.execute(text("SELECT 1"))
    return jsonify(status="ok")
