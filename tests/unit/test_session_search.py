"""AccountSession and SessionManager: search and opening a chat at a message (fake link)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from xmppterm.config import AccountConfig, Config, Settings
from xmppterm.core import session as session_module
from xmppterm.core.manager import SessionManager
from xmppterm.domain import events as ev
from xmppterm.domain import intents as it
from xmppterm.domain.ids import AccountId, ChatKey
from xmppterm.domain.messages import ChatMessage, Direction
from xmppterm.store.store import Store

from .test_session import ACC, Harness

BOB, EVE = ChatKey(ACC, "bob@x.org"), ChatKey(ACC, "eve@x.org")


def msg(i: int, chat: ChatKey, body: str) -> ChatMessage:
    return ChatMessage(id=f"m{i}", chat=chat, direction=Direction.INCOMING, sender=chat.jid,
                       body=body, timestamp=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=i))


async def filled(n: int = 10) -> Harness:
    h = Harness()
    for i in range(n):
        await h.store.add_message(msg(i, BOB if i % 2 else EVE, f"note {i}" + " hit" * (i % 3 == 0)))
    return h


def of(h: Harness, kind: type[ev.Event]) -> list[ev.Event]:
    return [e for e in h.events if isinstance(e, kind)]


async def test_search_one_chat_and_the_identity() -> None:
    h = await filled()
    await h.session.search("HIT", BOB)
    await h.session.search("hit", None)
    first, second = of(h, ev.SearchResults)
    assert isinstance(first, ev.SearchResults) and isinstance(second, ev.SearchResults)
    assert (first.text, first.chat, first.truncated) == ("HIT", BOB, False)
    assert [m.id for m in first.results] == ["m9", "m3"]
    assert second.chat is None and [m.id for m in second.results] == ["m9", "m6", "m3", "m0"]
    await h.session.close()


async def test_search_is_truncated_at_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(session_module, "SEARCH_LIMIT", 2)
    h = await filled()
    await h.session.search("note", None)
    (found,) = of(h, ev.SearchResults)
    assert isinstance(found, ev.SearchResults)
    assert [m.id for m in found.results] == ["m9", "m8"] and found.truncated
    await h.session.close()


async def test_open_chat_at_a_message() -> None:
    h = await filled(40)
    await h.session.open_chat(BOB, focus=True, at="m5")
    (opened,) = of(h, ev.ChatOpened)
    assert isinstance(opened, ev.ChatOpened) and opened.at == "m5"
    ids = [m.id for m in opened.history]
    assert ids[:4] == ["m1", "m3", "m5", "m7"] and "m39" in ids
    assert h.session.open_chats == ["bob@x.org"]
    await h.session.close()


async def test_open_chat_at_a_missing_message_falls_back() -> None:
    h = await filled()
    await h.session.open_chat(BOB, focus=True, at="m4")  # m4 is Eve's
    notice, opened = h.events
    assert isinstance(notice, ev.Notice) and notice.error and notice.chat == BOB
    assert isinstance(opened, ev.ChatOpened) and opened.at is None
    assert [m.id for m in opened.history] == ["m1", "m3", "m5", "m7", "m9"]
    await h.session.close()


async def test_manager_routes_search_and_open_at() -> None:
    store = Store.open(None)
    config = Config(None, Settings(), (AccountConfig(id=ACC, jid="me@x.org", password="pw",
                                                     connect=False),))
    manager = SessionManager(config, store)
    events: list[ev.Event] = []
    manager.subscribe(events.append)
    await store.add_message(msg(1, BOB, "the hit"))
    manager.dispatch(it.SearchHistory(ACC, "HIT", BOB))
    manager.dispatch(it.OpenChat(ACC, BOB, at="m1"))
    manager.dispatch(it.SearchHistory(AccountId("nobody"), "x", None))
    for _ in range(50):
        await asyncio.sleep(0.01)
        if {ev.ChatOpened, ev.SearchResults, ev.Notice} <= {type(e) for e in events}:
            break
    found = [e for e in events if isinstance(e, ev.SearchResults)]
    opened = [e for e in events if isinstance(e, ev.ChatOpened)]
    assert [m.id for m in found[0].results] == ["m1"]
    assert opened[0].at == "m1" and [m.id for m in opened[0].history] == ["m1"]
    assert any(isinstance(e, ev.Notice) and "nobody" in e.text for e in events)
    await manager.shutdown()
    await store.close()
