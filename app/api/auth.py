"""Bearer-token authentication and per-role permissions for the JSON API.

Only a token authenticates an API request: a session cookie never does, so a page on
another site cannot make a signed-in browser write through the API (the blueprint is
CSRF-exempt for that reason).
"""
from __future__ import annotations

from flask import Request, Response, g, request

from app.errors import NotAuthenticated, PermissionDenied
from app.extensions import login_manager
from app.models import ROLES, User
from app.runtime import get_runtime
from app.services import api_tokens
from app.services.uow import run_command

# permission -> roles that hold it (admins hold every permission: User.has_role)
PERMISSIONS: dict[str, tuple[str, ...]] = {
    "read": ROLES,
    "deploy": ("analyst",),
    "start": ("agent", "expert", "supervisor", "analyst"),
    "work_tasks": ("agent", "expert", "qa", "supervisor", "finance"),
    "deliver_messages": ("agent", "expert", "supervisor", "finance"),
    "administer": ("supervisor",),
}
PUBLIC_ENDPOINTS = {"api.openapi_document"}


def bearer_token(req: Request) -> str | None:
    """Return the token of an ``Authorization: Bearer <token>`` header, if there is one."""
    scheme, _, token = req.headers.get("Authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


@login_manager.request_loader
def load_user_from_request(req: Request) -> User | None:
    """Flask-Login: the staff member whose API token an /api/ request carries."""
    token = bearer_token(req) if req.path.startswith("/api/") else None
    if token is None:
        return None
    now = get_runtime().clock.now()
    return run_command(lambda: api_tokens.user_for_token(token, now=now))


def authenticate() -> None:
    """Before every API request: find the token's user, or refuse with 401."""
    if request.endpoint in PUBLIC_ENDPOINTS or request.endpoint is None:
        return
    if bearer_token(request) is None:
        raise NotAuthenticated("send your API token as 'Authorization: Bearer <token>'; an administrator "
                               "mints one with `flask users token USERNAME`")
    user = load_user_from_request(request)
    if user is None:
        raise NotAuthenticated("this API token is unknown or revoked; ask an administrator for a new one")
    g.api_user = user
    g._login_user = user  # what flask_login.current_user reads: the token's user, never the cookie's


def challenge(response: Response) -> Response:
    """After every API request: tell a client refused with 401 how to authenticate."""
    if response.status_code == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="kesu"'
    return response


def check_permission(user: User, permission: str) -> None:
    """Refuse a user none of whose roles holds ``permission``."""
    roles = PERMISSIONS[permission]
    if not any(user.has_role(role) for role in roles):
        raise PermissionDenied(f"this needs one of the roles {', '.join(roles)}; you have "
                               f"{', '.join(user.roles) or 'none'}. Ask an administrator for access")
