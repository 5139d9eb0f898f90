"""Which language a request is answered in, and the customer's language switcher.

The order: the language the customer chose with the switcher (kept in their session), else the
browser's Accept-Language, else Chinese (the shop is Chinese: zh_CN when nothing matches).
An API request that sends no Accept-Language at all is answered in the source language,
English, so scripts get stable messages; the mobile app sends its language.
"""
from __future__ import annotations

from babel import Locale
from flask import Blueprint, Flask, has_request_context, redirect, request, session, url_for
from flask_babel import Babel, get_locale, refresh
from werkzeug.wrappers import Response

from app.i18n import DEFAULT_LOCALE, LANGUAGES, SOURCE_LOCALE, TRANSLATIONS, compile_catalogues
from app.services import customer_language
from app.services.uow import run_command
from app.views.access import referring_page
from app.views.customer_access import current_customer, safe_next

SESSION_KEY = "lang"
bp = Blueprint("language", __name__)
babel = Babel()


def select_locale() -> str:
    """Return the locale of the current request (see the module docstring)."""
    if not has_request_context():
        return SOURCE_LOCALE
    chosen = session.get(SESSION_KEY)
    if chosen in LANGUAGES:
        return str(chosen)
    if request.path.startswith("/api/") and not request.headers.get("Accept-Language"):
        return SOURCE_LOCALE
    return request.accept_languages.best_match(list(LANGUAGES)) or DEFAULT_LOCALE


def current_language() -> str:
    """Return the request's language as one of LANGUAGES' codes (Babel calls zh_CN zh_Hans_CN)."""
    locale = get_locale()
    return next((code for code in LANGUAGES if Locale.parse(code) == locale), DEFAULT_LOCALE)


def translated_page() -> dict[str, object]:
    """Template variables of a staff page translated through the catalogue (the studio, the audit pages):
    base.html then shows the language switcher and sets ``<html lang>``. A blueprint adds them with a
    context processor; staff pages still written in both languages at once leave them out."""
    return {"translated": True, "lang": "en" if current_language() == "en" else "zh-CN",
            "language_next": _switcher_next()}


def _switcher_next() -> str:
    """Where the switcher comes back to: this page; for a page answering a form (a POST cannot be
    repeated by a redirect), the page the form was on, else the start page."""
    if request.method == "GET":
        return request.full_path.rstrip("?")
    return referring_page() or "/"


@bp.post("/language")
def choose_language() -> Response:
    """Remember the language the customer chose (an unknown one clears the choice) and go back.

    A signed-in customer's choice is also stored as their language (``Customer.language``), which
    their notifications are written in; clearing the session's choice leaves that as it is.
    """
    chosen = request.form.get("lang", "")
    if chosen in LANGUAGES:
        session[SESSION_KEY] = chosen
        customer = current_customer()
        if customer is not None:   # a signed-in customer's notifications follow the choice too
            run_command(lambda: customer_language.choose(customer.id, chosen))
    else:
        session.pop(SESSION_KEY, None)
    return redirect(safe_next(request.form.get("next"), url_for("complaints.my_complaints")))


def init_language(app: Flask) -> None:
    """Compile stale catalogues, bind Flask-Babel with the selector, register the switcher."""
    compile_catalogues(TRANSLATIONS)
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LOCALE)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    babel.init_app(app, locale_selector=select_locale)
    # Flask-Babel caches the locale on ``g``; an app context can hold several requests (tests,
    # CLI calling views), so each request chooses afresh and leaves nothing behind.
    app.before_request(refresh)
    app.teardown_request(lambda error: refresh())
    app.register_blueprint(bp)
    app.add_template_global(current_language)
    app.add_template_global(LANGUAGES, "languages")
