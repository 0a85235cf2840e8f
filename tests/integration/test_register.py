"""In-band registration (XEP-0077) against the real Prosody, through the recording SOCKS5
proxy: every connection goes through it, names as ATYP domain, with the identity's own
credentials, no name looked up here; then the new account logs in the same way."""

from __future__ import annotations

import argparse
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from xmppterm.config import load_config, parse_config
from xmppterm.core.link import ISOLATION
from xmppterm.core.manager import SessionManager
from xmppterm.core.signup import SignUpService
from xmppterm.devserver import ProsodyServer
from xmppterm.domain import events as ev
from xmppterm.domain.connection import ConnState
from xmppterm.domain.ids import AccountId
from xmppterm.domain.registration import RegistrationFailed, SignUpRequest, form_lines
from xmppterm.register import Console, sign_up
from xmppterm.store.crypto import SealedCodec
from xmppterm.store.keyring import unlock_keyring
from xmppterm.store.store import Store

from .peers import Events
from .socks_server import ATYP_DOMAIN, Leaks, RecordingSocks, install_leak_recorder

pytestmark = pytest.mark.integration
DOMAIN = "example.test"


@pytest.fixture
def leaks(monkeypatch: pytest.MonkeyPatch) -> Leaks:
    return install_leak_recorder(monkeypatch)


@pytest.fixture
def open_server(prosody_factory: Callable[..., ProsodyServer]) -> ProsodyServer:
    return prosody_factory(allow_registration=True)


def routes(server: ProsodyServer) -> dict[tuple[str, int], int]:
    return {(DOMAIN, 5222): server.c2s_port, (DOMAIN, 5223): server.direct_tls_port}


def tor_settings(proxy: RecordingSocks) -> dict[str, Any]:
    return {"settings": {"tor": True, "proxy": proxy.url}}


def assert_only_through(proxy: RecordingSocks, leaks: Leaks, count: int) -> None:
    assert len(proxy.requests) == count and proxy.accepted == count
    assert all((r.atyp, r.host) == (ATYP_DOMAIN, DOMAIN) for r in proxy.requests)
    assert all(r.username and r.password for r in proxy.requests)
    assert leaks.names() == []
    # this process connects to the proxy, and the proxy (in this process too) onwards
    allowed = {("127.0.0.1", port) for port in (proxy.port, *proxy.routes.values())}
    assert set(leaks.connects) <= allowed
    assert not [a for a in leaks.connects if a[1] in (5222, 5223)]


async def test_sign_up_through_tor_then_log_in(open_server: ProsodyServer, leaks: Leaks) -> None:
    async with RecordingSocks(routes(open_server)) as proxy:
        raw = tor_settings(proxy)
        request = SignUpRequest(DOMAIN, name="fresh", ca_file=str(open_server.ca_file))
        session = await SignUpService(lambda: raw).begin(request)
        try:
            form = session.form
            assert form.advertised and [f.var for f in form.inputs] == ["username", "password"]
            assert form_lines(form)[:2] == ["Creating a new account", "Choose a username and "
                                            "password for use with this service."]
            assert session.route[0].startswith(f"Route: TOR: every connection of this "
                                               f"identity goes through Tor's SOCKS5 port at "
                                               f"127.0.0.1:{proxy.port}")
            done = await session.submit({"username": "Newcomer", "password": "a strong one"})
        finally:
            await session.close()
        sign_up_pair = ISOLATION.credentials(session.probe)
        assert done.jid == f"newcomer@{DOMAIN}"
        table = dict(done.table)
        name, password = str(table.pop("name")), str(table.pop("password"))
        raw.setdefault("accounts", {})[name] = table
        config = parse_config(raw)
        store = Store.open(None)
        await store.save_credential(AccountId(name), password)
        manager, events = SessionManager(config, store), Events()
        manager.subscribe(events)
        await manager.start()
        try:
            up = await events.wait(ev.ConnectionChanged, lambda e: e.state is ConnState.ONLINE)
            assert up.detail == "TOR"
        finally:
            await manager.shutdown()
            await store.close()
    assert_only_through(proxy, leaks, 2)
    login_pair = ISOLATION.credentials(config.accounts[0])
    assert [r.credentials for r in proxy.requests] == [sign_up_pair, login_pair]
    assert sign_up_pair != login_pair and [r.port for r in proxy.requests] == [5222, 5222]


