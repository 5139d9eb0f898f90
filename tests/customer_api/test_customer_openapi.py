"""The customer endpoints are in the OpenAPI document, and the app conforms to it (schemathesis)."""
from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from openapi_spec_validator import validate
from schemathesis.specs.openapi.checks import positive_data_acceptance

CUSTOMER_OPERATIONS = {"create_customer_token", "revoke_customer_token", "get_me", "update_me", "submit_complaint",
                       "list_my_messages",
                       "list_my_complaints", "get_my_complaint", "confirm_my_complaint", "answer_my_complaint",
                       "get_my_attachment",
                       "list_my_orders", "get_my_order"}


def test_customer_operations_are_documented_with_their_token_and_idempotency_key(client) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    validate(document)
    operations = {op["operationId"]: op for path in document["paths"].values() for op in path.values()}
    assert CUSTOMER_OPERATIONS <= set(operations)
    submit = operations["submit_complaint"]
    assert set(submit["requestBody"]["content"]) == {"application/json", "multipart/form-data"}
    assert submit["parameters"][0]["name"] == "Idempotency-Key"
    assert submit["security"] == [{"customer": []}] and operations["create_customer_token"]["security"] == []
    assert {"201", "401", "403", "409", "422", "429"} <= set(submit["responses"])
    assert set(operations["get_my_attachment"]["responses"]["200"]["content"]) == {
        "image/jpeg", "image/png", "image/webp"}


def test_every_customer_endpoint_conforms_without_server_errors(app, client, driver, make_customer, token_of,
                                                                upload_dir) -> None:
    """Schemathesis' own checks (no 5xx, documented status, content type and schema) on each operation.

    As in tests/api/test_openapi.py the operations are driven with Hypothesis directly; a schema-valid
    body may still be refused with 422 (an order that is not yours, a category-less text).
    """
    customer = make_customer(order_refs=("O-1", "O-2"))
    header = token_of(customer)
    client.post("/api/v1/customer/complaints", json={"order_ref": "O-1", "category": "product.quality",
                                                     "description": "杯子有裂纹"}, headers=header)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()
                  if result.ok().path.startswith("/api/v1/customer/")]
    assert {op.definition.raw["operationId"] for op in operations} == CUSTOMER_OPERATIONS
    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
                  database=None)
        def conforms(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=token_of(customer), excluded_checks=[positive_data_acceptance])
        conforms()
