"""A room named without its service (`/join plans`) against the real Prosody: the link
finds the server's group-chat service by service discovery (XEP-0030) after login, and
core puts bare names on it. example.test lists its MUC component conference.example.test;
other.test (a second virtual host of the same server) has none."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import pytest

from xmppterm.config import AccountConfig, Config, Settings
from xmppterm.core.link import store_link_factory
from xmppterm.core.manager import SessionManager
from xmppterm.devserver import ProsodyServer
from xmppterm.domain import events as ev
from xmppterm.domain.ids import AccountId, ChatKey
from xmppterm.domain.ports import EventSink
from xmppterm.domain.rooms import CreateRoom, JoinRoom, RoomJoined, RoomJoinFailed, RoomServiceFound
from xmppterm.protocol.link import ProtocolLink
from xmppterm.store.store import Store

from .identities import account_config, all_online
from .peers import Events
from .room_core import joined, notice, poll, settle

pytestmark = pytest.mark.integration
ME, FAR = AccountId("me"), AccountId("far")
NONE_KNOWN = "No group-chat service is known for far yet (your server may have none)"


@asynccontextmanager
async def manager(accounts: Sequence[AccountConfig]
                  ) -> AsyncIterator[tuple[SessionManager, Events, Events]]:
    """A started SessionManager (in-memory store): the events it emits, and the events
    its links emit (RoomServiceFound stays in core: the second list shows it)."""
    store, events, from_links = Store.open(None), Events(), Events()
    real = store_link_factory(store)

    def factory(config: AccountConfig, password: str, emit: EventSink) -> object:
        def both(event: ev.Event) -> None:
            from_links(event)
            emit(event)
        return real(config, password, both)

    mgr = SessionManager(Config(None, Settings(), tuple(accounts)), store, factory)  # type: ignore[arg-type]
    mgr.subscribe(events)
    await mgr.start()
    try:
        yield mgr, events, from_links
    finally:
        await mgr.shutdown()
        await store.close()


async def service_of(from_links: Events, account: AccountId) -> RoomServiceFound:
    return await from_links.wait(RoomServiceFound, lambda e: e.account == account, 20.0)


async def test_the_link_finds_the_service_of_its_own_server(prosody: ProsodyServer) -> None:
    for host, expected in (("example.test", prosody.conference_domain), ("other.test", None)):
        acc = prosody.new_account(host)
        events = Events()
        link = ProtocolLink(account_config(prosody, "me", acc), acc.password, events)
        try:
            await link.connect()
            found = await events.wait(RoomServiceFound, timeout=20.0)
            assert found == RoomServiceFound(AccountId("me"), expected), host
            assert events.items.index(events.of(ev.LinkUp)[0]) < events.items.index(found)
            assert len(events.of(RoomServiceFound)) == 1
            assert not events.of(ev.Notice), "nothing is shown at login"
        finally:
            await link.disconnect()


async def test_join_and_create_by_name_on_the_service_found(prosody: ProsodyServer) -> None:
    me = account_config(prosody, "me", prosody.new_account())
    async with manager([me]) as (mgr, events, from_links):
        await all_online(events, ["me"])
        assert (await service_of(from_links, ME)).service == "conference.example.test"
        rooms = mgr.sessions[ME].rooms
        await poll(lambda: rooms.service is not None)  # core read it (its inbox may lag)
        name = f"Plans{secrets.token_hex(4)}"
        room = f"{name.lower()}@conference.example.test"
        mgr.dispatch(JoinRoom(ME, name))
        entered = await joined(events, ME, room)
        assert entered.nick == me.jid.partition("@")[0]
        assert any(e.chat == ChatKey(ME, room) and e.room for e in events.of(ev.ChatOpened))
        assert rooms.saved.keys() == {room}

        team = f"team{secrets.token_hex(4)}"
        mgr.dispatch(CreateRoom(ME, team, "boss"))
        made = await joined(events, ME, f"{team}@conference.example.test")
        assert made.created and made.nick == "boss"
        done = await notice(events, ME, lambda e: "Created" in e.text)
        assert done.chat == ChatKey(ME, f"{team}@conference.example.test") and not done.error
        assert not [e for e in events.of(ev.Notice) if e.error]


async def test_a_server_without_a_service_gets_the_notice_and_nothing_is_sent(
        prosody: ProsodyServer) -> None:
    far = account_config(prosody, "far", prosody.new_account("other.test"))
    async with manager([far]) as (mgr, events, from_links):
        await all_online(events, ["far"])
        assert (await service_of(from_links, FAR)).service is None
        before = len(events.items)
        mgr.dispatch(JoinRoom(FAR, "Plans"))
        mgr.dispatch(CreateRoom(FAR, "plans", "boss"))
        said = await notice(events, FAR, lambda e: NONE_KNOWN in e.text)
        assert said.error and "plans@conference.example.org" in said.text
        await settle(1.5)
        later = events.items[before:]
        assert [e for e in later if isinstance(e, ev.Notice)] == [said, said]
        assert not [e for e in later if isinstance(e, ev.ChatOpened | RoomJoined | RoomJoinFailed)]
        session = mgr.sessions[FAR]
        assert session.rooms.saved == {} and session.rooms.states == {}
        link = session.online_link
        assert link is not None and not link.rooms._rooms  # type: ignore[attr-defined]
