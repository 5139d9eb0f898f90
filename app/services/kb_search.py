"""Search over solution articles and archived cases, for Chinese and English text alike.

No word segmenter: text is matched by substrings. A query is cut into terms (``terms``):
an English word or number of 3+ characters stays whole, a run of Chinese characters of 3+
becomes its overlapping 3-character pieces, and anything shorter stays a short term. Articles
(hundreds, not millions) are also matched on the 2-character pieces of longer Chinese runs,
since most Chinese words have two characters. The
database finds candidates by its trigram index (SQLite: the FTS5 table ``kb_search`` with the
trigram tokenizer, kept by triggers; PostgreSQL: pg_trgm GIN indexes on the same text) and
falls back to LIKE for short terms, which no trigram index can serve. Both backends rank with
the same score: per term, 3 for a hit in the title and 1 in the body, plus 2 for the wanted
category; ties go to the newest.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable

from sqlalchemy import ColumnElement, case, literal, literal_column, or_, select, text

from app.extensions import db
from app.models.knowledge import KbArticle, KnowledgeCase

KINDS = ("article", "case")
MAX_TERMS = 40
CANDIDATES = 1000  # rows ranked per kind and query
TITLE_WEIGHT, BODY_WEIGHT, CATEGORY_BONUS = 3, 1, 2
ARTICLE_TEXT = literal_column("kb_article.title || ' ' || kb_article.body || ' ' || kb_article.tags")
CASE_TEXT = literal_column("coalesce(knowledge_case.summary, '') || ' ' || coalesce(knowledge_case.reply, '') "
                           "|| ' ' || knowledge_case.resolution || ' ' || knowledge_case.category")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"[0-9A-Za-z\u00c0-\u024f]+")


@dataclass(frozen=True)
class SearchHit:
    """One ranked result: an article or an archived case."""

    kind: str
    id: int
    title: str
    excerpt: str
    category: str | None
    score: int
    updated_at: datetime


def terms(query: str) -> list[str]:
    """Cut a query into search terms (see the module docstring), in order, without repeats."""
    found: list[str] = []
    for run in _CJK.findall(query):
        found += [run] if len(run) < 3 else [run[i:i + 3] for i in range(len(run) - 2)]
    found += [word.lower() for word in _WORD.findall(query)]
    return list(dict.fromkeys(found))[:MAX_TERMS]


def bigrams(query: str) -> list[str]:
    """The 2-character pieces of the query's Chinese runs: most Chinese words are two characters."""
    return list(dict.fromkeys(run[i:i + 2] for run in _CJK.findall(query) if len(run) >= 3
                              for i in range(len(run) - 1)))[:MAX_TERMS]


