"""The auditor's read-only view: search instances, read one history, verify, replay, export."""
from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Mapping

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select

from app.errors import ValidationFailed
from app.extensions import db
from app.models import InstanceStatus, ProcessDefinition, ProcessEvent, ProcessInstance
from app.services import audit, audit_outcomes, audit_personal, audit_retention, processes
from app.services.audit_replay import replay_instance
from app.services.shop_time import shop_day_bounds
from workflows.persistence import canonical_json

# An instance's status as the auditor (and the analyst's migration check) reads it.
INSTANCE_STATUS_LABELS = {"running": _l("running"), "waiting": _l("waiting"), "completed": _l("completed"),
                          "error": _l("error"), "cancelled": _l("cancelled"), "suspended": _l("suspended")}

PAGE_SIZE = 200  # instances a search page lists (it says when more match)
EXPORT_LIMIT = 5000  # instances one export holds, each with its history; more is refused (narrow the dates)
PERSONAL_KEYS = {"customer_name", "name", "phone", "mobile", "email", "address", "contact", "id_card"}
MASK = "***"
CSV_COLUMNS = ("seq", "occurred_at", "event_type", "task_name", "actor", "payload", "hash")


@dataclass
class AuditFilter:
    """What an auditor searches by; every field is optional."""

    key: str = ""
    order: str = ""
    customer: str = ""
    status: str = ""
    version: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    refunded_min: Decimal | None = None
    refunded_max: Decimal | None = None
    sla_breached: str = ""
    reopened: str = ""

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> AuditFilter:
        """Read filters from query arguments, refusing values that mean nothing."""
        status = args.get("status", "").strip()
        if status and status not in {s.value for s in InstanceStatus}:
            raise ValidationFailed(_("unknown status '%(status)s'", status=status),
                                   fields={"status": _("pick a status from the list")})
        version = args.get("version", "").strip()
        if version and not version.isdigit():
            raise ValidationFailed(_("the process version is a whole number"), fields={"version": _("e.g. 3")})
        return cls(args.get("key", "").strip(), args.get("order", "").strip(), args.get("customer", "").strip(),
                   status, int(version) if version else None, _day(args, "date_from"), _day(args, "date_to"),
                   _amount(args, "refunded_min"), _amount(args, "refunded_max"),
                   _yes_no(args, "sla_breached"), _yes_no(args, "reopened"))

    def query_args(self) -> dict[str, str]:
        return {k: str(v) for k, v in asdict(self).items() if v not in ("", None)}


def _day(args: Mapping[str, str], name: str) -> date | None:
    value = args.get(name, "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(_("'%(value)s' is not a date", value=value),
                               fields={name: _("use YYYY-MM-DD, e.g. 2026-01-31")}) from None


def _amount(args: Mapping[str, str], name: str) -> Decimal | None:
    value = args.get(name, "").strip()
    if not value:
        return None
    try:
        amount = Decimal(value)
    except InvalidOperation:
        amount = Decimal("NaN")
    if not amount.is_finite() or amount < 0:
        raise ValidationFailed(_("'%(value)s' is not an amount", value=value),
                               fields={name: _("a number of yuan, e.g. 50 or 12.5")})
    return amount


def _yes_no(args: Mapping[str, str], name: str) -> str:
    value = args.get(name, "").strip()
    if value not in ("", "yes", "no"):
        raise ValidationFailed(_("'%(value)s' is not yes or no", value=value),
                               fields={name: _("yes, no or empty for either")})
    return value


def _outcomes(query: Select[Any], filters: AuditFilter) -> Select[Any]:
    """Narrow by refunded amount, SLA breached and reopened."""
    for flag, ids in ((filters.sla_breached, audit_outcomes.sla_breached),
                      (filters.reopened, audit_outcomes.reopened)):
        if flag:
            match = ProcessInstance.id.in_(ids())
            query = query.where(match if flag == "yes" else ~match)
    if filters.refunded_min is not None or filters.refunded_max is not None:
        query = query.where(ProcessInstance.id.in_(
            audit_outcomes.refunded_between(filters.refunded_min, filters.refunded_max)))
    return query


def _started_with(query: Select[Any], name: str, value: str) -> Select[Any]:
    """Instances whose start data holds ``name`` == value (the start event's canonical JSON)."""
    needle = f'%{canonical_json({name: value})[1:-1]}%'
    started = select(ProcessEvent.instance_id).where(ProcessEvent.event_type == "instance.started",
                                                      ProcessEvent.payload.like(needle))
    return query.where(ProcessInstance.id.in_(started))


