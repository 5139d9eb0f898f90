"""The route matrix: every rule of ``app.url_map``, every method, asked by every kind of caller.

Callers: nobody, a signed-in customer, each staff role (a session for pages, a bearer token for
the API), a customer's app token, and an unknown token. URL parameters are filled with ids of a
seeded complaint of customer A (``mine``) and, to catch IDOR, with those of customer B (``theirs``).

Expected, in one small table per kind of route (admins hold every role):
- staff pages: nobody and customers go to the staff sign-in, staff without the role get 403;
- customer pages: nobody and staff-only sessions go to the customer sign-in; another customer's
  complaint, photo, order or device is 404 (never 200, never 403 that confirms it exists);
- staff API: no token or an unknown one 401, a customer token 403, a role without the permission 403;
- customer API: no token or an unknown one 401, a staff token 403, another customer's ids 404;
- nothing ever answers 500; every HTML answer carries a CSP with frame-ancestors (or X-Frame-Options),
  every answer nosniff; every JSON error is application/problem+json (also a staff page asked for
  JSON by a role without access); a session cookie never opens the API;
- every request claims to come from another site (Referer): no answer redirects off the site;
- a method no rule of an address takes is 405 with Allow;
- an agent outside a task's group is refused on every task address.
Every state-changing request on a page (not the API) without a CSRF token is refused with 400
(and the same request with the token is not).

One seeded database per module (a transaction rolled back at the end; each test in a savepoint).
"""
from __future__ import annotations

import hashlib
import io
import os
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Iterator
from urllib.parse import urlencode, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import scoped_session, sessionmaker
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Rule
from werkzeug.security import generate_password_hash

from app import create_app
from app.api import api as api_registry
from app.clock import FrozenClock
from app.extensions import db
from app.models import GROUPS, ROLES, Alert, HumanTask, Notification, ProcessDefinition, User
from app.models.customer import Customer, CustomerToken
from app.models.knowledge import KbArticle, KnowledgeCase
from app.models.payment import Payment, Refund
from app.models.workspace import ReplyTemplate
from app.services import api_tokens, complaints, customers, orders, staff, studio
from config import TestingConfig
from tests.support.complaints import ProcessDriver

STAFF_ROLES = ROLES
TASK_ROLES = ("agent", "expert", "qa", "supervisor", "finance")
KB_EDIT = ("supervisor",)

# --- the expectation table -------------------------------------------------------------------------

# Staff pages: endpoint (or "blueprint." for its other endpoints) -> the roles that may open it.
STAFF_PAGES: dict[str, tuple[str, ...]] = {
    "admin.": ("admin",),
    "alerts.": ("supervisor",),
    "audit.": ("auditor",),
    "customer_devices.": ("supervisor",),
    "dashboard.": ("supervisor", "analyst", "finance"),
    "dashboard.weekly": ("supervisor", "analyst"),
    "dashboard.weekly_download": ("supervisor", "analyst"),
    "kb.": TASK_ROLES,
    **{f"kb.{name}": KB_EDIT for name in ("new_article", "create_article", "edit_article", "update_article",
                                          "archive_article", "new_template", "create_template", "edit_template",
                                          "update_template", "archive_template")},
    "outbox.": ("supervisor",),
    "refunds.": ("finance",),
    "staff_password.": STAFF_ROLES,   # every member of staff changes their own password
    "studio.": ("analyst",),
    "tasks.": TASK_ROLES,
    "tasks.reassign": ("supervisor",),
    "tasks.supervisor": ("supervisor",),
}
# Customer pages (a customer session; staff sessions are sent to the customer sign-in).
CUSTOMER_PAGES = {"complaints.", "portal.my_orders", "portal.order_page", "portal_account.", "kb_help."}
# Intentionally open to anyone (they authenticate, or are checked by signature, themselves).
PUBLIC = {"static", "main.index", "main.health", "auth.login", "auth.logout", "language.choose_language",
          "portal.sign_in_page", "portal.sign_in_with_password", "portal.request_link", "portal.use_link",
          "portal.sign_out_customer", "payments.notify", "api.openapi_document", "api.create_customer_token"}
