"""The first-run form's account: written to the config without its password, which is
kept in the encrypted store and used to log in, now and after a restart."""

from __future__ import annotations

import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from xmppterm.config import Config, Settings, load_config
from xmppterm.core.manager import SessionManager
from xmppterm.devserver import Account, ProsodyServer
from xmppterm.domain import events as ev
from xmppterm.domain.connection import ConnState
from xmppterm.run import ConfigWriter
from xmppterm.store.crypto import SealedCodec
from xmppterm.store.keyring import KdfParams, create_keyring, unlock_keyring
from xmppterm.store.store import Store

from .peers import Events

pytestmark = pytest.mark.integration
PASS = "first run passphrase"


async def online(manager: SessionManager) -> Events:
    events = Events()
    manager.subscribe(events)
    await manager.start()
    return events


async def test_form_password_goes_to_the_encrypted_store(
        prosody: ProsodyServer, account_factory: Callable[..., Account], tmp_path: Path) -> None:
    me = account_factory()
    path, data = tmp_path / "config.toml", tmp_path / "data"
    store = Store.open(data, SealedCodec(create_keyring(data, PASS, KdfParams.fast_for_tests())))
    manager = SessionManager(Config(path, Settings(), ()), store)
    events = await online(manager)
    writer = ConfigWriter(manager.config, path, manager)
    problem = await writer.add_account({
        "name": "work", "jid": me.jid, "password": me.password, "tls": "starttls",
        "host": "127.0.0.1", "port": prosody.c2s_port, "ca_file": str(prosody.ca_file)})
    assert problem is None
    await events.wait(ev.ConnectionChanged, lambda e: e.state is ConnState.ONLINE)
    await manager.shutdown()
    await store.close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert me.password not in path.read_text() and "password" not in path.read_text()
    for file in data.iterdir():
        assert me.password.encode() not in file.read_bytes()

    store = Store.open(data, SealedCodec(unlock_keyring(data, PASS)))
    manager = SessionManager(load_config(path), store)
    assert not manager.accounts()[0].plain_password
    events = await online(manager)
    await events.wait(ev.ConnectionChanged, lambda e: e.state is ConnState.ONLINE)
    await manager.shutdown()
    await store.close()
