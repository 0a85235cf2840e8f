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
DB_NAME = "xmppterm.db"


class Store:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="xmppterm-store")

    @classmethod
    def open(cls, data_dir: Path | None, codec: Codec | None = None) -> Store:
        """Open the store under `data_dir` (created 0700), or in memory when None."""
        if data_dir is None:
            return cls(Database(None, codec))
        private_dir(data_dir)
        path = data_dir / DB_NAME
        path.touch(mode=0o600, exist_ok=True)
        return cls(Database(path, codec))

    async def _run(self, fn: Callable[..., T], *args: object) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    async def add_message(self, msg: ChatMessage) -> bool:
        return await self._run(self._db.add_message, msg)

    async def update_message(self, msg: ChatMessage) -> None:
        await self._run(self._db.update_message, msg)

    async def history(self, chat: ChatKey, limit: int = 500) -> list[ChatMessage]:
        return await self._run(self._db.history, chat, limit)

    async def get_message(self, account: AccountId, msg_id: str) -> ChatMessage | None:
        return await self._run(self._db.get_message, account, msg_id)

    async def pending(self, account: AccountId) -> list[ChatMessage]:
        return await self._run(self._db.pending, account)

    async def load_roster(self, account: AccountId) -> tuple[RosterItem, ...]:
        blob = await self._run(self._db.get, account, "roster")
        return roster_from_bytes(blob) if blob is not None else ()

    async def save_roster(self, account: AccountId, items: tuple[RosterItem, ...]) -> None:
        await self._run(self._db.put, account, "roster", roster_to_bytes(items))

    async def open_chats(self, account: AccountId) -> list[str]:
        blob = await self._run(self._db.get, account, "open_chats")
        return strings_from_bytes(blob) if blob is not None else []

    async def save_open_chats(self, account: AccountId, jids: list[str]) -> None:
        await self._run(self._db.put, account, "open_chats", strings_to_bytes(jids))

    async def close(self) -> None:
        await self._run(self._db.close)
        self._pool.shutdown(wait=True)
