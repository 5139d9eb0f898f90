"""Knowledge-base fixtures: staff and sign-in from the workspace tests, articles and cases made directly."""
from __future__ import annotations

from typing import Any, Callable

import pytest

from app.extensions import db
from app.models.knowledge import KbArticle, KnowledgeCase
from app.services import knowledge
from tests.dashboard.conftest import Seeder, seeder  # noqa: F401
from tests.workspace.conftest import csrf, sign_in  # noqa: F401


@pytest.fixture
def make_article(db_session: Any, clock: Any) -> Callable[..., KbArticle]:
    """Write an article through the service (committed, so search sees it through its index)."""
    def make(title: str, body: str, *, category: str = "", tags: str = "", language: str = "zh",
             status: str = "published") -> KbArticle:
        data = knowledge.ArticleInput.from_form({"title": title, "body": body, "category": category, "tags": tags,
                                                 "language": language, "status": status})
        article = knowledge.create_article(data, actor="zhuguan", now=clock.now())
        db.session.commit()
        return article
    return make


@pytest.fixture
def make_case(db_session: Any, clock: Any) -> Callable[..., KnowledgeCase]:
    """Write an archived case as the complaint process's archive_case step does."""
    def make(complaint_id: str, category: str, resolution: str, reply: str, summary: str | None = None
             ) -> KnowledgeCase:
        case = KnowledgeCase(complaint_id=complaint_id, category=category, resolution=resolution, reply=reply,
                             summary=summary, created_at=clock.now())
        db.session.add(case)
        db.session.commit()
        return case
    return make
from tests.customer.conftest import make_customer  # noqa: E402,F401