async def test_a_taken_name_shows_the_server_error_and_another_works(
        open_server: ProsodyServer, leaks: Leaks) -> None:
    taken = open_server.new_account()
    async with RecordingSocks(routes(open_server)) as proxy:
        request = SignUpRequest(DOMAIN, route="proxy", proxy=proxy.url, tls="direct",
                                ca_file=str(open_server.ca_file))
        session = await SignUpService(dict).begin(request)
        try:
            with pytest.raises(RegistrationFailed) as err:
                await session.submit({"username": taken.jid.split("@")[0], "password": "x"})
            assert err.value.retry and err.value.condition == "conflict"
            assert str(err.value) == (f"That name is taken on {DOMAIN} (conflict): choose "
                                      "another. The server says: \"The requested username "
                                      "already exists.\"")
            done = await session.submit({"username": "second-try", "password": "pw"})
            assert done.jid == f"second-try@{DOMAIN}"
        finally:
            await session.close()
    assert_only_through(proxy, leaks, 1)
    assert proxy.requests[0].port == 5223  # direct TLS, on the one connection


async def test_registration_closed_shows_the_server_error(prosody: ProsodyServer,
                                                          leaks: Leaks) -> None:
    async with RecordingSocks(routes(prosody)) as proxy:
        request = SignUpRequest(DOMAIN, route="tor", proxy=proxy.url, ca_file=str(prosody.ca_file))
        with pytest.raises(RegistrationFailed) as err:  # the form itself is refused
            await SignUpService(dict).begin(request)
    assert not err.value.retry and err.value.condition == "service-unavailable"
    assert "does not let anyone create an account here (service-unavailable)" in str(err.value)
    assert_only_through(proxy, leaks, 1)


async def test_the_proxy_down_means_no_registration_and_no_direct_try(
        open_server: ProsodyServer, leaks: Leaks) -> None:
    async with RecordingSocks(error=0x05) as proxy:
        request = SignUpRequest(DOMAIN, route="tor", proxy=proxy.url,
                                ca_file=str(open_server.ca_file))
        with pytest.raises(RegistrationFailed, match=r"The Tor proxy at .* could not connect"):
            await SignUpService(dict).begin(request)
    assert_only_through(proxy, leaks, 1)


def cli_args(proxy_url: str, ca: Path, keep: str, **more: Any) -> argparse.Namespace:
    values = {"server": DOMAIN, "name": "cli", "tor": True, "proxy": proxy_url, "direct": False,
              "host": None, "port": None, "direct_tls": False, "ca_file": ca, "tls_pin": None,
              "keep_password": keep, "passphrase_command": None}
    return argparse.Namespace(**{**values, **more})


async def test_the_cli_signs_up_through_tor_and_writes_the_identity(
        open_server: ProsodyServer, leaks: Leaks, tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    answers = iter(["cli-user"])
    console = Console(ask=lambda prompt: next(answers), ask_secret=lambda prompt: "",
                      echo=False)
    async with RecordingSocks(routes(open_server)) as proxy:
        code = await sign_up(cli_args(proxy.url, open_server.ca_file, "config"), path, None,
                             console)
    assert code == 0, console.lines
    text = "\n".join(console.lines)
    assert "Route: TOR" in text and f"Account created: cli-user@{DOMAIN}" in text
    assert "A generated password (24 random characters) will be used." in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    account = load_config(path).account(AccountId("cli"))
    assert account.jid == f"cli-user@{DOMAIN}" and account.route == "TOR"
    assert account.password is not None and len(account.password) == 24
    assert account.password not in text  # kept in the file, not shown
    assert_only_through(proxy, leaks, 1)


async def test_the_cli_shows_every_field_and_keeps_the_password_in_the_store(
        open_server: ProsodyServer, leaks: Leaks, tmp_path: Path) -> None:
    path, data = tmp_path / "config.toml", tmp_path / "data"
    path.write_text('[settings]\ninsecure_fast_kdf = true\n')
    path.chmod(0o600)
    answers = iter(["store-user"])
    secrets = iter(["typed password", "typed password", "store passphrase",
                    "store passphrase"])
    console = Console(ask=lambda prompt: next(answers), ask_secret=lambda prompt: next(secrets),
                      echo=False)
    async with RecordingSocks(routes(open_server)) as proxy:
        code = await sign_up(cli_args(proxy.url, open_server.ca_file, "store"), path, data,
                             console)
    assert code == 0, console.lines
    assert "Username (required)" in console.lines and "Password (required)" in console.lines
    assert "typed password" not in path.read_text()
    assert load_config(path).account(AccountId("cli")).password is None
    assert all(b"typed password" not in f.read_bytes() for f in data.iterdir() if f.is_file())
    assert_only_through(proxy, leaks, 1)
    store = Store.open(data, SealedCodec(unlock_keyring(data, "store passphrase")))
    try:
        assert await store.load_credential(AccountId("cli")) == "typed password"
    finally:
        await store.close()
