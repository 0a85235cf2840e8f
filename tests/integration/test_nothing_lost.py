"""Nothing lost, nothing twice (issue 4), against real Prosody servers: the server killed
mid-conversation, xmppterm killed with pending messages, stream resumption, the archive
catch-up (XEP-0313) and forged archive results."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator, Callable, Collection, Sequence
from contextlib import asynccontextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path

import pytest

from xmppterm.config import AccountConfig, Config, Settings
from xmppterm.core.manager import SessionManager
from xmppterm.devserver import Account, ProsodyServer
from xmppterm.devserver.storage import write_roster
from xmppterm.domain import events as ev
from xmppterm.domain import intents as it
from xmppterm.domain.connection import ConnState
from xmppterm.domain.ids import AccountId, ChatKey
from xmppterm.domain.messages import Delivery, Direction
from xmppterm.protocol.link import ProtocolLink
from xmppterm.store.store import Store

from .peers import Events, Peer, left_us, started, until

pytestmark = pytest.mark.integration
ME, BEA = AccountId("me"), AccountId("bea")
CHILD = Path(__file__).with_name("outbox_child.py")


def account_config(server: ProsodyServer, acc: Account, name: AccountId,
                   connect: bool = True) -> AccountConfig:
    return AccountConfig(id=name, jid=acc.jid, password=acc.password, host="127.0.0.1",
                         port=server.c2s_port, ca_file=server.ca_file, connect=connect)


@asynccontextmanager
async def running(server: ProsodyServer, identities: Sequence[tuple[AccountId, Account]],
                  data: Path) -> AsyncIterator[tuple[SessionManager, Events]]:
    accounts = tuple(account_config(server, acc, name) for name, acc in identities)
    async with started(Config(None, Settings(), accounts), Store.open(data)) as pair:
        yield pair


def state_is(account: AccountId, state: ConnState) -> Callable[[ev.ConnectionChanged], bool]:
    return lambda e: e.account == account and e.state is state


async def state_after(events: Events, account: AccountId, state: ConnState, after: int,
                      timeout: float = 40.0) -> int:
    """Wait for `state` reported after position `after` in the events; its position."""
    def later(e: ev.ConnectionChanged) -> bool:
        return state_is(account, state)(e) and any(x is e for x in events.items[after:])
    found = await events.wait(ev.ConnectionChanged, later, timeout)
    return next(i for i, x in enumerate(events.items) if x is found)


async def online_again(events: Events, account: AccountId, after: int = 0) -> None:
    """WAITING (the loss was seen), then ONLINE after it: reconnected by itself."""
    waiting = await state_after(events, account, ConnState.WAITING, after)
    await state_after(events, account, ConnState.ONLINE, waiting)


async def peer_bodies(peer: Peer, expected: Collection[str], settle: float = 1.5,
                      timeout: float = 40.0) -> Counter[str]:
    """Bodies the peer receives until it has every expected one, then for `settle`
    seconds more (a duplicate would come then)."""
    counts: Counter[str] = Counter()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not all(counts[b] for b in expected):
        msg = await peer.next_message(timeout=max(0.1, deadline - loop.time()))
        if msg["body"]:
            counts[msg["body"]] += 1
    with suppress(TimeoutError):
        while True:
            msg = await peer.next_message(timeout=settle)
            if msg["body"]:
                counts[msg["body"]] += 1
    return counts


def shown(events: Events, account: AccountId, body: str) -> int:
    return sum(1 for e in events.of(ev.MessageReceived)
               if e.account == account and e.message.body == body)


async def wait_shown(events: Events, account: AccountId, body: str, timeout: float = 40.0) -> None:
    await events.wait(ev.MessageReceived, lambda e: e.account == account
                      and e.message.body == body, timeout)


async def stored(manager: SessionManager, chat: ChatKey) -> Counter[tuple[Direction, str]]:
    return Counter((m.direction, m.body) for m in await manager.store.history(chat))


def say(manager: SessionManager, chat: ChatKey, body: str) -> None:
    manager.dispatch(it.SendMessage(chat.account, chat, body))


# -- (a) the server dies mid-conversation ---------------------------------------------------------
@pytest.mark.slow
async def test_server_killed_mid_conversation(fresh_prosody: ProsodyServer, tmp_path: Path) -> None:
    server = fresh_prosody
    me, bea, bob = server.new_account(), server.new_account(), server.new_account()
    write_roster(server.data_path, me, [(bob.jid, "bob"), (bea.jid, "bea")])
    write_roster(server.data_path, bea, [(bob.jid, "bob"), (me.jid, "me")])
    write_roster(server.data_path, bob, [(me.jid, "me"), (bea.jid, "bea")])
    me_bob, bea_bob, me_bea, bea_me = (ChatKey(ME, bob.jid), ChatKey(BEA, bob.jid),
                                       ChatKey(ME, bea.jid), ChatKey(BEA, me.jid))
    peer = await Peer(bob, server.ca_file).start(server)
    async with running(server, [(ME, me), (BEA, bea)], tmp_path) as (manager, events):
        for name in (ME, BEA):
            await events.wait(ev.ConnectionChanged, state_is(name, ConnState.ONLINE))
        peer.send_message(mto=me.jid, mbody="before: bob to me", mtype="chat")
        say(manager, me_bob, "before: me to bob")
        say(manager, me_bea, "before: me to bea")
        await wait_shown(events, BEA, "before: me to bea")
        assert await peer_bodies(peer, ["before: me to bob"], settle=0.1)
        await events.wait(ev.MessageDeliveryChanged, lambda e: e.delivery is Delivery.DELIVERED)

        server.kill()
        for name in (ME, BEA):
            await events.wait(ev.ConnectionChanged, state_is(name, ConnState.WAITING))
        gap = {ME: [(me_bob, "gap: me to bob"), (me_bea, "gap: me to bea")],
               BEA: [(bea_bob, "gap: bea to bob"), (bea_me, "gap: bea to me")]}
        for chat, body in gap[ME] + gap[BEA]:
            say(manager, chat, body)
        for _, body in gap[ME] + gap[BEA]:
            await events.wait(ev.MessageReceived, lambda e, b=body: e.message.body == b)
        assert all(m.delivery is Delivery.PENDING for m in await manager.store.pending(ME))
        assert len(await manager.store.pending(ME)) == len(await manager.store.pending(BEA)) == 2

        server.restart()
        await peer.stop()
        peer = await Peer(bob, server.ca_file).start(server)  # bob writes as soon as he can
        peer.send_message(mto=me.jid, mbody="gap: bob to me", mtype="chat")
        peer.send_message(mto=bea.jid, mbody="gap: bob to bea", mtype="chat")
        for name in (ME, BEA):
            await online_again(events, name)
        bob_got = await peer_bodies(peer, ["gap: me to bob", "gap: bea to bob"])
        for account, body in ((ME, "gap: bob to me"), (BEA, "gap: bob to bea"),
                              (BEA, "gap: me to bea"), (ME, "gap: bea to me")):
            await wait_shown(events, account, body)
        await asyncio.sleep(1.5)  # the catch-ups end; a duplicate would show now

        assert bob_got == Counter({"gap: me to bob": 1, "gap: bea to bob": 1})
        for account, chat, expected in (
                (ME, me_bob, [(Direction.INCOMING, "before: bob to me"),
                              (Direction.OUTGOING, "before: me to bob"),
                              (Direction.OUTGOING, "gap: me to bob"),
                              (Direction.INCOMING, "gap: bob to me")]),
                (ME, me_bea, [(Direction.OUTGOING, "before: me to bea"),
                              (Direction.OUTGOING, "gap: me to bea"),
                              (Direction.INCOMING, "gap: bea to me")]),
                (BEA, bea_me, [(Direction.INCOMING, "before: me to bea"),
                               (Direction.OUTGOING, "gap: bea to me"),
                               (Direction.INCOMING, "gap: me to bea")]),
                (BEA, bea_bob, [(Direction.OUTGOING, "gap: bea to bob"),
                                (Direction.INCOMING, "gap: bob to bea")])):
            assert await stored(manager, chat) == Counter(expected), chat
            for _, body in expected:
                assert shown(events, account, body) == 1, (account, body)
        for name in (ME, BEA):
            assert await manager.store.pending(name) == []
    await peer.stop()


# -- (b) xmppterm killed with pending messages ------------------------------------------------------
async def test_pending_messages_survive_kill_9(prosody: ProsodyServer,
                                               account_factory: Callable[..., Account],
                                               tmp_path: Path) -> None:
    me, bob = account_factory(), account_factory()
    prosody.befriend(me, bob)
    bodies = [f"typed before the crash {i}" for i in range(3)]
    spec = {"data": str(tmp_path), "account": ME.name, "jid": me.jid, "password": me.password,
            "port": prosody.c2s_port, "ca": str(prosody.ca_file), "to": bob.jid, "bodies": bodies}
    child = await asyncio.create_subprocess_exec(
        sys.executable, str(CHILD), stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE)
    assert child.stdin is not None and child.stdout is not None
    child.stdin.write(json.dumps(spec).encode() + b"\n")
    await child.stdin.drain()
    try:
        assert (await asyncio.wait_for(child.stdout.readline(), 60)).strip() == b"QUEUED"
    finally:
        child.send_signal(signal.SIGKILL)
        await child.wait()
    assert child.returncode == -signal.SIGKILL

    peer = await Peer(bob, prosody.ca_file).start(prosody)
    try:
        async with running(prosody, [(ME, me)], tmp_path) as (manager, events):
            opened = await events.wait(ev.ChatOpened, lambda e: e.chat == ChatKey(ME, bob.jid))
            assert [(m.body, m.delivery) for m in opened.history] == [
                (b, Delivery.PENDING) for b in bodies]  # still there, still pending
            got = await peer_bodies(peer, bodies)
            assert got == Counter(dict.fromkeys(bodies, 1))
            for m in opened.history:
                await events.wait(ev.MessageDeliveryChanged,
                                  lambda e, i=m.id: e.message_id == i and left_us(e))
            assert await manager.store.pending(ME) == []
    finally:
        await peer.stop()


# -- (c) forged archive results ---------------------------------------------------------------------
def forged(me: str, bob: str, query_id: str, i: int) -> str:
    return (f"<message xmlns='jabber:client' to='{me}'><result xmlns='urn:xmpp:mam:2' "
            f"queryid='{query_id}' id='forged-{i}'><forwarded xmlns='urn:xmpp:forward:0'>"
            "<delay xmlns='urn:xmpp:delay' stamp='2020-01-01T00:00:00Z'/>"
            f"<message xmlns='jabber:client' from='{bob}/x' to='{me}' type='chat'>"
            f"<body>forged {i}</body></message></forwarded></result></message>")


async def test_forged_archive_results_are_ignored(prosody: ProsodyServer,
                                                  account_factory: Callable[..., Account]) -> None:
    me, bob = account_factory(), account_factory()
    prosody.befriend(me, bob)
    phone = await Peer(me, prosody.ca_file, "phone").start(prosody)
    archived = [f"archived {i}" for i in range(120)]  # three pages
    for body in archived:
        phone.send_message(mto=bob.jid, mbody=body, mtype="chat")
    await phone.get_roster()  # the server has handled every message before this
    await phone.stop()
    events = Events()
    link = ProtocolLink(account_config(prosody, me, ME), me.password, events)
    await link.connect()
    link._archive.new_id = lambda: "known-query-id"  # as if the attacker had guessed it
    attacker = await Peer(bob, prosody.ca_file).start(prosody)
    flooding = True

    async def flood() -> None:
        i = 0
        while flooding or i < 400:
            attacker.send_raw(forged(me.jid, bob.jid, "known-query-id", i))
            i += 1
            await asyncio.sleep(0.001)

    task = asyncio.create_task(flood())
    try:
        await asyncio.sleep(0.05)
        await link.catch_up("")  # from the archive's start
        flooding = False
        await task
        await asyncio.sleep(1.0)
        bodies = [e.message.body for e in events.of(ev.MessageReceived)]
        assert sorted(bodies) == sorted(archived)
        assert all(e.message.direction is Direction.OUTGOING for e in events.of(ev.MessageReceived))
        assert link._translator.refused_results >= 300
        pages = events.of(ev.ArchivePage)
        assert pages[-1].done and pages[-1].fetched == 120 and not pages[-1].failed
    finally:
        flooding = False
        await task
        await link.disconnect()
        await attacker.stop()


# -- (d) stream management ----------------------------------------------------------------------------
async def test_stream_resumed_after_a_network_drop(prosody: ProsodyServer,
                                                   account_factory: Callable[..., Account],
                                                   tmp_path: Path) -> None:
    me, bob = account_factory(), account_factory()
    prosody.befriend(me, bob)
    chat = ChatKey(ME, bob.jid)
    peer = await Peer(bob, prosody.ca_file).start(prosody)
    try:
        async with running(prosody, [(ME, me)], tmp_path) as (manager, events):
            await events.wait(ev.ConnectionChanged, state_is(ME, ConnState.ONLINE))
            link = manager.sessions[ME]._link
            assert isinstance(link, ProtocolLink)
            resumed = asyncio.Event()
            link._client.add_event_handler("session_resumed", lambda _: resumed.set())
            bodies = [f"around the drop {i}" for i in range(4)]
            for body in bodies:
                say(manager, chat, body)
            await wait_shown(events, ME, bodies[-1])
            link._client.transport.abort()  # the network goes away; the server keeps the stream
            await online_again(events, ME)
            await asyncio.wait_for(resumed.wait(), 5)
            assert manager.sessions[ME]._link is link  # the same stream, resumed
            assert await peer_bodies(peer, bodies) == Counter(dict.fromkeys(bodies, 1))
            for body in bodies:
                await wait_shown(events, ME, body)

            async def all_delivered() -> bool:  # bob's receipts come back to us
                history = await manager.store.history(chat)
                return all(m.delivery is Delivery.DELIVERED for m in history)
            await until(all_delivered)
            history = await manager.store.history(chat)
            assert {m.body: m.delivery for m in history} == dict.fromkeys(bodies, Delivery.DELIVERED)
    finally:
        await peer.stop()


async def test_server_closes_the_session(prosody: ProsodyServer,
                                         account_factory: Callable[..., Account],
                                         tmp_path: Path) -> None:
    me, bob = account_factory(), account_factory()
    prosody.befriend(me, bob)
    chat = ChatKey(ME, bob.jid)
    peer = await Peer(bob, prosody.ca_file).start(prosody)
    try:
        async with running(prosody, [(ME, me)], tmp_path) as (manager, events):
            await events.wait(ev.ConnectionChanged, state_is(ME, ConnState.ONLINE))
            say(manager, chat, "before the close")
            await events.wait(ev.MessageDeliveryChanged, left_us)
            prosody.shell(f"c2s:close('{me.jid}')")  # no resumption after this
            await online_again(events, ME)
            say(manager, chat, "after the close")
            got = await peer_bodies(peer, ["before the close", "after the close"])
            assert got == Counter({"before the close": 1, "after the close": 1})
    finally:
        await peer.stop()


@pytest.mark.slow
async def test_unacked_messages_are_sent_again(fresh_prosody: ProsodyServer,
                                               tmp_path: Path) -> None:
    """Written to the socket of a frozen server, never acked, the server dies: after it is
    back the same messages (same ids) go out again, and arrive once."""
    server = fresh_prosody
    me, bob = server.new_account(), server.new_account()
    server.befriend(me, bob)
    chat = ChatKey(ME, bob.jid)
    bodies = [f"written, never acked {i}" for i in range(3)]
    async with running(server, [(ME, me)], tmp_path) as (manager, events):
        await events.wait(ev.ConnectionChanged, state_is(ME, ConnState.ONLINE))
        assert server.pid is not None
        os.kill(server.pid, signal.SIGSTOP)
        for body in bodies:
            say(manager, chat, body)
        await wait_shown(events, ME, bodies[-1])
        await asyncio.sleep(0.5)  # written by now, but no ack can come
        assert not events.of(ev.MessageDeliveryChanged)
        assert {m.body for m in await manager.store.pending(ME)} == set(bodies)
        server.kill()
        server.restart()
        await online_again(events, ME)
        peer = await Peer(bob, server.ca_file).start(server)
        try:
            assert await peer_bodies(peer, bodies) == Counter(dict.fromkeys(bodies, 1))
        finally:
            await peer.stop()
        assert await manager.store.pending(ME) == []


# -- (e) the archive brings what other devices sent and received ----------------------------------
async def test_catch_up_brings_other_devices_messages(prosody: ProsodyServer,
                                                      account_factory: Callable[..., Account],
                                                      tmp_path: Path) -> None:
    me, bob = account_factory(), account_factory()
    prosody.befriend(me, bob)
    chat = ChatKey(ME, bob.jid)
    async with running(prosody, [(ME, me)], tmp_path) as (manager, events):
        await events.wait(ev.ConnectionChanged, state_is(ME, ConnState.ONLINE))
        for _ in range(100):  # the first catch-up (an empty archive) leaves its marker
            if await manager.store.archive_marker(ME) is not None:
                break
            await asyncio.sleep(0.05)
        assert await manager.store.archive_marker(ME) == ""
        manager.dispatch(it.Disconnect(ME))
        await events.wait(ev.ConnectionChanged, state_is(ME, ConnState.OFFLINE))

        phone = await Peer(me, prosody.ca_file, "phone").start(prosody)
        peer = await Peer(bob, prosody.ca_file).start(prosody)
        phone.send_message(mto=bob.jid, mbody="sent from my phone", mtype="chat")
        await peer_bodies(peer, ["sent from my phone"], settle=0.1)
        peer.send_message(mto=me.jid, mbody="read on my phone", mtype="chat")
        assert (await phone.next_message())["body"] == "read on my phone"
        await phone.stop()
        await peer.stop()
        before = datetime.now(UTC)

        for _ in range(2):  # the second catch-up finds nothing new
            mark = len(events.items)
            manager.dispatch(it.Connect(ME))
            await state_after(events, ME, ConnState.ONLINE, mark)
            await wait_shown(events, ME, "read on my phone")
            await asyncio.sleep(1.0)
            mark = len(events.items)
            manager.dispatch(it.Disconnect(ME))
            await state_after(events, ME, ConnState.OFFLINE, mark)
        got = [e.message for e in events.of(ev.MessageReceived)]
        assert [(m.direction, m.body) for m in got] == [
            (Direction.OUTGOING, "sent from my phone"), (Direction.INCOMING, "read on my phone")]
        assert all(m.timestamp <= before and m.stanza_id for m in got)  # the archive's time
        assert await stored(manager, chat) == Counter({(Direction.OUTGOING, "sent from my phone"): 1,
                                                       (Direction.INCOMING, "read on my phone"): 1})
