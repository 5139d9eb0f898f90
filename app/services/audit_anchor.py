"""Anchors: the head of every chain, signed and kept outside the database, so truncation shows.

An anchor is a JSON file ``{"created_at", "streams": {stream: {"seq", "hash"}}, "global_head",
"signature"}``; ``global_head`` is the sha256 of the canonical streams map and ``signature``
an HMAC-SHA256 of everything else with ``AUDIT_ANCHOR_KEY``. Checking an anchor later finds
every stream whose anchored event is gone or no longer has the anchored hash.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from app.errors import ValidationFailed
from app.extensions import db
from app.models import ProcessEvent
from app.services.audit_retention import register_retention
from workflows.persistence import canonical_json

ANCHOR_EVERY_SECONDS = 3600


def anchor_key() -> bytes:
    """The signing key: AUDIT_ANCHOR_KEY, else one derived from SECRET_KEY."""
    key = current_app.config.get("AUDIT_ANCHOR_KEY") or f"anchor:{current_app.config['SECRET_KEY']}"
    return str(key).encode("utf-8")


def stream_heads() -> dict[str, dict[str, Any]]:
    """The last event (seq, hash) of every stream in the log."""
    last = select(ProcessEvent.stream, func.max(ProcessEvent.seq).label("seq")).group_by(ProcessEvent.stream).subquery()
    rows = db.session.execute(select(ProcessEvent.stream, ProcessEvent.seq, ProcessEvent.hash).join(
        last, (ProcessEvent.stream == last.c.stream) & (ProcessEvent.seq == last.c.seq)))
    return {r.stream: {"seq": r.seq, "hash": r.hash} for r in sorted(rows, key=lambda r: r.stream)}


def _sign(body: dict[str, Any]) -> str:
    return hmac.new(anchor_key(), canonical_json(body).encode("utf-8"), hashlib.sha256).hexdigest()


def build_anchor(now: datetime) -> dict[str, Any]:
    """Every stream's head and the global head hash, signed."""
    streams = stream_heads()
    body = {"created_at": now.isoformat(), "streams": streams,
            "global_head": hashlib.sha256(canonical_json(streams).encode("utf-8")).hexdigest()}
    return {**body, "signature": _sign(body)}


def write_anchor(folder: str | Path, now: datetime) -> Path:
    """Write an anchor file named by its time into ``folder``; return its path."""
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    path = target / f"anchor-{now.strftime('%Y%m%dT%H%M%S%fZ')}.json"
    path.write_text(json.dumps(build_anchor(now), indent=1, sort_keys=True), encoding="utf-8")
    return path


@dataclass
class AnchorReport:
    """The outcome of checking the log against an anchor."""

    intact: bool
    streams: int
    problem: str | None = None

    def describe(self) -> str:
        if self.intact:
            return f"anchor matches: {self.streams} chain head(s) still present and unchanged"
        return f"TAMPERED since the anchor: {self.problem}"


def load_anchor(text: str) -> dict[str, Any]:
    """Parse an anchor file and check its signature."""
    try:
        anchor = json.loads(text)
        body = {k: anchor[k] for k in ("created_at", "streams", "global_head")}
        signature = str(anchor["signature"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ValidationFailed("this is not an anchor file (expected created_at, streams, global_head, "
                               "signature); pass a file written by `flask audit anchor`") from exc
    if not hmac.compare_digest(_sign(body), signature):
        raise ValidationFailed("the anchor's signature does not match: the file was altered or signed with "
                               "another AUDIT_ANCHOR_KEY")
    if hashlib.sha256(canonical_json(body["streams"]).encode("utf-8")).hexdigest() != body["global_head"]:
        raise ValidationFailed("the anchor's global head does not match its streams")
    return anchor


def check_anchor(anchor: dict[str, Any]) -> AnchorReport:
    """Find anchored events that are missing or changed (the chains themselves are checked by verify)."""
    streams = anchor["streams"]
    for stream, head in sorted(streams.items()):
        row = db.session.execute(select(ProcessEvent.id, ProcessEvent.hash).where(
            ProcessEvent.stream == stream, ProcessEvent.seq == head["seq"])).first()
        if row is None:
            count = db.session.execute(select(func.count()).where(ProcessEvent.stream == stream)).scalar()
            return AnchorReport(False, len(streams), f"{stream} had {head['seq']} events at "
                                f"{anchor['created_at']}, event seq {head['seq']} is gone ({count} left)")
        if row.hash != head["hash"]:
            return AnchorReport(False, len(streams), f"{stream} seq {head['seq']} (event id {row.id}) no "
                                f"longer has the anchored hash")
    return AnchorReport(True, len(streams))


def anchor_folder(config: Any) -> str:
    """AUDIT_ANCHOR_DIR, else the anchors folder inside the instance folder."""
    return config.get("AUDIT_ANCHOR_DIR") or str(Path(config["INSTANCE_DIR"]) / "anchors")


def anchor_chore(now: datetime) -> None:
    """Write an anchor into the anchor folder (run by the scheduler)."""
    write_anchor(anchor_folder(current_app.config), now)


def register_audit(runtime: Any) -> None:
    """Register the periodic anchor and retention chores."""
    runtime.register_chore("audit.anchor", anchor_chore, every_seconds=ANCHOR_EVERY_SECONDS)
    register_retention(runtime)