# A complaint photo: its owner, or any member of staff; to anyone else it does not exist.
OWNER_OR_STAFF = {"complaints.photo"}
# Staff API: endpoint -> the roles holding its permission (app.api.auth.PERMISSIONS, written out).
READ = STAFF_ROLES
STAFF_API: dict[str, tuple[str, ...]] = {
    "api.list_definitions": READ, "api.list_processes": READ, "api.list_instances": READ,
    "api.get_instance": READ, "api.list_tasks": READ, "api.get_task": READ,
    "api.deploy_definition": ("analyst",),
    "api.start_instance": ("agent", "expert", "supervisor", "analyst"),
    "api.cancel_instance": ("supervisor",), "api.suspend_instance": ("supervisor",),
    "api.resume_instance": ("supervisor",), "api.retry_instance": ("supervisor",),
    "api.claim_task": TASK_ROLES, "api.unclaim_task": TASK_ROLES, "api.complete_task": TASK_ROLES,
    "api.deliver_message": ("agent", "expert", "supervisor", "finance"),
}
# Not protected by the CSRF token, and why.
CSRF_EXEMPT = {"payments.notify": "gateway notifications are verified by their signature"}
# Known problems that are not fixed here: (endpoint, method) -> reason (the test xfails, strictly).
KNOWN: dict[tuple[str, str], str] = {}

# What callers send (valid, so that ownership and the redirect after success are what is checked);
# a callable gets the caller's username.
BODIES: dict[str, dict[str, Any] | Callable[[str], dict[str, Any]]] = {
    "api.confirm_my_complaint": {"json": {"satisfied": True, "csat": 5}},
    "complaints.confirm": {"data": {"satisfied": "yes", "csat": "5"}},
    "api.complete_task": {"json": {"data": {}}},
    "tasks.reassign": {"data": {"username": "m-target"}},
    "language.choose_language": {"data": {"lang": "en", "next": "//evil.example/"}},
    "tasks.add_substitute": lambda who: {"data": {"absent": who, "substitute": "m-target",
                                                  "starts_at": "2026-01-05T10:00", "ends_at": "2026-01-06T10:00"}},
}


def body_of(endpoint: str, caller: str) -> dict[str, Any]:
    body = BODIES.get(endpoint, {})
    return body(f"m-{caller.split(':')[-1]}") if callable(body) else body
# URL values other than the seeded ids.
VALUES: dict[str, dict[str, Any]] = {"dashboard.weekly_download": {"fmt": "csv"}}
# Query strings some pages need (from the seeded values).
QUERIES: dict[str, Callable[[dict[str, Any]], dict[str, str]]] = {
    "studio.read_file": lambda v: {"path": v["draft_path"]},
    "studio.diff": lambda v: {"from": f"v{v['version']}", "to": f"d{v['draft_id']}"},
    "studio.diff_json": lambda v: {"from": f"v{v['version']}", "to": f"d{v['draft_id']}"},
    "tasks.reply_template": lambda v: {"template": str(v["template_id"])},
}
# A GET by a caller who may, with the seeded ids, answers 200 except here (endpoint, or (endpoint, role)).
GET_NOT_200: dict[str | tuple[str, str], tuple[int, str]] = {
    "portal.use_link": (401, "the link token in the URL is made up"),
    ("api.get_task", "analyst"): (404, "analysts read the API but work no tasks: a task they may not see is 404"),
}
STATE_CHANGING = ("POST", "PUT", "PATCH", "DELETE")
LOGIN, CUSTOMER_LOGIN = "/login", "/account/login"


def _lookup(table: dict[str, Any], endpoint: str) -> Any:
    if endpoint in table:
        return table[endpoint]
    prefix = endpoint.split(".")[0] + "."
    return table.get(prefix)


def kind_of(endpoint: str) -> str:
    if endpoint in PUBLIC:
        return "public"
    if endpoint in OWNER_OR_STAFF:
        return "owner_or_staff"
    if endpoint.startswith("api."):
        if endpoint in STAFF_API:
            return "staff_api"
        return "customer_api"
    if endpoint in CUSTOMER_PAGES or endpoint.split(".")[0] + "." in CUSTOMER_PAGES:
        return "customer_page"
    if _lookup(STAFF_PAGES, endpoint) is not None:
        return "staff_page"
    raise AssertionError(f"{endpoint} is in no table of test_route_matrix: say who may open it")


def _kind_or_none(endpoint: str) -> str | None:
    try:
        return kind_of(endpoint)
    except AssertionError:   # test_every_endpoint_is_in_the_table names it
        return None


# --- the seeded world ------------------------------------------------------------------------------

@dataclass
class World:
    app: Flask
    sessions: dict[str, str]                     # caller ("customer", "staff:<role>") -> its session cookie
    staff_tokens: dict[str, str]
    customer_tokens: dict[str, str]              # "mine" | "theirs" -> app token
    mine: dict[str, Any]
    theirs: dict[str, Any]
    customer_ids: dict[str, int]
    connection: Any = None


def _image() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 12), (200, 80, 40)).save(out, "PNG")
    return out.getvalue()


