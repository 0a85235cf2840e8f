"""Proxied identities against the real Prosody, through a recording SOCKS5 server:
every connection goes through the proxy with the name as ATYP domain, no name is
looked up here, each identity has its own credentials, and failures fail closed."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from xmppterm.config import AccountConfig, Config, parse_config
from xmppterm.core.link import ISOLATION
from xmppterm.core.manager import SessionManager
from xmppterm.devserver import Account, ProsodyServer
from xmppterm.domain import events as ev
from xmppterm.domain.connection import ConnState
from xmppterm.domain.ids import AccountId
from xmppterm.protocol.link import ProtocolLink
from xmppterm.store.store import Store
from xmppterm.transport.connect import DirectConnector
from xmppterm.transport.loopback import free_tcp_port
from xmppterm.transport.socks import SocksConnector

from .peers import Events, Peer
from .socks_server import ATYP_DOMAIN, Leaks, RecordingSocks, Request, install_leak_recorder

pytestmark = pytest.mark.integration
ME = AccountId("me")
ONION = "a" * 56 + ".onion"
DIRECT_PORTS = {5222, 5223}  # where example.test would be reached without the proxy


@pytest.fixture
def leaks(monkeypatch: pytest.MonkeyPatch) -> Leaks:
    return install_leak_recorder(monkeypatch)


def routes(server: ProsodyServer) -> dict[tuple[str, int], int]:
    return {("example.test", 5222): server.c2s_port, ("example.test", 5223): server.direct_tls_port,
            (ONION, 5222): server.c2s_port}


def tor_account(acc: Account, proxy_url: str, ca: Path | None = None, **keys: Any
                ) -> AccountConfig:
    table = {"jid": acc.jid, "tor": True, "proxy": proxy_url, **keys}
    if ca is not None:
        table["ca_file"] = str(ca)
    return parse_config({"accounts": {ME.name: table}}).accounts[0]


def assert_no_leak(leaks: Leaks, *, proxy_port: int | None = None) -> None:
    assert leaks.names() == []
    assert not [a for a in leaks.connects if len(a) != 2 or a[1] in DIRECT_PORTS]
    if proxy_port is not None:
        assert set(leaks.connects) <= {("127.0.0.1", proxy_port)}


async def open_link(account: AccountConfig, password: str, **kw: Any
                    ) -> tuple[ProtocolLink, Events]:
    events = Events()
    link = ProtocolLink(account, password, events, **kw)
    await link.connect()
    return link, events


async def test_tor_identity_connects_and_chats_only_through_the_proxy(
        prosody: ProsodyServer, account_factory: Callable[..., Account], leaks: Leaks) -> None:
    me, friend = account_factory(), account_factory()
    prosody.befriend(me, friend)
    peer = await Peer(friend, prosody.ca_file).start(prosody)
    async with RecordingSocks(routes(prosody)) as proxy:
        account = tor_account(me, proxy.url, prosody.ca_file)
        assert account.route == "TOR"
        link, events = await open_link(account, me.password, socks_auth=("iso-me", "pw-me"))
        try:
            assert events.of(ev.LinkUp), events.items
            link.send_chat(friend.jid, "hello through tor", "m1")
            assert (await peer.next_message())["body"] == "hello through tor"
            peer.send_message(mto=me.jid, mbody="hello back", mtype="chat")
            got = await events.wait(ev.MessageReceived)
            assert got.message.body == "hello back"
        finally:
            await link.disconnect()
            await peer.stop()
    assert proxy.requests == [Request("iso-me", "pw-me", ATYP_DOMAIN, "example.test", 5222)]
    assert_no_leak(leaks)


@pytest.mark.parametrize(("keys", "dest"), [
    ({"host": ONION}, (ONION, 5222)),
    ({"tls": "direct", "port": 5223}, ("example.test", 5223)),
], ids=["onion-host", "direct-tls"])
async def test_host_and_direct_tls_go_to_the_proxy_as_names(
        prosody: ProsodyServer, account_factory: Callable[..., Account], leaks: Leaks,
        keys: dict[str, Any], dest: tuple[str, int]) -> None:
    me = account_factory()
    async with RecordingSocks(routes(prosody)) as proxy:
        link, events = await open_link(tor_account(me, proxy.url, prosody.ca_file, **keys),
                                       me.password)
        try:
            assert events.of(ev.LinkUp), events.items  # the certificate named example.test
        finally:
            await link.disconnect()
    [request] = proxy.requests
    assert (request.atyp, request.host, request.port) == (ATYP_DOMAIN, *dest)
    assert request.username and request.password  # random, never empty
    assert_no_leak(leaks)


async def test_proxy_down_fails_closed(account_factory: Callable[..., Account],
                                       leaks: Leaks) -> None:
    me = account_factory()
    hits: list[object] = []
    decoy = await asyncio.start_server(lambda r, w: (hits.append(r), w.close()), "127.0.0.1", 0)
    decoy_port = decoy.sockets[0].getsockname()[1]
    proxy_port = free_tcp_port()
    try:  # a leak would resolve example.test to 127.0.0.1 (see Leaks) and reach the decoy
        account = tor_account(me, f"socks5://127.0.0.1:{proxy_port}", port=decoy_port)
        link, events = await open_link(account, me.password)
        await link.disconnect()
    finally:
        decoy.close()
    [lost] = events.of(ev.LinkLost)
    assert f"The Tor proxy at 127.0.0.1:{proxy_port} refused the connection: is Tor running?" \
        in lost.reason
    assert not events.of(ev.LinkUp) and hits == []
    assert leaks.connects == [("127.0.0.1", proxy_port)]
    assert_no_leak(leaks, proxy_port=proxy_port)


@pytest.mark.parametrize(("behaviour", "words"), [
    ({"error": 0x01}, "could not connect to example.test port 5222: general failure"),
    ({"error": 0x04}, "the host is unreachable"),
    ({"error": 0x06}, "TTL expired"),
    ({"mode": "bad-auth"}, "refused the SOCKS username and password"),
    ({"mode": "close"}, "closed the connection during the SOCKS5 handshake"),
], ids=["general-failure", "host-unreachable", "ttl-expired", "bad-auth", "hang-up"])
async def test_proxy_errors_are_reported(account_factory: Callable[..., Account], leaks: Leaks,
                                         behaviour: dict[str, Any], words: str) -> None:
    me = account_factory()
    async with RecordingSocks(**behaviour) as proxy:
        link, events = await open_link(tor_account(me, proxy.url), me.password)
        await link.disconnect()
    [lost] = events.of(ev.LinkLost)
    assert f"The Tor proxy at 127.0.0.1:{proxy.port}" in lost.reason and words in lost.reason
    assert proxy.accepted == 1 and not events.of(ev.LinkUp)
    assert_no_leak(leaks, proxy_port=proxy.port)


async def test_a_hanging_proxy_times_out(account_factory: Callable[..., Account],
                                         leaks: Leaks) -> None:
    me = account_factory()
    async with RecordingSocks(mode="hang") as proxy:
        account = tor_account(me, proxy.url)
        connector = SocksConnector("127.0.0.1", proxy.port, "u", "p", timeout=0.5, tor=True)
        link, events = await open_link(account, me.password, connector=connector)
        await link.disconnect()
    [lost] = events.of(ev.LinkLost)
    assert "did not answer within 0.5 s: is Tor running?" in lost.reason
    assert proxy.accepted == 1 and proxy.requests == []
    assert_no_leak(leaks, proxy_port=proxy.port)


async def test_a_proxied_account_refuses_a_direct_connector(
        account_factory: Callable[..., Account]) -> None:
    me = account_factory()
    account = tor_account(me, "socks5://127.0.0.1:9050")
    with pytest.raises(ValueError, match="through its proxy"):
        ProtocolLink(account, me.password, Events(), connector=DirectConnector())


# -- through SessionManager -------------------------------------------------------------
def manager_config(server: ProsodyServer, accounts: list[Account], proxy_url: str) -> Config:
    tables = {f"id{n}": {"jid": a.jid, "password": a.password, "ca_file": str(server.ca_file)}
              for n, a in enumerate(accounts)}
    return parse_config({"settings": {"tor": True, "proxy": proxy_url}, "accounts": tables})


def is_state(account: AccountId, state: ConnState) -> Callable[[ev.ConnectionChanged], bool]:
    return lambda e: e.account == account and e.state is state


async def test_identities_keep_their_own_credentials_across_a_reconnect(
        prosody: ProsodyServer, account_factory: Callable[..., Account], leaks: Leaks,
        tmp_path: Path) -> None:
    a, b = account_factory(), account_factory()
    async with RecordingSocks(routes(prosody)) as proxy:
        config = manager_config(prosody, [a, b], proxy.url)
        ida, idb = (acc.id for acc in config.accounts)
        store = Store.open(tmp_path)
        manager, events = SessionManager(config, store), Events()
        manager.subscribe(events)
        await manager.start()
        try:
            for account in (ida, idb):
                up = await events.wait(ev.ConnectionChanged, is_state(account, ConnState.ONLINE))
                assert up.detail == "TOR"
            assert [info.route for info in manager.accounts()] == ["TOR", "TOR"]
            # c2s:close(jid) ends one user's sessions; c2s:closeall() would end every session
            await asyncio.to_thread(prosody.shell, f"c2s:close('{a.jid}')")
            lost = await events.wait(ev.ConnectionChanged, is_state(ida, ConnState.WAITING))
            assert "example.test" in lost.detail
            await events.wait(ev.ConnectionChanged, is_state(ida, ConnState.CONNECTING))
            seen = len(events.items)
            await events.wait(ev.ConnectionChanged, lambda e: is_state(ida, ConnState.ONLINE)(e)
                              and any(e is later for later in events.items[seen:]), timeout=15)
        finally:
            await manager.shutdown()
            await store.close()
    creds_a, creds_b = (ISOLATION.credentials(acc) for acc in config.accounts)
    assert creds_a != creds_b and creds_a[0] != creds_b[0] and creds_a[1] != creds_b[1]
    assert len(proxy.requests) == 3
    assert {r.credentials for r in proxy.requests[:2]} == {creds_a, creds_b}
    assert proxy.requests[2].credentials == creds_a  # the reconnect: same identity, same pair
    assert all((r.atyp, r.host, r.port) == (ATYP_DOMAIN, "example.test", 5222)
               for r in proxy.requests)
    assert_no_leak(leaks)


async def test_proxy_down_keeps_the_identity_offline_and_retries_through_it(
        account_factory: Callable[..., Account], leaks: Leaks, tmp_path: Path) -> None:
    me = account_factory()
    async with RecordingSocks(error=0x01) as proxy:
        config = parse_config({"accounts": {"me": {
            "jid": me.jid, "password": me.password, "proxy": proxy.url}}})
        store = Store.open(tmp_path)
        manager, events = SessionManager(config, store), Events()
        manager.subscribe(events)
        await manager.start()
        try:
            first = await events.wait(ev.ConnectionChanged, is_state(ME, ConnState.WAITING))
            assert "The SOCKS proxy at" in first.detail and "general failure" in first.detail
            await events.wait(ev.ConnectionChanged, lambda e: is_state(ME, ConnState.WAITING)(e)
                              and e is not first, timeout=10)
        finally:
            await manager.shutdown()
            await store.close()
    changes = events.of(ev.ConnectionChanged)
    assert all(e.state is not ConnState.ONLINE for e in changes)
    assert [e.detail for e in changes if e.state is ConnState.CONNECTING][:2] == ["PROXY", "PROXY"]
    assert len(proxy.requests) >= 2 and proxy.accepted == len(proxy.requests)
    assert_no_leak(leaks, proxy_port=proxy.port)
