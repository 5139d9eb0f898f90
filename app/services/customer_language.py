"""The language a customer's notifications are written in: chosen by them, or the one of their first complaint.

``Customer.language`` is a code of ``app.i18n.LANGUAGES`` (zh_CN, en) or None. The customer sets
it with the portal's language switcher (while signed in) or ``PATCH /api/v1/customer/me``; while
it is None, submitting a complaint sets it to the language the customer used (the portal's
language, or the Accept-Language of the app). The outbox writes a customer's messages in it
(``app.services.outbox.language_of``), and in KESU_NOTIFICATION_LANGUAGE while it is None.
"""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import update

from app.errors import NotFound, ValidationFailed
from app.extensions import db
from app.i18n import LANGUAGES
from app.models.customer import Customer
from workflows.forms import FormProblem

CHOICES = ", ".join(f"{code} ({name})" for code, name in LANGUAGES.items())


def _choose_one() -> str:
    return _("choose one of the languages %(choices)s, or null for the shop's default", choices=CHOICES)


def choose(customer_id: int, language: str | None) -> Customer:
    """Set the customer's language (None: back to the shop's default); an unknown one is refused, unchanged."""
    if language is not None and language not in LANGUAGES:
        raise ValidationFailed(_choose_one(), fields={"language": _choose_one()})
    customer = db.session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"there is no customer {customer_id}")
    customer.language = language
    db.session.flush()
    return customer


def adopt(customer: Customer, language: str | None) -> None:
    """Take ``language`` (the one the customer just used) as theirs, unless they already have one.

    One conditional UPDATE, so a choice made at the same moment (the switcher, the API) is never overwritten.
    """
    if language not in LANGUAGES:
        return
    db.session.execute(update(Customer).where(Customer.id == customer.id, Customer.language.is_(None))
                       .values(language=language).execution_options(synchronize_session=False))
    db.session.refresh(customer, ["language"])


def refusal(problems: list[FormProblem]) -> ValidationFailed:
    """The 422 of a refused ``PATCH /customer/me`` body: the language's message lists the choices."""
    fields = {problem.path: _choose_one() if problem.path == "language" else problem.message for problem in problems}
    if set(fields) == {"language"}:
        return ValidationFailed(_choose_one(), fields=fields)
    return ValidationFailed(_("Correct the fields listed: only language can be changed."), fields=fields)


def template_language(language: str | None, default: str) -> str:
    """Return the notification templates' language (``zh``, ``en``) of a customer language; ``default`` for None."""
    return default if language is None else language.split("_")[0]
