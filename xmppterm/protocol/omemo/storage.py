"""python-omemo's key/value storage on the encrypted store.

Every OMEMO value (identity key, pre keys, sessions, device lists, trust) is one
sealed record of the identity's account, named `omemo` + JID + the library's key, so
one xmppterm identity has one OMEMO identity, and a JID changed in the config starts
a new one instead of reusing keys. The record names are HMAC-indexed by the store:
the file does not show which contacts have sessions.

A write returns only once SQLite has committed it (synchronous=FULL): the library
stores a ratchet before it hands out the plaintext, so a message shown is never
followed by a ratchet that rolls back to before it.
"""

from __future__ import annotations

import json
from typing import Protocol

from omemo.storage import Just, Maybe, Nothing, Storage, StorageException
from omemo.types import JSONType

from ...domain.ids import AccountId

PREFIX = "omemo"


class Records(Protocol):
    """What the storage needs of the store (`store.Store` implements it)."""

    async def load_record(self, account: AccountId, name: str) -> bytes | None: ...

    async def save_record(self, account: AccountId, name: str, value: bytes) -> None: ...

    async def delete_record(self, account: AccountId, name: str) -> None: ...


class RecordStorage(Storage):
    """`omemo.storage.Storage` over sealed records (the library caches what it loads)."""

    def __init__(self, records: Records, account: AccountId, jid: str) -> None:
        super().__init__()
        self._records, self._account, self._jid = records, account, jid

    def _name(self, key: str) -> str:
        return f"{PREFIX}\0{self._jid}\0{key}"

    async def _load(self, key: str) -> Maybe[JSONType]:
        try:
            blob = await self._records.load_record(self._account, self._name(key))
        except Exception as exc:  # a locked store or a damaged record: the library must stop
            raise StorageException(f"OMEMO state could not be read ({type(exc).__name__})") from None
        if blob is None:
            return Nothing()
        value: JSONType = json.loads(blob)
        return Just(value)

    async def _store(self, key: str, value: JSONType) -> None:
        blob = json.dumps(value, separators=(",", ":")).encode("utf-8")
        try:
            await self._records.save_record(self._account, self._name(key), blob)
        except Exception as exc:
            raise StorageException(f"OMEMO state could not be written ({type(exc).__name__})") from None

    async def _delete(self, key: str) -> None:
        try:
            await self._records.delete_record(self._account, self._name(key))
        except Exception as exc:
            raise StorageException(f"OMEMO state could not be deleted ({type(exc).__name__})") from None


class MemoryRecords:
    """`Records` in a dict: for tests and for scripted peers."""

    def __init__(self) -> None:
        self.data: dict[tuple[AccountId, str], bytes] = {}

    async def load_record(self, account: AccountId, name: str) -> bytes | None:
        return self.data.get((account, name))

    async def save_record(self, account: AccountId, name: str, value: bytes) -> None:
        self.data[(account, name)] = value

    async def delete_record(self, account: AccountId, name: str) -> None:
        self.data.pop((account, name), None)
