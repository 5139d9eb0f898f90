"""Customers read times in the shop's time zone (SHOP_TIMEZONE, Asia/Shanghai by default), not UTC."""
from __future__ import annotations

import re
from datetime import datetime, timezone

from tests.customer.conftest import image_bytes
from tests.customer.test_portal import sign_in, submit


def test_progress_orders_and_devices_show_shop_time(client, driver, make_customer, clock, upload_dir) -> None:
    clock.set(datetime(2026, 11, 20, 23, 30, tzinfo=timezone.utc))  # 07:30 on the 21st in Shanghai
    make_customer()
    sign_in(client)
    sent = submit(client, images=[image_bytes()])
    assert sent.status_code == 302
    page = client.get(sent.headers["Location"]).text
    assert "2026-11-21 07:30" in page and "2026-11-20 23:30" not in page
    assert re.search(r"<time>11-21 07:30</time>", page)
    reply_by = re.search(r"我们将在 <strong>([^<]+)</strong>（([^）]+)）前回复您", page)
    assert reply_by is not None and reply_by.group(2) == "UTC+8"
    assert "(UTC)" not in page and "（UTC）" not in page
    order = client.get("/orders/O-1").text
    assert "2026-11-01 16:00" in order  # paid 08:00 UTC
    devices = client.get("/account/devices").text
    assert "(UTC)" not in devices  # no app token yet; the line format is the same template


def test_another_shop_time_zone_is_followed(app, client, driver, make_customer, clock, upload_dir) -> None:
    app.config["SHOP_TIMEZONE"] = "Europe/Berlin"
    try:
        clock.set(datetime(2026, 11, 20, 23, 30, tzinfo=timezone.utc))
        make_customer()
        sign_in(client)
        page = client.get(submit(client).headers["Location"]).text
        assert "2026-11-21 00:30" in page and "（UTC+1）" in page
    finally:
        app.config["SHOP_TIMEZONE"] = "Asia/Shanghai"
