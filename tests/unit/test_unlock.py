"""The passphrase gate with the real encrypted store (no server)."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from xmppterm.domain.ids import AccountId, ChatKey
from xmppterm.domain.messages import ChatMessage, Direction
from xmppterm.store.keyring import KdfParams
from xmppterm.store.store import DB_NAME, Store, StoreLocked
from xmppterm.unlock import WRONG, StoreGate, StoreWithoutKeys, check_data_dir

ACC = AccountId("work")
CHAT = ChatKey(ACC, "bob@example.org")
PASS = "a long enough passphrase"


def msg(body: str) -> ChatMessage:
    return ChatMessage(body, CHAT, Direction.INCOMING, CHAT.jid, body, datetime.now(UTC))


async def open_gate(data: Path) -> tuple[Store, StoreGate]:
    store = Store.locked()
    return store, StoreGate(data, store, KdfParams.fast_for_tests())


async def test_create_lock_and_unlock_again(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store, gate = await open_gate(data)
    assert gate.new and gate.locked
    with pytest.raises(StoreLocked):
        await store.history(CHAT)
    assert await gate.unlock(PASS) is None
    assert not gate.new and not gate.locked
    await store.add_message(msg("kept"))
    assert stat.S_IMODE(os.stat(data).st_mode) == 0o700
    assert {stat.S_IMODE(os.stat(p).st_mode) for p in data.iterdir()} == {0o600}
    await gate.lock()
    assert gate.locked
    with pytest.raises(StoreLocked):
        await store.history(CHAT)
    assert await gate.unlock("wrong passphrase") == WRONG
    assert gate.locked
    assert await gate.unlock(PASS) is None
    assert [m.body for m in await store.history(CHAT)] == ["kept"]
    await store.close()


async def test_a_new_process_needs_the_passphrase(tmp_path: Path) -> None:
    store, gate = await open_gate(tmp_path)
    await gate.unlock(PASS)
    await store.add_message(msg("secret body"))
    await store.close()
    store, gate = await open_gate(tmp_path)
    assert not gate.new
    assert await gate.unlock("not it") == WRONG
    with pytest.raises(StoreLocked):
        await store.history(CHAT)
    assert await gate.unlock(PASS) is None
    assert [m.body for m in await store.history(CHAT)] == ["secret body"]
    await store.close()


def test_a_store_without_its_key_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / DB_NAME).write_bytes(b"")
    with pytest.raises(StoreWithoutKeys, match=r"keys\.json"):
        check_data_dir(tmp_path)
