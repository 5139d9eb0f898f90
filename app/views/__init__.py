"""Blueprints, one per kind of user."""
from __future__ import annotations

from flask import Flask

from app.extensions import db, login_manager
from app.models import User


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """Return the signed-in staff member for Flask-Login."""
    return db.session.get(User, int(user_id)) if user_id.isdigit() else None


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
    from app.views import outbox
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
