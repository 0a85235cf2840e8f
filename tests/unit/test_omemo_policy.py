"""core.omemo.ChatOmemo with a fake link: which chats are encrypted, stickiness, refusals,
loud plaintext, and AccountSession's send path (a refused send is not kept)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import pytest

from xmppterm.config import AccountConfig
from xmppterm.core.omemo import ChatOmemo
from xmppterm.core.session import AccountSession
from xmppterm.domain import events as ev
from xmppterm.domain.ids import AccountId, ChatKey
from xmppterm.domain.messages import ChatMessage, Delivery, Direction, Encryption
from xmppterm.domain.omemo import ChatSecurity, ChatSecurityChanged, SetChatOmemo
from xmppterm.protocol.omemo.port import OmemoRefused
from xmppterm.store.store import Store

ACC = AccountId("work")
BOB = ChatKey(ACC, "bob@x.org")


@dataclass
class FakeSealed:
    encryption: Encryption = Encryption.OMEMO_UNTRUSTED
    skipped: tuple[str, ...] = ()


class FakePort:
    def __init__(self, devices: bool | None = True, refuse: str = "") -> None:
        self.found, self.refuse, self.asked = devices, refuse, 0

    async def has_devices(self, jid: str) -> bool | None:
        self.asked += 1
        return self.found

    async def devices(self, jid: str | None) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
        return (), ()


class FakeLink:
    def __init__(self, port: FakePort) -> None:
        self.omemo, self.online = port, True
        self.sent: list[tuple[str, Any]] = []

    async def seal(self, to: str, body: str, message_id: str) -> FakeSealed:
        if self.omemo.refuse:
            raise OmemoRefused(self.omemo.refuse)
        return FakeSealed()

    def send_sealed(self, sealed: Any) -> bool:
        self.sent.append(("sealed", sealed))
        return False

    def send_chat(self, to: str, body: str, message_id: str) -> bool:
        self.sent.append(("plain", body))
        return False

    async def connect(self) -> None: ...

    async def disconnect(self) -> None: ...


def policy(mode: str = "default") -> tuple[ChatOmemo, list[ev.Event], Store]:
    events: list[ev.Event] = []
    store = Store.open(None)
    config = AccountConfig(id=ACC, jid="me@x.org", omemo=mode)  # type: ignore[arg-type]
    return ChatOmemo(config, store, events.append), events, store


async def test_default_mode_turns_on_with_devices_and_stays_on() -> None:
    omemo, _, store = policy()
    none = FakePort(devices=False)
    assert await omemo.must_encrypt(BOB, none) is False
    assert await omemo.must_encrypt(BOB, none) is False and none.asked == 1  # not asked again
    assert omemo.flag(BOB.jid) is None  # no devices: still undecided
    omemo._plain_until.clear()  # later (or a new device was announced)
    assert await omemo.must_encrypt(BOB, FakePort(devices=True)) is True
    again, _, _ = policy()
    again._store = store
    await again.load()
    hiding = FakePort(devices=False)  # the server now hides bob's device list
    assert await again.must_encrypt(BOB, hiding) is True and hiding.asked == 0


async def test_an_unknown_device_list_refuses_rather_than_guess() -> None:
    omemo, _, _ = policy()
    with pytest.raises(OmemoRefused, match="Could not find out"):
        await omemo.must_encrypt(BOB, FakePort(devices=None))


@pytest.mark.parametrize("mode,expected", [("always", True), ("never", False)])
async def test_always_and_never_do_not_ask(mode: str, expected: bool) -> None:
    omemo, _, _ = policy(mode)
    port = FakePort(devices=not expected)
    assert await omemo.must_encrypt(BOB, port) is expected and port.asked == 0


async def test_the_mode_bounds_the_chat_command() -> None:
    omemo, events, _ = policy("always")
    await omemo.handle(SetChatOmemo(ACC, BOB, False), None)
    assert isinstance(events[-1], ev.Notice) and events[-1].error
    assert omemo.flag(BOB.jid) is True


async def test_plaintext_in_an_omemo_chat_is_loud_and_omemo_turns_a_chat_on() -> None:
    omemo, events, _ = policy()
    stamp = datetime.now(UTC)
    encrypted = ChatMessage("1", BOB, Direction.INCOMING, BOB.jid, "hi", stamp,
                            encryption=Encryption.OMEMO_UNTRUSTED)
    await omemo.incoming(encrypted)
    assert omemo.flag(BOB.jid) is True
    assert ChatSecurityChanged(ACC, BOB, ChatSecurity.OMEMO_UNVERIFIED) in events
    await omemo.incoming(replace(encrypted, id="2", encryption=Encryption.PLAIN))
    assert isinstance(events[-1], ev.Notice) and "NOT encrypted" in events[-1].text


async def session_with(link: FakeLink) -> tuple[AccountSession, list[ev.Event]]:
    events: list[ev.Event] = []
    config = AccountConfig(id=ACC, jid="me@x.org", password="pw")
    session = AccountSession(config, Store.open(None), events.append, lambda *a: link)  # type: ignore[arg-type, return-value]
    await session.start()
    session._link = link  # type: ignore[assignment]
    session.connect = lambda: None  # type: ignore[method-assign]
    from xmppterm.domain.connection import ConnState

    session.state = ConnState.ONLINE
    return session, events


async def test_a_refused_send_is_neither_kept_nor_sent() -> None:
    link = FakeLink(FakePort(devices=True, refuse="no trusted device. Nothing was sent."))
    session, events = await session_with(link)
    assert await session.send(BOB, "secret") is None
    assert [e for e in events if isinstance(e, ev.SendRefused)] == [
        ev.SendRefused(ACC, BOB, "secret", "no trusted device. Nothing was sent.")]
    assert link.sent == [] and await session._store.history(BOB) == []
    await session.close()


async def test_an_encrypted_send_is_sealed_and_marked() -> None:
    link = FakeLink(FakePort(devices=True))
    session, _ = await session_with(link)
    msg = await session.send(BOB, "secret")
    assert msg is not None and msg.encryption is Encryption.OMEMO_UNTRUSTED
    assert [kind for kind, _ in link.sent] == ["sealed"]
    stored = await session._store.history(BOB)
    assert [(m.body, m.encryption, m.delivery) for m in stored] == [
        ("secret", Encryption.OMEMO_UNTRUSTED, Delivery.SENT)]
    await asyncio.sleep(0)
    await session.close()


async def test_a_pending_omemo_message_fails_rather_than_go_plain() -> None:
    link = FakeLink(FakePort(devices=True, refuse="bundle missing. Nothing was sent."))
    session, _ = await session_with(link)
    pending = ChatMessage("p1", BOB, Direction.OUTGOING, "me@x.org", "typed offline",
                          datetime.now(UTC), encryption=Encryption.OMEMO_UNTRUSTED,
                          delivery=Delivery.PENDING, origin_id="p1")
    await session._store.add_message(pending)
    await session.flush_outbox()
    assert link.sent == []
    stored = await session._store.get_message(ACC, "p1")
    assert stored is not None and stored.delivery is Delivery.FAILED
    assert stored.error == "bundle missing. Nothing was sent."
    await session.close()


class SlowPort(FakePort):
    async def has_devices(self, jid: str) -> bool | None:
        await asyncio.sleep(0.2)
        return await super().has_devices(jid)


async def test_a_slow_server_shows_the_message_pending_and_sends_it_later(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("xmppterm.core.omemo.DECIDE_WAIT", 0.05)
    link = FakeLink(SlowPort(devices=False))
    session, events = await session_with(link)
    msg = await session.send(BOB, "not decided yet")
    assert msg is not None and msg.delivery is Delivery.PENDING and link.sent == []
    assert [e for e in events if isinstance(e, ev.MessageReceived)]  # shown at once
    await session.flush_outbox()  # a reconnect meanwhile must not send it a second time
    for _ in range(50):
        if link.sent:
            break
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.1)
    assert link.sent == [("plain", "not decided yet")]
    await session.close()


async def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Until `condition` holds (polled; a loaded machine may be slow), else fail."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.01)


@pytest.mark.parametrize("found", [True, False])
async def test_a_held_message_is_asked_about_again_while_online(
        monkeypatch: pytest.MonkeyPatch, found: bool) -> None:
    """Nobody could tell whether bob uses OMEMO: the message is held, pending and told,
    then sent once his device list can be read, sealed if he has devices; never plain
    while it is still unknown."""
    monkeypatch.setattr("xmppterm.core.outbox.HELD_RETRIES", (0.05, 0.05, 0.05))
    port = FakePort(devices=None)
    link = FakeLink(port)
    session, events = await session_with(link)
    msg = await session.send(BOB, "held")
    assert msg is not None and msg.delivery is Delivery.PENDING
    assert any(isinstance(e, ev.Notice) and "asked about again" in e.text for e in events)
    await until(lambda: port.asked >= 2)
    assert link.sent == []  # asked again, still unknown: nothing left
    port.found = found
    await until(lambda: bool(link.sent))
    assert [kind for kind, _ in link.sent] == ["sealed" if found else "plain"]
    stored = await session._store.get_message(ACC, msg.id)
    assert stored is not None and stored.delivery is Delivery.SENT
    await session.close()


async def test_a_held_message_stays_pending_when_the_answer_never_comes(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("xmppterm.core.outbox.HELD_RETRIES", (0.02, 0.02))
    port = FakePort(devices=None)
    link = FakeLink(port)
    session, _ = await session_with(link)
    msg = await session.send(BOB, "held for the next connection")
    assert msg is not None
    await until(lambda: port.asked >= 3)  # the send, then each retry
    await asyncio.sleep(0.05)
    assert link.sent == []
    stored = await session._store.get_message(ACC, msg.id)
    assert stored is not None and stored.delivery is Delivery.PENDING  # not FAILED: kept
    await session.close()
