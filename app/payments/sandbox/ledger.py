"""The sandbox's books: trades that were paid and the refunds taken from them."""
from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal


class Refusal(Exception):
    """The sandbox refuses a refund (a definite no, like the real gateways' business errors)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Trade:
    provider: str
    ref: str
    amount: Decimal
    currency: str
    fails_refunds: bool = False


@dataclass
class LedgerRefund:
    provider: str
    key: str
    refund_id: str
    trade_ref: str
    amount: Decimal
    currency: str
    status: str                   # processing | success | closed
    created_at: datetime
    settle_at: datetime
    requests: int = 1             # how many times this key was sent (money moved once)
    notify_url: str = ""
    events: list[str] = field(default_factory=list)


class Ledger:
    """Thread-safe in-memory ledger; money moves once per (provider, key)."""

    def __init__(self, known_trade: Callable[[str, str], tuple[Decimal, str] | None] | None = None) -> None:
        self.lock = threading.RLock()
        self.trades: dict[tuple[str, str], Trade] = {}
        # (provider, ref) -> (amount, currency) of a payment recorded elsewhere (`flask payments sandbox`:
        # Kesu's own payments), opened as a trade on its first refund.
        self.known_trade = known_trade
        self.refunds: dict[tuple[str, str], LedgerRefund] = {}
        self._ids = itertools.count(1)

    def open_trade(self, provider: str, ref: str, amount: Decimal, currency: str, *, fails_refunds: bool = False
                   ) -> Trade:
        with self.lock:
            trade = Trade(provider, ref, amount, currency, fails_refunds)
            self.trades[(provider, ref)] = trade
            return trade

    def refund(self, provider: str, trade_ref: str, key: str, amount: Decimal, *, now: datetime,
               settle_after: float, notify_url: str = "") -> tuple[LedgerRefund, bool]:
        """Take a refund from a trade once per key; return it and whether money moved now."""
        with self.lock:
            existing = self.refunds.get((provider, key))
            if existing is not None:
                existing.requests += 1
                return existing, False
            trade = self.trades.get((provider, trade_ref))
            if trade is None and self.known_trade is not None and (known := self.known_trade(provider, trade_ref)):
                trade = self.open_trade(provider, trade_ref, *known)
            if trade is None:
                raise Refusal("TRADE_NOT_EXIST", f"trade {trade_ref} does not exist")
            if amount <= 0 or amount + self.refunded(provider, trade_ref) > trade.amount:
                raise Refusal("REFUND_AMOUNT_EXCEEDED", f"refund {amount} exceeds what is left of {trade.amount}")
            refund = LedgerRefund(provider, key, f"{provider[:2]}rf{next(self._ids):08d}", trade_ref, amount,
                                  trade.currency, "processing", now, now + timedelta(seconds=settle_after),
                                  notify_url=notify_url)
            self.refunds[(provider, key)] = refund
            return refund, True

    def refunded(self, provider: str, trade_ref: str) -> Decimal:
        """Money taken from a trade by refunds not closed."""
        return sum((r.amount for r in self.refunds.values()
                    if r.provider == provider and r.trade_ref == trade_ref and r.status != "closed"), Decimal("0"))

    def get(self, provider: str, key: str) -> LedgerRefund | None:
        with self.lock:
            return self.refunds.get((provider, key))

    def of_trade(self, provider: str, trade_ref: str) -> list[LedgerRefund]:
        with self.lock:
            return [r for r in self.refunds.values() if r.provider == provider and r.trade_ref == trade_ref]

    def settle_due(self, now: datetime) -> list[LedgerRefund]:
        """Finish processing refunds whose time has come; return them."""
        with self.lock:
            due = [r for r in self.refunds.values() if r.status == "processing" and r.settle_at <= now]
            for refund in due:
                failing = self.trades[(refund.provider, refund.trade_ref)].fails_refunds
                refund.status = "closed" if failing else "success"
            return due

    def snapshot(self) -> list[dict[str, object]]:
        """Every refund, for reconciliation and tests."""
        with self.lock:
            return [{"provider": r.provider, "key": r.key, "refund_id": r.refund_id, "trade": r.trade_ref,
                     "amount": str(r.amount), "status": r.status, "requests": r.requests}
                    for r in self.refunds.values()]
