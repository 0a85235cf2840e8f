"""The throwaway Prosody launcher: ports, certificates, accounts, crash and restart."""

from __future__ import annotations

import asyncio
import socket
import ssl
import stat
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import slixmpp

from xmppterm.devserver import (
    Account,
    ProsodyError,
    ProsodyServer,
    make_certs,
    make_untrusted_certs,
)
from xmppterm.transport.loopback import port_open

pytestmark = pytest.mark.integration

TIMEOUT = 10.0
STREAM_HEADER = ("<?xml version='1.0'?><stream:stream to='{domain}' version='1.0' "
                 "xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>")


def tls_handshake(server: ProsodyServer, ca_file: Path, name: str) -> dict[str, object]:
    """Direct TLS to the server, verifying against `ca_file` for `name`; the peer cert."""
    context = ssl.create_default_context(cafile=str(ca_file))
    with socket.create_connection(("127.0.0.1", server.direct_tls_port), timeout=TIMEOUT) as raw, \
            context.wrap_socket(raw, server_hostname=name) as tls:
        return dict(tls.getpeercert() or {})


def read_features(port: int, domain: str) -> str:
    """Open a plain stream on the STARTTLS port and return what the server says first."""
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
        sock.sendall(STREAM_HEADER.format(domain=domain).encode())
        data = b""
        while b"</stream:features>" not in data and b"</stream:stream>" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    return data.decode()


def make_client(server: ProsodyServer, account: Account, *, direct_tls: bool) -> slixmpp.ClientXMPP:
    context = ssl.create_default_context(cafile=str(server.ca_file))
    client = slixmpp.ClientXMPP(account.jid, account.password, ssl_context=context)
    client.enable_direct_tls = direct_tls
    client.enable_starttls = not direct_tls
    client.enable_plaintext = False
    return client


@asynccontextmanager
async def logged_in(server: ProsodyServer, account: Account,
                    direct_tls: bool = False) -> AsyncIterator[slixmpp.ClientXMPP]:
    """A client that has started its session (presence sent) and disconnects afterwards."""
    client = make_client(server, account, direct_tls=direct_tls)
    started = asyncio.ensure_future(client.wait_until("session_start", TIMEOUT))
    failed = asyncio.ensure_future(client.wait_until("failed_auth", TIMEOUT))
    port = server.direct_tls_port if direct_tls else server.c2s_port
    client.connect("127.0.0.1", port)
    try:
        done, _ = await asyncio.wait({started, failed}, timeout=TIMEOUT,
                                     return_when=asyncio.FIRST_COMPLETED)
        assert started in done, f"{account.jid} did not log in\n{server.log_tail()}"
        client.send_presence()
        await client.get_roster(timeout=TIMEOUT)  # a round trip: presence is processed
        yield client
    finally:
        started.cancel()
        failed.cancel()
        await client.disconnect(wait=1.0)


def test_both_ports_answer(prosody: ProsodyServer) -> None:
    assert port_open("127.0.0.1", prosody.c2s_port)
    assert port_open("127.0.0.1", prosody.direct_tls_port)
    features = read_features(prosody.c2s_port, prosody.host)
    assert "urn:ietf:params:xml:ns:xmpp-tls" in features
    assert "<required" in features  # c2s_require_encryption
    assert "PLAIN" not in features  # no mechanisms before TLS


@pytest.mark.parametrize("name", ["example.test", "other.test", "conference.example.test"])
def test_direct_tls_verifies_with_the_run_ca(prosody: ProsodyServer, name: str) -> None:
    cert = tls_handshake(prosody, prosody.ca_file, name)
    assert ("DNS", name) in cert["subjectAltName"]  # type: ignore[operator]


def test_direct_tls_fails_with_another_ca(prosody: ProsodyServer, tmp_path: Path) -> None:
    other = make_untrusted_certs(tmp_path, prosody.hosts)
    with pytest.raises(ssl.SSLCertVerificationError):
        tls_handshake(prosody, other.ca_file, prosody.host)


def test_direct_tls_refuses_a_name_it_does_not_serve(prosody: ProsodyServer) -> None:
    # Prosody picks the certificate by SNI and answers an unknown name (even one the
    # certificate lists, like "localhost") with an unrecognized_name alert.
    with pytest.raises(ssl.SSLError, match="UNRECOGNIZED_NAME"):
        tls_handshake(prosody, prosody.ca_file, "evil.test")


def test_cert_files_are_private_and_each_call_makes_a_new_ca(tmp_path: Path) -> None:
    first = make_certs(tmp_path / "a", ["example.test"])
    second = make_certs(tmp_path / "b", ["example.test"])
    assert first.ca_file.read_bytes() != second.ca_file.read_bytes()
    for path in (first.ca_file, first.cert_file, first.key_file):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.asyncio
