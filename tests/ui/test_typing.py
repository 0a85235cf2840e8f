"""Chat states in the UI: what typing in the composer tells the contact, and "typing…"
in the status line when they type (XEP-0085; protocol decides who may be told)."""

from __future__ import annotations

from typing import Any

import pytest

from xmppterm.domain import rooms as r
from xmppterm.domain.chatstates import ChatState, ChatStateChanged, SetChatState
from xmppterm.domain.events import ChatOpened, MessageReceived
from xmppterm.domain.ids import ChatKey
from xmppterm.ui import typing as ui_typing
from xmppterm.ui.app import XmppTermApp
from xmppterm.ui.widgets.statusline import StatusLine

from .conftest import ALICE, WORK, FakeBackend, message, until

ROOM = ChatKey(WORK, "room@conference.example.org")


def states(backend: FakeBackend) -> list[tuple[str, ChatState]]:
    return [(i.chat.jid, i.state) for i in backend.of_type(SetChatState)]  # type: ignore[attr-defined]


def status(app: XmppTermApp) -> str:
    return app.query_one(StatusLine).build().plain


async def open_chat(backend: FakeBackend, pilot: Any, chat: ChatKey = ALICE) -> None:
    backend.push(ChatOpened(WORK, chat, (), focus=True))
    await pilot.pause()


async def test_typing_tells_composing_once_then_the_message_ends_it(backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_chat(backend, pilot)
        await pilot.press(*"hello")
        await pilot.pause()
        assert states(backend) == [(ALICE.jid, ChatState.COMPOSING)]  # once, not per key
        await pilot.press("enter")
        await pilot.pause()
        assert states(backend) == [(ALICE.jid, ChatState.COMPOSING)]  # no extra stanza
        await pilot.press(*"again")
        await pilot.pause()
        assert states(backend)[-1] == (ALICE.jid, ChatState.COMPOSING)


async def test_emptying_the_line_says_active_and_commands_are_not_typing(
        backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_chat(backend, pilot)
        await pilot.press(*"/he")
        await pilot.pause()
        assert states(backend) == []
        await pilot.press("backspace", "backspace", "backspace", *"hi")
        await pilot.pause()
        await pilot.press("backspace", "backspace")
        await pilot.pause()
        assert states(backend) == [(ALICE.jid, ChatState.COMPOSING), (ALICE.jid, ChatState.ACTIVE)]


async def test_a_pause_in_typing_says_paused(backend: FakeBackend,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ui_typing, "PAUSE_AFTER", 0.5)
    app = XmppTermApp(backend)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_chat(backend, pilot)
        await pilot.press(*"hm")
        await until(pilot, lambda: len(states(backend)) >= 2)  # the 0.5 s timer, under load too
        assert states(backend) == [(ALICE.jid, ChatState.COMPOSING), (ALICE.jid, ChatState.PAUSED)]


async def test_nothing_is_sent_in_a_room(backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(80, 24)) as pilot:
        backend.push(ChatOpened(WORK, ROOM, (), focus=True, room=True),
                     r.RoomJoined(WORK, ROOM, "me", (r.Occupant("me"),), r.RoomFeatures()))
        await pilot.pause()
        await pilot.press(*"hello all")
        await pilot.pause()
        assert states(backend) == []


async def test_their_typing_shows_in_the_status_line_until_their_message(
        backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(100, 24)) as pilot:
        await open_chat(backend, pilot)
        assert "typing" not in status(app)
        backend.push(ChatStateChanged(WORK, ALICE, ChatState.COMPOSING))
        await pilot.pause()
        assert "typing…" in status(app)
        backend.push(MessageReceived(WORK, message("done")))
        await pilot.pause()
        assert "typing" not in status(app)
        backend.push(ChatStateChanged(WORK, ChatKey(WORK, "bob@example.org"), ChatState.COMPOSING))
        await pilot.pause()
        assert "typing" not in status(app)  # another chat's state is not this one's