def _customer(name: str, phone: str, order_ref: str, now: datetime) -> Customer:
    customer = Customer(name=name, phone=phone, email=f"{phone}@example.com", tier="normal", created_at=now)
    customer.set_password("secret-pw")
    db.session.add(customer)
    db.session.flush()
    orders.create_order(orders.OrderInput(
        order_ref=order_ref, customer_name=name, customer_phone=phone, customer_email=f"{phone}@example.com",
        items=[{"name": "陶瓷杯", "qty": 1, "price": 120.0}], amount_paid=Decimal("120.00"), currency="CNY",
        payment_method="alipay", paid_at=datetime(2026, 11, 1, 8, tzinfo=timezone.utc)), now=now)
    db.session.commit()
    return customer


PASSWORD = "matrix-password"
_HASH: list[str] = []


def _add_staff(username: str, roles: list[str], groups: list[str], now: datetime) -> User:
    if not _HASH:   # real hashes are slow on purpose; a cheap one (still checked for real) keeps the matrix fast
        _HASH.append(generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000"))
    user = User(username=username, display_name=username.title(), roles=roles, groups=groups,
                password_hash=_HASH[0], created_at=now)
    db.session.add(user)
    db.session.flush()
    return user


def sign_in(world: World, caller: str, path: str, credentials: dict[str, str]) -> None:
    """Sign ``caller`` in through the real form once; its clients reuse the session cookie."""
    client = world.app.test_client()
    response = ask(client, "POST", path, _csrf_header(client, world.app), data=credentials)
    assert response.status_code == 302, f"{caller} could not sign in at {path}: {response.status_code}"
    world.sessions[caller] = client.get_cookie("session").value


def _staff_things(mine: dict[str, Any], now: datetime) -> dict[str, int]:
    """One of each thing the staff pages show by id: article, case, template, draft, alert, refund, ..."""
    article = KbArticle(title="杯子破损怎么办", body="先拍照", category="product.quality", tags="", language="zh",
                        status="published", created_by="m-supervisor", created_at=now, updated_by="m-supervisor",
                        updated_at=now)
    case = KnowledgeCase(complaint_id="C-old", category="product.quality", resolution="refund", reply="已退款",
                         summary="杯子有裂纹", created_at=now)
    alert = Alert(kind="backlog", condition_key="matrix", open_key="matrix", title="积压", subject="tier1",
                  evidence={}, fired_at=now, last_seen_at=now)
    db.session.add_all([article, case, alert])
    draft = studio.create_draft("matrix", base_version=None, actor="m-analyst", now=now)
    substitution = staff.add_substitution("m-agent", "m-expert", starts_at=now, ends_at=now + timedelta(days=1),
                                          actor="m-supervisor", now=now)
    payment = db.session.scalar(select(Payment).where(Payment.order_ref == mine["order_ref"]))
    refund = Refund(payment_id=payment.id, provider=payment.provider, amount=Decimal("10.00"), currency="CNY",
                    state="failed", idempotency_key="matrix-1", source_key="matrix-1", requested_by="m-finance",
                    reason="matrix", complaint_id=mine["reference"], created_at=now, updated_at=now)
    db.session.add(refund)
    db.session.commit()
    template = ReplyTemplate(name="matrix", category=None, body="您好 {customer_name}", language="zh",
                             created_by="m-supervisor", created_at=now, updated_by="m-supervisor", updated_at=now)
    db.session.add(template)
    db.session.commit()
    notification = db.session.scalar(select(Notification).where(Notification.complaint_id == mine["reference"]))
    return {"draft_path": draft.files[0].path, "article_id": article.id, "case_id": case.id, "alert_id": alert.id,
            "draft_id": draft.id, "substitution_id": substitution.id, "refund_id": refund.id,
            "notification_id": notification.id, "template_id": template.id}


def _message(customer: Customer, reference: str, now: datetime) -> None:
    """A failed portal message to ``customer`` about ``reference`` (a supervisor may retry it)."""
    db.session.add(Notification(channel="portal", recipient=str(customer.id), customer_id=str(customer.id),
                                complaint_id=reference, template="matrix_note", payload={"complaint_id": reference},
                                status="failed", idempotency_key=f"matrix-{reference}", created_at=now,
                                attempts=3, last_error="matrix"))
    db.session.commit()


def _seed(app: Flask, clock: FrozenClock, upload_dir: Path) -> World:
    now = clock.now()
    ProcessDriver(app, clock)   # the seed processes deployed, a deterministic classifier
    staff_tokens = {}
    for role in STAFF_ROLES:   # one role each (admins hold every role), in every group
        _add_staff(f"m-{role}", [role], list(GROUPS), now)
        staff_tokens[role], _ = api_tokens.issue_token(f"m-{role}", name="matrix", now=now)
    _add_staff("m-target", ["agent"], [], now)
    db.session.commit()
    sides, tokens, ids = {}, {}, {}
    for side, phone in (("mine", "13800000001"), ("theirs", "13900000002")):
        customer = _customer(f"客户{side}", phone, f"O-{side}", now)
        complaint, _ = complaints.submit(customer, complaints.Submission(
            order_ref=f"O-{side}", category="product.quality", description="杯子有裂纹", images=[_image()]),
            upload_dir=upload_dir, now=now)
        db.session.commit()
        _message(customer, complaint.reference, now)
        tokens[side] = customers.issue_token(customer.id, name="phone", now=now)
        db.session.commit()
        token_row = db.session.scalar(select(CustomerToken).where(CustomerToken.customer_id == customer.id))
        task = db.session.scalar(select(HumanTask).where(HumanTask.instance_id == complaint.instance_id))
        ids[side] = customer.id
        sides[side] = {"complaint_id": complaint.id, "attachment_id": complaint.attachments[0].id,
                       "order_ref": f"O-{side}", "token_id": token_row.id, "instance_id": complaint.instance_id,
                       "task_id": task.task_id if task else "no-task", "reference": complaint.reference}
    shared = {
        "customer_id": ids["theirs"],   # the staff device pages look at customer B
        "username": "m-target", "fmt": "json", "token": "no-such-link", "provider": "alipay",
        "filename": "kesu.css", "version": db.session.scalar(select(func.max(ProcessDefinition.version))),
        **_staff_things(sides["mine"], now),
    }
    for side in sides:
        sides[side] = {**shared, **sides[side]}
    return World(app, {}, staff_tokens, tokens, sides["mine"], sides["theirs"], ids)


@pytest.fixture(scope="module")
def world(app: Flask, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One seeded database for the module, inside a transaction rolled back at the end.

    No app context stays pushed while the tests run: each request gets its own (and its own ``g``,
    where Flask-Login keeps the signed-in user), as in production.
    """
    runtime = app.extensions["kesu.runtime"]
    clock = runtime.clock
    clock.set(FrozenClock().now())
    saved_upload = app.config.get("UPLOAD_DIR")
    app.config["UPLOAD_DIR"] = str(tmp_path_factory.mktemp("matrix-uploads"))
    saved_operators = {name: runtime.operators._operators.get(name) for name in ("classify", "pay_refund")}
    _clear_caches(app)
    original = db.session
    with app.app_context():
        connection = db.engine.connect()
    outer = connection.begin()
    db.session = scoped_session(sessionmaker(bind=connection, join_transaction_mode="create_savepoint",
                                             expire_on_commit=False))
    try:
        with app.app_context():
            world = _seed(app, clock, Path(app.config["UPLOAD_DIR"]))
            db.session.remove()
        for role in STAFF_ROLES:
            sign_in(world, f"staff:{role}", "/login", {"username": f"m-{role}", "password": PASSWORD})
        sign_in(world, "customer", "/account/login", {"login": "13800000001", "password": "secret-pw"})
        world.connection = connection
        yield world
    finally:
        for name, operator in saved_operators.items():
            if operator is None:
                runtime.operators._operators.pop(name, None)
            else:
                runtime.operators._operators[name] = operator
        db.session.remove()
        db.session = original
        outer.rollback()
        connection.close()
        app.config["UPLOAD_DIR"] = saved_upload
        _clear_caches(app)


def _clear_caches(app: Flask) -> None:
    runtime = app.extensions["kesu.runtime"]
    runtime.definition_hashes.clear()
    runtime.current_versions = None
    runtime.live.clear()


@pytest.fixture
def fresh(world: World) -> Iterator[World]:
    """Each test in a savepoint of the module's transaction, rolled back after it."""
    db.session.remove()   # the session begins its own savepoint inside this one
    savepoint = world.connection.begin_nested()
    try:
        yield world
    finally:
        db.session.remove()
        if savepoint.is_active:
            savepoint.rollback()
        _clear_caches(world.app)


# --- callers ---------------------------------------------------------------------------------------

CALLERS = ("nobody", "customer", *(f"staff:{role}" for role in STAFF_ROLES))
API_CALLERS = ("no-token", "unknown-token", "customer-token", *(f"token:{role}" for role in STAFF_ROLES))


def _csrf_header(client: FlaskClient, app: Flask) -> dict[str, str]:
    """Put a CSRF secret into the client's session and return the header carrying its signed token."""
    raw = hashlib.sha1(os.urandom(64)).hexdigest()
    with client.session_transaction() as session:
        session["csrf_token"] = raw
    token = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="wtf-csrf-token").dumps(raw)
    return {"X-CSRFToken": token}


# Every request comes "from" another site: no answer may send the browser back there.
FOREIGN_REFERRER = "https://evil.example/phish?next=/"


def client_for(world: World, caller: str, *, csrf: bool = True) -> tuple[FlaskClient, dict[str, str]]:
    """A test client signed in as ``caller`` and the headers to send (CSRF token, bearer token)."""
    client = world.app.test_client()
    headers: dict[str, str] = {"Referer": FOREIGN_REFERRER}
    if caller in world.sessions:
        client.set_cookie("session", world.sessions[caller])
    if caller == "unknown-token":
        headers["Authorization"] = "Bearer not-a-real-token"
    elif caller == "customer-token":
        headers["Authorization"] = f"Bearer {world.customer_tokens['mine']}"
    elif caller.startswith("token:"):
        headers["Authorization"] = f"Bearer {world.staff_tokens[caller.split(':')[1]]}"
    if csrf:
        headers.update(_csrf_header(client, world.app))
    return client, headers


def url_of(world: World, rule: Rule, method: str, values: dict[str, Any]) -> str:
    adapter = world.app.url_map.bind("localhost")
    values = {**values, **VALUES.get(rule.endpoint, {})}
    url = adapter.build(rule.endpoint, {name: values[name] for name in rule.arguments}, method=method)
    query = QUERIES[rule.endpoint](values) if rule.endpoint in QUERIES else None
    return f"{url}?{urlencode(query)}" if query else url


def ask(client: FlaskClient, method: str, url: str, headers: dict[str, str], **options: Any) -> Any:
    """Send one request; return the answer read whole and closed (static files hold a file open)."""
    response = client.open(url, method=method, headers=headers, **options)
    response.get_data()
    response.close()
    return response


def rules_and_methods() -> list[tuple[str, str, str]]:
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI="sqlite://", CLOCK=FrozenClock())
    found = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((rule.endpoint, rule.rule, method))
    return found