@pytest.mark.parametrize("direct_tls", [False, True], ids=["starttls", "direct-tls"])
async def test_created_account_logs_in(prosody: ProsodyServer,
                                       account_factory: Callable[..., Account],
                                       direct_tls: bool) -> None:
    account = account_factory()
    async with logged_in(prosody, account, direct_tls) as client:
        assert client.boundjid.bare == account.jid


@pytest.mark.asyncio
async def test_wrong_password_is_refused(prosody: ProsodyServer,
                                         account_factory: Callable[..., Account]) -> None:
    account = account_factory()
    client = make_client(prosody, Account(account.jid, "not-the-password"), direct_tls=False)
    failed = asyncio.ensure_future(client.wait_until("failed_auth", TIMEOUT))
    client.connect("127.0.0.1", prosody.c2s_port)
    try:
        await failed
    finally:
        await client.disconnect(wait=1.0)


@pytest.mark.asyncio
async def test_users_on_the_two_hosts_can_message_each_other(
        prosody: ProsodyServer, account_factory: Callable[..., Account]) -> None:
    alice, bob = account_factory("example.test"), account_factory("other.test")
    async with logged_in(prosody, alice) as a, logged_in(prosody, bob) as b:
        received = asyncio.ensure_future(b.wait_until("message", TIMEOUT))
        a.send_message(mto=slixmpp.JID(bob.jid), mbody="hello across hosts", mtype="chat")
        message = await received
        assert message["body"] == "hello across hosts"
        assert message["from"].bare == alice.jid


@pytest.mark.asyncio
async def test_kill_and_restart_keep_ports_and_accounts(
        fresh_prosody: ProsodyServer) -> None:
    server = fresh_prosody
    account = server.new_account()
    ports = (server.c2s_port, server.direct_tls_port)
    server.kill()
    assert not server.running
    assert not port_open("127.0.0.1", server.c2s_port)
    server.restart()
    assert (server.c2s_port, server.direct_tls_port) == ports
    async with logged_in(server, account) as client:
        assert client.boundjid.bare == account.jid


def test_admin_shell_answers(prosody: ProsodyServer) -> None:
    assert "0.12" in prosody.shell("server:version()")
    with pytest.raises(ProsodyError, match="failed"):
        prosody.shell("no_such_command()")


@pytest.mark.asyncio
async def test_admin_shell_can_close_a_session(prosody: ProsodyServer,
                                               account_factory: Callable[..., Account]) -> None:
    account = account_factory()
    async with logged_in(prosody, account) as client:
        dropped = asyncio.ensure_future(client.wait_until("disconnected", TIMEOUT))
        output = await asyncio.to_thread(prosody.shell, f"c2s:closeall({account.jid!r})")
        assert "1 sessions closed" in output
        await dropped


def test_create_user_refuses_unknown_host_and_duplicates(prosody: ProsodyServer) -> None:
    account = prosody.new_account()
    with pytest.raises(ProsodyError):
        prosody.create_user(account.localpart, account.host, "x")
    with pytest.raises(ProsodyError):
        prosody.create_user("someone", "elsewhere.test", "x")


def test_a_port_taken_by_someone_else_fails_loudly(
        prosody: ProsodyServer, prosody_factory: Callable[..., ProsodyServer]) -> None:
    clash = prosody_factory(start=False, start_timeout=5.0)
    clash.c2s_port = prosody.c2s_port
    with pytest.raises(ProsodyError, match="could not open its ports"):
        clash.start()
    assert not clash.running


def test_a_server_that_exits_reports_its_log(
        prosody_factory: Callable[..., ProsodyServer]) -> None:
    broken = prosody_factory(start=False, prosody_bin="/bin/false")
    with pytest.raises(ProsodyError, match="exited with code 1"):
        broken.start()


def test_upload_component_opens_its_http_port(
        prosody_factory: Callable[..., ProsodyServer]) -> None:
    server = prosody_factory(with_upload=True)
    assert server.http_port is not None
    assert port_open("127.0.0.1", server.http_port)
    assert f'Component "upload.{server.host}" "http_file_share"' in server.render_config()


@pytest.mark.asyncio
async def test_scram_sha_256_accounts_log_in(
        prosody_factory: Callable[..., ProsodyServer]) -> None:
    server = prosody_factory(scram_hash="SHA-256")
    account = server.new_account("other.test")
    async with logged_in(server, account, direct_tls=True) as client:
        assert client.boundjid.bare == account.jid
