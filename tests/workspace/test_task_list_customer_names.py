"""Task lists name a portal customer (their complaints carry only the customer's numeric id)."""
from __future__ import annotations

from app.extensions import db
from app.models import Customer
from tests.workspace.conftest import sign_in


def test_the_queue_shows_the_customers_name_and_keeps_external_references(driver, make_staff, clock, client) -> None:
    customer = Customer(name="王小明", phone="13700000009", email="w@example.com", tier="normal", created_at=clock.now())
    db.session.add(customer)
    db.session.commit()
    portal = driver.task(driver.start(complaint_id="C-77", customer_id=customer.process_id), "handle")
    external = driver.task(driver.start(complaint_id="C-78", customer_id="shop-42"), "handle")
    assert portal.customer == customer.process_id  # the row keeps the id, not the name
    make_staff("ann", groups=[portal.candidate_group, external.candidate_group])
    sign_in(client, "ann")
    page = client.get("/tasks?list=queue").get_data(as_text=True)
    assert "<td>王小明</td>" in page and "<td>shop-42</td>" in page
    assert f"<td>{customer.process_id}</td>" not in page
    rows = client.get("/tasks?list=queue", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<td>王小明</td>" in rows
