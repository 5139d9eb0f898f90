"""What the resolution message tells the customer: the automatic rule's reason only when a rule solved it."""
from __future__ import annotations

from typing import Iterator

import pytest
from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.models import Notification
from app.services.outbox import render
from tests.support.complaints import ProcessDriver


@pytest.fixture
def driver(app, db_session, clock) -> Iterator[ProcessDriver]:  # type: ignore[no-untyped-def]
    processes = ProcessDriver(app, clock)
    yield processes
    processes.restore()


def _resolution_texts(app: Flask, instance_id: int) -> list[tuple[str, str]]:
    rows = db.session.execute(select(Notification).where(
        Notification.instance_id == instance_id, Notification.template == "resolution")
        .order_by(Notification.id)).scalars().all()
    return [(render(row, app.jinja_env, language="zh")[1], render(row, app.jinja_env, language="en")[1])
            for row in rows]


def test_an_agents_reply_does_not_quote_the_manual_rule(app, driver: ProcessDriver) -> None:
    instance_id = driver.start()
    driver.complete(instance_id, "handle", {"outcome": "reply", "reply": "您好，已为您核实并处理。"}, actor="xiaowang")
    [(zh, en)] = _resolution_texts(app, instance_id)
    assert "客服回复：您好，已为您核实并处理。" in zh
    assert "系统处理" not in zh and "a_manual" not in zh and "人工处理" not in zh
    assert "Handled automatically" not in en


def test_a_rule_that_solved_it_is_named(app, driver: ProcessDriver) -> None:
    instance_id = driver.start(chosen_category="delivery.late")
    [(zh, en)] = _resolution_texts(app, instance_id)
    assert "系统处理：" in zh and "a_late_delivery" in zh
    assert "Handled automatically: " in en


def test_after_a_reopen_the_agents_answer_is_not_called_automatic(app, driver: ProcessDriver) -> None:
    instance_id = driver.start(chosen_category="delivery.late")
    driver.complete(instance_id, "confirm_resolution", {"satisfied": False, "customer_comment": "券没用"},
                    actor="cust-1")
    driver.complete(instance_id, "expert_review", {"outcome": "reply", "reply": "已为您补发。"}, actor="laozhang")
    first, second = _resolution_texts(app, instance_id)
    assert "系统处理：" in first[0]
    assert "客服回复：已为您补发。" in second[0] and "系统处理" not in second[0]
