"""A sandbox payment gateway speaking the Alipay, WeChat Pay and Stripe styles over loopback HTTP.

It keeps a ledger, settles later, sends signed notifications with retries, answers queries,
and injects faults on request (lost responses after money moved, 500s, slow answers,
duplicate and out-of-order notifications). For development and tests only.
"""
from app.payments.sandbox.server import SandboxServer, start_sandbox

__all__ = ["SandboxServer", "start_sandbox"]
