"""/alerts for supervisors: the list, the evidence with links to the complaints behind it, acknowledging
(once, audited), the dashboard panel, and nobody else getting in."""
from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models import ProcessEvent
from app.models.alert import Alert
from app.services import alerts
from tests.alerts.conftest import csrf, sign_in


def _product_alert(seeder: Any, clock: Any) -> Alert:
    for _ in range(5):
        seeder.complaint(clock.now() - timedelta(hours=2), product="空气炸锅", text="炸锅不加热")
    alerts.evaluate(clock.now())
    db.session.commit()
    return db.session.execute(select(Alert)).scalar_one()


def test_only_supervisors_and_admins_see_alerts(client: Any, make_staff: Any, seeder: Any, clock: Any) -> None:
    alert = _product_alert(seeder, clock)
    make_staff("xiaowang", ["agent"])
    make_staff("admin", ["admin"])
    assert client.get("/alerts").status_code in (302, 401)
    sign_in(client, "xiaowang")
    assert client.get("/alerts").status_code == 403
    assert client.get(f"/alerts/{alert.id}").status_code == 403
    assert client.get("/alerts/panel").status_code == 403
    client.post("/logout", data={"csrf_token": csrf(client.get("/kb").get_data(as_text=True))})
    sign_in(client, "admin")
    assert client.get("/alerts").status_code == 200


def test_alert_page_lists_the_complaints_behind_it(client: Any, make_staff: Any, seeder: Any, clock: Any) -> None:
    alert = _product_alert(seeder, clock)
    make_staff("zhuguan", ["supervisor"])
    sign_in(client, "zhuguan")
    listing = client.get("/alerts").get_data(as_text=True)
    assert f'data-alert-id="{alert.id}"' in listing and "空气炸锅" in listing
    page = client.get(f"/alerts/{alert.id}").get_data(as_text=True)
    assert page.count('class="complaint-row"') == 5 and "炸锅不加热" in page
    assert client.get("/alerts/999999").status_code == 404


def test_acknowledge_records_who_and_when_once(client: Any, make_staff: Any, seeder: Any, clock: Any) -> None:
    alert = _product_alert(seeder, clock)
    make_staff("zhuguan", ["supervisor"])
    sign_in(client, "zhuguan")
    page = client.get(f"/alerts/{alert.id}").get_data(as_text=True)
    assert client.post(f"/alerts/{alert.id}/acknowledge").status_code == 400  # no CSRF token
    clock.advance(minutes=3)
    response = client.post(f"/alerts/{alert.id}/acknowledge", data={"csrf_token": csrf(page)})
    assert response.status_code == 302
    db.session.expire_all()
    assert (alert.acknowledged_by, alert.acknowledged_at) == ("zhuguan", clock.now())
    event = db.session.execute(select(ProcessEvent).where(ProcessEvent.event_type == "alert.acknowledged")
                               ).scalar_one()
    assert event.actor == "zhuguan" and json.loads(event.payload)["alert_id"] == alert.id
    again = client.post(f"/alerts/{alert.id}/acknowledge", data={"csrf_token": csrf(page)})
    shop_time = (clock.now() + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M")  # Asia/Shanghai, as staff read it
    assert again.status_code == 409 and "already acknowledged" in again.get_data(as_text=True)
    assert f"at {shop_time} (UTC+8); nothing more to do" in again.get_data(as_text=True)
    page = client.get(f"/alerts/{alert.id}").get_data(as_text=True)
    assert f"<strong>zhuguan</strong> at {shop_time}" in page


def test_dashboard_panel_shows_open_alerts(client: Any, make_staff: Any, seeder: Any, clock: Any) -> None:
    alert = _product_alert(seeder, clock)
    make_staff("zhuguan", ["supervisor"])
    sign_in(client, "zhuguan")
    panel = client.get("/alerts/panel").get_data(as_text=True)
    assert f'data-alert-id="{alert.id}"' in panel and "未确认" in panel
    assert 'id="alerts-panel"' in client.get("/dashboard").get_data(as_text=True)
    clock.advance(hours=23)
    alerts.evaluate(clock.now())
    db.session.commit()
    assert "No open alerts" in client.get("/alerts/panel").get_data(as_text=True)
    assert f'data-alert-id="{alert.id}"' in client.get("/alerts?state=all").get_data(as_text=True)
