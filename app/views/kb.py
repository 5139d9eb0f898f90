"""The knowledge base (/kb): search, articles and reply templates (managed by supervisors), archived
cases, and the suggestions shown on the task page and the customer's complaint form."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from app.classification.taxonomy import CATEGORIES, is_category
from app.errors import NotAuthenticated, ValidationFailed
from app.extensions import limiter
from app.runtime import get_runtime
from app.services import kb_suggestions, knowledge, staff, task_claims, task_work
from app.services.kb_search import KINDS, search
from app.services.uow import run_command
from app.views.access import role_required
from app.views.customer_access import current_customer, security_headers

bp = Blueprint("kb", __name__, url_prefix="/kb")
STAFF = ("agent", "expert", "qa", "supervisor", "finance")
ARTICLE_FIELDS = ("title", "body", "category", "tags", "language", "status")
TEMPLATE_FIELDS = ("name", "category", "language", "body")


def _is_editor() -> bool:
    return current_user.has_role("supervisor")


def _render(page: str, status: int = 200, /, **context: Any) -> tuple[str, int]:
    return render_template(page, categories=CATEGORIES, is_editor=_is_editor(), **context), status


@bp.get("")
@role_required(*STAFF)
def index() -> tuple[str, int]:
    """Search articles and cases; without a query, the newest published articles."""
    query, category = request.args.get("q", "").strip(), request.args.get("category") or None
    kinds = (request.args["kind"],) if request.args.get("kind") in KINDS else KINDS
    hits = search(query, category=category, kinds=kinds, limit=50) if query else []
    return _render("kb/index.html", query=query, category=category, kind=request.args.get("kind", ""), hits=hits,
                   latest=[] if query else knowledge.list_articles(status="published", limit=20))


@bp.get("/articles")
@role_required(*STAFF)
def articles() -> tuple[str, int]:
    """All articles; editors see drafts and archived ones too."""
    status = request.args.get("status") if _is_editor() else "published"
    return _render("kb/articles.html", articles=knowledge.list_articles(status=status), status=status or "")


@bp.get("/articles/new")
@role_required("supervisor")
def new_article() -> tuple[str, int]:
    return _render("kb/article_form.html", article=None, values={"language": "zh", "status": "draft"}, errors={})


@bp.post("/articles")
@role_required("supervisor")
def create_article() -> Response | tuple[str, int]:
    """Create an article; wrong fields come back with a message each."""
    try:
        data = knowledge.ArticleInput.from_form(request.form)
    except ValidationFailed as error:
        return _render("kb/article_form.html", 422, article=None, values=request.form, errors=error.fields)
    now = get_runtime().clock.now()
    article = run_command(lambda: knowledge.create_article(data, actor=current_user.username, now=now))
    flash("已保存 Saved.")
    return redirect(url_for("kb.show_article", article_id=article.id))


@bp.get("/articles/<int:article_id>")
@role_required(*STAFF)
def show_article(article_id: int) -> tuple[str, int]:
    return _render("kb/article.html", article=knowledge.get_article(article_id, published_only=not _is_editor()))


@bp.get("/articles/<int:article_id>/edit")
@role_required("supervisor")
def edit_article(article_id: int) -> tuple[str, int]:
    article = knowledge.get_article(article_id)
    return _render("kb/article_form.html", article=article, values=knowledge.form_values(article, ARTICLE_FIELDS),
                   errors={})


@bp.post("/articles/<int:article_id>")
@role_required("supervisor")
def update_article(article_id: int) -> Response | tuple[str, int]:
    article = knowledge.get_article(article_id)
    try:
        data = knowledge.ArticleInput.from_form(request.form)
    except ValidationFailed as error:
        return _render("kb/article_form.html", 422, article=article, values=request.form, errors=error.fields)
    now = get_runtime().clock.now()
    run_command(lambda: knowledge.update_article(article_id, data, actor=current_user.username, now=now))
    flash("已保存 Saved.")
    return redirect(url_for("kb.show_article", article_id=article_id))


@bp.post("/articles/<int:article_id>/archive")
@role_required("supervisor")
def archive_article(article_id: int) -> Response:
    now = get_runtime().clock.now()
    run_command(lambda: knowledge.archive_article(article_id, actor=current_user.username, now=now))
    flash("已归档：不再出现在搜索和推荐中 Archived: no longer searched or suggested.")
    return redirect(url_for("kb.show_article", article_id=article_id))


@bp.get("/templates")
@role_required(*STAFF)
def templates() -> tuple[str, int]:
    return _render("kb/templates.html", templates=knowledge.list_templates(include_archived=_is_editor()))


@bp.get("/templates/new")
@role_required("supervisor")
def new_template() -> tuple[str, int]:
    return _render("kb/template_form.html", template=None, values={"language": "zh"}, errors={})


@bp.post("/templates")
@role_required("supervisor")
def create_template() -> Response | tuple[str, int]:
    try:
        data = knowledge.TemplateInput.from_form(request.form)
        now = get_runtime().clock.now()
        run_command(lambda: knowledge.create_template(data, actor=current_user.username, now=now))
    except ValidationFailed as error:
        return _render("kb/template_form.html", 422, template=None, values=request.form, errors=error.fields)
    flash("模板已保存 Template saved.")
    return redirect(url_for("kb.templates"))


@bp.get("/templates/<int:template_id>/edit")
@role_required("supervisor")
def edit_template(template_id: int) -> tuple[str, int]:
    template = knowledge.get_template(template_id)
    return _render("kb/template_form.html", template=template,
                   values=knowledge.form_values(template, TEMPLATE_FIELDS), errors={})


@bp.post("/templates/<int:template_id>")
@role_required("supervisor")
def update_template(template_id: int) -> Response | tuple[str, int]:
    template = knowledge.get_template(template_id)
    try:
        data = knowledge.TemplateInput.from_form(request.form)
        now = get_runtime().clock.now()
        run_command(lambda: knowledge.update_template(template_id, data, actor=current_user.username, now=now))
    except ValidationFailed as error:
        return _render("kb/template_form.html", 422, template=template, values=request.form, errors=error.fields)
    flash("模板已保存 Template saved.")
    return redirect(url_for("kb.templates"))


@bp.post("/templates/<int:template_id>/archive")
@role_required("supervisor")
def archive_template(template_id: int) -> Response:
    now = get_runtime().clock.now()
    run_command(lambda: knowledge.archive_template(template_id, actor=current_user.username, now=now))
    flash("模板已归档，任务页不再提供 Template archived: no longer offered on tasks.")
    return redirect(url_for("kb.templates"))


@bp.get("/cases")
@role_required(*STAFF)
def cases() -> tuple[str, int]:
    """Archived cases, newest first, or those matching ?q=."""
    query, category = request.args.get("q", "").strip(), request.args.get("category") or None
    hits = search(query, category=category, kinds=("case",), limit=100) if query else []
    return _render("kb/cases.html", query=query, category=category, hits=hits,
                   cases=[] if query else knowledge.list_cases(category=category))


@bp.get("/cases/<int:case_id>")
@role_required(*STAFF)
def show_case(case_id: int) -> tuple[str, int]:
    case = knowledge.get_case(case_id)
    satisfied, rating = knowledge.case_rating(case)
    return _render("kb/case.html", case=case, satisfied=satisfied, rating=rating)


@bp.get("/suggest/task/<task_id>")
@role_required(*STAFF)
def task_suggestions(task_id: str) -> tuple[str, int]:
    """The task page's suggestion block (articles, similar cases, templates), loaded by htmx."""
    task, now = task_work.get_task(task_id), get_runtime().clock.now()
    task_claims.ensure_may_work(staff.identity(current_user, now=now), task)
    return _render("kb/_task_suggestions.html", task=task, suggestions=kb_suggestions.for_task(task, now=now))


