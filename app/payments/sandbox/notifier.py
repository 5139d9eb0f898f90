"""Deliver signed notifications to the merchant, retrying until it answers 2xx."""
from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

import requests

log = logging.getLogger("kesu.sandbox")
RETRY_DELAYS = (0.2, 0.5, 1, 2, 4, 8, 15, 30)


@dataclass(order=True)
class Delivery:
    due: float
    seq: int
    url: str = field(compare=False)
    build: Callable[[], tuple[bytes, dict[str, str]]] = field(compare=False)  # signed at send time
    attempt: int = field(default=0, compare=False)


class Notifier:
    """A heap of due deliveries worked by one thread; each is re-signed when (re)sent."""

    def __init__(self, *, timeout: float = 5.0) -> None:
        self.timeout = timeout
        self.session = requests.Session()
        self._heap: list[Delivery] = []
        self._seq = itertools.count()
        self._lock = threading.Lock()
        self.sent = 0
        self.failed_attempts = 0

    def schedule(self, url: str, build: Callable[[], tuple[bytes, dict[str, str]]], delay: float = 0.0) -> None:
        if not url:
            return
        with self._lock:
            heapq.heappush(self._heap, Delivery(time.monotonic() + delay, next(self._seq), url, build))

    def pending(self) -> int:
        with self._lock:
            return len(self._heap)

    def run_due(self) -> None:
        """Send every delivery that is due; reschedule the ones the merchant did not accept."""
        while True:
            with self._lock:
                if not self._heap or self._heap[0].due > time.monotonic():
                    return
                delivery = heapq.heappop(self._heap)
            if not self._send(delivery) and delivery.attempt + 1 < len(RETRY_DELAYS):
                delivery.attempt += 1
                delivery.due = time.monotonic() + RETRY_DELAYS[delivery.attempt]
                with self._lock:
                    heapq.heappush(self._heap, delivery)

    def _send(self, delivery: Delivery) -> bool:
        body, headers = delivery.build()
        try:
            response = self.session.post(delivery.url, data=body, headers=headers, timeout=self.timeout)
        except requests.RequestException as error:
            log.info("notification to %s failed: %s", delivery.url, error)
            self.failed_attempts += 1
            return False
        accepted = 200 <= response.status_code < 300
        self.sent += accepted
        self.failed_attempts += not accepted
        return accepted
