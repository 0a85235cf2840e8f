"""History search and "open at a message" in the store, plain and sealed.

The store seals keys and values, so search decrypts and matches in memory; these
tests run every case against both codecs.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from xmppterm.domain.ids import AccountId, ChatKey
from xmppterm.domain.messages import ChatMessage, Direction
from xmppterm.domain.search import Needle, fold, snippet_start
from xmppterm.store import database
from xmppterm.store.codec import RecordError
from xmppterm.store.crypto import SealedCodec
from xmppterm.store.keyring import KdfParams, create_keyring
from xmppterm.store.store import DB_NAME, Store

WORK, HOME = AccountId("work"), AccountId("home")
BOB, EVE = ChatKey(WORK, "bob@x.org"), ChatKey(WORK, "eve@x.org")
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def msg(i: int, chat: ChatKey, body: str) -> ChatMessage:
    return ChatMessage(id=f"m{i}", chat=chat, direction=Direction.INCOMING, sender=chat.jid,
                       body=body, timestamp=T0 + timedelta(minutes=i))


@pytest.fixture(params=["plain", "sealed"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    if request.param == "plain":
        opened = Store.open(tmp_path)
    else:
        keyring = create_keyring(tmp_path, "search pass", KdfParams.fast_for_tests())
        opened = Store.open(tmp_path, SealedCodec(keyring))
    yield opened
    await opened.close()


async def fill(store: Store) -> None:
    bodies = [(BOB, "Meet at the Station"), (EVE, "the station is closed"),
              (BOB, "nothing here"), (ChatKey(HOME, "bob@x.org"), "station, but at home"),
              (BOB, "ＳＴＡＴＩＯＮ in full width"), (EVE, "STRASSE"), (BOB, "Straße")]
    for i, (chat, body) in enumerate(bodies):
        assert await store.add_message(msg(i, chat, body))


async def test_search_one_chat_newest_first(store: Store) -> None:
    await fill(store)
    found = await store.search(WORK, "station", BOB)
    assert [m.id for m in found] == ["m4", "m0"]  # full-width letters match after NFKC
    assert all(m.chat == BOB for m in found)


async def test_search_the_whole_identity_only(store: Store) -> None:
    await fill(store)
    found = await store.search(WORK, "STATION", None)
    assert [m.id for m in found] == ["m4", "m1", "m0"]  # never the other identity's m3
    assert [m.id for m in await store.search(HOME, "station")] == ["m3"]


async def test_case_folding_beyond_lower(store: Store) -> None:
    await fill(store)
    assert [m.id for m in await store.search(WORK, "strasse")] == ["m6", "m5"]


async def test_no_match_empty_text_and_limit(store: Store) -> None:
    await fill(store)
    assert await store.search(WORK, "absent") == []
    assert await store.search(WORK, "   ") == []
    assert [m.id for m in await store.search(WORK, "station", limit=2)] == ["m4", "m1"]


async def test_search_reads_in_batches(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(database, "SEARCH_BATCH", 3)
    for i in range(20):
        await store.add_message(msg(i, BOB, f"line {i}" + (" needle" if i % 4 == 0 else "")))
    found = await store.search(WORK, "NEEDLE", BOB)
    assert [m.id for m in found] == ["m16", "m12", "m8", "m4", "m0"]


async def test_history_around(store: Store) -> None:
    for i in range(30):
        await store.add_message(msg(i, BOB if i % 2 == 0 else EVE, f"body {i}"))
    around = await store.history_around(BOB, "m14", before=3, after=2)
    assert [m.id for m in around] == ["m8", "m10", "m12", "m14", "m16", "m18"]
    assert [m.id for m in await store.history_around(BOB, "m2", 5, 0)] == ["m0", "m2"]
    assert await store.history_around(BOB, "m15") == []  # a message of another chat
    assert await store.history_around(BOB, "nope") == []


async def test_tampered_record_fails_loudly(tmp_path: Path) -> None:
    keyring = create_keyring(tmp_path, "search pass", KdfParams.fast_for_tests())
    store = Store.open(tmp_path, SealedCodec(keyring))
    await fill(store)
    await store.close()
    db = sqlite3.connect(tmp_path / DB_NAME)
    with db:
        db.execute("UPDATE messages SET value = substr(value, 1, 40) WHERE seq = 1")
    db.close()
    store = Store.open(tmp_path, SealedCodec(keyring))
    with pytest.raises(RecordError):
        await store.search(WORK, "station")
    await store.close()


@pytest.mark.parametrize(("text", "needle", "found"), [
    ("Hello World", "world", True),
    ("ﬁne", "fine", True),  # ligature, NFKC
    ("x²", "x2", True),
    ("Maße", "MASSE", True),
    ("hello", "help", False),
])
def test_needle_table(text: str, needle: str, found: bool) -> None:
    assert Needle(needle).in_text(text) is found


def test_fold_and_snippet() -> None:
    assert fold("ＡＢＣ") == "abc"
    long = "words " * 20 + "target here"
    start = snippet_start(long, Needle("TARGET"))
    assert 0 < start < long.index("target") and long[start - 1] == " "
    assert snippet_start("target first", Needle("target")) == 0
