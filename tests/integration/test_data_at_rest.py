"""Whoever seizes the box finds nothing readable; --ephemeral writes nothing at all."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from xmppterm.__main__ import main
from xmppterm.config import AccountConfig, Config, Settings
from xmppterm.core.manager import SessionManager
from xmppterm.devserver import Account, ProsodyServer
from xmppterm.domain import events as ev
from xmppterm.domain import intents as it
from xmppterm.domain.connection import ConnState
from xmppterm.domain.ids import AccountId, ChatKey
from xmppterm.run import open_store
from xmppterm.ui.app import XmppTermApp

from .peers import Events, Peer, left_us

pytestmark = pytest.mark.integration
ME = AccountId("canaryidentity")


def forms(text: str) -> list[bytes]:
    import base64
    import json

    raw = text.encode()
    return [raw, json.dumps(text).encode(), text.encode("utf-16-le"), raw.hex().encode(),
            base64.b64encode(raw)]


async def test_nothing_readable_on_disk_after_a_real_session(
        prosody: ProsodyServer, account_factory: Callable[..., Account], tmp_path: Path) -> None:
    me, bob = account_factory(), account_factory()
    prosody.befriend(me, bob, name_b="Canary Roster Name")
    data = tmp_path / "data"
    secret_file = tmp_path / "pp"
    secret_file.write_text("the canary passphrase\n")
    account = AccountConfig(id=ME, jid=me.jid, password=me.password, host="127.0.0.1",
                            port=prosody.c2s_port, ca_file=prosody.ca_file)
    config = Config(None, Settings(insecure_fast_kdf=True), (account,))
    store, gate = await open_store(config, data, f"cat {secret_file}")
    assert gate is not None and not gate.locked
    manager = SessionManager(config, store)
    events = Events()
    manager.subscribe(events)
    peer = await Peer(bob, prosody.ca_file).start(prosody)
    try:
        await manager.start()
        await events.wait(ev.ConnectionChanged, lambda e: e.state is ConnState.ONLINE)
        peer.send_message(mto=me.jid, mbody="incoming canary 7f3a", mtype="chat")
        await events.wait(ev.MessageReceived)
        manager.dispatch(it.SendMessage(ME, ChatKey(ME, bob.jid), "outgoing canary 9c1e"))
        await events.wait(ev.MessageDeliveryChanged, left_us)
    finally:
        await manager.shutdown()
        await store.close()
        await peer.stop()
    files = [p for p in data.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"xmppterm.db", "keys.json", "xmppterm.log"}
    blob = b"".join(p.read_bytes() for p in files)
    for canary in ("incoming canary 7f3a", "outgoing canary 9c1e", me.password, bob.jid,
                   me.jid, "Canary Roster Name", "the canary passphrase", "canaryidentity",
                   bob.jid.split("@")[0]):
        for form in forms(canary):
            assert form not in blob, f"{canary!r} found on disk"


async def test_ephemeral_leaves_the_data_dir_untouched(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    (data / "marker").write_text("before")
    before = sorted((p.name, p.stat().st_mtime_ns) for p in data.iterdir())
    config = tmp_path / "config.toml"
    config.write_text('[accounts.a]\njid = "a@example.test"\npassword = "x"\nconnect = false\n')
    config.chmod(0o600)
    original = XmppTermApp.run_async
    seen: dict[str, Any] = {}

    async def headless(app: XmppTermApp, **kw: Any) -> None:
        async def quit_soon() -> None:
            await asyncio.sleep(0.5)
            seen["status"] = app.status_text
            app.exit()

        task = asyncio.get_running_loop().create_task(quit_soon())
        await original(app, headless=True)
        await task

    monkeypatch.setattr(XmppTermApp, "run_async", headless)
    rc = await asyncio.to_thread(main, ["--ephemeral", "--data-dir", str(data),
                                        "--config", str(config)])
    assert rc == 0 and "EPHEMERAL" in seen["status"]
    assert sorted((p.name, p.stat().st_mtime_ns) for p in data.iterdir()) == before
