"""Studio import over HTTP: every corpus diagram is stored with its validation list; attacks are refused."""
from __future__ import annotations

import io

import pytest
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart
from sqlalchemy import func, select

from app.extensions import db
from app.models import ProcessEvent, User
from app.models.studio import StudioDraft
from tests.support.language import EN
from tests.support.studio import CORPUS, add_analysts

CORPUS_FILES = sorted(p for p in CORPUS.rglob("*") if p.suffix in (".bpmn", ".dmn"))
XXE = b"""<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">&x;</bpmn:definitions>"""
LAUGHS = b"""<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;">]><bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
id="d">&lol3;</bpmn:definitions>"""
IMPORT_IN_CONDITION = (CORPUS / "spiffworkflow_tests/bpmn/data/exclusive_gateway_no_default.bpmn").read_bytes().replace(
    b"x &gt; 1", b"__import__('os').system('id')").replace(b"x > 1", b"__import__('os').system('id')")


@pytest.fixture
def analyst_client(app, client, db_session, clock):  # type: ignore[no-untyped-def]
    add_analysts(clock.now())
    user = db.session.execute(select(User).where(User.username == "li")).scalar_one()
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)
        session["_fresh"] = True
    app.config["WTF_CSRF_ENABLED"] = False
    yield client
    app.config["WTF_CSRF_ENABLED"] = True


def _upload(client, name: str, data: bytes):  # type: ignore[no-untyped-def]
    # Encoded in memory: the test client would spool a large body to a temporary file it never closes.
    boundary, body = encode_multipart(MultiDict({"file": FileStorage(io.BytesIO(data), filename=name)}))
    return client.post("/studio/import", data=body, content_type=f"multipart/form-data; boundary={boundary}",
                       headers={"Accept": "application/json", **EN})  # the refusals below are matched in English


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: p.relative_to(CORPUS).as_posix())
def test_every_corpus_diagram_imports_and_gets_a_validation_list(analyst_client, path) -> None:  # type: ignore[no-untyped-def]
    response = _upload(analyst_client, path.name, path.read_bytes())
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    page = analyst_client.get(response.headers["Location"])
    assert page.status_code == 200
    assert 'id="problems"' in page.get_data(as_text=True)
    draft = db.session.execute(select(StudioDraft)).scalar_one()
    assert draft.file_map()[next(iter(draft.file_map()))] == path.read_text(encoding="utf-8-sig")


def test_an_invalid_corpus_diagram_says_why_it_cannot_run(analyst_client) -> None:  # type: ignore[no-untyped-def]
    path = CORPUS / "spiffworkflow_tests/bpmn/data/invalid_cancel.bpmn"
    page = analyst_client.get(_upload(analyst_client, path.name, path.read_bytes()).headers["Location"])
    assert "Cancel Events may only be used with transactions" in page.get_data(as_text=True)


@pytest.mark.parametrize("name, data, message", [
    ("xxe.bpmn", XXE, "DOCTYPE and ENTITY declarations are not allowed in diagrams; remove them and upload again"),
    ("laughs.bpmn", LAUGHS, "DOCTYPE and ENTITY declarations are not allowed in diagrams"),
    ("big.bpmn", b"<a>" + b"x" * (3 * 1024 * 1024) + b"</a>", "is larger than the limit of 2,097,152 bytes"),
    ("evil.bpmn", IMPORT_IN_CONDITION, "has the expression `__import__('os').system('id')`, which reaches for Python internals"),
    ("notes.txt", b"hello", "'notes.txt' is not a .bpmn or .dmn file"),
])
def test_malicious_uploads_are_refused_without_a_trace(analyst_client, name, data, message) -> None:  # type: ignore[no-untyped-def]
    response = _upload(analyst_client, name, data)
    assert response.status_code == 422
    assert message in response.get_json()["detail"]
    assert db.session.execute(select(func.count()).select_from(StudioDraft)).scalar() == 0
    assert db.session.execute(select(func.count()).select_from(ProcessEvent)).scalar() == 0


def test_studio_is_for_analysts_only(app, client, db_session, clock) -> None:  # type: ignore[no-untyped-def]
    add_analysts(clock.now())
    user = db.session.execute(select(User).where(User.username == "zhuguan")).scalar_one()
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)
    response = client.get("/studio", headers={"Accept": "application/json"})
    assert response.status_code == 403
    assert response.get_json()["detail"] == "this page is for analyst staff; ask an administrator for access"
