"""Signed, URL-safe tokens for values that travel through clients (cursors, CSRF tokens)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any


class BadSignature(ValueError):
    pass


class Signer:
    def __init__(self, secret: str, *, salt: str) -> None:
        self._key = hashlib.sha256(f"{salt}:{secret}".encode()).digest()

    def mac(self, data: bytes) -> str:
        digest = hmac.new(self._key, data, hashlib.sha256).digest()[:16]
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def dumps(self, value: Any) -> str:
        raw = json.dumps(value, separators=(",", ":"), sort_keys=True).encode()
        body = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        return f"{body}.{self.mac(body.encode())}"

    def loads(self, token: str) -> Any:
        body, _, mac = token.partition(".")
        if not body or not mac or not hmac.compare_digest(mac, self.mac(body.encode())):
            raise BadSignature("signature does not match")
        try:
            return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        except (ValueError, UnicodeDecodeError) as exc:
            raise BadSignature("token does not decode") from exc
