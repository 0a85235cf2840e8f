"""The store as core sees it: async calls that run the database on one worker thread,
so SQLite (and later the KDF) never blocks the shared event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from ..domain.ids import AccountId, ChatKey
from ..domain.messages import ChatMessage
from ..domain.roster import RosterItem
from .codec import Codec
from .database import Database
from .files import private_dir
from .serial import roster_from_bytes, roster_to_bytes, strings_from_bytes, strings_to_bytes

T = TypeVar("T")


class StoreLocked(Exception):
    """Raised by every call while the store is locked."""

DB_NAME = "xmppterm.db"
MARKER = "mam_after"  # kv record: the last archive id seen (XEP-0313 catch-up)


class Store:
    def __init__(self, db: Database | None) -> None:
        self._db = db
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="xmppterm-store")

    @classmethod
    def locked(cls) -> Store:
        """A store whose database is attached later, once the passphrase is known."""
        return cls(None)

    @property
    def db(self) -> Database:
        if self._db is None:
            raise StoreLocked("the store is locked: give the passphrase first")
        return self._db

    @property
    def is_locked(self) -> bool:
        return self._db is None

    def attach(self, db: Database) -> None:
        self._db = db

    async def detach(self) -> None:
        """Close the database and forget it: nothing is read or written until `attach`."""
        db, self._db = self._db, None
        if db is not None:
            await asyncio.get_running_loop().run_in_executor(self._pool, db.close)

    @classmethod
    def open(cls, data_dir: Path | None, codec: Codec | None = None) -> Store:
        """Open the store under `data_dir` (created 0700), or in memory when None."""
        return cls(open_database(data_dir, codec))

    async def _run(self, fn: Callable[..., T], *args: object) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    async def add_message(self, msg: ChatMessage, archive_marker: str | None = None) -> bool:
        """Store a new message; with `archive_marker`, move the archive marker in the same
        commit (a live message after a completed catch-up)."""
        also = (MARKER, archive_marker.encode("utf-8")) if archive_marker is not None else None
        return await self._run(self.db.add_message, msg, also)

    async def update_message(self, msg: ChatMessage) -> None:
        await self._run(self.db.update_message, msg)

    async def modify_message(self, account: AccountId, msg_id: str,
                             change: Callable[[ChatMessage], ChatMessage | None],
                             ) -> tuple[ChatMessage | None, ChatMessage | None]:
        """Read a stored message, `change` it (a pure function; None: leave it) and write
        the result back in one go on the worker thread: no other call of the store comes
        in between, so a change made meanwhile by another task (a /correct, a receipt) is
        never undone by a copy read before an await. Returns (as it was, as written)."""
        db = self.db

        def run() -> tuple[ChatMessage | None, ChatMessage | None]:
            current = db.get_message(account, msg_id)
            changed = change(current) if current is not None else None
            if changed is not None:
                db.update_message(changed)
            return current, changed
        return await self._run(run)

    async def history(self, chat: ChatKey, limit: int = 500) -> list[ChatMessage]:
        return await self._run(self.db.history, chat, limit)

    async def get_message(self, account: AccountId, msg_id: str) -> ChatMessage | None:
        return await self._run(self.db.get_message, account, msg_id)

    async def pending(self, account: AccountId) -> list[ChatMessage]:
        return await self._run(self.db.pending, account)

    async def search(self, account: AccountId, text: str, chat: ChatKey | None = None,
                     limit: int = 200) -> list[ChatMessage]:
        """Decrypt and match on the store's worker thread: the loop never waits on it."""
        return await self._run(self.db.search, account, text, chat, limit)

    async def history_around(self, chat: ChatKey, msg_id: str, before: int = 100,
                             after: int = 300) -> list[ChatMessage]:
        return await self._run(self.db.history_around, chat, msg_id, before, after)

    async def load_roster(self, account: AccountId) -> tuple[RosterItem, ...]:
        blob = await self._run(self.db.get, account, "roster")
        return roster_from_bytes(blob) if blob is not None else ()

    async def save_roster(self, account: AccountId, items: tuple[RosterItem, ...]) -> None:
        await self._run(self.db.put, account, "roster", roster_to_bytes(items))

    async def save_credential(self, account: AccountId, password: str) -> None:
        """The account's password, sealed like every record (from the first-run form)."""
        await self._run(self.db.put, account, "credential", password.encode("utf-8"))

    async def load_credential(self, account: AccountId) -> str | None:
        blob = await self._run(self.db.get, account, "credential")
        return blob.decode("utf-8") if blob is not None else None

    async def open_chats(self, account: AccountId) -> list[str]:
        blob = await self._run(self.db.get, account, "open_chats")
        return strings_from_bytes(blob) if blob is not None else []

    async def save_open_chats(self, account: AccountId, jids: list[str]) -> None:
        await self._run(self.db.put, account, "open_chats", strings_to_bytes(jids))

    async def archive_marker(self, account: AccountId) -> str | None:
        """Where the next catch-up with the server archive starts (XEP-0313): the last
        archive id seen, "" for the archive's start, None if it was never read."""
        blob = await self._run(self.db.get, account, MARKER)
        return blob.decode("utf-8") if blob is not None else None

    async def save_archive_marker(self, account: AccountId, marker: str) -> None:
        await self._run(self.db.put, account, MARKER, marker.encode("utf-8"))

    async def load_record(self, account: AccountId, name: str) -> bytes | None:
        """A sealed key/value record of `account` (OMEMO state and settings)."""
        return await self._run(self.db.get, account, name)

    async def save_record(self, account: AccountId, name: str, value: bytes) -> None:
        """Written and synced before this returns (OMEMO ratchets must never roll back)."""
        await self._run(self.db.put, account, name, value)

    async def delete_record(self, account: AccountId, name: str) -> None:
        await self._run(self.db.delete, account, name)

    async def seen(self, account: AccountId, ref: str) -> bool:
        return await self._run(self.db.seen, account, ref)

    async def mark_seen(self, account: AccountId, ref: str) -> None:
        await self._run(self.db.mark_seen, account, ref)

    async def close(self) -> None:
        await self.detach()
        self._pool.shutdown(wait=True)


def open_database(data_dir: Path | None, codec: Codec | None = None) -> Database:
    """The database file under `data_dir` (0700 directory, 0600 file), or one in memory."""
    if data_dir is None:
        return Database(None, codec)
    private_dir(data_dir)
    path = data_dir / DB_NAME
    path.touch(mode=0o600, exist_ok=True)
    return Database(path, codec)
