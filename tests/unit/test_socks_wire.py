"""The SOCKS5 bytes the connector sends, and how it picks a route (no network)."""

from dataclasses import replace

import pytest

from xmppterm.config import AccountConfig, ProxyConfig
from xmppterm.domain.ids import AccountId
from xmppterm.transport.connect import DirectConnector
from xmppterm.transport.socks import (
    NO_AUTH,
    USER_PASS,
    ProxyError,
    SocksConnector,
    auth_request,
    connect_request,
    connector_for,
    proxy_ip,
    reply_problem,
)


def test_hostnames_go_as_names() -> None:
    assert connect_request("example.test", 5222) == (
        b"\x05\x01\x00\x03\x0cexample.test\x14\x66")
    onion = "a" * 56 + ".onion"
    assert connect_request(onion, 5222)[3:5] == bytes([3, len(onion)])
    assert connect_request("bücher.example", 5222)[5:] == b"xn--bcher-kva.example\x14\x66"


def test_ip_literals_go_as_addresses() -> None:
    assert connect_request("192.0.2.5", 5223) == b"\x05\x01\x00\x01\xc0\x00\x02\x05\x14\x67"
    assert connect_request("2001:db8::1", 1)[3] == 0x04


@pytest.mark.parametrize(("host", "port"), [("", 5222), ("a" * 256, 5222), ("x.test", 0)])
def test_bad_destinations_are_oserrors(host: str, port: int) -> None:
    with pytest.raises(ProxyError):
        connect_request(host, port)


def test_auth_request() -> None:
    assert auth_request("ab", "xyz") == b"\x01\x02ab\x03xyz"
    with pytest.raises(ProxyError):
        auth_request("", "x")


def test_proxy_address_is_never_resolved() -> None:
    assert proxy_ip("localhost") == "127.0.0.1" and proxy_ip("::1") == "::1"
    with pytest.raises(ValueError, match="DNS"):
        proxy_ip("tor.example.net")
    with pytest.raises(ValueError):
        SocksConnector("proxy.lan", 1080, None, None)


def test_reply_texts() -> None:
    assert reply_problem(1) == "general failure"
    assert "unreachable" in reply_problem(4) and "0x42" in reply_problem(0x42)


def test_methods_and_repr() -> None:
    tor = SocksConnector("127.0.0.1", 9050, "user", "secret-pw", tor=True)
    assert tor.methods == (USER_PASS,) and not tor.local_dns
    assert "secret-pw" not in repr(tor) and "user" not in repr(tor)
    assert tor.label == "The Tor proxy at 127.0.0.1:9050"
    assert SocksConnector("::1", 1080, "u", "p", allow_no_auth=True).methods == (USER_PASS, NO_AUTH)
    assert SocksConnector("::1", 1080, None, None).label == "The SOCKS proxy at [::1]:1080"


def test_connector_for_picks_the_route() -> None:
    acc = AccountConfig(id=AccountId("a"), jid="a@example.org")
    assert isinstance(connector_for(acc), DirectConnector)
    tor = replace(acc, proxy=ProxyConfig("127.0.0.1", 9050, tor=True))
    conn = connector_for(tor, ("iso-user", "iso-pw"))
    assert isinstance(conn, SocksConnector) and conn.methods == (USER_PASS,)
    assert conn._auth == ("iso-user", "iso-pw") and conn.proxy == ("127.0.0.1", 9050)
    first, second = connector_for(tor), connector_for(tor)  # no pair given: fresh ones
    assert isinstance(first, SocksConnector) and isinstance(second, SocksConnector)
    assert first._auth and second._auth and first._auth != second._auth
    own = replace(tor, proxy=ProxyConfig("127.0.0.1", 9050, False, "mine", "pw"))
    conn = connector_for(own, ("iso-user", "iso-pw"))
    assert isinstance(conn, SocksConnector) and conn._auth == ("mine", "pw")
    assert conn.methods == (USER_PASS,)
    plain = connector_for(replace(tor, proxy=ProxyConfig("127.0.0.1", 1080)), ("u", "p"))
    assert isinstance(plain, SocksConnector) and plain.methods == (USER_PASS, NO_AUTH)
