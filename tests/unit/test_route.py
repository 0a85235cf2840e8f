"""`/route`: parsing, the intent, core's description of each route, and the guarantee that
an identity configured for a proxy has no way to come online around it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from xmppterm.config import AccountConfig, parse_config
from xmppterm.core.link import ISOLATION, protocol_link_factory
from xmppterm.core.manager import SessionManager
from xmppterm.core.route import describe_route, fingerprint
from xmppterm.domain import events as ev
from xmppterm.domain.commands import Command, ParseError, parse
from xmppterm.domain.ids import AccountId
from xmppterm.domain.intents import ShowRoute
from xmppterm.store.store import Store
from xmppterm.transport.connect import DirectConnector
from xmppterm.transport.socks import SocksConnector

WORK = AccountId("work")


def account(**keys: object) -> AccountConfig:
    return parse_config({"accounts": {"work": {"jid": "me@example.org", **keys}}}).accounts[0]


def test_route_parses_without_arguments() -> None:
    assert parse("/route") == Command("route", ())
    assert parse("/ROUTE") == Command("route", ())
    assert parse("/route now") == ParseError("Usage: /route")


def test_tor_route_shows_the_proxy_the_credential_and_remote_dns() -> None:
    lines = describe_route(account(tor=True), ("a" * 32, "secret-password"))
    assert lines[0].startswith("Route: TOR: every connection of this identity goes through "
                               "Tor's SOCKS5 port at 127.0.0.1:9050")
    assert lines[1] == (f"SOCKS credential: user {'a' * 32}, password "
                        f"{fingerprint('a' * 32, 'secret-password')} (random, this identity's "
                        "own for the session (a circuit of its own))")
    assert "secret-password" not in "\n".join(lines)
    assert lines[2].startswith("DNS: remote: the proxy resolves every name")
    assert lines[3] == "Destination: example.org:5222"  # no SRV lookup behind a proxy
    assert lines[4].startswith("TLS: STARTTLS, required; the certificate must name example.org")


def test_proxy_route_with_configured_credentials_and_an_onion_host() -> None:
    acc = account(proxy="socks5://10.1.2.3:1080", proxy_username="me", proxy_password="hunter2",
                  host="x" * 56 + ".onion", port=5223, tls="direct")
    lines = describe_route(acc, ("unused", "unused"))
    assert lines[0].startswith("Route: PROXY: every connection of this identity goes through "
                               "the SOCKS5 proxy at 10.1.2.3:1080")
    assert lines[1] == (f"SOCKS credential: user me, password {fingerprint('me', 'hunter2')} "
                        "(set in [accounts.work])")
    assert "hunter2" not in "\n".join(lines) and "unused" not in "\n".join(lines)
    assert lines[3] == f"Destination: {'x' * 56}.onion:5223"
    assert lines[4].startswith("TLS: direct TLS (XEP-0368)")


def test_direct_route_says_dns_is_local(tmp_path: Path) -> None:
    lines = describe_route(account(), None)
    assert lines[0].startswith("Route: DIRECT")
    assert lines[1] == "DNS: local: this machine looks up the SRV records of example.org"
    assert lines[2] == ("Destination: the servers named by _xmpp-client._tcp.example.org, else "
                        "example.org:5222")
    ca = tmp_path / "ca.pem"
    ca.write_text("x")
    lines = describe_route(account(host="xmpp.example.net", ca_file=str(ca)), None)
    assert lines[1] == "DNS: local: this machine looks up xmpp.example.net"
    assert lines[2] == "Destination: xmpp.example.net:5222" and f"only {ca}" in lines[3]


def test_fingerprints_are_short_and_salted_by_the_username() -> None:
    assert len(fingerprint("u", "p")) == len("sha256:") + 8
    assert fingerprint("u", "p") != fingerprint("v", "p")


async def test_show_route_is_answered_by_core_with_the_credential_in_use() -> None:
    config = parse_config({"accounts": {"work": {"jid": "me@example.org", "tor": True,
                                                 "connect": False}}})
    manager = SessionManager(config, Store.open(None))
    got: list[ev.Event] = []
    manager.subscribe(got.append)
    manager.dispatch(ShowRoute(WORK))
    for _ in range(50):
        if got:
            break
        await asyncio.sleep(0.01)
    await manager.shutdown()
    [event] = [e for e in got if isinstance(e, ev.RouteDescribed)]
    assert isinstance(event, ev.RouteDescribed) and event.account == WORK
    assert event.lines[0] == "Route of work (me@example.org), now offline:"
    user, password = ISOLATION.credentials(config.accounts[0])  # the pair its links use
    assert f"user {user}, password {fingerprint(user, password)}" in event.lines[2]
    assert password not in "\n".join(event.lines)


async def test_a_tor_identity_can_only_get_a_link_through_its_proxy() -> None:
    """By construction: the only link core makes for a proxied identity connects through
    a SocksConnector (no local DNS), and a direct connector is refused, so such an
    identity is never ONLINE except through its proxy; its route comes from the config."""
    from xmppterm.protocol.link import ProtocolLink

    acc = account(tor=True)
    link = protocol_link_factory(acc, "pw", lambda e: None)
    assert isinstance(link, ProtocolLink)
    connector = link._client.connector
    assert isinstance(connector, SocksConnector) and not connector.local_dns
    assert connector.proxy == ("127.0.0.1", 9050) and connector.tor
    with pytest.raises(ValueError, match="must connect through its proxy"):
        ProtocolLink(acc, "pw", lambda e: None, connector=DirectConnector())
    manager = SessionManager(parse_config({"accounts": {"work": {
        "jid": "me@example.org", "tor": True}}}), Store.open(None))
    assert [info.route for info in manager.accounts()] == ["TOR"]
    await manager.shutdown()
