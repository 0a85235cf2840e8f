"""SessionManager with the real protocol layer and store against the real Prosody."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from xmppterm.config import AccountConfig, Config, Settings
from xmppterm.core.manager import SessionManager
from xmppterm.devserver import Account, ProsodyServer
from xmppterm.domain import events as ev
from xmppterm.domain import intents as it
from xmppterm.domain.connection import ConnState
from xmppterm.domain.ids import AccountId, ChatKey
from xmppterm.domain.messages import Delivery, Direction
from xmppterm.store.store import Store

from .peers import Events, Peer, started

pytestmark = pytest.mark.integration
ME = AccountId("me")


def make_config(server: ProsodyServer, acc: Account) -> Config:
    account = AccountConfig(id=ME, jid=acc.jid, password=acc.password, host="127.0.0.1",
                            port=server.c2s_port, ca_file=server.ca_file)
    return Config(None, Settings(), (account,))


@asynccontextmanager
async def running(server: ProsodyServer, acc: Account, data: Path
                  ) -> AsyncIterator[tuple[SessionManager, Events]]:
    async with started(make_config(server, acc), Store.open(data)) as pair:
        yield pair


def online(e: ev.ConnectionChanged) -> bool:
    return e.state is ConnState.ONLINE


async def test_chat_history_survives_a_restart(prosody: ProsodyServer,
                                               account_factory: Callable[..., Account],
                                               tmp_path: Path) -> None:
    me, bob = account_factory(), account_factory()
    prosody.befriend(me, bob)
    peer = await Peer(bob, prosody.ca_file).start(prosody)
    chat = ChatKey(ME, bob.jid)
    try:
        async with running(prosody, me, tmp_path) as (manager, events):
            await events.wait(ev.ConnectionChanged, online)
            roster = await events.wait(ev.RosterReceived, lambda e: bool(e.items))
            assert [i.jid for i in roster.items] == [bob.jid]
            peer.send_message(mto=me.jid, mbody="hello from bob", mtype="chat")
            got = await events.wait(ev.MessageReceived, lambda e: e.message.body == "hello from bob")
            assert got.message.chat == chat and not got.stranger
            manager.dispatch(it.SendMessage(ME, chat, "hello from me"))
            stanza = await peer.next_message()
            assert stanza["body"] == "hello from me"
            await events.wait(ev.MessageDeliveryChanged, lambda e: e.delivery is Delivery.DELIVERED)
        async with running(prosody, me, tmp_path) as (manager, events):
            opened = await events.wait(ev.ChatOpened, lambda e: e.chat == chat)
            assert [(m.direction, m.body) for m in opened.history] == [
                (Direction.INCOMING, "hello from bob"), (Direction.OUTGOING, "hello from me")]
            assert opened.history[1].delivery is Delivery.DELIVERED
    finally:
        await peer.stop()


async def test_a_strangers_message_is_kept_apart(prosody: ProsodyServer,
                                                 account_factory: Callable[..., Account],
                                                 tmp_path: Path) -> None:
    me, eve = account_factory(), account_factory("other.test")
    peer = await Peer(eve, prosody.ca_file).start(prosody)
    try:
        async with running(prosody, me, tmp_path) as (_manager, events):
            await events.wait(ev.ConnectionChanged, online)
            peer.send_message(mto=me.jid, mbody="hi, you don't know me", mtype="chat")
            got = await events.wait(ev.MessageReceived)
            assert got.stranger and got.message.chat == ChatKey(ME, eve.jid)
            opened = await events.wait(ev.ChatOpened)
            assert opened.stranger and not opened.focus
    finally:
        await peer.stop()


@pytest.mark.slow
async def test_message_typed_while_server_is_down_is_sent_once(
        fresh_prosody: ProsodyServer, tmp_path: Path) -> None:
    server = fresh_prosody
    me, bob = server.new_account(), server.new_account()
    server.befriend(me, bob)
    chat = ChatKey(ME, bob.jid)
    async with running(server, me, tmp_path) as (manager, events):
        await events.wait(ev.ConnectionChanged, online)
        server.kill()
        await events.wait(ev.ConnectionChanged, lambda e: e.state is ConnState.WAITING)
        manager.dispatch(it.SendMessage(ME, chat, "typed in the gap"))
        pending = await events.wait(ev.MessageReceived, lambda e: e.message.body == "typed in the gap")
        assert pending.message.delivery is Delivery.PENDING
        server.restart()
        await events.wait(ev.MessageDeliveryChanged, lambda e: e.delivery is Delivery.SENT,
                          timeout=30)
        assert len(events.of(ev.ConnectionChanged)) >= 3
    peer = await Peer(bob, server.ca_file).start(server)
    try:
        first = await peer.next_message()
        assert first["body"] == "typed in the gap"
        with pytest.raises(asyncio.TimeoutError):
            await peer.next_message(timeout=2.0)
    finally:
        await peer.stop()
