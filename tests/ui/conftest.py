"""A fake Backend for UI tests: records intents, lets the test push events."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from itertools import count
from typing import Any

import pytest

from xmppterm.domain.connection import ConnState
from xmppterm.domain.events import Event
from xmppterm.domain.ids import AccountId, ChatKey
from xmppterm.domain.intents import Intent
from xmppterm.domain.messages import ChatMessage, Delivery, Direction, Encryption
from xmppterm.domain.ports import AccountInfo, EventSink

WORK = AccountId("work")
ALICE = ChatKey(WORK, "alice@example.org")
_ids = count(1)


class FakeBackend:
    def __init__(self, accounts: list[AccountInfo] | None = None) -> None:
        self._accounts = accounts if accounts is not None else [
            AccountInfo(WORK, "me@example.org", route="TOR", state=ConnState.ONLINE)
        ]
        self.intents: list[Intent] = []
        self.sinks: list[EventSink] = []
        self.shut_down = False
        self.started = 0
        self.subscribed_before_start = False

    async def start(self) -> None:
        self.started += 1
        self.subscribed_before_start = bool(self.sinks)

    def accounts(self) -> list[AccountInfo]:
        return list(self._accounts)

    def subscribe(self, sink: EventSink) -> None:
        self.sinks.append(sink)

    def dispatch(self, intent: Intent) -> None:
        self.intents.append(intent)

    async def shutdown(self) -> None:
        self.shut_down = True

    def push(self, *events: Event) -> None:
        for event in events:
            for sink in self.sinks:
                sink(event)

    def of_type(self, kind: type) -> list[Intent]:
        return [intent for intent in self.intents if isinstance(intent, kind)]


def message(body: str, chat: ChatKey = ALICE, sender: str | None = None,
            direction: Direction = Direction.INCOMING, delivery: Delivery = Delivery.RECEIVED,
            msg_id: str | None = None, encryption: Encryption = Encryption.PLAIN) -> ChatMessage:
    return ChatMessage(
        id=msg_id or f"m{next(_ids)}", chat=chat, direction=direction,
        sender=sender or (chat.jid if direction is Direction.INCOMING else "me@example.org"),
        body=body, timestamp=datetime(2024, 5, 1, 12, 34),  # naive: local time, as drawn
        encryption=encryption, delivery=delivery,
    )


@pytest.fixture
def backend() -> FakeBackend:
    return FakeBackend()


@pytest.fixture
def make_backend() -> Callable[..., FakeBackend]:
    return FakeBackend


def screen_lines(app: object) -> list[str]:
    """The text of every row of the current screen, as composited (what the terminal shows)."""
    from textual.app import App

    assert isinstance(app, App)
    return [strip.text for strip in app.screen._compositor.render_strips()]


async def until(pilot: Any, check: Callable[[], object], timeout: float = 10.0) -> None:
    """Let the app run until `check()` is true, looking every 50 ms, for at most `timeout`
    seconds (timers and a loaded machine make any fixed pause a guess). It does not fail
    by itself: the assertion that follows says what is wrong."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not check() and asyncio.get_running_loop().time() < deadline:
        await pilot.pause(0.05)