ROUTES = rules_and_methods()


def _params(routes: list[tuple[str, str, str]]) -> list[Any]:
    return [pytest.param(endpoint, rule, method, id=f"{method} {rule}",
                         marks=[pytest.mark.xfail(reason=KNOWN[(endpoint, method)], strict=True)]
                         if (endpoint, method) in KNOWN else [])
            for endpoint, rule, method in routes]


def _rule(world: World, endpoint: str, rule_text: str) -> Rule:
    return next(r for r in world.app.url_map.iter_rules() if r.endpoint == endpoint and r.rule == rule_text)


# --- the header rules ------------------------------------------------------------------------------

def header_problems(response: Any) -> list[str]:
    problems = []
    mimetype = response.mimetype or ""
    if mimetype == "text/html":
        policy = response.headers.get("Content-Security-Policy", "")
        if not policy:
            problems.append("HTML without Content-Security-Policy")
        if "frame-ancestors" not in policy and response.headers.get("X-Frame-Options") not in ("DENY", "SAMEORIGIN"):
            problems.append("HTML without frame-ancestors or X-Frame-Options")
        directives = {d.split()[0]: d.split()[1:] for d in policy.split(";") if d.strip()}
        scripts = directives.get("script-src", directives.get("default-src", ["*"]))
        if {"'unsafe-inline'", "'unsafe-eval'", "*", "data:"} & set(scripts):
            problems.append(f"HTML whose CSP lets scripts run from anywhere or inline: script-src {' '.join(scripts)}")
    if 300 <= response.status_code < 400 and "Location" in response.headers:
        target = urlsplit(response.headers["Location"])
        if target.netloc not in ("", "localhost") or target.path.startswith(("//", "/\\")):
            problems.append(f"redirect off the site, to {response.headers['Location']}")
    if response.headers.get("X-Content-Type-Options") != "nosniff":
        problems.append(f"{mimetype or 'an answer'} without X-Content-Type-Options: nosniff")
    if response.status_code >= 400 and mimetype.endswith("json") and mimetype != "application/problem+json":
        problems.append(f"JSON error {response.status_code} as {mimetype}, not application/problem+json")
    return problems


