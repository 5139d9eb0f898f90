"""Blueprints, one per kind of user."""
from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from app.views.main import bp as main_bp

    app.register_blueprint(main_bp)
