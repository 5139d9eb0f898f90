"""Blueprints, one per kind of user."""
from __future__ import annotations

from typing import Any

from flask import Flask, session
from flask_login import user_logged_in

from app.extensions import db, login_manager
from app.models import User
from app.services.staff_accounts import SESSION_KEY, session_fingerprint


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """Return the signed-in staff member for Flask-Login; None once their password changed since sign-in.

    A session from before fingerprints existed is stamped with the current one on its next request.
    """
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    if user is None:
        return None
    if session.setdefault(SESSION_KEY, session_fingerprint(user)) != session_fingerprint(user):
        return None
    return user


@user_logged_in.connect
def remember_password_fingerprint(_app: Any, user: Any, **_extra: Any) -> None:
    """On staff sign-in, note which password the session was opened with (a reset ends the session)."""
    if isinstance(user, User):
        session[SESSION_KEY] = session_fingerprint(user)


def register_blueprints(app: Flask) -> None:
    from app.views.auth import bp as auth_bp
    from app.views.main import bp as main_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp)
    from app.views import payments, refunds
    app.register_blueprint(payments.bp)
    app.register_blueprint(refunds.bp)
    from app.views import studio
    app.register_blueprint(studio.bp)
    from app.views import audit
    app.register_blueprint(audit.bp)
    login_manager.login_view = "auth.login"
    from app.views import complaints, portal
    app.register_blueprint(portal.bp)
    app.register_blueprint(complaints.bp)
    from app.views import portal_account
    app.register_blueprint(portal_account.bp)
    from app.views import admin, tasks
    app.register_blueprint(tasks.bp)
    app.register_blueprint(admin.bp)
    from app.views import outbox, staff_password
    app.register_blueprint(staff_password.bp)
    app.register_blueprint(outbox.bp)
    from app.views import customer_devices
    app.register_blueprint(customer_devices.bp)

    from app.views import dashboard
    app.register_blueprint(dashboard.bp)

    from app.views import alerts, kb
    app.register_blueprint(alerts.bp)
    app.register_blueprint(kb.bp)
    app.register_blueprint(kb.help_bp)

    from app.api import register_api
    register_api(app)
