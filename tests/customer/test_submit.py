"""complaints.submit: every validation rule with its message, the start data, duplicates, idempotency."""
from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from app.errors import ValidationFailed
from app.extensions import db
from app.services import complaints
from app.services.complaints import DuplicateComplaint, Submission
from tests.customer.conftest import image_bytes


def _submit(customer, upload_dir: Path, clock, **changes):  # type: ignore[no-untyped-def]
    values = {"order_ref": "O-1", "category": "product.quality", "description": "杯子有裂纹"}
    values.update(changes)
    complaint, created = complaints.submit(customer, Submission(**values), upload_dir=upload_dir, now=clock.now())
    db.session.commit()
    return complaint, created


def _fields(customer, upload_dir, clock, **changes) -> dict[str, str]:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed) as refused:
        _submit(customer, upload_dir, clock, **changes)
    assert refused.value.message == "the complaint was not sent; correct the fields listed"
    return refused.value.fields


def test_submit_writes_complaint_photos_and_starts_the_process(driver, make_customer, upload_dir, clock) -> None:
    customer = make_customer()
    complaint, created = _submit(customer, upload_dir, clock, images=[image_bytes("JPEG", exif=True),
                                                                      image_bytes("PNG")])
    assert created and complaint.instance_id
    data = driver.data(complaint.instance_id)
    assert {k: data[k] for k in ("complaint_id", "order_ref", "amount_paid", "chosen_category", "images",
                                 "customer_id", "customer_tier", "recent_complaints")} == {
        "complaint_id": complaint.reference, "order_ref": "O-1", "amount_paid": 120.0,
        "chosen_category": "product.quality", "images": 2, "customer_id": str(customer.id),
        "customer_tier": "normal", "recent_complaints": 0}
    assert data["payment_id"] is not None
    stored = [upload_dir / a.stored_name for a in complaint.attachments]
    assert [a.content_type for a in complaint.attachments] == ["image/jpeg", "image/png"]
    assert all(p.exists() and "static" not in str(p) for p in stored)
    assert not Image.open(io.BytesIO(stored[0].read_bytes())).getexif(), "EXIF (GPS) must be stripped"
    assert [t.name for t in driver.open_tasks(complaint.instance_id)] == ["handle"]


def test_order_of_another_customer_is_refused(driver, make_customer, upload_dir, clock) -> None:
    make_customer(name="李四", phone="13900000002", order_refs=("O-OTHER",))
    me = make_customer()
    assert _fields(me, upload_dir, clock, order_ref="O-OTHER") == {"order_ref": "choose one of your own orders"}


def test_unknown_category_is_refused(driver, make_customer, upload_dir, clock) -> None:
    fields = _fields(make_customer(), upload_dir, clock, category="product.exploded")
    assert fields == {"category": "choose a category from the list"}


def test_text_too_long_and_empty_are_refused(driver, make_customer, upload_dir, clock) -> None:
    customer = make_customer()
    assert _fields(customer, upload_dir, clock, description="坏" * 301) == {
        "description": "is 301 characters; write at most 300"}
    assert _fields(customer, upload_dir, clock, description="   ") == {
        "description": "describe the problem in a few words"}
    complaint, _ = _submit(customer, upload_dir, clock, description="坏" * 300)
    assert len(complaint.description) == 300


def test_a_fourth_image_is_refused(driver, make_customer, upload_dir, clock) -> None:
    fields = _fields(make_customer(), upload_dir, clock, images=[image_bytes()] * 4)
    assert fields == {"images": "4 photos sent; send at most 3"}


@pytest.mark.parametrize("raw, message", [
    (b"\x89PNG\r\n\x1a\n<html><script>alert(1)</script></html>",
     "photo 1 is not an image Kesu can read; send a JPEG, PNG or WebP photo"),
    (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
     "photo 1 is not an image Kesu can read; send a JPEG, PNG or WebP photo"),
], ids=["png-that-is-html", "svg"])
def test_files_that_are_not_photos_are_refused(driver, make_customer, upload_dir, clock, raw, message) -> None:
    assert _fields(make_customer(), upload_dir, clock, images=[raw]) == {"images[1]": message}


def test_a_decompression_bomb_is_refused(driver, make_customer, upload_dir, clock) -> None:
    out = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(out, "PNG")  # 400 megapixels in ~50 KB
    fields = _fields(make_customer(), upload_dir, clock, images=[image_bytes(), out.getvalue()])
    assert fields == {"images[2]": "photo 2 has too many pixels (a decompression bomb?); "
                                   "send a photo under 40 megapixels"}


def test_other_formats_and_big_files_are_refused(driver, make_customer, upload_dir, clock) -> None:
    customer = make_customer()
    assert _fields(customer, upload_dir, clock, images=[image_bytes("GIF")]) == {
        "images[1]": "photo 1 is a GIF file; send a JPEG, PNG or WebP photo"}
    assert _fields(customer, upload_dir, clock, images=[b"\xff\xd8" + b"0" * (5 * 1024 * 1024)]) == {
        "images[1]": "photo 1 is larger than 5 MiB; send a smaller photo"}


def test_webp_is_accepted(driver, make_customer, upload_dir, clock) -> None:
    complaint, _ = _submit(make_customer(), upload_dir, clock, images=[image_bytes("WEBP")])
    assert complaint.attachments[0].content_type == "image/webp"


def test_an_open_complaint_for_the_same_order_and_category_is_not_duplicated(
        driver, make_customer, upload_dir, clock) -> None:
    customer = make_customer()
    first, _ = _submit(customer, upload_dir, clock)
    with pytest.raises(DuplicateComplaint) as refused:
        _submit(customer, upload_dir, clock, description="还是裂的")
    assert refused.value.details["complaint_id"] == first.id
    assert "is still open; follow it there" in refused.value.message
    second, created = _submit(customer, upload_dir, clock, category="delivery.late")
    assert created and second.id != first.id


def test_a_repeated_idempotency_key_returns_the_first_complaint(driver, make_customer, upload_dir, clock) -> None:
    customer = make_customer()
    first, created = _submit(customer, upload_dir, clock, idempotency_key="k-1")
    again, created_again = _submit(customer, upload_dir, clock, idempotency_key="k-1", description="重试")
    assert created and not created_again and again.id == first.id
    assert len(complaints.customer_complaints(customer.id)) == 1