# --- expectations ----------------------------------------------------------------------------------

def _redirects_to(response: Any, path: str) -> bool:
    return response.status_code in (302, 303) and response.headers.get("Location", "").split("?")[0].endswith(path)


def _allowed_answer(endpoint: str, method: str, response: Any, role: str | None = None) -> str | None:
    if response.status_code >= 500:
        return f"{response.status_code} (server error)"
    if method == "GET":
        expected = GET_NOT_200.get((endpoint, role or ""), GET_NOT_200.get(endpoint, (200, "")))[0]
        return None if response.status_code == expected else f"{response.status_code}, expected {expected}"
    if response.status_code in (401, 403):
        return f"{response.status_code} for a caller who may"
    return None


def expectation_problems(endpoint: str, method: str, caller: str, response: Any) -> str | None:
    """Return what is wrong with ``response`` to ``caller`` (None when it is one of the expected kinds)."""
    kind = kind_of(endpoint)
    status = response.status_code
    if status >= 500:
        return f"{status} (server error)"
    role = caller.split(":")[1] if ":" in caller else None
    if kind == "public":
        return _allowed_answer(endpoint, method, response) if caller == "nobody" and method == "GET" else None
    if kind == "staff_page":
        roles = _lookup(STAFF_PAGES, endpoint)
        if caller in ("nobody", "customer"):
            return None if _redirects_to(response, LOGIN) else f"{status}, expected a redirect to {LOGIN}"
        if role in roles or role == "admin":
            return _allowed_answer(endpoint, method, response)
        return None if status == 403 else f"{status}, expected 403 (role {role} is not one of {roles})"
    if kind == "customer_page":
        if caller == "customer":
            return _allowed_answer(endpoint, method, response)
        if endpoint == "kb_help.customer_suggestions":
            return None if status == 401 else f"{status}, expected 401"
        return (None if _redirects_to(response, CUSTOMER_LOGIN)
                else f"{status}, expected a redirect to {CUSTOMER_LOGIN}")
    if kind == "owner_or_staff":
        if caller == "nobody":
            return None if status == 404 else f"{status}, expected 404"
        return None if status == 200 else f"{status}, expected 200"
    raise AssertionError(kind)


