"""The knowledge base: solution articles and reply templates managed by supervisors, archived cases.

Articles and templates are validated here (one message per field), written with who and when,
and archived rather than deleted: an archived article leaves search and suggestions, an archived
template is no longer offered on the task page.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping

from sqlalchemy import select

from app.classification.taxonomy import is_category
from app.errors import Conflict, NotFound, ValidationFailed
from app.extensions import db
from app.models import ReplyTemplate
from app.models.complaint import Complaint
from app.models.knowledge import ARTICLE_LANGUAGES, ARTICLE_STATUSES, KbArticle, KnowledgeCase

TEMPLATE_VARIABLES = ("customer_name", "order_ref", "amount")
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
TITLE_MAX, BODY_MAX, TAGS_MAX, NAME_MAX = 200, 20_000, 255, 120


@dataclass(frozen=True)
class ArticleInput:
    title: str
    body: str
    category: str | None
    tags: str
    language: str
    status: str

    @classmethod
    def from_form(cls, form: Mapping[str, str]) -> ArticleInput:
        """Validate an article form; raise ValidationFailed with one message per wrong field."""
        title, body = (form.get("title") or "").strip(), (form.get("body") or "").strip()
        tags = ",".join(t.strip() for t in (form.get("tags") or "").replace("，", ",").split(",") if t.strip())
        data = cls(title, body, (form.get("category") or "").strip() or None, tags,
                   (form.get("language") or "").strip(), (form.get("status") or "draft").strip())
        errors = _text_errors("title", title, TITLE_MAX, "标题 title") | _text_errors("body", body, BODY_MAX, "正文 body")
        errors |= _category_errors(data.category)
        if len(tags) > TAGS_MAX:
            errors["tags"] = f"标签太长：最多 {TAGS_MAX} 个字符 / tags: at most {TAGS_MAX} characters"
        if data.language not in ARTICLE_LANGUAGES:
            errors["language"] = "请选择语言 zh 或 en / choose the language: zh or en"
        if data.status not in ("draft", "published"):
            errors["status"] = "状态只能是草稿或发布 / status must be draft or published"
        if errors:
            raise ValidationFailed("请修正标出的字段 / please correct the marked fields", errors)
        return data


@dataclass(frozen=True)
class TemplateInput:
    name: str
    category: str | None
    language: str
    body: str

    @classmethod
    def from_form(cls, form: Mapping[str, str]) -> TemplateInput:
        """Validate a reply-template form; variables other than the known three are refused."""
        data = cls((form.get("name") or "").strip(), (form.get("category") or "").strip() or None,
                   (form.get("language") or "").strip(), (form.get("body") or "").strip())
        errors = _text_errors("name", data.name, NAME_MAX, "名称 name") | _text_errors("body", data.body, BODY_MAX,
                                                                                        "内容 body")
        errors |= _category_errors(data.category)
        if data.language not in ARTICLE_LANGUAGES:
            errors["language"] = "请选择语言 zh 或 en / choose the language: zh or en"
        if "body" not in errors and (problem := template_problem(data.body)):
            errors["body"] = problem
        if errors:
            raise ValidationFailed("请修正标出的字段 / please correct the marked fields", errors)
        return data


def _text_errors(field: str, value: str, limit: int, label: str) -> dict[str, str]:
    if not value:
        return {field: f"请填写{label} / {label.split()[-1]} is required"}
    if len(value) > limit:
        return {field: f"{label}太长：最多 {limit} 个字符 / at most {limit} characters"}
    return {}


def _category_errors(category: str | None) -> dict[str, str]:
    if category is not None and not is_category(category):
        return {"category": f"未知分类 {category}，请从列表中选择 / unknown category: choose one from the list"}
    return {}


def template_problem(body: str) -> str | None:
    """Return what is wrong with a template's variables, or None if it can be filled in.

    The task page replaces ``{customer_name}``, ``{order_ref}`` and ``{amount}`` and leaves every
    other brace as written; a ``{word}`` that is not one of them is almost surely a typo.
    """
    unknown = sorted({name for name in _PLACEHOLDER.findall(body) if name not in TEMPLATE_VARIABLES})
    if unknown:
        return (f"未知变量 {', '.join('{' + n + '}' for n in unknown)}；可用 {{customer_name}}、{{order_ref}}、"
                f"{{amount}} / unknown variable(s): use customer_name, order_ref, amount")
    return None


def create_article(data: ArticleInput, *, actor: str, now: datetime) -> KbArticle:
    """Write a new article (draft or published)."""
    article = KbArticle(title=data.title, body=data.body, category=data.category, tags=data.tags,
                        language=data.language, status=data.status, created_by=actor, created_at=now,
                        updated_by=actor, updated_at=now)
    db.session.add(article)
    db.session.flush()
    return article


def update_article(article_id: int, data: ArticleInput, *, actor: str, now: datetime) -> KbArticle:
    """Change an article that is not archived."""
    article = get_article(article_id)
    if article.status == "archived":
        raise Conflict("this article is archived; write a new one instead of editing it")
    for name in ("title", "body", "category", "tags", "language", "status"):
        setattr(article, name, getattr(data, name))
    article.updated_by, article.updated_at = actor, now
    db.session.flush()
    return article


def archive_article(article_id: int, *, actor: str, now: datetime) -> KbArticle:
    """Take an article out of search and suggestions (kept for the record)."""
    article = get_article(article_id)
    if article.status != "archived":
        article.status, article.archived_by, article.archived_at = "archived", actor, now
        article.updated_by, article.updated_at = actor, now
        db.session.flush()
    return article


def get_article(article_id: int, *, published_only: bool = False) -> KbArticle:
    article = db.session.get(KbArticle, article_id)
    if article is None or (published_only and article.status != "published"):
        raise NotFound(f"there is no article {article_id}; search the knowledge base for it")
    return article


def list_articles(*, status: str | None = None, category: str | None = None, limit: int = 200) -> list[KbArticle]:
    """Articles newest first, optionally of one status (draft/published/archived) and category."""
    query = select(KbArticle).order_by(KbArticle.updated_at.desc(), KbArticle.id.desc()).limit(limit)
    if status in ARTICLE_STATUSES:
        query = query.where(KbArticle.status == status)
    if category:
        query = query.where(KbArticle.category == category)
    return list(db.session.execute(query).scalars())


def create_template(data: TemplateInput, *, actor: str, now: datetime) -> ReplyTemplate:
    """Write a new reply template; names are unique."""
    _ensure_name_free(data.name, None)
    template = ReplyTemplate(name=data.name, category=data.category, language=data.language, body=data.body,
                             created_by=actor, created_at=now, updated_by=actor, updated_at=now)
    db.session.add(template)
    db.session.flush()
    return template


def update_template(template_id: int, data: TemplateInput, *, actor: str, now: datetime) -> ReplyTemplate:
    """Change a template that is not archived."""
    template = get_template(template_id)
    if template.archived_at is not None:
        raise Conflict("this template is archived; write a new one instead of editing it")
    _ensure_name_free(data.name, template.id)
    template.name, template.category, template.language, template.body = data.name, data.category, \
        data.language, data.body
    template.updated_by, template.updated_at = actor, now
    db.session.flush()
    return template


def _ensure_name_free(name: str, own_id: int | None) -> None:
    other = db.session.execute(select(ReplyTemplate.id).where(ReplyTemplate.name == name)).scalar_one_or_none()
    if other is not None and other != own_id:
        raise ValidationFailed("请修正标出的字段 / please correct the marked fields",
                               {"name": f"已有名为「{name}」的模板，请换一个名称 / a template with this name exists"})


def archive_template(template_id: int, *, actor: str, now: datetime) -> ReplyTemplate:
    """Stop offering a template on the task page (kept for the record)."""
    template = get_template(template_id)
    if template.archived_at is None:
        template.archived_by, template.archived_at = actor, now
        template.updated_by, template.updated_at = actor, now
        db.session.flush()
    return template


def get_template(template_id: int) -> ReplyTemplate:
    template = db.session.get(ReplyTemplate, template_id)
    if template is None:
        raise NotFound(f"there is no reply template {template_id}; pick one from the template list")
    return template


def list_templates(*, include_archived: bool = False) -> list[ReplyTemplate]:
    query = select(ReplyTemplate).order_by(ReplyTemplate.archived_at.is_not(None), ReplyTemplate.name)
    if not include_archived:
        query = query.where(ReplyTemplate.archived_at.is_(None))
    return list(db.session.execute(query).scalars())


def list_cases(*, category: str | None = None, limit: int = 100) -> list[KnowledgeCase]:
    """Archived cases newest first."""
    query = select(KnowledgeCase).order_by(KnowledgeCase.created_at.desc(), KnowledgeCase.id.desc()).limit(limit)
    if category:
        query = query.where(KnowledgeCase.category == category)
    return list(db.session.execute(query).scalars())


def get_case(case_id: int) -> KnowledgeCase:
    case = db.session.get(KnowledgeCase, case_id)
    if case is None:
        raise NotFound(f"there is no archived case {case_id}")
    return case


def case_rating(case: KnowledgeCase) -> tuple[bool | None, int | None]:
    """How the customer judged the case's complaint: (solved?, 1-5 rating), each None if not given.

    Read from the complaint at show time: the rating is recorded after the archive step.
    """
    reference = case.complaint_id
    if not (reference.startswith("C-") and reference[2:].isdigit()):
        return None, None
    row = db.session.execute(select(Complaint.satisfied, Complaint.csat).where(
        Complaint.id == int(reference[2:]))).first()
    return (row.satisfied, row.csat) if row is not None else (None, None)


def form_values(obj: Any, names: tuple[str, ...]) -> dict[str, str]:
    """An object's fields as form values for an edit page."""
    return {name: "" if getattr(obj, name) is None else str(getattr(obj, name)) for name in names}
