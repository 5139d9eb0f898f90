"""The Kesu application factory. Nothing here runs at import time."""
from __future__ import annotations

from pathlib import Path

from flask import Flask

from config import Config, check_settings, config_from_env


def create_app(config: type[Config] | Config | None = None, **overrides: object) -> Flask:
    """Build the Flask app: extensions, blueprints, error handlers, CLI, background work."""
    config = config or config_from_env()
    instance_dir = str(overrides.get("INSTANCE_DIR") or config.INSTANCE_DIR)
    app = Flask(__name__, instance_path=instance_dir)
    app.config.from_object(config)
    app.config.update(overrides)
    check_settings(app.config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    from app import models  # noqa: F401  (complete metadata before migrations run)
    from app.database import configure_engine
    from app.errors import register_error_handlers
    from app.extensions import csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).resolve().parent.parent / "migrations"))
    csrf.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)
    with app.app_context():
        configure_engine(db.engine, synchronous=app.config.get("SQLITE_SYNCHRONOUS", "FULL"))

    from app.runtime import init_runtime
    init_runtime(app)

    from app.views import register_blueprints
    register_blueprints(app)
    from app.views.language import init_language
    init_language(app)
    register_error_handlers(app)
    from app.views.access import default_security_headers
    app.after_request(default_security_headers)

    from app.commands import register_commands
    register_commands(app)
    return app
