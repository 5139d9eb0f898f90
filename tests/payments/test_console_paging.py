"""The refunds console pages with a cursor (newest first, no OFFSET) and keeps its filters across pages."""
from __future__ import annotations

import re
from decimal import Decimal

from app.extensions import db
from app.models import User
from app.services import refund_console, refunds
from app.services.refund_console import RefundFilter


def _refunds(clock, count: int) -> list[int]:  # type: ignore[no-untyped-def]
    """Make ``count`` refunds, two per clock minute (so pages also split rows created at the same time)."""
    ids = []
    for n in range(count):
        if n % 2 == 0:
            clock.advance(minutes=1)
        payment = refunds.record_payment(f"O-page-{n}", "alipay", f"al-page-{n}", Decimal("10.00"), "CNY",
                                         now=clock.now())
        refund = refunds.create_refund(payment.id, "5.00", "CNY", reason="r", requested_by="a", approved_by="b",
                                       source_key=f"page:{n}", now=clock.now())
        if n % 3 == 0:
            refunds.move(refund, refunds.S.FAILED, actor="gateway", now=clock.now(), reason="CLOSED")
        ids.append(refund.id)
    db.session.commit()
    return ids


def _walk(filters: dict[str, str], clock) -> list[list[int]]:  # type: ignore[no-untyped-def]
    pages, cursor = [], ""
    while True:
        page = refund_console.list_refunds(RefundFilter.from_args({**filters, "after": cursor}), now=clock.now(),
                                           limit=4)
        pages.append([r.id for r in page.rows])
        if page.next_cursor is None:
            return pages
        cursor = page.next_cursor


def test_pages_cover_every_refund_once_newest_first(db_session, clock) -> None:  # type: ignore[no-untyped-def]
    ids = _refunds(clock, 11)
    pages = _walk({}, clock)
    assert [len(p) for p in pages] == [4, 4, 3]
    assert [i for p in pages for i in p] == list(reversed(ids))


def test_the_state_filter_holds_on_every_page(db_session, clock) -> None:  # type: ignore[no-untyped-def]
    ids = _refunds(clock, 14)
    failed = [i for n, i in enumerate(ids) if n % 3 == 0]
    pages = _walk({"state": "failed"}, clock)
    assert [len(p) for p in pages] == [4, 1]
    assert [i for p in pages for i in p] == list(reversed(failed))


def test_the_page_links_keep_the_filters_and_a_bad_cursor_is_refused(client, clock) -> None:  # type: ignore[no-untyped-def]
    _refunds(clock, refund_console.PAGE_SIZE + 5)
    user = User(username="caiwu", display_name="财务", roles=["finance"], groups=[], created_at=clock.now())
    user.set_password("x")
    db.session.add(user)
    db.session.commit()
    with client.session_transaction() as session:
        session["_user_id"], session["_fresh"] = str(user.id), True
    first = client.get("/refunds?provider=alipay").get_data(as_text=True)
    assert first.count('<tr class="state-') == refund_console.PAGE_SIZE
    link = re.search(r'<a class="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    assert "provider=alipay" in link and "after=" in link
    second = client.get(link).get_data(as_text=True)
    assert second.count('<tr class="state-') == 5 and 'class="next"' not in second and 'class="first"' in second
    refused = client.get("/refunds?after=yesterday")
    assert refused.status_code == 422 and "the page cursor is not valid" in refused.get_data(as_text=True)
