"""Staff accounts an admin creates on /admin/users, password resets, and changing one's own password.

A new account's first password, and a reset one, is generated here and returned once to the
admin who asked (only its hash is kept). A password change of any kind signs the person out
everywhere: the session cookie carries a fingerprint of the password hash (``session_fingerprint``,
checked by the user loader in ``app/views``), and a reset also revokes their API tokens.
Every change is a system event in the audit chain; no password ever goes into one.
"""
from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import func, select

from app.errors import NotFound, ValidationFailed
from app.extensions import db
from app.models import GROUPS, ROLES, ApiToken, User
from app.services import api_tokens, audit

USERNAME = re.compile(r"[a-z0-9._-]{3,40}")
# Names that would pass for someone else in the audit chain and on refunds: the actors the
# processes and jobs write ("system" on automatic refunds and in rules/*.dmn, "gateway" for payouts,
# "retention", "demo", "studio-test-run", the "customer" group), and administrator-like names.
RESERVED_USERNAMES = frozenset({
    "system", "gateway", "retention", "demo", "studio-test-run", "customer", "customers", "engine", "worker",
    "timer", "scheduler", "kesu", "api", "anonymous", "nobody",
    "admin", "admins", "administrator", "root", "superuser", "sysadmin", "staff", "support", "security",
})
SESSION_KEY = "_staff_pw"   # where a signed-in session keeps its session_fingerprint
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 200


def generate_password() -> str:
    """Return a new random password (16 URL-safe characters, about 96 bits)."""
    return secrets.token_urlsafe(12)


def session_fingerprint(user: User) -> str:
    """Return what a signed-in session remembers of the password it was opened with."""
    return hashlib.sha256(user.password_hash.encode("utf-8")).hexdigest()[:16]


def create_staff(username: str, *, display_name: str, roles: list[str], groups: list[str], actor: str,
                 now: datetime) -> tuple[User, str]:
    """Create an active staff account with a generated password; return it and the password (shown once).

    Nothing is written when the name is taken, malformed or reserved, no role is chosen, or a role
    or group is unknown (``ValidationFailed`` names each field).
    """
    username, display_name = username.strip(), " ".join(display_name.split())
    problems = _username_problems(username)
    if not display_name:
        problems["display_name"] = _("give the name colleagues know them by")
    elif len(display_name) > 120:
        problems["display_name"] = _("the display name is at most 120 characters")
    problems.update(_role_and_group_problems(roles, groups))
    if not roles:
        problems["roles"] = _("choose at least one role")
    if problems:
        raise ValidationFailed(_("No staff account was created; correct the fields below."), fields=problems)
    password = generate_password()
    user = User(username=username, display_name=display_name, roles=sorted(set(roles)), groups=sorted(set(groups)),
                is_active_account=True, created_at=now)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    audit.record_system_event("staff.created", {"username": username, "display_name": display_name,
                                                "roles": user.roles, "groups": user.groups, "active": True},
                              actor=actor, now=now)
    return user, password


def reset_password(username: str, *, actor: str, now: datetime) -> tuple[User, str, int]:
    """Give ``username`` a new generated password; return them, the password (shown once) and how many tokens were revoked.

    Their sessions end at their next request and every API token of theirs is revoked. Admins
    change their own password on the change-password page instead.
    """
    user = db.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        raise NotFound(_("no staff member is called %(username)s; check the list on /admin/users",
                         username=username))
    if username == actor:
        raise ValidationFailed(_("You cannot reset your own password here; change it on the change-password "
                                 "page with your current password."),
                               fields={"username": _("choose another staff member")})
    password = generate_password()
    user.set_password(password)
    tokens = list(db.session.execute(select(ApiToken).where(ApiToken.user_id == user.id,
                                                            ApiToken.revoked_at.is_(None))
                                     .order_by(ApiToken.id)).scalars())
    for token in tokens:
        api_tokens.revoke_token(token.id, now=now, actor=actor)
    db.session.flush()
    audit.record_system_event("staff.password_reset", {"username": username, "tokens_revoked": len(tokens)},
                              actor=actor, now=now)
    return user, password, len(tokens)


def change_own_password(user: User, *, current: str, new: str, repeated: str, now: datetime) -> None:
    """Change a signed-in staff member's password after checking the current one; nothing changes on a mistake."""
    problems = {}
    if not user.check_password(current):
        problems["current"] = _("the current password is wrong")
    if len(new) < MIN_PASSWORD_LENGTH:
        problems["new"] = _("use at least %(num)d characters", num=MIN_PASSWORD_LENGTH)
    elif len(new) > MAX_PASSWORD_LENGTH:
        problems["new"] = _("use at most %(num)d characters", num=MAX_PASSWORD_LENGTH)
    elif new == current:
        problems["new"] = _("choose a password different from the current one")
    if new != repeated:
        problems["repeated"] = _("the two new passwords differ; type the same one twice")
    if problems:
        raise ValidationFailed(_("Your password was not changed; correct the fields below."), fields=problems)
    user.set_password(new)
    db.session.flush()
    audit.record_system_event("staff.password_changed", {"username": user.username}, actor=user.username, now=now)


def _username_problems(username: str) -> dict[str, str]:
    if not USERNAME.fullmatch(username):
        return {"username": _("use 3 to 40 lowercase letters, digits, '.', '_' or '-'")}
    if username in RESERVED_USERNAMES:
        return {"username": _("%(username)s is reserved (the system and processes use it); choose another",
                              username=username)}
    if db.session.execute(select(User.id).where(func.lower(User.username) == username)).first() is not None:
        return {"username": _("%(username)s is taken; choose another", username=username)}
    return {}


def _role_and_group_problems(roles: list[str], groups: list[str]) -> dict[str, str]:
    problems = {}
    if unknown := sorted(set(roles) - set(ROLES)):
        problems["roles"] = _("unknown role %(names)s", names=", ".join(unknown))
    if unknown := sorted(set(groups) - set(GROUPS)):
        problems["groups"] = _("unknown group %(names)s", names=", ".join(unknown))
    return problems
