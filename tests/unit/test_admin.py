"""`xmppterm passphrase` and `xmppterm wipe` on a real encrypted store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from xmppterm.admin import passphrase_command, wipe_command
from xmppterm.domain.ids import AccountId, ChatKey
from xmppterm.domain.messages import ChatMessage, Direction
from xmppterm.store.crypto import SealedCodec
from xmppterm.store.keyring import KdfParams, create_keyring, unlock_keyring
from xmppterm.store.store import DB_NAME, Store

OLD, NEW = "old passphrase here", "new passphrase here"
WORK, BURNER = AccountId("work"), AccountId("burner")


def answers(*values: str) -> object:
    it: Iterator[str] = iter(values)
    return lambda _prompt: next(it)


async def fill(data: Path) -> None:
    keyring = create_keyring(data, OLD, KdfParams.fast_for_tests())
    store = Store.open(data, SealedCodec(keyring))
    for acc in (WORK, BURNER):
        chat = ChatKey(acc, "bob@example.org")
        await store.add_message(ChatMessage(f"{acc}-1", chat, Direction.INCOMING, chat.jid,
                                            f"body of {acc}", datetime.now(UTC)))
    await store.close()


async def history(data: Path, passphrase: str, acc: AccountId) -> list[str]:
    store = Store.open(data, SealedCodec(unlock_keyring(data, passphrase)))
    try:
        return [m.body for m in await store.history(ChatKey(acc, "bob@example.org"))]
    finally:
        await store.close()


async def test_passphrase_change_keeps_everything(tmp_path: Path) -> None:
    await fill(tmp_path)
    assert passphrase_command(tmp_path, answers("wrong", NEW, NEW)) == 2  # type: ignore[arg-type]
    assert passphrase_command(tmp_path, answers(OLD, NEW, "typo")) == 2  # type: ignore[arg-type]
    assert passphrase_command(tmp_path, answers(OLD, NEW, NEW)) == 0  # type: ignore[arg-type]
    assert await history(tmp_path, NEW, WORK) == ["body of work"]


async def test_wipe_one_identity_leaves_the_others(tmp_path: Path) -> None:
    await fill(tmp_path)
    assert wipe_command(tmp_path, "burner", answers("nope")) == 1  # type: ignore[arg-type]
    assert await history(tmp_path, OLD, BURNER) == ["body of burner"]
    assert wipe_command(tmp_path, "burner", answers("burner"),  # type: ignore[arg-type]
                        answers(OLD)) == 0  # type: ignore[arg-type]
    assert await history(tmp_path, OLD, BURNER) == []
    assert await history(tmp_path, OLD, WORK) == ["body of work"]


async def test_wipe_everything(tmp_path: Path) -> None:
    await fill(tmp_path)
    assert wipe_command(tmp_path, None, answers("everything")) == 0  # type: ignore[arg-type]
    assert not (tmp_path / DB_NAME).exists() and not (tmp_path / "keys.json").exists()
    assert list(tmp_path.iterdir()) == []