def _like(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _hits(column: Any, words: Iterable[str]) -> ColumnElement[Any]:
    return or_(*(column.ilike(_like(word), escape="\\") for word in words))


def _score(title: Any, body: Any, category: Any, words: list[str], wanted: str | None) -> ColumnElement[Any]:
    parts: list[Any] = []
    for word in words:
        parts.append(case((title.ilike(_like(word), escape="\\"), TITLE_WEIGHT), else_=0))
        parts.append(case((body.ilike(_like(word), escape="\\"), BODY_WEIGHT), else_=0))
    if wanted:
        parts.append(case((_in_category(category, wanted), CATEGORY_BONUS), else_=0))
    return sum(parts[1:], parts[0]) if parts else literal(0)


def _in_category(column: Any, wanted: str) -> ColumnElement[bool]:
    """The category itself or one of its sub-categories (``delivery`` covers ``delivery.late``)."""
    return or_(column == wanted, column.like(f"{wanted}.%"))


def _candidates(kind: str, words: list[str]) -> ColumnElement[bool]:
    """Rows any term matches, at most ``CANDIDATES`` of them: the newest.

    The trigram index serves the terms it can; LIKE the rest. Capping the candidates keeps a
    common word ("退款") from making every query score a million archived cases.
    """
    model, whole = (KbArticle, ARTICLE_TEXT) if kind == "article" else (KnowledgeCase, CASE_TEXT)
    long_words, short_words = [w for w in words if len(w) >= 3], [w for w in words if len(w) < 3]
    if db.session.get_bind().dialect.name == "postgresql" or not long_words:
        return model.id.in_(select(model.id).where(_hits(whole, words)).order_by(model.id.desc())
                            .limit(CANDIDATES))
    match = " OR ".join('"' + word.replace('"', '""') + '"' for word in long_words)
    parity = 0 if kind == "article" else 1  # kb_search rowid: 2*id for an article, 2*id+1 for a case
    indexed = model.id.in_(select(literal_column(f"(rowid - {parity}) / 2")).select_from(text("kb_search"))
                           .where(text("kb_search MATCH :match").bindparams(match=match))
                           .where(literal_column(f"rowid % 2 = {parity}"))
                           .order_by(literal_column("rowid").desc()).limit(CANDIDATES))
    if not short_words:
        return indexed
    return or_(indexed, model.id.in_(select(model.id).where(_hits(whole, short_words)).order_by(model.id.desc())
                                     .limit(CANDIDATES)))


def search(query: str, *, category: str | None = None, boost_category: str | None = None,
           kinds: tuple[str, ...] = KINDS, published_only: bool = True, limit: int = 10,
           min_score: int = 1) -> list[SearchHit]:
    """Return articles and cases matching ``query``, best first.

    ``category`` keeps only that category (and its sub-categories); ``boost_category`` only
    ranks it higher. ``published_only`` hides draft and archived articles (always for
    customers). Cases are staff-only: callers serving customers pass ``kinds=("article",)``.
    """
    words = terms(query)
    if not words:
        return []
    hits: list[SearchHit] = []
    if "article" in kinds:  # few enough to scan, so two-character words count too
        hits += _article_hits(words + bigrams(query), category, boost_category, published_only, limit, min_score)
    if "case" in kinds:
        hits += _case_hits(words, category, boost_category, limit, min_score)
    hits.sort(key=lambda hit: (-hit.score, -hit.updated_at.timestamp(), hit.kind, -hit.id))
    return hits[:limit]


def _article_hits(words: list[str], category: str | None, boost: str | None, published_only: bool,
                  limit: int, min_score: int) -> list[SearchHit]:
    score = _score(KbArticle.title, KbArticle.body + " " + KbArticle.tags, KbArticle.category, words, boost)
    query = select(KbArticle, score.label("score")).where(_candidates("article", words), score >= min_score)
    query = query.where(KbArticle.status == "published") if published_only else \
        query.where(KbArticle.status != "archived")
    if category:
        query = query.where(or_(_in_category(KbArticle.category, category), KbArticle.category.is_(None)))
    rows = db.session.execute(query.order_by(literal_column("score").desc(), KbArticle.updated_at.desc())
                              .limit(limit)).all()
    return [SearchHit("article", a.id, a.title, excerpt(a.body, words), a.category, int(s), a.updated_at)
            for a, s in rows]


def _case_hits(words: list[str], category: str | None, boost: str | None, limit: int,
               min_score: int) -> list[SearchHit]:
    title = KnowledgeCase.summary
    body = literal_column("coalesce(knowledge_case.reply, '') || ' ' || knowledge_case.resolution")
    score = _score(title, body, KnowledgeCase.category, words, boost)
    query = select(KnowledgeCase, score.label("score")).where(_candidates("case", words), score >= min_score)
    if category:
        query = query.where(_in_category(KnowledgeCase.category, category))
    rows = db.session.execute(query.order_by(literal_column("score").desc(), KnowledgeCase.created_at.desc())
                              .limit(limit)).all()
    return [SearchHit("case", c.id, f"{c.complaint_id} · {c.resolution}", excerpt(c.reply or c.summary or "", words),
                      c.category, int(s), c.created_at) for c, s in rows]


def excerpt(body: str, words: list[str], width: int = 120) -> str:
    """Return about ``width`` characters of ``body`` around the first term found in it."""
    lowered = body.lower()
    at = min((i for i in (lowered.find(w) for w in words) if i >= 0), default=0)
    start = max(0, at - width // 3)
    snippet = body[start:start + width].replace("\n", " ")
    return ("…" if start else "") + snippet + ("…" if start + width < len(body) else "")
