"""The real Textual app, driven with Pilot, against the real Prosody and a scripted peer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from xmppterm.config import AccountConfig, Config, Settings
from xmppterm.core.manager import SessionManager
from xmppterm.devserver import Account, ProsodyServer
from xmppterm.domain.ids import AccountId
from xmppterm.store.store import Store
from xmppterm.ui.app import XmppTermApp

from ..ui.conftest import screen_lines
from .peers import Peer

pytestmark = pytest.mark.integration
# XML 1.0 cannot carry C0 controls such as ESC (the server refuses the stanza; the UI tests
# and OMEMO plaintext cover those); C1 controls and bidi overrides do travel.
RAW = "\x9b31m\x9d0;owned\x9c[@click=app.quit()] [/] \u202eevil"


@asynccontextmanager
async def client(server: ProsodyServer, acc: Account, data: Path, size: tuple[int, int] = (120, 30)
                 ) -> AsyncIterator[tuple[XmppTermApp, Any]]:
    account = AccountConfig(id=AccountId("me"), jid=acc.jid, password=acc.password,
                            host="127.0.0.1", port=server.c2s_port, ca_file=server.ca_file)
    store = Store.open(data)
    manager = SessionManager(Config(None, Settings(), (account,)), store)
    app = XmppTermApp(manager)
    try:
        async with app.run_test(size=size) as pilot:
            yield app, pilot
            await manager.shutdown()
    finally:
        await store.close()


async def until(pilot: Any, app: XmppTermApp, pred: Callable[[str], bool],
                timeout: float = 10.0) -> str:
    """Wait until the screen's text satisfies `pred`; returns that text."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        await pilot.pause(0.05)
        text = "\n".join(screen_lines(app))
        if pred(text):
            return text
        if loop.time() > deadline:
            raise AssertionError(f"screen never matched; it shows:\n{text}")


async def test_chat_roster_stranger_and_history_after_restart(
        prosody: ProsodyServer, account_factory: Callable[..., Account], tmp_path: Path) -> None:
    me, bob, eve = account_factory(), account_factory(), account_factory("other.test")
    prosody.befriend(me, bob, name_b="Bobby Tables")
    peer = await Peer(bob, prosody.ca_file).start(prosody)
    stranger = await Peer(eve, prosody.ca_file).start(prosody)
    try:
        async with client(prosody, me, tmp_path) as (app, pilot):
            await until(pilot, app, lambda t: "online" in t and "Bobby Tables" in t)
            peer.send_message(mto=me.jid, mbody="hi from bob", mtype="chat")
            await until(pilot, app, lambda t: "act:2" in t)
            await pilot.press("alt+2")
            await until(pilot, app, lambda t: f"<{bob.jid}> hi from bob" in t)
            await pilot.press(*"hello bob", "enter")
            got = await peer.next_message()
            assert got["body"] == "hello bob"
            await until(pilot, app, lambda t: "✓✓ <me> hello bob" in t)
            stranger.send_message(mto=me.jid, mbody=RAW, mtype="chat")
            short = eve.jid[:20]  # the sidebar cuts long names
            screen = await until(pilot, app, lambda t: "strangers" in t and short in t)
            contacts, strangers = screen.split("strangers", 1)
            assert short not in contacts and short in strangers
            await pilot.press("alt+3")
            screen = await until(pilot, app, lambda t: "evil" in t)
            assert ("⟨U+009B⟩31m⟨U+009D⟩0;owned⟨U+009C⟩[@click=app.quit()] [/] ⟨U+202E⟩evil"
                    in screen)
            assert app.is_running
        async with client(prosody, me, tmp_path) as (app, pilot):
            await until(pilot, app, lambda t: "online" in t)
            await pilot.press("alt+2")
            await until(pilot, app, lambda t: "hi from bob" in t and "<me> hello bob" in t)
    finally:
        await peer.stop()
        await stranger.stop()


async def test_wrong_certificate_is_shown_and_nothing_connects(
        prosody: ProsodyServer, account_factory: Callable[..., Account], tmp_path: Path) -> None:
    from xmppterm.devserver import make_untrusted_certs

    other = make_untrusted_certs(tmp_path / "other-ca", ["example.test"])
    me = account_factory()
    account = AccountConfig(id=AccountId("me"), jid=me.jid, password=me.password,
                            host="127.0.0.1", port=prosody.c2s_port, ca_file=other.ca_file)
    store = Store.open(None)
    manager = SessionManager(Config(None, Settings(), (account,)), store)
    app = XmppTermApp(manager)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await until(pilot, app, lambda t: "failed" in t)
        assert "certificate" in screen and "ca_file" in screen
        await manager.shutdown()
    await store.close()
