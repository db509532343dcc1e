"""Signed tokens made many at a time (the opt-out and personal links of a sweep or a send run).

itsdangerous' `dumps` makes a new signer, derives its key and tries zlib on the payload for
every token: about 40 µs, most of it zlib's set-up, for payloads of a few bytes that never
come out shorter compressed. `BulkSigner.dumps` gives the very same token (and a timed
serializer's token carries the time it is made, as before) with the signer and its key made
once, and zlib tried only where it could win."""

from __future__ import annotations

import zlib
from typing import Any, Protocol

from itsdangerous import TimestampSigner, URLSafeSerializer, URLSafeTimedSerializer
from itsdangerous.encoding import base64_encode, int_to_bytes

# deflate's own framing (zlib header, Adler-32, block header, end code) plus one literal per
# byte that cannot be a match: a JSON text this short never compresses to len - 1 bytes.
NEVER_SHORTER = 16


class Dumps(Protocol):
    def dumps(self, obj: Any) -> str | bytes: ...


class BulkSigner:
    """`serializer.dumps(obj)` for many objects, the same tokens (the first one is checked
    against the serializer; on any difference every token comes from the serializer)."""

    def __init__(self, serializer: URLSafeSerializer | URLSafeTimedSerializer) -> None:
        self.serializer = serializer
        self.signer = serializer.make_signer()
        self.key = self.signer.derive_key()
        self.timed = isinstance(self.signer, TimestampSigner)
        self.checked: bool | None = None  # None: not yet; False: differs, use the serializer

    def dumps(self, obj: Any) -> str:
        if self.checked is False:
            return str(self.serializer.dumps(obj))
        token = self._dumps(obj)
        if self.checked is None:
            self.checked = self._same(obj, token)
            if not self.checked:
                return str(self.serializer.dumps(obj))
        return token

    def _dumps(self, obj: Any) -> str:
        serializer = self.serializer
        raw = serializer.serializer.dumps(obj, **serializer.serializer_kwargs).encode("utf-8")
        if len(raw) > NEVER_SHORTER and len(zlib.compress(raw)) < len(raw) - 1:
            return str(serializer.dumps(obj))  # itsdangerous sends it compressed
        signer = self.signer
        value = base64_encode(raw)
        if self.timed:
            timestamp = int(signer.get_timestamp())  # type: ignore[attr-defined]
            value = value + signer.sep + base64_encode(int_to_bytes(timestamp))
        signature = base64_encode(signer.algorithm.get_signature(self.key, value))
        return (value + signer.sep + signature).decode("ascii")

    def _same(self, obj: Any, token: str) -> bool:
        if self.timed:  # made at another second it differs, so: does it load back?
            try:
                return bool(self.serializer.loads(token) == obj)
            except Exception:
                return False
        return token == self.serializer.dumps(obj)
