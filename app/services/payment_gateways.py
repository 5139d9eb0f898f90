"""The app's gateway adapters, built once from config (one session per provider)."""
from __future__ import annotations

from typing import Any

from flask import Flask, current_app

from app.errors import NotFound
from app.payments.gateway import Gateway, build_gateway
from app.payments.http import HttpSettings


def gateway_settings(app: Flask) -> dict[str, dict[str, Any]]:
    """Each provider's adapter options, read from the app's config."""
    config = app.config

    def http(url_setting: str) -> dict[str, Any]:
        return vars(HttpSettings(config[url_setting], config["PAYMENTS_CONNECT_TIMEOUT"],
                                 config["PAYMENTS_READ_TIMEOUT"], config["PAYMENTS_RETRIES"],
                                 config["PAYMENTS_BACKOFF_SECONDS"]))

    def clock() -> Any:
        return app.extensions["kesu.runtime"].clock.now()

    base = config["PAYMENTS_NOTIFY_BASE_URL"].rstrip("/")
    notify = f"{base}/payments/notify/" if base else ""  # empty: the gateway sends no notifications
    return {
        "alipay": {"http": http("ALIPAY_URL"), "app_id": config["ALIPAY_APP_ID"], "clock": clock,
                   "private_key_path": config["ALIPAY_PRIVATE_KEY_FILE"],
                   "gateway_public_key_path": config["ALIPAY_PUBLIC_KEY_FILE"], "notify_url": notify and notify + "alipay"},
        "wechat": {"http": http("WECHAT_URL"), "mchid": config["WECHAT_MCHID"], "serial_no": config["WECHAT_SERIAL_NO"],
                   "private_key_path": config["WECHAT_PRIVATE_KEY_FILE"], "clock": clock,
                   "platform_public_key_path": config["WECHAT_PLATFORM_KEY_FILE"],
                   "apiv3_key": config["WECHAT_APIV3_KEY"], "notify_url": notify and notify + "wechat"},
        "stripe": {"http": http("STRIPE_URL"), "secret_key": config["STRIPE_SECRET_KEY"],
                   "webhook_secret": config["STRIPE_WEBHOOK_SECRET"]},
    }


def get_gateway(provider: str) -> Gateway:
    """Return the adapter for a provider, built on its first use and then kept on the app.

    Each provider is built on its own, so a shop configured for one gateway never needs
    the keys of the others.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    gateways = app.extensions.setdefault("kesu.gateways", {})
    if provider not in gateways:
        settings = gateway_settings(app)
        if provider not in settings:
            raise NotFound(f"unknown payment provider '{provider}' (known: {', '.join(sorted(settings))})")
        gateways[provider] = build_gateway(provider, settings[provider])
    return gateways[provider]


def reset_gateways(app: Flask) -> None:
    """Forget built adapters (after changing gateway settings, e.g. in tests)."""
    app.extensions.pop("kesu.gateways", None)
