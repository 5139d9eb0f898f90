"""The refunds console: finance only, filters, history, query again, mark paid manually (with CSRF)."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Job, Refund, User
from app.services import refunds


def _user(clock, name: str, roles: list[str]) -> User:  # type: ignore[no-untyped-def]
    user = User(username=name, display_name=name, roles=roles, groups=[], created_at=clock.now())
    user.set_password("correct horse")
    db.session.add(user)
    db.session.commit()
    return user


def _sign_in(client, name: str) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post("/login", data={"username": name, "password": "correct horse", "csrf_token": token})


def _token(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


@pytest.fixture
def failed_refund(paid, clock):  # type: ignore[no-untyped-def]
    payment = paid("wechat")
    refund = refunds.create_refund(payment.id, "12.00", "CNY", reason="坏了", requested_by="a", approved_by="b",
                                   source_key=f"console:{payment.provider_payment_id}", now=clock.now())
    refunds.move(refund, refunds.S.FAILED, actor="gateway", now=clock.now(), reason="CLOSED")
    db.session.commit()
    return refund


def test_only_finance_sees_the_console(client, clock) -> None:
    assert client.get("/refunds").status_code == 302
    _user(clock, "xiaowang", ["agent"])
    _sign_in(client, "xiaowang")
    response = client.get("/refunds")
    assert response.status_code == 403 and "this page is for finance staff" in response.get_data(as_text=True)


def test_finance_filters_reads_history_queries_and_marks_paid(client, clock, failed_refund) -> None:
    _user(clock, "caiwu", ["finance"])
    _sign_in(client, "caiwu")
    listing = client.get("/refunds?state=failed&provider=wechat").get_data(as_text=True)
    assert f'/refunds/{failed_refund.id}"' in listing
    assert f'/refunds/{failed_refund.id}"' not in client.get("/refunds?state=succeeded").get_data(as_text=True)
    assert f'/refunds/{failed_refund.id}"' not in client.get("/refunds?older_than_hours=1").get_data(as_text=True)
    page = client.get(f"/refunds/{failed_refund.id}").get_data(as_text=True)
    assert "refund.requested" in page and "Mark paid manually" in page
    assert client.post(f"/refunds/{failed_refund.id}/mark-paid", data={"reason": "x"}).status_code == 400  # no CSRF
    client.post(f"/refunds/{failed_refund.id}/query", data={"csrf_token": _token(page)})
    assert db.session.execute(select(Job.kind).where(Job.kind == "payments.query")).scalar() == "payments.query"
    refused = client.post(f"/refunds/{failed_refund.id}/mark-paid", data={"reason": " ", "csrf_token": _token(page)})
    assert refused.status_code == 422 and "say how and when the refund was paid" in refused.get_data(as_text=True)
    done = client.post(f"/refunds/{failed_refund.id}/mark-paid",
                       data={"reason": "bank transfer 88", "csrf_token": _token(page)}, follow_redirects=True)
    assert "Marked as paid manually" in done.get_data(as_text=True)
    assert db.session.get(Refund, failed_refund.id).state == "paid_manually"


@pytest.mark.parametrize(("query", "message"), [("state=lost", "unknown state"), ("provider=paypal", "unknown provider"),
                                                ("older_than_hours=x", "whole number of hours")])
def test_bad_filters_are_refused_with_a_message(client, clock, query, message) -> None:
    _user(clock, "caiwu", ["finance"])
    _sign_in(client, "caiwu")
    response = client.get(f"/refunds?{query}")
    assert response.status_code == 422 and message in response.get_data(as_text=True)
