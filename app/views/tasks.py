"""The agent workspace: task lists, the task page, claiming, and the supervisor view."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from app.errors import TaskClaimedByOther, ValidationFailed
from app.runtime import get_runtime
from app.services import refund_limits, staff, task_claims, task_lists, task_page, task_work
from app.services.uow import run_command
from app.views.access import referring_page, role_required
from app.views.admin import parse_moment

bp = Blueprint("tasks", __name__, url_prefix="/tasks")
STAFF = ("agent", "expert", "qa", "supervisor", "finance")


def _who() -> staff.Identity:
    return staff.identity(current_user, now=get_runtime().clock.now())


@bp.get("")
@role_required(*STAFF)
def index() -> str:
    """Show one task list with its filters; htmx refreshes the rows in place."""
    query = task_lists.TaskQuery.from_args(request.args)
    page = task_lists.list_tasks(_who(), query)
    template = "tasks/_rows.html" if request.headers.get("HX-Request") else "tasks/index.html"
    return render_template(template, page=page, query=query, now=get_runtime().clock.now(),
                           customer_names=task_lists.customer_names(page.rows),
                           sla_state=task_lists.sla_state, priorities=task_lists.PRIORITY_NAMES,
                           lists=task_lists.LISTS, choices=task_lists.filter_choices())


@bp.get("/<task_id>")
@role_required(*STAFF)
def show(task_id: str) -> str:
    """Show a task with its complaint, timeline, form, reply templates and comments."""
    who, now, task = _who(), get_runtime().clock.now(), task_claims.get_task(task_id)
    task_claims.ensure_may_view(who, task)
    context = task_page.page_context(task, who=who, now=now)
    chosen = next((t for t in context["templates"] if str(t.id) == request.args.get("template")), None)
    reply = task_page.fill_template(chosen, context["values"]) if chosen else ""
    return render_template("tasks/show.html", who=who, now=now, errors={}, submitted={"reply": reply},
                           sla_state=task_lists.sla_state, **context)


@bp.get("/<task_id>/reply-template")
@role_required(*STAFF)
def reply_template(task_id: str) -> Response:
    """Return a reply template filled in for this task as JSON (the page inserts it without a reload)."""
    who, now, task = _who(), get_runtime().clock.now(), task_claims.get_task(task_id)
    task_claims.ensure_may_work(who, task)
    template, text = task_page.reply_from_template(task, request.args.get("template", ""), now=now)
    response = jsonify({"template_id": template.id, "name": template.name, "text": text})
    response.headers["Cache-Control"] = "no-store"  # the customer's name and order: not for shared caches
    return response


@bp.post("/<task_id>/complete")
@role_required(*STAFF)
def complete(task_id: str) -> Response | tuple[str, int]:
    """Submit the task's form; wrong fields come back with a message each."""
    who, now, task = _who(), get_runtime().clock.now(), task_claims.get_task(task_id)
    data = task_page.parse_submission(task_work.task_form(task), request.form.to_dict())
    try:
        refund_limits.check_refund_form(task, data, now=now)
        run_command(lambda: task_claims.complete(task_id, data, who=who, now=now))
    except ValidationFailed as error:
        context = task_page.page_context(task, who=who, now=now)
        flash(error.message)
        return render_template("tasks/show.html", who=who, now=now, errors=error.fields,
                               submitted=request.form, sla_state=task_lists.sla_state, **context), 422
    flash("已完成 Done: the task is completed.")
    return redirect(url_for("tasks.index", list="mine"))


@bp.post("/<task_id>/claim")
@role_required(*STAFF)
def claim(task_id: str) -> Response:
    """Claim the task (one of several concurrent claims wins; the others see who did on the task page)."""
    who, now = _who(), get_runtime().clock.now()
    try:
        run_command(lambda: task_claims.claim(task_id, who=who, now=now))
    except TaskClaimedByOther as error:
        flash(f"任务已被他人认领: {error.message}")
    return redirect(url_for("tasks.show", task_id=task_id))


@bp.post("/<task_id>/unclaim")
@role_required(*STAFF)
def unclaim(task_id: str) -> Response:
    """Give the task back to its group."""
    who, now = _who(), get_runtime().clock.now()
    run_command(lambda: task_claims.unclaim(task_id, who=who, now=now))
    flash("已退回组队列 The task is back in its group's queue.")
    return redirect(url_for("tasks.index", list="queue"))


