"""The payment layer: refund state machine, gateway adapters, signatures, and a sandbox gateway.

No Flask here: services hand in configuration, clocks and sessions.
"""
