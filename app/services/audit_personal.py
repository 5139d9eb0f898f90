"""Personal data outside the hash chain: redact on append, resolve on read, erase per customer.

Values under the keys in ``AUDIT_PERSONAL_FIELDS`` never enter a hashed event payload: each is
stored in ``personal_data`` (keyed by customer) and the payload holds ``pd:<token>`` instead.
Erasing a customer empties those rows and scrubs the working state of their instances; the
chain still verifies because the hashed text never contained the values.
"""
from __future__ import annotations

import json
import secrets
from datetime import datetime
from typing import Any, Callable

from flask import current_app, has_app_context
from sqlalchemy import or_, select, update

from app.extensions import db
from app.models import PersonalData, ProcessInstance

TOKEN_PREFIX = "pd:"
ERASED = "erased"


def personal_fields() -> frozenset[str]:
    if not has_app_context():
        return frozenset()
    return frozenset(current_app.config.get("AUDIT_PERSONAL_FIELDS") or ())


def _find_customer(value: Any) -> str | None:
    if isinstance(value, dict):
        if value.get("customer_id") not in (None, ""):
            return str(value["customer_id"])
        value = list(value.values())
    if isinstance(value, list):
        for item in value:
            found = _find_customer(item)
            if found:
                return found
    return None


def _instance_customer(instance_id: int | None) -> str | None:
    if instance_id is None:
        return None
    return db.session.execute(select(PersonalData.customer_id).where(
        PersonalData.instance_id == instance_id, PersonalData.customer_id.is_not(None)).limit(1)).scalar()


def _walk(value: Any, fields: frozenset[str], replace: Callable[[str, Any], Any]) -> Any:
    if isinstance(value, dict):
        return {k: replace(k, v) if k in fields and v not in (None, "") else _walk(v, fields, replace)
                for k, v in value.items()}
    if isinstance(value, list):
        return [_walk(v, fields, replace) for v in value]
    return value


def redact(instance_id: int | None, payload: dict[str, Any], now: datetime,
           fields: frozenset[str] | None = None) -> dict[str, Any]:
    """Return the payload with personal values replaced by tokens (stored, keyed by customer).

    ``fields`` defaults to the configured personal fields (pass them when redacting many payloads).
    """
    fields = personal_fields() if fields is None else fields
    if not fields or not _contains(payload, fields):
        return payload
    customer = _find_customer(payload) or _instance_customer(instance_id)

    def store(field: str, value: Any) -> str:
        if isinstance(value, str) and value.startswith(TOKEN_PREFIX):
            return value
        token = TOKEN_PREFIX + secrets.token_hex(16)
        db.session.add(PersonalData(token=token, customer_id=customer, instance_id=instance_id, field=field,
                                    value=json.dumps(value, ensure_ascii=False), created_at=now))
        return token
    return _walk(payload, fields, store)


def _contains(value: Any, fields: frozenset[str]) -> bool:
    if isinstance(value, dict):
        return any((k in fields and v not in (None, "")) or _contains(v, fields) for k, v in value.items())
    if isinstance(value, list):
        return any(_contains(v, fields) for v in value)
    return False


def _tokens(value: Any, found: set[str]) -> set[str]:
    if isinstance(value, str) and value.startswith(TOKEN_PREFIX):
        found.add(value)
    elif isinstance(value, dict):
        for item in value.values():
            _tokens(item, found)
    elif isinstance(value, list):
        for item in value:
            _tokens(item, found)
    return found


def resolve(payloads: list[Any]) -> list[Any]:
    """Put the stored values back in place of tokens ("erased" once erased)."""
    wanted = set().union(*(_tokens(p, set()) for p in payloads)) if payloads else set()
    if not wanted:
        return payloads
    rows = db.session.execute(select(PersonalData.token, PersonalData.value)
                              .where(PersonalData.token.in_(sorted(wanted))))
    values = {token: ERASED if value is None else json.loads(value) for token, value in rows}

    def put(value: Any) -> Any:
        if isinstance(value, str) and value in values:
            return values[value]
        if isinstance(value, dict):
            return {k: put(v) for k, v in value.items()}
        if isinstance(value, list):
            return [put(v) for v in value]
        return value
    return [put(p) for p in payloads]


def erase_customer(customer_id: str, *, actor: str, now: datetime) -> dict[str, Any]:
    """Erase a customer's personal values, scrub their instances' working state, record it; return counts."""
    from app.services.audit import record_system_event  # audit imports redact() from here

    instances = select(PersonalData.instance_id).where(PersonalData.customer_id == customer_id)
    ids = sorted({i for i in db.session.execute(instances).scalars() if i is not None})
    erased = db.session.execute(
        update(PersonalData).where(or_(PersonalData.customer_id == customer_id, PersonalData.instance_id.in_(ids)),
                                   PersonalData.erased_at.is_(None))
        .values(value=None, erased_at=now).execution_options(synchronize_session=False)).rowcount
    fields = personal_fields()
    for instance in db.session.execute(select(ProcessInstance).where(ProcessInstance.id.in_(ids))).scalars():
        if instance.state:
            instance.state = json.dumps(_walk(json.loads(instance.state), fields, lambda _k, _v: ERASED))
    db.session.flush()
    result = {"customer_id": customer_id, "values_erased": erased, "instances": ids}
    record_system_event("personal_data.erased", result, actor=actor, now=now)
    return result
