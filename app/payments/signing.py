"""Signatures and encryption the three gateway styles use, over raw bytes.

Alipay: RSA2 (RSA PKCS#1 v1.5 over SHA-256) of the sorted ``k=v&...`` string.
WeChat Pay: RSA2 over ``timestamp\\nnonce\\nbody\\n``; notification resources AES-256-GCM.
Stripe: ``Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache
from pathlib import Path
from typing import Mapping

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM


class SignatureError(Exception):
    """A signature did not verify, or a ciphertext did not decrypt."""


@lru_cache(maxsize=32)
def load_private_key(path: str) -> rsa.RSAPrivateKey:
    """Read a PEM private key (cached per path)."""
    key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise SignatureError(f"{path} is not an RSA private key")
    return key


@lru_cache(maxsize=32)
def load_public_key(path: str) -> rsa.RSAPublicKey:
    """Read a PEM public key (cached per path)."""
    key = serialization.load_pem_public_key(Path(path).read_bytes())
    if not isinstance(key, rsa.RSAPublicKey):
        raise SignatureError(f"{path} is not an RSA public key")
    return key


def rsa2_sign(message: bytes, private_key: rsa.RSAPrivateKey) -> str:
    """Sign with SHA256withRSA and return base64."""
    return base64.b64encode(private_key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()


def rsa2_verify(message: bytes, signature: str, public_key: rsa.RSAPublicKey) -> None:
    """Raise SignatureError unless ``signature`` (base64) signs ``message``."""
    try:
        public_key.verify(base64.b64decode(signature, validate=True), message, padding.PKCS1v15(),
                          hashes.SHA256())
    except (InvalidSignature, ValueError) as error:
        raise SignatureError("RSA2 signature does not match the message") from error


def alipay_sign_content(params: Mapping[str, str]) -> bytes:
    """Alipay's signing string: sorted non-empty params except ``sign`` and ``sign_type``."""
    pairs = sorted((k, v) for k, v in params.items() if k not in ("sign", "sign_type") and v != "")
    return "&".join(f"{k}={v}" for k, v in pairs).encode("utf-8")


def wechat_message(*parts: str | bytes) -> bytes:
    """WeChat Pay's signing string: every part followed by a newline."""
    return b"".join((p if isinstance(p, bytes) else p.encode("utf-8")) + b"\n" for p in parts)


def aes_gcm_encrypt(key: bytes, nonce: str, plaintext: bytes, associated_data: str) -> str:
    """Encrypt a WeChat-style resource; return base64(ciphertext || tag)."""
    return base64.b64encode(AESGCM(key).encrypt(nonce.encode(), plaintext, associated_data.encode())).decode()


def aes_gcm_decrypt(key: bytes, nonce: str, ciphertext: str, associated_data: str) -> bytes:
    """Decrypt a WeChat-style resource, raising SignatureError if it was altered."""
    try:
        return AESGCM(key).decrypt(nonce.encode(), base64.b64decode(ciphertext), associated_data.encode())
    except (InvalidTag, ValueError) as error:
        raise SignatureError("the encrypted resource does not decrypt with the APIv3 key") from error


def stripe_signature(secret: str, timestamp: int, body: bytes) -> str:
    """Return the ``Stripe-Signature`` header value for a body sent at ``timestamp``."""
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def stripe_verify(secret: str, header: str, body: bytes) -> int:
    """Return the header's timestamp if one v1 signature matches, else raise SignatureError."""
    items = [part.split("=", 1) for part in header.split(",") if "=" in part]
    timestamps = [v for k, v in items if k.strip() == "t"]
    if len(timestamps) != 1 or not timestamps[0].isdigit():
        raise SignatureError("Stripe-Signature has no timestamp")
    timestamp = int(timestamps[0])
    expected = stripe_signature(secret, timestamp, body).split("v1=", 1)[1]
    if not any(k.strip() == "v1" and hmac.compare_digest(v, expected) for k, v in items):
        raise SignatureError("no v1 signature in Stripe-Signature matches the body")
    return timestamp
