"""AccountSession with a fake link: lifecycle, outbox, strangers (no server)."""

import asyncio
from collections.abc import Callable
from dataclasses import replace

import pytest

from xmppterm.config import AccountConfig
from xmppterm.core.link import NotConnected
from xmppterm.core.session import AccountSession
from xmppterm.domain import events as ev
from xmppterm.domain.connection import ConnState
from xmppterm.domain.ids import AccountId, ChatKey
from xmppterm.domain.messages import ChatMessage, Delivery, Direction
from xmppterm.domain.roster import RosterItem
from xmppterm.store.store import Store

ACC = AccountId("work")


class FakeLink:
    def __init__(self, emit: Callable[[ev.Event], None], password: str) -> None:
        self.emit, self.password = emit, password
        self.online = False
        self.sent: list[tuple[str, str, str]] = []
        self.connects = 0
        self.catch_ups: list[str | None] = []

    async def connect(self) -> None:
        self.connects += 1

    async def disconnect(self) -> None:
        self.online = False

    def send_chat(self, to: str, body: str, message_id: str) -> bool:
        if not self.online:
            raise NotConnected
        self.sent.append((to, body, message_id))
        return self.acks

    acks = False  # True: like a server with stream management, SENT comes on its ack
    resumable = False

    async def resume(self) -> None:
        self.connects += 1

    async def catch_up(self, marker: str | None) -> None:
        self.catch_ups.append(marker)

    def up(self) -> None:
        self.online = True
        self.emit(ev.LinkUp(ACC, "alice@x.org/r"))


class Harness:
    def __init__(self, password_command: str | None = None) -> None:
        self.links: list[FakeLink] = []
        self.events: list[ev.Event] = []
        cfg = AccountConfig(id=ACC, jid="alice@x.org",
                            password=None if password_command else "pw",
                            password_command=password_command)
        self.store = Store.open(None)
        self.session = AccountSession(cfg, self.store, self.events.append, self.factory,
                                      backoff=lambda attempt, rand: 0.01)

    def factory(self, cfg: AccountConfig, password: str, emit: Callable[[ev.Event], None]) -> FakeLink:
        link = FakeLink(emit, password)
        self.links.append(link)
        return link

    def states(self) -> list[ConnState]:
        return [e.state for e in self.events if isinstance(e, ev.ConnectionChanged)]

    async def settle(self) -> None:
        for _ in range(20):
            await asyncio.sleep(0)
        await asyncio.sleep(0.02)


async def test_connect_online_and_outbox_flush() -> None:
    h = Harness()
    chat = ChatKey(ACC, "bob@x.org")
    sent = await h.session.send(chat, "typed while offline")
    assert sent.delivery is Delivery.PENDING
    h.session.connect()
    await h.settle()
    assert h.links[0].password == "pw"
    h.links[0].up()
    await h.settle()
    assert h.states() == [ConnState.CONNECTING, ConnState.ONLINE]
    assert h.links[0].sent == [("bob@x.org", "typed while offline", sent.id)]
    assert await h.store.pending(ACC) == []
    assert any(isinstance(e, ev.MessageDeliveryChanged) and e.delivery is Delivery.SENT for e in h.events)
    await h.session.close()


async def test_lost_connection_retries_with_a_new_link() -> None:
    h = Harness()
    h.session.connect()
    await h.settle()
    h.links[0].up()
    await h.settle()
    h.links[0].emit(ev.LinkLost(ACC, "connection reset"))
    await h.settle()
    assert ConnState.WAITING in h.states()
    assert len(h.links) == 2 and h.links[1].connects == 1
    await h.session.close()


async def test_fatal_error_does_not_retry() -> None:
    h = Harness()
    h.session.connect()
    await h.settle()
    h.links[0].emit(ev.LinkFailed(ACC, "certificate did not verify"))
    await asyncio.sleep(0.1)
    assert h.session.state is ConnState.FAILED
    assert len(h.links) == 1
    failed = [e for e in h.events if isinstance(e, ev.ConnectionChanged)][-1]
    assert "certificate" in failed.detail
    await h.session.close()


async def test_password_command_failure_is_explained() -> None:
    h = Harness(password_command="echo secret-output; exit 3")
    h.session.connect()
    await asyncio.sleep(0.3)
    assert h.session.state is ConnState.FAILED and not h.links
    detail = [e for e in h.events if isinstance(e, ev.ConnectionChanged)][-1].detail
    assert "exit 3" in detail and "secret-output" not in detail
    await h.session.close()


async def test_password_command_first_line() -> None:
    h = Harness(password_command="printf 'pw-from-cmd\\nignored'")
    h.session.connect()
    await asyncio.sleep(0.3)
    assert h.links and h.links[0].password == "pw-from-cmd"
    await h.session.close()


@pytest.mark.parametrize("in_roster", [True, False])
async def test_stranger_flag_and_duplicate_drop(in_roster: bool) -> None:
    h = Harness()
    h.session.connect()
    await h.settle()
    if in_roster:
        h.links[0].emit(ev.RosterReceived(ACC, (RosterItem("bob@x.org", "Bob", "both"),)))
    from datetime import UTC, datetime
    m = ChatMessage("i1", ChatKey(ACC, "bob@x.org"), Direction.INCOMING, "bob@x.org", "hi",
                    datetime.now(UTC), stanza_id="s1")
    h.links[0].emit(ev.MessageReceived(ACC, m))
    h.links[0].emit(ev.MessageReceived(ACC, replace(m, id="i2")))
    await h.settle()
    got = [e for e in h.events if isinstance(e, ev.MessageReceived)]
    assert len(got) == 1 and got[0].stranger is (not in_roster)
    opened = [e for e in h.events if isinstance(e, ev.ChatOpened)]
    assert opened and opened[0].history == () and opened[0].stranger is (not in_roster)
    await h.session.close()


async def test_receipt_for_unknown_or_foreign_id_changes_nothing() -> None:
    h = Harness()
    h.session.connect()
    await h.settle()
    h.links[0].up()
    await h.settle()
    sent = await h.session.send(ChatKey(ACC, "bob@x.org"), "hi")
    h.links[0].emit(ev.MessageDeliveryChanged(ACC, ChatKey(ACC, "eve@x.org"), sent.id, Delivery.DELIVERED))
    h.links[0].emit(ev.MessageDeliveryChanged(ACC, ChatKey(ACC, "bob@x.org"), "nope", Delivery.DELIVERED))
    await h.settle()
    stored = await h.store.get_message(ACC, sent.id)
    assert stored is not None and stored.delivery is Delivery.SENT
    h.links[0].emit(ev.MessageDeliveryChanged(ACC, ChatKey(ACC, "bob@x.org"), sent.id, Delivery.DELIVERED))
    await h.settle()
    stored = await h.store.get_message(ACC, sent.id)
    assert stored is not None and stored.delivery is Delivery.DELIVERED
    await h.session.close()
