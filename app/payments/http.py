"""One ``requests.Session`` per provider: base URL, explicit timeouts, careful retries.

Retried: connection failures before the request left (nothing was sent), 5xx and 429 (the
gateway dedupes the idempotency key, so the same request again moves money at most once),
and read timeouts of *queries*. Never retried: a read timeout or a dropped connection after
a money-moving request was sent; that is ``GatewayUnclear`` and the refund service queries.
"""
from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import requests
from urllib3.exceptions import NewConnectionError

from app.payments.errors import GatewayUnclear

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass
class HttpSettings:
    """How one provider's session talks: where, how long to wait, how often to try again."""

    base_url: str
    connect_timeout: float = 3.0
    read_timeout: float = 10.0
    retries: int = 3
    backoff: float = 0.2
    backoff_cap: float = 5.0


def _never_sent(error: requests.RequestException) -> bool:
    """True when the request could not have reached the gateway (it could not connect)."""
    if isinstance(error, requests.ConnectTimeout):
        return True
    reason = getattr(error.args[0], "reason", None) if error.args else None
    return isinstance(error, requests.ConnectionError) and isinstance(reason, NewConnectionError)


@dataclass
class GatewayClient:
    """Send requests to one gateway with its own session."""

    settings: HttpSettings
    sleep: Callable[[float], None] = time.sleep
    session: requests.Session = field(default_factory=requests.Session)

    def backoff(self, attempt: int) -> float:
        """Full-jitter exponential backoff for the given retry number (0-based)."""
        ceiling = min(self.settings.backoff_cap, self.settings.backoff * (2 ** attempt))
        return random.uniform(ceiling / 2, ceiling)

    def request(self, method: str, path: str, *, moves_money: bool, **kwargs: Any) -> requests.Response:
        """Send one request; raise GatewayUnclear when no clear answer came back."""
        url = self.settings.base_url.rstrip("/") + path
        timeout = (self.settings.connect_timeout, self.settings.read_timeout)
        last = "no attempt"
        for attempt in range(self.settings.retries + 1):
            if attempt:
                self.sleep(self.backoff(attempt - 1))
            try:
                response = self.session.request(method, url, timeout=timeout, **kwargs)
            except requests.RequestException as error:
                last = f"{type(error).__name__}: {error}"
                if _never_sent(error) or not moves_money:
                    continue
                raise GatewayUnclear(f"no answer after sending ({last}); query before anything else") from error
            if response.status_code not in RETRY_STATUSES:
                return response
            last = f"HTTP {response.status_code}: {response.text[:200]}"
        raise GatewayUnclear(f"no clear answer after {self.settings.retries + 1} tries ({last})")