@bp.post("/<task_id>/reassign")
@role_required("supervisor")
def reassign(task_id: str) -> Response:
    """Give the task to another staff member."""
    who, now, target = _who(), get_runtime().clock.now(), request.form.get("username", "")
    run_command(lambda: task_claims.reassign(task_id, target, who=who, now=now))
    flash(f"已转派给 {target} Reassigned to {target}.")
    return redirect(referring_page() or url_for("tasks.supervisor"))


@bp.post("/<task_id>/comment")
@role_required(*STAFF)
def comment(task_id: str) -> Response:
    """Add an internal comment to the task's complaint."""
    who, now, task = _who(), get_runtime().clock.now(), task_claims.get_task(task_id)
    task_claims.ensure_may_view(who, task)
    run_command(lambda: task_page.add_comment(task.instance_id, request.form.get("body", ""),
                                              author=who.username, now=now))
    return redirect(url_for("tasks.show", task_id=task_id))


@bp.post("/<task_id>/correct")
@role_required(*STAFF)
def correct(task_id: str) -> Response:
    """Record the right category and emotion for the complaint (feeds retraining)."""
    who, now, task = _who(), get_runtime().clock.now(), task_claims.get_task(task_id)
    task_claims.ensure_may_work(who, task)
    run_command(lambda: task_page.correct_classification(
        task, request.form.get("category", ""), request.form.get("emotion", ""), who=who, now=now))
    flash("谢谢，更正已保存，用于下次训练 Thank you: the correction is stored for the next training run.")
    return redirect(url_for("tasks.show", task_id=task_id))


@bp.get("/supervisor")
@role_required("supervisor")
def supervisor() -> str:
    """Show SLA breaches, near-breaches (within the chosen window) and the workload per agent and group."""
    now = get_runtime().clock.now()
    near, windows = task_lists.near_breach_minutes(request.args.get("near"),
                                                   configured=current_app.config["SLA_NEAR_BREACH_MINUTES"])
    overview = task_lists.supervisor_overview(now=now, near=timedelta(minutes=near))
    return render_template("tasks/supervisor.html", overview=overview, now=now, near=near, windows=windows,
                           staff=staff.task_workers(), sla_state=task_lists.sla_state)


@bp.get("/substitutes")
@role_required(*STAFF)
def substitutes() -> str:
    """Show current and past out-of-office substitutes (one's own; every one for supervisors)."""
    now, involving = get_runtime().clock.now(), None if _oversees() else current_user.username
    return render_template("tasks/substitutes.html", now=now, may_cover_others=_oversees(),
                           current=staff.current_substitutions(now=now, involving=involving),
                           past=staff.past_substitutions(now=now, involving=involving), staff=staff.list_staff())


@bp.post("/substitutes")
@role_required(*STAFF)
def add_substitute() -> Response:
    """Arrange a substitute for a time window (agents for their own absence, supervisors for anyone)."""
    form, now = request.form, get_runtime().clock.now()
    starts, ends = parse_moment(form.get("starts_at", ""), "starts_at"), parse_moment(form.get("ends_at", ""), "ends_at")
    run_command(lambda: staff.add_substitution(form.get("absent", ""), form.get("substitute", ""), starts_at=starts,
                                               ends_at=ends, actor=current_user.username, now=now,
                                               may_cover_others=_oversees()))
    flash("Substitute added. 已安排代班")
    return redirect(referring_page() or url_for("tasks.substitutes"))


@bp.post("/substitutes/<int:substitution_id>/end")
@role_required(*STAFF)
def end_substitute(substitution_id: int) -> Response:
    """End a substitution now (or remove it if it has not started)."""
    now = get_runtime().clock.now()
    run_command(lambda: staff.end_substitution(substitution_id, actor=current_user.username,
                                               is_overseer=_oversees(), now=now))
    flash("The substitution has ended; the tasks are back with their owner. 代班已结束")
    return redirect(referring_page() or url_for("tasks.substitutes"))


def _oversees() -> bool:
    return bool(current_user.has_role("supervisor") or current_user.has_role("admin"))
