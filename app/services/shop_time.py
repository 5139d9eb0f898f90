"""Times as people read and type them: the shop's wall clock (config SHOP_TIMEZONE).

Kesu stores, exports and answers the API in UTC (ISO 8601). Staff and customer pages show a
time through the ``shop_time`` template filter and name the zone once (``shop_zone_label()``,
e.g. ``UTC+8``; staff pages also say ``Asia/Shanghai`` in the top bar); a date or time a
person types on a staff form is the shop's and is turned into UTC with :func:`from_shop_input`
or, for a whole day, :func:`shop_day_bounds`.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from app.services.complaint_facts import shop_zone

SHOWN = "%Y-%m-%d %H:%M"


def in_shop_zone(value: datetime | str) -> datetime:
    """A UTC moment (a datetime, or ISO 8601 text as in the exports) on the shop's wall clock."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:  # SQLite hands times back without their (UTC) zone
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(shop_zone())


def shop_time(value: datetime | str | None, fmt: str = SHOWN) -> str:
    """The ``shop_time`` filter: ``{{ task.due_at|shop_time }}`` or ``|shop_time('%m-%d %H:%M')``; '' for none."""
    if value is None or value == "":
        return ""
    return in_shop_zone(value).strftime(fmt)


def shop_zone_label(now: datetime | None = None) -> str:
    """The shop's offset from UTC as people read it next to a time, e.g. ``UTC+8``."""
    if now is None:
        from app.runtime import get_runtime
        now = get_runtime().clock.now()
    offset = now.astimezone(shop_zone()).utcoffset() or timedelta()
    minutes = int(offset.total_seconds() // 60)
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{'+' if minutes >= 0 else '-'}{hours}" + (f":{rest:02d}" if rest else "")


def from_shop_input(text: str) -> datetime:
    """A date and time typed on a form (``2026-12-01T09:00``) read on the shop's wall clock, as UTC.

    Text that names its own offset (``...+08:00``, ``...Z``) keeps it. Raise ValueError when unreadable.
    """
    moment = datetime.fromisoformat(text.strip())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=shop_zone())
    return moment.astimezone(timezone.utc)


def shop_day_bounds(day: date) -> tuple[datetime, datetime]:
    """The first and the last moment of one shop day, in UTC (for "from"/"to" date filters)."""
    zone = shop_zone()
    return (datetime.combine(day, time.min, zone).astimezone(timezone.utc),
            datetime.combine(day, time.max, zone).astimezone(timezone.utc))
