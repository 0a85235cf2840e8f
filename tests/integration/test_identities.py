"""Five identities (three on example.test, two on other.test) in one SessionManager,
driven through the real app with Pilot: each message reaches its own identity only,
the same contact in two identities is two histories, /disconnect NAME takes one
identity offline, /account NAME changes who you write as; nothing is shared."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from xmppterm.config import Config, Settings
from xmppterm.core.manager import SessionManager
from xmppterm.devserver import Account, ProsodyServer
from xmppterm.domain import events as ev
from xmppterm.domain.connection import ConnState
from xmppterm.domain.ids import AccountId, ChatKey
from xmppterm.domain.messages import ChatMessage, Direction
from xmppterm.store.store import Store
from xmppterm.ui.app import XmppTermApp
from xmppterm.ui.widgets.statusline import StatusLine

from .identities import RecordingPeer, account_config, all_online, give_roster
from .peers import Events
from .test_app_e2e import until

pytestmark = pytest.mark.integration
NAMES = ("a1", "a2", "a3", "b1", "b2")  # a*: example.test, b*: other.test


def bodies(entries: list[Any]) -> list[str]:
    return [e.body for e in entries if isinstance(e, ChatMessage)]


async def type_line(pilot: Any, line: str) -> None:
    pilot.app.composer.input.value = line
    await pilot.press("enter")


def check_nothing_shared(manager: SessionManager) -> None:
    """Each identity has its own client, resource, roster and plugin instances, so its
    own disco and entity-caps caches (slixmpp keeps them per plugin instance)."""
    clients = [s._link._client for s in manager.sessions.values()]  # type: ignore[union-attr]
    assert len({id(c) for c in clients}) == len(NAMES)
    assert len({c.boundjid.resource for c in clients}) == len(NAMES)
    assert len({id(c.client_roster) for c in clients}) == len(NAMES)
    for name in clients[0].plugin:
        assert len({id(c.plugin[name]) for c in clients}) == len(NAMES), name
    if "xep_0115" in clients[0].plugin:
        assert len({id(c.plugin["xep_0115"].cache) for c in clients}) == len(NAMES)


async def test_five_identities_stay_apart(prosody: ProsodyServer,
                                          account_factory: Callable[..., Account],
                                          tmp_path: Path) -> None:
    accs = {n: account_factory("example.test" if n[0] == "a" else "other.test") for n in NAMES}
    bob = account_factory("other.test")
    give_roster(prosody, accs["a1"], bob)  # the same contact in two identities
    give_roster(prosody, accs["b1"], bob)
    configs = [account_config(prosody, n, a) for n, a in accs.items()]
    store = Store.open(tmp_path)
    manager = SessionManager(Config(None, Settings(), tuple(configs)), store)
    events = Events()
    manager.subscribe(events)
    peer = await RecordingPeer(bob, prosody.ca_file).start(prosody)
    app = XmppTermApp(manager)
    try:
        async with app.run_test(size=(140, 44)) as pilot:
            await all_online(events, NAMES)
            check_nothing_shared(manager)
            for name, acc in accs.items():
                peer.send_message(mto=acc.jid, mbody=f"for {name}", mtype="chat")
            for name in NAMES:
                got = await events.wait(ev.MessageReceived,
                                        lambda e, n=name: e.message.body == f"for {n}")
                assert got.account == AccountId(name)
                assert got.message.chat == ChatKey(AccountId(name), bob.jid)
            received = [e for e in events.of(ev.MessageReceived)
                        if e.message.direction is Direction.INCOMING]
            assert sorted(e.message.body for e in received) == sorted(f"for {n}" for n in NAMES)
            for _ in range(100):  # the app draws what came (a loaded machine is slow)
                found = [app.chats.find(ChatKey(AccountId(n), bob.jid)) for n in NAMES]
                if all(b is not None and b.entries for b in found):
                    break
                await pilot.pause(0.05)
            for name in NAMES:
                chat = ChatKey(AccountId(name), bob.jid)
                assert bodies(await store.history(chat)) == [f"for {name}"]
                buffer = app.chats.find(chat)
                assert buffer is not None and bodies(buffer.entries) == [f"for {name}"]

            two_histories_for_one_contact(app, bob)
            await disconnect_one(pilot, app, manager)
            await switch_identity(pilot, app)
            await manager.shutdown()
    finally:
        await peer.stop()
        await store.close()


def two_histories_for_one_contact(app: XmppTermApp, bob: Account) -> None:
    """bob is a contact of a1 and of b1: two chats, two buffers, two histories (checked
    above, in the store and the buffers, each with only its own message)."""
    a1, b1 = ChatKey(AccountId("a1"), bob.jid), ChatKey(AccountId("b1"), bob.jid)
    assert bob.jid in app.contacts[a1.account] and bob.jid in app.contacts[b1.account]
    buffer_a1, buffer_b1 = app.chats.find(a1), app.chats.find(b1)
    assert buffer_a1 is not None and buffer_a1 is not buffer_b1


async def disconnect_one(pilot: Any, app: XmppTermApp, manager: SessionManager) -> None:
    await pilot.press("alt+1")
    await type_line(pilot, "/disconnect b2")
    await until(pilot, app, lambda t: "b2: offline" in t)
    states = {str(a): s.state for a, s in manager.sessions.items()}
    assert states == {**{n: ConnState.ONLINE for n in NAMES}, "b2": ConnState.OFFLINE}
    await type_line(pilot, "/connect b2")
    await until(pilot, app, lambda t: "b2: online" in t)


async def switch_identity(pilot: Any, app: XmppTermApp) -> None:
    await type_line(pilot, "/account a3")
    screen = await until(pilot, app, lambda t: "a3> " in t)
    status = next(line for line in screen.splitlines() if "[1:status]" in line)
    assert "a3 DIRECT online" in status
    info = app.query_one(StatusLine).info.account
    assert info is not None and info.id == AccountId("a3") == app.current_account
