"""Bearer-token authentication and per-role permissions for the JSON API.

Only a token authenticates an API request: a session cookie never does, so a page on
another site cannot make a signed-in browser write through the API (the blueprint is
CSRF-exempt for that reason).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Request, Response, g, request

from app.errors import NotAuthenticated, PermissionDenied
from app.extensions import login_manager
from app.models import ROLES, User
from app.runtime import get_runtime
from app.services import api_tokens, customers
from app.services.uow import run_command

if TYPE_CHECKING:
    from app.api.registry import ApiRegistry

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
    if token is None or token.startswith(customers.TOKEN_PREFIX):
        return None
    now = get_runtime().clock.now()
    return run_command(lambda: api_tokens.user_for_token(token, now=now))


def authenticate(registry: ApiRegistry) -> None:
    """Before every API request: find the token's user (or customer), or refuse with 401/403.

    Staff tokens open staff endpoints only and customer (``kesuc_``) tokens customer endpoints
    only: a customer's app can never read the task list, nor a staff script act as a customer.
    """
    audience = registry.audience_of(request.endpoint)
    if request.endpoint in PUBLIC_ENDPOINTS or audience is None:
        return
    token = bearer_token(request)
    if token is None:
        raise NotAuthenticated("send your API token as 'Authorization: Bearer <token>'; " + (
            "the app gets one from POST /api/v1/customer/tokens" if audience == "customer"
            else "an administrator mints one with `flask users token USERNAME`"))
    if token.startswith(customers.TOKEN_PREFIX) or audience == "customer":
        _authenticate_customer(token, audience)
        return
    user = load_user_from_request(request)
    if user is None:
        raise NotAuthenticated("this API token is unknown or revoked; ask an administrator for a new one")
    g.api_user = user
    g._login_user = user  # what flask_login.current_user reads: the token's user, never the cookie's


def _authenticate_customer(token: str, audience: str) -> None:
    is_customer_token = token.startswith(customers.TOKEN_PREFIX)
    if audience == "customer" and not is_customer_token:
        if load_user_from_request(request) is None:  # not a staff token either: a typo or a revoked one
            raise NotAuthenticated("this API token is unknown or revoked; the app gets one from "
                                   "POST /api/v1/customer/tokens")
        raise PermissionDenied("this endpoint is for customers: send a customer token (kesuc_...) from "
                               "POST /api/v1/customer/tokens, not a staff token")
    customer = run_command(lambda: customers.customer_for_token(token))
    if customer is None:
        raise NotAuthenticated("this customer token is unknown or revoked; sign in again with "
                               "POST /api/v1/customer/tokens")
    if audience != "customer":
        raise PermissionDenied("a customer token opens only the /api/v1/customer/ endpoints; "
                               "this one needs a staff token")
    g.api_customer = customer
    g.api_customer_token = token


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
