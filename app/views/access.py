"""Who may see what: the one decorator views use to require a signed-in staff role."""
from __future__ import annotations

from functools import wraps
from typing import Any, Callable, TypeVar
from urllib.parse import urlsplit

from flask import Response, request, session
from flask_login import current_user

from app.errors import PermissionDenied
from app.extensions import login_manager

F = TypeVar("F", bound=Callable[..., Any])


def role_required(*roles: str) -> Callable[[F], F]:
    """Let a view run only for a signed-in user holding one of ``roles`` (admins always may)."""

    def decorator(view: F) -> F:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not any(current_user.has_role(role) for role in roles):
                raise PermissionDenied(f"this page is for {' or '.join(roles)} staff; "
                                       f"ask an administrator for access")
            return view(*args, **kwargs)
        return guarded  # type: ignore[return-value]
    return decorator


def referring_page() -> str | None:
    """The path (and query) of the page of this site the request came from; None for another site's.

    For "go back where the form was": following the Referer header as it is would send the browser
    to whatever site the request claims to come from.
    """
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc != request.host or not referrer.path.startswith("/") or referrer.path.startswith("//"):
        return None
    return referrer.path + (f"?{referrer.query}" if referrer.query else "")


# Every page without a policy of its own (the staff pages: task lists, dashboard, knowledge
# base, alerts, admin): scripts only from this site, no plugins, no framing. The customer,
# studio and audit blueprints set their own, stricter or wider, policies first.
STAFF_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
             "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; "
             "form-action 'self'; frame-ancestors 'none'")


def add_security_headers(response: Response, policy: str) -> Response:
    """Add ``policy`` as the CSP, plus nosniff, no framing and a same-origin referrer, where unset."""
    response.headers.setdefault("Content-Security-Policy", policy)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


# Session keys of a signed-in staff member (Flask-Login) and customer (customer_access.SESSION_KEY).
SIGNED_IN_KEYS = ("_user_id", "customer_id")


def default_security_headers(response: Response) -> Response:
    """Add the security headers a response lacks (the app-wide after-request hook).

    A page shown to someone signed in is not stored by the browser or a proxy (no-store), so the
    back button or a shared computer does not show it again after signing out.
    """
    if response.mimetype == "text/html" and any(key in session for key in SIGNED_IN_KEYS):
        response.headers.setdefault("Cache-Control", "no-store")
    return add_security_headers(response, STAFF_CSP)
