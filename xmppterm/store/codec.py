"""How records look on disk. The one seam the encrypted store replaces.

A `Codec` turns lookup keys into what the database indexes (`index`) and values into
what it keeps (`seal`/`unseal`). Each call names the account and the table, so an
encrypting codec can bind a record to its place (associated data) and derive keys
per account. `PlainCodec` is the unencrypted one of the first slice.
"""

from __future__ import annotations

from typing import Protocol


class RecordError(Exception):
    """A record that cannot be read back (tampered, moved, or from another key)."""


class Codec(Protocol):
    def index(self, account: str, table: str, key: str) -> str: ...

    def seal(self, account: str, table: str, key: str, value: bytes) -> bytes: ...

    def unseal(self, account: str, table: str, key: str, blob: bytes) -> bytes: ...


class PlainCodec:
    """Stores keys and values as they are."""

    def index(self, account: str, table: str, key: str) -> str:
        return key

    def seal(self, account: str, table: str, key: str, value: bytes) -> bytes:
        return value

    def unseal(self, account: str, table: str, key: str, blob: bytes) -> bytes:
        return blob
