"""Kesu configuration classes.

The environment is read here and nowhere else: every other module receives a config
object (``app.config``) and never touches ``os.environ``.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("KESU_INSTANCE_DIR", BASE_DIR / "instance"))
SANDBOX_KEYS = BASE_DIR / "app" / "payments" / "sandbox" / "keys"  # public, development only


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


class Config:
    """Settings shared by every environment; each can be overridden by a KESU_* variable."""

    SECRET_KEY = os.environ.get("KESU_SECRET_KEY", "dev-only-not-secret")
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'kesu.db'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    INSTANCE_DIR = str(INSTANCE_DIR)

    # Where the seed version of the processes and rules lives (deployed by `flask bpmn deploy`).
    BPMN_DIR = str(BASE_DIR / "bpmn")
    RULES_DIR = str(BASE_DIR / "rules")
    # Upper bound for one uploaded BPMN/DMN/form file.
    MAX_DIAGRAM_BYTES = int(os.environ.get("KESU_MAX_DIAGRAM_BYTES", 2 * 1024 * 1024))
    # Upper bound for any request body (Flask refuses larger ones with 413 before reading them);
    # the studio lowers it per request to what one diagram may take (MAX_DIAGRAM_BYTES, as JSON).
    MAX_CONTENT_LENGTH = int(os.environ.get("KESU_MAX_CONTENT_LENGTH", 32 * 1024 * 1024))

    # Background work: "thread" runs the worker and scheduler inside the web process (the
    # embedded default); "off" leaves them to `flask worker` and `flask scheduler`.
    WORKER_MODE = os.environ.get("KESU_WORKER", "thread")
    WORKER_POLL_SECONDS = float(os.environ.get("KESU_WORKER_POLL_SECONDS", "0.5"))
    JOB_LEASE_SECONDS = int(os.environ.get("KESU_JOB_LEASE_SECONDS", "60"))
    JOB_MAX_ATTEMPTS = int(os.environ.get("KESU_JOB_MAX_ATTEMPTS", "5"))
    # Modules imported at start that register extra service-task operators.
    OPERATOR_MODULES = _env_list("KESU_OPERATOR_MODULES")

    # The script sandbox (script tasks run in pre-started restricted worker processes).
    SCRIPT_TIMEOUT_SECONDS = float(os.environ.get("KESU_SCRIPT_TIMEOUT_SECONDS", "2"))
    SCRIPT_MEMORY_MB = int(os.environ.get("KESU_SCRIPT_MEMORY_MB", "256"))
    SCRIPT_WORKERS = int(os.environ.get("KESU_SCRIPT_WORKERS", "2"))
    # Straight-line scripts (only `name = expression` lines) run in process, on the gateway
    # evaluator, with the worker's result; false sends every script to a worker.
    SCRIPTS_IN_PROCESS = _env_bool("KESU_SCRIPTS_IN_PROCESS", True)

    # SQLite's PRAGMA synchronous (WAL mode). FULL, the default, syncs the WAL at every commit,
    # so a committed command survives a power loss or an OS crash; NORMAL syncs only at
    # checkpoints: it survives a crash of Kesu itself, but the last commits before a power loss
    # can be lost. NORMAL is an explicit choice (e.g. a laptop demo), never the default.
    SQLITE_SYNCHRONOUS = os.environ.get("KESU_SQLITE_SYNCHRONOUS", "FULL").strip().upper()

    # Loops deeper than this many tasks in one instance become an incident instead of a
    # silent stall (SpiffWorkflow 3.2.0 stops seeing tasks beyond depth 1000).
    MAX_TASKS_PER_INSTANCE = int(os.environ.get("KESU_MAX_TASKS_PER_INSTANCE", "900"))
    # How many times a command is retried when another writer changed the instance first.
    CONFLICT_RETRIES = int(os.environ.get("KESU_CONFLICT_RETRIES", "3"))
    # Workflows kept in memory after a command, reused while the stored snapshot is unchanged (0: off).
    LIVE_WORKFLOWS = int(os.environ.get("KESU_LIVE_WORKFLOWS", "256"))

    # Below this category confidence a complaint goes to a triage task instead of being routed
    # on a guess (0.5: 84% routed automatically at 82% accuracy in cross-validation; model card).
    CLASSIFIER_CONFIDENCE_THRESHOLD = float(os.environ.get("KESU_CLASSIFIER_THRESHOLD", "0.5"))

    LOAD_DEMO_DATA = _env_bool("KESU_DEMO_DATA", False)
    # The shop's time zone: the dashboard's days, weeks and months and the weekly review start at
    # its midnight (timestamps stay UTC in the database).
    SHOP_TIMEZONE = os.environ.get("KESU_SHOP_TIMEZONE", "Asia/Shanghai")
    # Smart alerts (app/services/alert_rules.py, evaluated every minute by the scheduler).
    ALERT_PRODUCT_THRESHOLD = int(os.environ.get("KESU_ALERT_PRODUCT_THRESHOLD", "5"))  # complaints in 24 h
    ALERT_REGION_FACTOR = float(os.environ.get("KESU_ALERT_REGION_FACTOR", "3"))  # x the 14-day daily average
    ALERT_REGION_MINIMUM = int(os.environ.get("KESU_ALERT_REGION_MINIMUM", "5"))
    ALERT_SLA_WARNING_MINUTES = int(os.environ.get("KESU_ALERT_SLA_WARNING_MINUTES", "15"))
    ALERT_REFUND_UNKNOWN_MINUTES = int(os.environ.get("KESU_ALERT_REFUND_UNKNOWN_MINUTES", "30"))
    # The supervisor view's "near breach": open tasks due within this many minutes (the page also
    # offers 15 min / 1 h / 4 h).
    SLA_NEAR_BREACH_MINUTES = int(os.environ.get("KESU_SLA_NEAR_BREACH_MINUTES", "60"))

    # Payments (app/payments). Development and tests talk to the sandbox gateway
    # (`flask payments sandbox --port 5001`, started by `make run`); its keys are public
    # and live in app/payments/sandbox/keys. Production reads real URLs and keys below.
    PAYMENTS_NOTIFY_BASE_URL = os.environ.get("KESU_PAYMENTS_NOTIFY_BASE_URL", "http://127.0.0.1:5000")
    PAYMENTS_CONNECT_TIMEOUT = float(os.environ.get("KESU_PAYMENTS_CONNECT_TIMEOUT", "3"))
    PAYMENTS_READ_TIMEOUT = float(os.environ.get("KESU_PAYMENTS_READ_TIMEOUT", "10"))
    PAYMENTS_RETRIES = int(os.environ.get("KESU_PAYMENTS_RETRIES", "3"))
    PAYMENTS_BACKOFF_SECONDS = float(os.environ.get("KESU_PAYMENTS_BACKOFF_SECONDS", "0.5"))
    # First query after an unclear answer, and when a submitted refund counts as long-submitted.
    PAYMENTS_QUERY_DELAY_SECONDS = int(os.environ.get("KESU_PAYMENTS_QUERY_DELAY_SECONDS", "5"))
    PAYMENTS_SUBMITTED_STALE_SECONDS = int(os.environ.get("KESU_PAYMENTS_SUBMITTED_STALE_SECONDS", "600"))
    ALIPAY_URL = os.environ.get("KESU_ALIPAY_URL", "http://127.0.0.1:5001")
    ALIPAY_APP_ID = os.environ.get("KESU_ALIPAY_APP_ID", "2021000000000000")
    ALIPAY_PRIVATE_KEY_FILE = os.environ.get("KESU_ALIPAY_PRIVATE_KEY_FILE", str(SANDBOX_KEYS / "merchant-private.pem"))
    ALIPAY_PUBLIC_KEY_FILE = os.environ.get("KESU_ALIPAY_PUBLIC_KEY_FILE", str(SANDBOX_KEYS / "gateway-public.pem"))
    WECHAT_URL = os.environ.get("KESU_WECHAT_URL", "http://127.0.0.1:5001")
    WECHAT_MCHID = os.environ.get("KESU_WECHAT_MCHID", "1900000001")
    WECHAT_SERIAL_NO = os.environ.get("KESU_WECHAT_SERIAL_NO", "SANDBOX-MERCHANT-1")
    WECHAT_PRIVATE_KEY_FILE = os.environ.get("KESU_WECHAT_PRIVATE_KEY_FILE", str(SANDBOX_KEYS / "merchant-private.pem"))
    WECHAT_PLATFORM_KEY_FILE = os.environ.get("KESU_WECHAT_PLATFORM_KEY_FILE", str(SANDBOX_KEYS / "gateway-public.pem"))
    WECHAT_APIV3_KEY = os.environ.get("KESU_WECHAT_APIV3_KEY", "kesu-sandbox-apiv3-key-32-bytes!")
    STRIPE_URL = os.environ.get("KESU_STRIPE_URL", "http://127.0.0.1:5001")
    STRIPE_SECRET_KEY = os.environ.get("KESU_STRIPE_SECRET_KEY", "sk_test_kesu_sandbox")
    STRIPE_WEBHOOK_SECRET = os.environ.get("KESU_STRIPE_WEBHOOK_SECRET", "whsec_kesu_sandbox")
    WTF_CSRF_TIME_LIMIT = None
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # Flask-Limiter: in-memory by default (one process); use redis://... when several serve.
    RATELIMIT_STORAGE_URI = os.environ.get("KESU_RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_ENABLED = _env_bool("KESU_RATELIMIT_ENABLED", True)
    # Customer portal: sign-ins and complaint submissions allowed per client address.
    CUSTOMER_SIGNIN_LIMIT = os.environ.get("KESU_CUSTOMER_SIGNIN_LIMIT", "10 per minute")
    CUSTOMER_SUBMIT_LIMIT = os.environ.get("KESU_CUSTOMER_SUBMIT_LIMIT", "20 per hour")
    # Staff sign-in: wrong passwords allowed per client address (successful sign-ins are not counted).
    STAFF_SIGNIN_LIMIT = os.environ.get("KESU_STAFF_SIGNIN_LIMIT", "10 per minute")
    # Complaint photos live here, outside the static folder (served only to the owner and staff).
    # Empty: <instance folder>/uploads.
    UPLOAD_DIR = os.environ.get("KESU_UPLOAD_DIR", "")
    # Notification outbox (app/outbox_worker.py). Email goes by SMTP when KESU_SMTP_HOST is set, SMS and
    # app push by webhook (JSON POST signed with HMAC-SHA256 of "timestamp.body" under
    # KESU_NOTIFY_WEBHOOK_SECRET) when their URL is set; otherwise into OUTBOX_FILE (empty:
    # <instance folder>/outbox.jsonl) and the /outbox page, which shows what would have been sent.
    SMTP_HOST = os.environ.get("KESU_SMTP_HOST", "")
    SMTP_PORT = int(os.environ.get("KESU_SMTP_PORT", "587"))
    SMTP_USER = os.environ.get("KESU_SMTP_USER", "")
    SMTP_PASSWORD = os.environ.get("KESU_SMTP_PASSWORD", "")
    SMTP_FROM = os.environ.get("KESU_SMTP_FROM", "Kesu 客服 <noreply@kesu.local>")
    SMTP_STARTTLS = _env_bool("KESU_SMTP_STARTTLS", True)
    SMTP_CA_FILE = os.environ.get("KESU_SMTP_CA_FILE", "")
    SMTP_TIMEOUT_SECONDS = float(os.environ.get("KESU_SMTP_TIMEOUT_SECONDS", "10"))
    SMS_WEBHOOK_URL = os.environ.get("KESU_SMS_WEBHOOK_URL", "")
    PUSH_WEBHOOK_URL = os.environ.get("KESU_PUSH_WEBHOOK_URL", "")
    NOTIFY_WEBHOOK_SECRET = os.environ.get("KESU_NOTIFY_WEBHOOK_SECRET", "kesu-dev-webhook-secret")
    WEBHOOK_CONNECT_TIMEOUT = float(os.environ.get("KESU_WEBHOOK_CONNECT_TIMEOUT", "3"))
    WEBHOOK_READ_TIMEOUT = float(os.environ.get("KESU_WEBHOOK_READ_TIMEOUT", "10"))
    OUTBOX_FILE = os.environ.get("KESU_OUTBOX_FILE", "")
    OUTBOX_MAX_ATTEMPTS = int(os.environ.get("KESU_OUTBOX_MAX_ATTEMPTS", "5"))
    OUTBOX_LEASE_SECONDS = int(os.environ.get("KESU_OUTBOX_LEASE_SECONDS", "120"))
    OUTBOX_BATCH_SIZE = int(os.environ.get("KESU_OUTBOX_BATCH_SIZE", "50"))
    OUTBOX_MAX_BATCHES = int(os.environ.get("KESU_OUTBOX_MAX_BATCHES", "20"))
    NOTIFICATION_LANGUAGE = os.environ.get("KESU_NOTIFICATION_LANGUAGE", "zh")
    # Stored photos with no complaint row, older than this, are removed by the uploads chore.
    UPLOAD_ORPHAN_HOURS = int(os.environ.get("KESU_UPLOAD_ORPHAN_HOURS", "24"))
    # The shop's order API (app/services/order_source.py). Empty: orders come from the local
    # table only (demo data, `flask orders import`).
    ORDER_API_URL = os.environ.get("KESU_ORDER_API_URL", "")
    ORDER_API_TOKEN = os.environ.get("KESU_ORDER_API_TOKEN", "")
    ORDER_API_CONNECT_TIMEOUT = float(os.environ.get("KESU_ORDER_API_CONNECT_TIMEOUT", "2"))
    ORDER_API_READ_TIMEOUT = float(os.environ.get("KESU_ORDER_API_READ_TIMEOUT", "5"))
    ORDER_API_RETRIES = int(os.environ.get("KESU_ORDER_API_RETRIES", "2"))
    ORDER_API_BACKOFF_SECONDS = float(os.environ.get("KESU_ORDER_API_BACKOFF_SECONDS", "0.2"))
    # Audit anchors: HMAC key for the signed chain-head files (empty: derived from SECRET_KEY)
    # and where the scheduler writes them (empty: <instance folder>/anchors).
    AUDIT_ANCHOR_KEY = os.environ.get("KESU_AUDIT_ANCHOR_KEY", "")
    AUDIT_ANCHOR_DIR = os.environ.get("KESU_AUDIT_ANCHOR_DIR", "")
    # Personal data: these data keys are kept out of hashed event payloads (a token refers to the
    # personal_data table, erasable per customer); these roles see them unmasked in /audit.
    AUDIT_PERSONAL_FIELDS = _env_list("KESU_AUDIT_PERSONAL_FIELDS",
                                      "customer_name,phone,mobile,email,address,contact,id_card")
    AUDIT_UNMASKED_ROLES = _env_list("KESU_AUDIT_UNMASKED_ROLES", "admin")
    # Retention: days after completion/cancellation when an instance's working state is purged
    # (its audit record stays), per process id, e.g. KESU_RETENTION_DAYS="complaint_handling=365".
    RETENTION_DAYS = {name.strip(): int(days) for name, _, days in
                      (item.partition("=") for item in _env_list("KESU_RETENTION_DAYS"))}


class DevelopmentConfig(Config):
    """The embedded default that `make run` starts: SQLite, in-process worker, demo data."""

    DEBUG = False
    LOAD_DEMO_DATA = _env_bool("KESU_DEMO_DATA", True)


class TestingConfig(Config):
    """Used by the test suite; tests pass their own database URL."""

    TESTING = True
    SECRET_KEY = "testing"
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    WORKER_MODE = "off"
    WTF_CSRF_ENABLED = True
    SCRIPT_WORKERS = 1
    # Test databases are thrown away: no fsync per commit (a killed process still loses nothing).
    SQLITE_SYNCHRONOUS = os.environ.get("KESU_SQLITE_SYNCHRONOUS", "NORMAL").strip().upper()
    # Tests sign in and submit many times from 127.0.0.1; the rate-limit tests set low limits.
    CUSTOMER_SIGNIN_LIMIT = "10000 per minute"
    CUSTOMER_SUBMIT_LIMIT = "10000 per minute"
    STAFF_SIGNIN_LIMIT = "10000 per minute"


class ProductionConfig(Config):
    """PostgreSQL, workers and the scheduler in their own processes."""

    WORKER_MODE = os.environ.get("KESU_WORKER", "off")
    SESSION_COOKIE_SECURE = True
    # The real gateways; keys and secrets must come from the environment (empty means unset).
    ALIPAY_URL = os.environ.get("KESU_ALIPAY_URL", "https://openapi.alipay.com")
    ALIPAY_APP_ID = os.environ.get("KESU_ALIPAY_APP_ID", "")
    ALIPAY_PRIVATE_KEY_FILE = os.environ.get("KESU_ALIPAY_PRIVATE_KEY_FILE", "")
    ALIPAY_PUBLIC_KEY_FILE = os.environ.get("KESU_ALIPAY_PUBLIC_KEY_FILE", "")
    WECHAT_URL = os.environ.get("KESU_WECHAT_URL", "https://api.mch.weixin.qq.com")
    WECHAT_MCHID = os.environ.get("KESU_WECHAT_MCHID", "")
    WECHAT_SERIAL_NO = os.environ.get("KESU_WECHAT_SERIAL_NO", "")
    WECHAT_PRIVATE_KEY_FILE = os.environ.get("KESU_WECHAT_PRIVATE_KEY_FILE", "")
    WECHAT_PLATFORM_KEY_FILE = os.environ.get("KESU_WECHAT_PLATFORM_KEY_FILE", "")
    WECHAT_APIV3_KEY = os.environ.get("KESU_WECHAT_APIV3_KEY", "")
    STRIPE_URL = os.environ.get("KESU_STRIPE_URL", "https://api.stripe.com")
    STRIPE_SECRET_KEY = os.environ.get("KESU_STRIPE_SECRET_KEY", "")
    STRIPE_WEBHOOK_SECRET = os.environ.get("KESU_STRIPE_WEBHOOK_SECRET", "")
    NOTIFY_WEBHOOK_SECRET = os.environ.get("KESU_NOTIFY_WEBHOOK_SECRET", "")


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


# Settings that are counts or durations: zero or less would silence a rule or a view.
POSITIVE_SETTINGS = ("SLA_NEAR_BREACH_MINUTES", "ALERT_REGION_MINIMUM", "ALERT_SLA_WARNING_MINUTES",
                     "ALERT_REFUND_UNKNOWN_MINUTES")


def check_settings(settings: Any) -> None:
    """Refuse settings the app cannot run with, naming the environment variable to fix."""
    for name in POSITIVE_SETTINGS:
        value = settings.get(name)
        if value is not None and (not isinstance(value, int) or value <= 0):
            raise ValueError(f"KESU_{name} is {value!r}; set it to a whole number above 0")


def config_from_env() -> type[Config]:
    """Return the config class named by KESU_ENV (development by default)."""
    return CONFIGS[os.environ.get("KESU_ENV", "development")]