def api_expectation(endpoint: str, method: str, caller: str, response: Any) -> str | None:
    kind, status = kind_of(endpoint), response.status_code
    if status >= 500:
        return f"{status} (server error)"
    if kind == "public":
        return _allowed_answer(endpoint, method, response) if caller == "no-token" and method == "GET" else None
    if caller in ("no-token", "unknown-token"):
        return None if status == 401 else f"{status}, expected 401"
    if kind == "staff_api":
        if caller == "customer-token":
            return None if status == 403 else f"{status}, expected 403"
        role = caller.split(":")[1]
        roles = STAFF_API[endpoint]
        if role in roles or role == "admin":
            return _allowed_answer(endpoint, method, response, role)
        return None if status == 403 else f"{status}, expected 403 (role {role} is not one of {roles})"
    if caller == "customer-token":
        return _allowed_answer(endpoint, method, response)
    return None if status == 403 else f"{status}, expected 403 (a staff token on the customer API)"


# --- the tests -------------------------------------------------------------------------------------

def test_every_endpoint_is_in_the_table() -> None:
    unknown = []
    for endpoint, _, _ in ROUTES:
        try:
            kind_of(endpoint)
        except AssertionError as error:
            unknown.append(str(error))
    assert not unknown, "\n".join(unknown)
    # and every API endpoint's declaration agrees with the table (a public one is listed as public)
    for declared in api_registry.endpoints:
        name = f"api.{declared.operation_id}"
        assert (name in PUBLIC) == declared.public, name
        assert (name in STAFF_API) == (declared.audience == "staff" and not declared.public), name


@pytest.mark.parametrize("endpoint, rule_text, method", _params(ROUTES))
def test_route_answers_each_caller_as_expected(fresh: World, endpoint: str, rule_text: str, method: str) -> None:
    world = fresh
    rule = _rule(world, endpoint, rule_text)
    url = url_of(world, rule, method, world.mine)
    problems = []
    callers = API_CALLERS if endpoint.startswith("api.") else CALLERS
    for caller in callers:
        client, headers = client_for(world, caller)
        response = ask(client, method, url, headers, **body_of(endpoint, caller))
        check = (api_expectation(endpoint, method, caller, response) if endpoint.startswith("api.")
                 else expectation_problems(endpoint, method, caller, response))
        if check:
            problems.append(f"{caller}: {check}")
        problems.extend(f"{caller}: {p}" for p in header_problems(response))
    if kind_of(endpoint) == "staff_page":
        # a script (fetch, htmx) of a member of staff without the role is refused in problem+json
        roles = _lookup(STAFF_PAGES, endpoint)
        for denied in [role for role in STAFF_ROLES if role not in roles and role != "admin"][:1]:
            client, headers = client_for(world, f"staff:{denied}")
            response = ask(client, method, url, {**headers, "Accept": "application/json"})
            if response.status_code != 403 or response.mimetype != "application/problem+json":
                problems.append(f"staff:{denied} asking for JSON: {response.status_code} {response.mimetype}, "
                                f"expected 403 application/problem+json")
    if endpoint.startswith("api.") and kind_of(endpoint) != "public":
        # a session cookie never authenticates the API (only tokens do)
        session = "staff:admin" if kind_of(endpoint) == "staff_api" else "customer"
        client, headers = client_for(world, session)
        response = ask(client, method, url, headers)
        if response.status_code != 401:
            problems.append(f"{session} session cookie without a token: {response.status_code}, expected 401")
    assert not problems, f"{method} {url}:\n" + "\n".join(problems)