def search(filters: AuditFilter, *, limit: int = PAGE_SIZE) -> list[ProcessInstance]:
    """Instances matching the filters, newest first: at most ``limit`` + 1 (one more says there are more)."""
    query = (select(ProcessInstance).join(ProcessDefinition)
             .order_by(ProcessInstance.created_at.desc(), ProcessInstance.id.desc()).limit(limit + 1))
    if filters.key:
        query = query.where(ProcessInstance.business_key == filters.key)
    if filters.order:
        query = _started_with(query, "order_ref", filters.order)
    if filters.customer:
        query = _started_with(query, "customer_id", filters.customer)
    if filters.status:
        query = query.where(ProcessInstance.status == filters.status)
    if filters.version is not None:
        query = query.where(ProcessDefinition.version == filters.version)
    if filters.date_from:  # the dates are the shop's days
        query = query.where(ProcessInstance.created_at >= shop_day_bounds(filters.date_from)[0])
    if filters.date_to:
        query = query.where(ProcessInstance.created_at <= shop_day_bounds(filters.date_to)[1])
    query = _outcomes(query, filters)
    return list(db.session.execute(query).scalars())


def mask(value: Any) -> Any:
    """Replace customer contact data (by key) with a mask, at any depth."""
    if isinstance(value, dict):
        return {k: MASK if k in PERSONAL_KEYS and v not in (None, "", audit_personal.ERASED) else mask(v)
                for k, v in value.items()}
    if isinstance(value, list):
        return [mask(v) for v in value]
    return value


def history(instance_id: int, *, unmasked: bool = False) -> list[dict[str, Any]]:
    """Every event of an instance, oldest first, with its payload parsed (and masked unless allowed)."""
    processes.get_instance(instance_id)
    rows = list(db.session.execute(select(ProcessEvent).where(ProcessEvent.instance_id == instance_id)
                                   .order_by(ProcessEvent.seq)).scalars())
    payloads = audit_personal.resolve([json.loads(row.payload) for row in rows])
    events = []
    for row, payload in zip(rows, payloads):
        events.append({"id": row.id, "seq": row.seq, "occurred_at": row.occurred_at.isoformat(),
                       "event_type": row.event_type, "task_id": row.task_id, "task_name": row.task_name,
                       "actor": row.actor, "payload": payload if unmasked else mask(payload), "hash": row.hash})
    return events


def instance_record(instance_id: int, *, unmasked: bool = False, checks: bool = True) -> dict[str, Any]:
    """An instance, its history and (with ``checks``) its verification, as exported."""
    instance = processes.get_instance(instance_id)
    record: dict[str, Any] = {
        "id": instance.id, "process_id": instance.process_id, "business_key": instance.business_key,
        "status": instance.status, "purged": audit_retention.is_purged(instance),
        "version": instance.definition.version,
        "version_hash": instance.definition.content_hash, "started_by": instance.started_by,
        "created_at": instance.created_at.isoformat(),
        "completed_at": instance.completed_at.isoformat() if instance.completed_at else None,
        "events": history(instance_id, unmasked=unmasked)}
    if checks:
        record["verification"] = audit.verify_chains(instance_id).describe()
    return record


def run_check(instance_id: int, check: str) -> str:
    """Run "verify" (the hash chain) or "replay" on one instance and describe the outcome in the reader's language.

    The exports keep the reports' own ``describe()`` (English), so a file reads the same whoever downloads it.
    """
    if check == "verify":
        chain = audit.verify_chains(instance_id)
        if chain.intact:
            return _("intact: %(events)d events in %(chains)d chain(s) verified", events=chain.checked,
                     chains=chain.streams)
        bad = chain.first_bad or {}
        return _("TAMPERED: %(reason)s at event id %(id)s (%(stream)s seq %(seq)s)", reason=bad.get("reason"),
                 id=bad.get("id"), stream=bad.get("stream"), seq=bad.get("seq"))
    if check == "replay":
        replay = replay_instance(instance_id)
        if replay.identical:
            return _("identical: %(events)d events and the final state reproduced", events=replay.steps)
        where = _("step %(seq)s", seq=replay.seq) if replay.seq is not None else _("final state")
        return _("DIFFERENT at %(where)s: %(difference)s", where=where, difference=replay.difference)
    raise ValidationFailed(_("unknown check '%(check)s'", check=check), fields={"check": _("verify or replay")})


def export_json(records: list[dict[str, Any]]) -> str:
    return json.dumps({"instances": records}, ensure_ascii=False, indent=1)


def export_csv(records: list[dict[str, Any]]) -> str:
    """One row per event, prefixed with its instance; verification in its own column."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(("instance_id", "business_key", "status", "version", "verification", *CSV_COLUMNS))
    for record in records:
        head = (record["id"], record["business_key"] or "", record["status"], record["version"],
                record.get("verification", ""))
        for event in record["events"]:
            writer.writerow((*head, *[canonical_json(event[c]) if c == "payload" else event[c] or ""
                                      for c in CSV_COLUMNS]))
    return out.getvalue()
