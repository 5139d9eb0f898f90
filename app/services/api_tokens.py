"""Bearer tokens for the JSON API: issue one (shown once), and find the user a token belongs to."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select

from app.errors import NotFound
from app.extensions import db
from app.models import ApiToken, User
from app.services import audit

TOKEN_PREFIX = "kesu_"
# last_used_at is a hint for admins, not an audit record: write it at most this often.
TOUCH_EVERY = timedelta(minutes=1)


def token_digest(token: str) -> str:
    """Return the SHA-256 under which a token is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(username: str, *, name: str, now: datetime, actor: str | None = None) -> tuple[str, ApiToken]:
    """Create a token for an active staff member; return the token (never stored) and its row."""
    user = db.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None or not user.is_active:
        raise NotFound(f"no active staff member is called '{username}'; check the username")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(token_sha256=token_digest(token), name=name, user_id=user.id, created_at=now)
    db.session.add(row)
    db.session.flush()
    audit.record_system_event("api_token.created", {"token_id": row.id, "name": name, "user": username,
                                                    "before": None, "after": {"token_id": row.id, "revoked": False}},
                              actor=actor or username, now=now)
    return token, row


def user_for_token(token: str, *, now: datetime) -> User | None:
    """Return the active user owning an unrevoked token, noting when it was last used."""
    row = db.session.execute(select(ApiToken).where(ApiToken.token_sha256 == token_digest(token))
                             ).scalar_one_or_none()
    if row is None or row.is_revoked or not row.user.is_active:
        return None
    if row.last_used_at is None or now - row.last_used_at >= TOUCH_EVERY:
        row.last_used_at = now
        db.session.flush()
    return row.user


def revoke_token(token_id: int, *, now: datetime, actor: str | None = None) -> ApiToken:
    """Revoke a token; requests carrying it are refused from now on."""
    row = db.session.get(ApiToken, token_id)
    if row is None:
        raise NotFound(f"API token {token_id} does not exist")
    if row.revoked_at is None:
        row.revoked_at = now
        audit.record_system_event("api_token.revoked", {
            "token_id": row.id, "name": row.name, "user": row.user.username, "before": {"revoked": False},
            "after": {"revoked": True}}, actor=actor, now=now)
    return row
