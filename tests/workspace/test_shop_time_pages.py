"""Staff pages show and read times on the shop's wall clock (SHOP_TIMEZONE, Asia/Shanghai = UTC+8 in the
tests); what is stored, exported and answered by the API stays UTC."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import ProcessInstance, Substitution
from app.services import api_tokens
from app.services.shop_time import from_shop_input, shop_time
from tests.workspace.conftest import csrf, sign_in

DUE = datetime(2026, 1, 5, 17, 5, tzinfo=timezone.utc)  # 2026-01-06 01:05 in Shanghai: the next shop day


@pytest.fixture
def task(driver, make_staff, clock):  # type: ignore[no-untyped-def]
    row = driver.task(driver.start(), "handle")  # created at the clock's 2026-01-05 09:00 UTC
    row.due_at = DUE
    db.session.commit()
    make_staff("ann", groups=[row.candidate_group])
    make_staff("zhuguan", roles=["supervisor"], groups=["supervisors"])
    return row


def test_the_task_list_names_the_zone_and_shows_created_and_due_in_shop_time(client, task) -> None:
    sign_in(client, "ann")
    page = client.get("/tasks?list=queue").get_data(as_text=True)
    assert 'id="shop-zone">Times 时间: Asia/Shanghai (UTC+8)</span>' in page
    assert 'title="due 2026-01-06 01:05"' in page and 'title="created 2026-01-05 17:00"' in page
    assert "2026-01-05 17:05" not in page  # the UTC due time


def test_the_supervisor_view_shows_due_times_in_shop_time(client, clock, task) -> None:
    clock.set(datetime(2026, 1, 5, 16, 35, tzinfo=timezone.utc))  # half an hour before the due time
    sign_in(client, "zhuguan")
    page = client.get("/tasks/supervisor").get_data(as_text=True)
    assert f'href="/tasks/{task.task_id}"' in page
    assert "<td>01-06 01:05</td>" in page and "01-05 17:05" not in page


def test_the_task_page_shows_the_due_time_in_shop_time(client, task) -> None:
    sign_in(client, "ann")
    page = client.get(f"/tasks/{task.task_id}").get_data(as_text=True)
    assert "due 2026-01-06 01:05" in page and "2026-01-05 17:05" not in page


def test_a_substitution_typed_as_nine_in_the_morning_shop_time_is_stored_as_one_utc(client, clock, task) -> None:
    sign_in(client, "zhuguan")
    page = client.get("/tasks/substitutes").get_data(as_text=True)
    answer = client.post("/tasks/substitutes", data={"csrf_token": csrf(page), "absent": "ann", "substitute": "zhuguan",
                                                     "starts_at": "2026-01-06T09:00", "ends_at": "2026-01-07T18:30"})
    assert answer.status_code == 302
    row = db.session.execute(select(Substitution)).scalar_one()
    assert (row.starts_at, row.ends_at) == (datetime(2026, 1, 6, 1, 0, tzinfo=timezone.utc),
                                            datetime(2026, 1, 7, 10, 30, tzinfo=timezone.utc))
    page = client.get("/tasks/substitutes").get_data(as_text=True)
    assert "<td>2026-01-06 09:00</td><td>2026-01-07 18:30</td>" in page

    clock.set(datetime(2026, 1, 7, 11, 0, tzinfo=timezone.utc))
    ended = client.post(f"/tasks/substitutes/{row.id}/end", data={"csrf_token": csrf(page)})
    assert ended.status_code == 409
    assert "already ended at 2026-01-07 18:30 (UTC+8)" in ended.get_data(as_text=True)


def test_typed_text_that_names_its_offset_keeps_it(app) -> None:
    with app.app_context():
        assert from_shop_input("2026-01-06T09:00+00:00") == datetime(2026, 1, 6, 9, 0, tzinfo=timezone.utc)
        assert from_shop_input(" 2026-01-06T09:00 ") == datetime(2026, 1, 6, 1, 0, tzinfo=timezone.utc)
        with pytest.raises(ValueError):
            from_shop_input("tomorrow at nine")


def test_the_filter_reads_datetimes_naive_utc_and_iso_text(app) -> None:
    with app.app_context():
        assert shop_time(DUE) == shop_time(DUE.replace(tzinfo=None)) == shop_time(DUE.isoformat()) == "2026-01-06 01:05"
        assert shop_time(None) == shop_time("") == ""
        app.config["SHOP_TIMEZONE"] = "Europe/Berlin"
        try:
            assert shop_time(DUE, "%H:%M") == "18:05"
        finally:
            app.config["SHOP_TIMEZONE"] = "Asia/Shanghai"


def test_the_task_api_still_answers_in_utc(client, clock, task) -> None:
    token, _ = api_tokens.issue_token("ann", name="tests", now=clock.now())
    db.session.commit()
    answer = client.get(f"/api/v1/tasks/{task.task_id}", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.get_json()["due_at"].startswith("2026-01-05T17:05:00")


def test_audit_dates_are_shop_days_the_page_shows_shop_time_and_the_export_utc(client, make_staff, task) -> None:
    instance = db.session.execute(select(ProcessInstance)).scalar_one()
    instance.created_at = DUE  # 17:05 UTC on 01-05 is the shop's 01-06
    db.session.commit()
    make_staff("shenji", roles=["auditor"])
    sign_in(client, "shenji")
    link = f'/audit/instances/{instance.id}"'
    assert link in client.get("/audit?date_from=2026-01-06&date_to=2026-01-06").get_data(as_text=True)
    assert link not in client.get("/audit?date_to=2026-01-05").get_data(as_text=True)
    assert link not in client.get("/audit?date_from=2026-01-07").get_data(as_text=True)
    assert "<td>2026-01-06 01:05</td>" in client.get("/audit?date_from=2026-01-06").get_data(as_text=True)

    page = client.get(f"/audit/instances/{instance.id}").get_data(as_text=True)
    assert "2026-01-06 01:05" in page and "<td>2026-01-05 17:00:00</td>" in page  # started; the first event
    exported = json.loads(client.get(f"/audit/instances/{instance.id}/export.json").get_data(as_text=True))
    record = exported["instances"][0]
    assert record["created_at"] == "2026-01-05T17:05:00+00:00"
    assert record["events"][0]["occurred_at"] == "2026-01-05T09:00:00+00:00"