# The customer side: its own blueprint so that it carries the portal's security headers.
help_bp = Blueprint("kb_help", __name__, url_prefix="/kb")
help_bp.after_request(security_headers)


@help_bp.get("/suggestions")
@limiter.limit("60/minute")
def customer_suggestions() -> Response | tuple[Response, int]:
    """Published articles for what a signed-in customer types into the complaint form (JSON)."""
    if current_customer() is None:   # an RFC 9457 problem, as every JSON error
        problem = jsonify(NotAuthenticated("sign in first to get suggestions").to_problem())
        problem.mimetype = "application/problem+json"
        return problem, 401
    category = request.args.get("category")
    hits = kb_suggestions.for_customer(request.args.get("q", ""), category if is_category(category) else None)
    return jsonify({"articles": [{"id": h.id, "title": h.title, "excerpt": h.excerpt,
                                  "url": url_for("kb_help.help_article", article_id=h.id)} for h in hits]})


@help_bp.get("/help/<int:article_id>")
def help_article(article_id: int) -> Response | str:
    """A published article as customers read it (linked from the suggestions)."""
    if current_customer() is None:
        return redirect(url_for("portal.sign_in_page", next=request.full_path.rstrip("?")))
    return render_template("kb/help_article.html", article=knowledge.get_article(article_id, published_only=True))