def test_methods_a_route_does_not_take_answer_405(fresh: World) -> None:
    """For each address, a method none of its rules takes: 405 with Allow, the headers, problem+json on the API."""
    world, problems, seen = fresh, [], set()
    adapter = world.app.url_map.bind("localhost")
    for endpoint, rule_text, method in ROUTES:
        url = url_of(world, _rule(world, endpoint, rule_text), method, world.mine)
        path = url.split("?")[0]
        if path in seen:
            continue
        seen.add(path)
        taken = {m for m in ("GET", "POST", "PUT", "PATCH", "DELETE") if _matches(adapter, path, m)}
        other = next(m for m in ("DELETE", "PATCH", "PUT", "POST", "GET") if m not in taken)
        client, headers = client_for(world, "nobody")
        response = ask(client, other, url, headers)
        if response.status_code != 405 or "Allow" not in response.headers:
            problems.append(f"{other} {url}: {response.status_code}, expected 405 with Allow")
        if path.startswith("/api/") and response.mimetype != "application/problem+json":
            problems.append(f"{other} {url}: {response.mimetype}, expected application/problem+json")
        problems.extend(f"{other} {url}: {p}" for p in header_problems(response))
    assert not problems, "\n".join(problems)


def _matches(adapter: Any, path: str, method: str) -> bool:
    try:
        adapter.match(path, method=method)
    except HTTPException as refused:
        return refused.code not in (404, 405)   # a redirect (e.g. a trailing slash) still takes it
    return True


# Routes that take the ids of a customer's own things: with customer B's ids, customer A gets 404.
IDOR_PARAMS = {"complaint_id", "attachment_id", "order_ref", "token_id"}
IDOR_ROUTES = [r for r in ROUTES if _kind_or_none(r[0]) in ("customer_page", "customer_api", "owner_or_staff")
               and IDOR_PARAMS & set(re.findall(r"<(?:\w+:)?(\w+)>", r[1]))]


@pytest.mark.parametrize("endpoint, rule_text, method", _params(IDOR_ROUTES))
def test_another_customers_things_do_not_exist(fresh: World, endpoint: str, rule_text: str, method: str) -> None:
    world = fresh
    rule = _rule(world, endpoint, rule_text)
    own = set(rule.arguments) & IDOR_PARAMS
    caller = "customer-token" if endpoint.startswith("api.") else "customer"
    problems = []
    # all of B's ids, then each of B's ids alone among A's (B's photo under A's complaint)
    variants = [own] + ([{name} for name in sorted(own)] if len(own) > 1 else [])
    for names in variants:
        answers = []
        for ids in (world.theirs, NOBODYS):   # B's things, then things that do not exist
            url = url_of(world, rule, method, {**world.mine, **{name: ids[name] for name in names}})
            client, headers = client_for(world, caller)
            answers.append(ask(client, method, url, headers, **body_of(endpoint, caller)).status_code)
        # 404; a body refused before the lookup (422) is fine as long as nobody's things get the same
        if answers[0] != 404 and (answers[0] != answers[1] or not 400 <= answers[0] < 500):
            problems.append(f"{method} {rule_text} with B's {sorted(names)}: {answers[0]}, expected 404 "
                            f"(or what a thing that does not exist gets: {answers[1]})")
    assert not problems, "\n".join(problems)


NOBODYS = {"complaint_id": 987654, "attachment_id": 987654, "order_ref": "O-nobody", "token_id": 987654}


def test_lists_show_only_the_customers_own_things(fresh: World) -> None:
    """Customer A's lists show A's complaint, order and message (so the check can see them), never B's."""
    world = fresh
    lists = {"customer": ("/complaints", "/orders", "/messages"),
             "customer-token": ("/api/v1/customer/complaints", "/api/v1/customer/orders", "/api/v1/customer/messages")}
    for caller, paths in lists.items():
        client, headers = client_for(world, caller)
        for path in paths:
            text = ask(client, "GET", path, headers).get_data(as_text=True)
            mine = [ref for ref in (world.mine["reference"], world.mine["order_ref"]) if ref in text]
            assert mine, f"{path} shows none of customer A's things"
            assert world.theirs["order_ref"] not in text and world.theirs["reference"] not in text, (
                f"{path} shows customer B's {world.theirs['reference']} / {world.theirs['order_ref']}")


