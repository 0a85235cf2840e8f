import os
import sqlite3
import stat
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from xmppterm.domain.ids import AccountId, ChatKey
from xmppterm.domain.messages import ChatMessage, Delivery, Direction
from xmppterm.domain.roster import RosterItem
from xmppterm.store.files import atomic_write
from xmppterm.store.store import DB_NAME, Store

WORK, HOME = AccountId("work"), AccountId("home")


def msg(i: int, chat: ChatKey, **kw: object) -> ChatMessage:
    base = dict(id=f"m{i}", chat=chat, direction=Direction.INCOMING, sender=chat.jid,
                body=f"body {i}", timestamp=datetime(2026, 1, 1, tzinfo=UTC))
    base.update(kw)
    return ChatMessage(**base)  # type: ignore[arg-type]


async def test_history_roundtrip_and_modes(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = Store.open(data)
    chat = ChatKey(WORK, "bob@x.org")
    for i in range(5):
        assert await store.add_message(msg(i, chat))
    await store.close()
    assert stat.S_IMODE(os.stat(data).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(data / DB_NAME).st_mode) == 0o600
    store = Store.open(data)
    hist = await store.history(chat, limit=3)
    assert [m.body for m in hist] == ["body 2", "body 3", "body 4"]
    assert hist[0] == msg(2, chat)
    await store.close()


async def test_identities_share_nothing() -> None:
    store = Store.open(None)
    await store.add_message(msg(1, ChatKey(WORK, "bob@x.org")))
    await store.add_message(msg(1, ChatKey(HOME, "bob@x.org"), body="other"))
    assert [m.body for m in await store.history(ChatKey(HOME, "bob@x.org"))] == ["other"]
    assert [m.body for m in await store.history(ChatKey(WORK, "bob@x.org"))] == ["body 1"]
    await store.close()


async def test_duplicates_by_id_stanza_id_and_origin_id() -> None:
    store = Store.open(None)
    chat = ChatKey(WORK, "bob@x.org")
    assert await store.add_message(msg(1, chat, stanza_id="s1", origin_id="o1"))
    assert not await store.add_message(msg(1, chat))
    assert not await store.add_message(msg(2, chat, stanza_id="s1"))
    assert not await store.add_message(msg(3, chat, origin_id="o1"))
    # The same origin-id from another chat is another message.
    assert await store.add_message(msg(4, ChatKey(WORK, "eve@x.org"), origin_id="o1"))
    assert len(await store.history(chat)) == 1
    await store.close()


async def test_outbox_follows_delivery_state() -> None:
    store = Store.open(None)
    chat = ChatKey(WORK, "bob@x.org")
    out = msg(1, chat, direction=Direction.OUTGOING, delivery=Delivery.PENDING)
    await store.add_message(out)
    assert [m.id for m in await store.pending(WORK)] == ["m1"]
    assert await store.pending(HOME) == []
    await store.update_message(out.with_delivery(Delivery.SENT))
    assert await store.pending(WORK) == []
    got = await store.get_message(WORK, "m1")
    assert got is not None and got.delivery is Delivery.SENT
    await store.close()


async def test_roster_and_open_chats() -> None:
    store = Store.open(None)
    items = (RosterItem("bob@x.org", "Bob", "both", ("Friends",)),)
    await store.save_roster(WORK, items)
    await store.save_open_chats(WORK, ["bob@x.org"])
    assert await store.load_roster(WORK) == items
    assert await store.load_roster(HOME) == ()
    assert await store.open_chats(WORK) == ["bob@x.org"]
    await store.close()


async def test_wal_mode(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    await store.close()
    db = sqlite3.connect(tmp_path / DB_NAME)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_atomic_write_mode(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "f.toml"
    atomic_write(target, b"a")
    atomic_write(target, b"b")
    assert target.read_bytes() == b"b"
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(target.parent).st_mode) == 0o700
    assert os.listdir(target.parent) == ["f.toml"]


async def test_a_live_message_moves_the_archive_marker_in_the_same_commit() -> None:
    store = Store.open(None)
    chat = ChatKey(WORK, "bob@x.org")
    assert await store.add_message(msg(1, chat, stanza_id="A1"), archive_marker="A1")
    assert await store.archive_marker(WORK) == "A1"
    # A duplicate writes nothing: the marker stays where it was.
    assert not await store.add_message(msg(2, chat, stanza_id="A1"), archive_marker="A9")
    assert await store.archive_marker(WORK) == "A1"
    assert await store.archive_marker(HOME) is None
    await store.close()


async def test_modify_message_reads_and_writes_in_one_step() -> None:
    store = Store.open(None)
    chat = ChatKey(WORK, "bob@x.org")
    mine = msg(1, chat, direction=Direction.OUTGOING, sender="me@x.org",
               delivery=Delivery.PENDING)
    await store.add_message(mine)
    seen: list[ChatMessage] = []

    def delivered(current: ChatMessage) -> ChatMessage:
        seen.append(current)
        return current.with_delivery(Delivery.DELIVERED)

    # a write queued first is what `change` sees: never a copy read earlier
    await store.update_message(replace(mine, body="fixed"))
    before, after = await store.modify_message(WORK, "m1", delivered)
    assert seen == [before] and before is not None and before.body == "fixed"
    assert after == replace(before, delivery=Delivery.DELIVERED)
    assert await store.get_message(WORK, "m1") == after
    assert await store.modify_message(WORK, "m1", lambda current: None) == (after, None)
    assert await store.get_message(WORK, "m1") == after  # None: left as it is
    assert await store.modify_message(WORK, "nothing", delivered) == (None, None)
    await store.close()
