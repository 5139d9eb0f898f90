"""The one tree of domain errors, and the one place that turns them into HTTP responses.

Services raise these; views never build error responses by hand. Every message is
written for the person who will read it and says what to do next.

    KesuError
    ├── NotAuthenticated         401  no valid credentials (API: a bearer token) came with the request
    ├── NotFound                 404  the object does not exist, or is not yours to see
    ├── PermissionDenied         403  you are signed in but may not do this
    ├── ValidationFailed         422  the input is wrong; `.fields` says which field and why
    ├── Conflict                 409  someone else changed or claimed it first
    │   ├── TaskAlreadyCompleted
    │   └── TaskClaimedByOther
    ├── FourEyesViolation        403  the approver asked for this refund themselves
    ├── DefinitionInvalid        422  a diagram or rule table failed validation; `.problems`
    ├── IncidentRaised           500  the process hit an error and is waiting for a retry
    └── WorkflowError            500  the engine could not run the command
"""
from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException


class KesuError(Exception):
    """Base of every error Kesu raises on purpose."""

    status = 500
    title = "Something went wrong"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_problem(self) -> dict[str, Any]:
        """Return an RFC 9457 problem document for this error."""
        problem = {"type": "about:blank", "title": self.title, "status": self.status,
                   "detail": self.message}
        problem.update({k: v for k, v in self.details.items() if v is not None})
        return problem


class NotAuthenticated(KesuError):
    status = 401
    title = "Not authenticated"


class NotFound(KesuError):
    status = 404
    title = "Not found"


class PermissionDenied(KesuError):
    status = 403
    title = "Forbidden"


class ValidationFailed(KesuError):
    """Input failed validation; ``fields`` maps a field path to its message."""

    status = 422
    title = "Invalid input"

    def __init__(self, message: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(message, errors=[{"field": k, "message": v}
                                          for k, v in (fields or {}).items()] or None)
        self.fields = fields or {}


class Conflict(KesuError):
    status = 409
    title = "Conflict"


class TaskAlreadyCompleted(Conflict):
    title = "Task already completed"


class TaskClaimedByOther(Conflict):
    title = "Task claimed by someone else"


class FourEyesViolation(PermissionDenied):
    title = "Four-eyes rule"


class DefinitionInvalid(KesuError):
    """A diagram, decision table or form failed validation; ``problems`` lists each one."""

    status = 422
    title = "Definition invalid"

    def __init__(self, message: str, problems: list[Any]) -> None:
        super().__init__(message, problems=[p.to_dict() if hasattr(p, "to_dict") else {"message": str(p)}
                                            for p in problems])
        self.problems = problems


class IncidentRaised(KesuError):
    status = 500
    title = "Process incident"


class WorkflowError(KesuError):
    status = 500
    title = "Workflow error"


def _wants_json() -> bool:
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


# HTTP errors of pages (unknown address, wrong method, lost session, too many sign-ins, too large)
# as a page with the site's header, not the framework's bare English page; the API answers problem+json.
HTTP_PAGES = {
    400: ("请求无效 / Bad request", "页面可能已过期，请刷新后重试。 / The page may have expired; reload it and try again."),
    403: ("无权访问 / Forbidden", "您无权打开此页面。 / You may not open this page."),
    404: ("页面不存在 / Page not found", "请检查地址，或从首页重新进入。 / Check the address, or start again from the home page."),
    405: ("不支持此操作 / Not allowed", "请从页面上的按钮或链接操作。 / Use the buttons and links on the page."),
    413: ("内容太大 / Too large", "上传的内容太大，请缩小后重试。 / What you sent is too large; make it smaller and try again."),
    429: ("操作太频繁 / Too many attempts", "请稍等一分钟再试。 / Wait a minute, then try again."),
}


def http_error_page(error: HTTPException) -> HTTPException | tuple[str, int, list[tuple[str, str]]]:
    """Render a 4xx HTTP error of a page in the site's layout (others, e.g. redirects and 500s, pass through)."""
    if error.code not in HTTP_PAGES:
        return error
    title, message = HTTP_PAGES[error.code]
    page = KesuError(message, back="main.index", back_label="首页 / Home")
    page.title = title
    headers = [(name, value) for name, value in error.get_headers() if name.lower() != "content-type"]
    return render_template("error.html", error=page), error.code, headers   # keeps Allow, Retry-After


def register_error_handlers(app: Flask) -> None:
    """Render KesuError as problem+json for API clients and as a page for browsers."""

    @app.errorhandler(KesuError)
    def handle_kesu_error(error: KesuError):  # type: ignore[no-untyped-def]
        if _wants_json():
            response = jsonify(error.to_problem())
            response.status_code = error.status
            response.mimetype = "application/problem+json"
            return response
        return render_template("error.html", error=error), error.status