def test_a_form_goes_back_to_the_page_of_this_site_it_was_on(fresh: World) -> None:
    """"Back where the form was" follows the Referer only within this site (else the form's own page)."""
    world = fresh
    body = body_of("tasks.add_substitute", "staff:supervisor")
    for referrer, back in (("http://localhost/tasks/substitutes?page=2", "/tasks/substitutes?page=2"),
                           (FOREIGN_REFERRER, "/tasks/substitutes"),
                           ("http://localhost//evil.example/", "/tasks/substitutes")):
        client, headers = client_for(world, "staff:supervisor")
        response = ask(client, "POST", "/tasks/substitutes", {**headers, "Referer": referrer}, **body)
        assert response.status_code == 302 and response.headers["Location"] == back, referrer


TASK_ROUTES = [r for r in ROUTES if "<task_id>" in r[1]]


def test_staff_outside_the_tasks_group_cannot_see_or_work_it(fresh: World) -> None:
    """An agent of another group: every task address (pages and API) refuses, never 2xx or a redirect."""
    world, problems = fresh, []
    now = world.app.extensions["kesu.runtime"].clock.now()
    with world.app.app_context():
        outsider = _add_staff("m-outsider", ["agent"], ["tier1-billing"], now)
        world.staff_tokens["outsider"], _ = api_tokens.issue_token(outsider.username, name="matrix", now=now)
        db.session.commit()
        assert db.session.get(HumanTask, _task_row(world)).candidate_group not in outsider.groups
    sign_in(world, "staff:outsider", "/login", {"username": "m-outsider", "password": PASSWORD})
    try:
        for endpoint, rule_text, method in TASK_ROUTES:
            url = url_of(world, _rule(world, endpoint, rule_text), method, world.mine)
            caller = "token:outsider" if endpoint.startswith("api.") else "staff:outsider"
            client, headers = client_for(world, caller)
            response = ask(client, method, url, headers, **body_of(endpoint, caller))
            if response.status_code not in (403, 404, 409):   # 409: unclaiming a task nobody holds
                problems.append(f"{method} {url}: {response.status_code}, expected 403 or 404")
    finally:
        world.sessions.pop("staff:outsider"), world.staff_tokens.pop("outsider")
    assert len(TASK_ROUTES) >= 10 and not problems, "\n".join(problems)


def _task_row(world: World) -> int:
    return db.session.scalar(select(HumanTask.id).where(HumanTask.task_id == world.mine["task_id"]))


def test_staff_device_pages_keep_customers_apart(fresh: World) -> None:
    """A supervisor revoking customer A's device under customer B's address gets 404, and A's device stays."""
    world = fresh
    client, headers = client_for(world, "staff:supervisor")
    url = f"/admin/customers/{world.customer_ids['theirs']}/devices/{world.mine['token_id']}/revoke"
    assert ask(client, "POST", url, headers).status_code == 404
    client, headers = client_for(world, "customer-token")
    assert ask(client, "GET", "/api/v1/customer/me", headers).status_code == 200, "A's app token still works"


def _caller_who_may(endpoint: str) -> str:
    kind = kind_of(endpoint)
    if kind in ("customer_page", "owner_or_staff"):
        return "customer"
    if kind == "staff_page":
        return f"staff:{_lookup(STAFF_PAGES, endpoint)[0]}"
    return "nobody"


FORM_ROUTES = [r for r in ROUTES if r[2] in STATE_CHANGING and not r[0].startswith("api.")]


@pytest.mark.parametrize("endpoint, rule_text, method", _params(FORM_ROUTES))
def test_state_changing_page_requests_need_the_csrf_token(fresh: World, endpoint: str, rule_text: str,
                                                          method: str) -> None:
    world = fresh
    rule = _rule(world, endpoint, rule_text)
    url = url_of(world, rule, method, world.mine)
    caller = _caller_who_may(endpoint)
    client, headers = client_for(world, caller, csrf=False)
    without = ask(client, method, url, headers, **body_of(endpoint, caller))
    client, headers = client_for(world, caller)
    with_token = ask(client, method, url, headers, **body_of(endpoint, caller))
    if endpoint in CSRF_EXEMPT:   # the token changes nothing
        assert without.status_code == with_token.status_code, CSRF_EXEMPT[endpoint]
        return
    assert with_token.status_code != 400, f"{method} {url} with a valid CSRF token: 400"
    assert without.status_code == 400, f"{method} {url} as {caller} without a CSRF token: {without.status_code}"


def test_the_csrf_check_covers_every_form_route() -> None:
    """Forms post to every page blueprint, and the API (bearer tokens only) is the one thing exempt."""
    blueprints = {endpoint.split(".")[0] for endpoint, _, _ in FORM_ROUTES}
    assert {"admin", "alerts", "complaints", "kb", "outbox", "portal", "refunds", "studio", "tasks"} <= blueprints
    assert not any(endpoint.startswith("api.") for endpoint, _, _ in FORM_ROUTES)
