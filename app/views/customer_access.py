"""Customer sessions, kept apart from staff: the customer's id lives under its own session key.

Staff sign in through Flask-Login (``_user_id``); customers under ``customer_id``. A customer
is never a ``User``, so ``role_required`` can never let one in, and ``current_customer`` never
returns a member of staff.
"""
from __future__ import annotations

from functools import wraps
from typing import Any, Callable, TypeVar
from urllib.parse import urlsplit

from flask import Response, current_app, redirect, request, session, url_for

from app.models.customer import Customer
from app.views.access import add_security_headers
from app.services import customers

SESSION_KEY = "customer_id"  # access.SIGNED_IN_KEYS names it too
CACHE_KEY = "kesu.customer"
F = TypeVar("F", bound=Callable[..., Any])
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def sign_in(customer: Customer) -> None:
    """Start a customer session (a fresh one: nothing from before sign-in is kept)."""
    session.pop(SESSION_KEY, None)
    session[SESSION_KEY] = customer.id
    session.permanent = True


def sign_out() -> None:
    session.pop(SESSION_KEY, None)


def current_customer() -> Customer | None:
    """Return the signed-in customer of this request, if any."""
    # Cached per request (not on g: an app context can outlive one request, e.g. in tests).
    if CACHE_KEY not in request.environ:
        customer_id = session.get(SESSION_KEY)
        request.environ[CACHE_KEY] = customers.get_customer(customer_id) if isinstance(customer_id, int) else None
    return request.environ[CACHE_KEY]


def customer_required(view: F) -> F:
    """Let a view run only for a signed-in customer (others go to the customer sign-in page)."""
    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if current_customer() is None:
            return redirect(url_for("portal.sign_in_page", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)
    return guarded  # type: ignore[return-value]


def safe_next(target: str | None, default: str) -> str:
    """Follow ?next= only within this site."""
    if target and not urlsplit(target).netloc and target.startswith("/") and not target.startswith("//"):
        return target
    return default


def security_headers(response: Response) -> Response:
    """Add the customer pages' security headers (CSP without inline scripts, nosniff, no framing)."""
    return add_security_headers(response, CSP)


def limit(setting: str) -> Callable[[], str]:
    """Return a callable reading a rate limit from config at request time (tests change it)."""
    return lambda: str(current_app.config[setting])
