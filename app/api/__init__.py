"""The JSON API for integrators (`/api/v1`): bearer tokens, problem+json errors, OpenAPI from code.

One module per resource declares its endpoints on the registry; `openapi.py` builds the
document from the same declarations.
"""
from __future__ import annotations

from functools import partial

from flask import Blueprint, Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from app.api import auth
from app.api.registry import ApiRegistry
from app.errors import http_error_page
from app.extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")
api = ApiRegistry(bp, auth.check_permission)
bp.before_request(partial(auth.authenticate, api))
bp.after_request(auth.challenge)


def _http_error(error: HTTPException) -> HTTPException | Response | tuple[str, int, list[tuple[str, str]]]:
    """Answer routing and protocol errors under /api/ as problem+json too (pages: errors.http_error_page)."""
    if not request.path.startswith("/api/"):
        return http_error_page(error)
    response = jsonify({"type": "about:blank", "title": error.name, "status": error.code,
                        "detail": error.description})
    response.status_code = error.code or 500
    response.mimetype = "application/problem+json"
    for name, value in error.get_headers():
        if name.lower() == "allow":
            response.headers[name] = value
    return response


def register_api(app: Flask) -> None:
    """Register the API blueprint (CSRF-exempt: only bearer tokens authenticate it)."""
    from app.api import customer, definitions, instances, messages, openapi, tasks  # noqa: F401  (declare routes)
    from app.start_jobs import register_start_jobs

    csrf.exempt(bp)
    app.register_blueprint(bp)
    app.register_error_handler(HTTPException, _http_error)
    register_start_jobs()
