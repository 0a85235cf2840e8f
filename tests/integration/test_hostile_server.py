"""A hostile fake XMPP server on loopback: the client must not give up the password
without TLS, and must not parse what XMPP forbids (DTDs, huge or deep stanzas)."""

from __future__ import annotations

import asyncio
import base64
import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from xmppterm.config import AccountConfig
from xmppterm.devserver import CertFiles, make_certs, make_untrusted_certs
from xmppterm.domain import events as ev
from xmppterm.domain.ids import AccountId
from xmppterm.protocol.link import ProtocolLink
from xmppterm.transport.loopback import free_tcp_port

pytestmark = pytest.mark.integration

PASSWORD = "s3cret-hostile-pw"
JID = "alice@example.test"
STREAM = ("<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
          "xmlns:stream='http://etherx.jabber.org/streams' from='example.test' id='s1' "
          "version='1.0'>")
MECHS = ("<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
         "<mechanism>LOGIN</mechanism><mechanism>PLAIN</mechanism></mechanisms>")
FEATURES_NO_TLS = f"<stream:features>{MECHS}</stream:features>"
FEATURES_TLS = ("<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"
                f"{MECHS}</stream:features>")

Script = Callable[["FakeServer", asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class FakeServer:
    """Runs `script` for each connection and records every byte the client sends."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.received = bytearray()
        self.connections = 0
        self.port = 0
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> FakeServer:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            await self.script(self, reader, writer)
            while data := await asyncio.wait_for(reader.read(65536), 5):  # record the rest
                self.received += data
        except (TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()

    async def read_until(self, reader: asyncio.StreamReader, marker: bytes) -> None:
        while marker not in self.received:
            data = await asyncio.wait_for(reader.read(65536), 5)
            if not data:
                raise ConnectionError("client closed")
            self.received += data


def account(port: int, **kw: object) -> AccountConfig:
    return AccountConfig(id=AccountId("hostile"), jid=JID, host="127.0.0.1", port=port,
                         allow_plain=True, **kw)  # type: ignore[arg-type]


async def run_link(server: FakeServer, timeout: float = 10.0) -> list[ev.Event]:
    events: list[ev.Event] = []
    link = ProtocolLink(account(server.port), PASSWORD, events.append, timeout=timeout)
    await link.connect()
    await asyncio.sleep(0.3)  # anything the client would still send
    await link.disconnect()
    return events


def assert_no_credentials(data: bytes) -> None:
    secrets = [PASSWORD.encode(), base64.b64encode(PASSWORD.encode()),
               base64.b64encode(b"\0alice\0" + PASSWORD.encode()),
               base64.b64encode(b"alice"), b"<auth", b"xmpp-sasl", b"alice"]
    for secret in secrets:
        assert secret not in data, secret


async def no_starttls(srv: FakeServer, reader: asyncio.StreamReader,
                      writer: asyncio.StreamWriter) -> None:
    await srv.read_until(reader, b">")
    writer.write((STREAM + FEATURES_NO_TLS).encode())


async def stripped_after_ask(srv: FakeServer, reader: asyncio.StreamReader,
                             writer: asyncio.StreamWriter) -> None:
    await srv.read_until(reader, b">")
    writer.write((STREAM + FEATURES_TLS).encode())
    await srv.read_until(reader, b"<starttls")
    writer.write(FEATURES_NO_TLS.encode())  # no <proceed/>: features again, without TLS


async def refused_after_ask(srv: FakeServer, reader: asyncio.StreamReader,
                            writer: asyncio.StreamWriter) -> None:
    await srv.read_until(reader, b">")
    writer.write((STREAM + FEATURES_TLS).encode())
    await srv.read_until(reader, b"<starttls")
    writer.write(b"<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>" + FEATURES_NO_TLS.encode())


@pytest.mark.parametrize("script", [no_starttls, stripped_after_ask, refused_after_ask])
async def test_no_credentials_without_tls(script: Script) -> None:
    async with FakeServer(script) as srv:
        events = await run_link(srv)
    assert_no_credentials(bytes(srv.received))
    failed = [e for e in events if isinstance(e, ev.LinkFailed)]
    assert len(failed) == 1, events
    assert "TLS" in failed[0].reason and "password" in failed[0].reason
    assert not any(isinstance(e, ev.LinkUp | ev.LinkLost) for e in events)
    assert srv.connections == 1  # no retry of its own


async def _send_then_wait(srv: FakeServer, reader: asyncio.StreamReader,
                          writer: asyncio.StreamWriter, payload: bytes) -> None:
    await srv.read_until(reader, b">")
    writer.write(payload)


def sends(payload: bytes) -> Script:
    async def script(srv: FakeServer, reader: asyncio.StreamReader,
                     writer: asyncio.StreamWriter) -> None:
        await _send_then_wait(srv, reader, writer, payload)
    return script


LAUGHS = (b"<?xml version='1.0'?><!DOCTYPE stream:stream [<!ENTITY l0 'lol'>"
          + b"".join(b"<!ENTITY l%d '%s'>" % (i, b"&l%d;" % (i - 1) * 10) for i in range(1, 10))
          + b"]>" + STREAM[len("<?xml version='1.0'?>"):].encode()
          + b"<message from='x@example.test'><body>&l9;</body></message>")
DEEP = STREAM.encode() + b"<message>" + b"<a>" * 200 + b"</a>" * 200 + b"</message>"
HUGE = STREAM.encode() + b"<message><body>" + b"x" * (300 * 1024) + b"</body></message>"


@pytest.mark.parametrize(("payload", "why"), [
    (LAUGHS, "DOCTYPE"), (DEEP, "nested"), (HUGE, "larger"),
], ids=["billion-laughs", "deep", "huge"])
async def test_forbidden_xml_closes_the_stream(payload: bytes, why: str) -> None:
    async with FakeServer(sends(payload)) as srv:
        events = await run_link(srv)
    lost = [e for e in events if isinstance(e, ev.LinkLost)]
    assert len(lost) == 1 and why in lost[0].reason, events
    assert b"<stream:error>" in srv.received
    assert_no_credentials(bytes(srv.received))


# -- a fake server that does STARTTLS with a certificate of our choosing ----------------------
def tls_script(cert: CertFiles, mechanisms: tuple[str, ...]) -> Script:
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(cert.cert_file, cert.key_file)
    mechs = "".join(f"<mechanism>{m}</mechanism>" for m in mechanisms)
    features = (f"<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
                f"{mechs}</mechanisms></stream:features>")

    async def script(srv: FakeServer, reader: asyncio.StreamReader,
                     writer: asyncio.StreamWriter) -> None:
        await srv.read_until(reader, b">")
        writer.write((STREAM + FEATURES_TLS).encode())
        await srv.read_until(reader, b"<starttls")
        writer.write(b"<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
        await writer.drain()
        srv.received += b"|TLS|"
        try:
            await writer.start_tls(server_ctx)
        except (ssl.SSLError, OSError):
            return  # the client refused the certificate
        await srv.read_until(reader, b"<stream:stream")
        await srv.read_until(reader, b">")
        writer.write((STREAM + features).encode())
    return script


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, CertFiles]:
    base = tmp_path_factory.mktemp("hostile-certs")
    return {"good": make_certs(base / "good", ["example.test"]),
            "other-name": make_certs(base / "other-name", ["other.test"]),
            "untrusted": make_untrusted_certs(base / "untrusted", ["example.test"])}


async def run_tls_link(srv: FakeServer, ca: Path, allow_plain: bool,
                       timeout: float = 5) -> list[ev.Event]:
    events: list[ev.Event] = []
    config = AccountConfig(id=AccountId("hostile"), jid=JID, host="127.0.0.1", port=srv.port,
                           ca_file=ca, allow_plain=allow_plain)
    link = ProtocolLink(config, PASSWORD, events.append, timeout=timeout)
    await link.connect()
    await asyncio.sleep(0.3)
    await link.disconnect()
    return events


@pytest.mark.parametrize(("served", "why"), [
    ("untrusted", "self-signed certificate"), ("other-name", "Hostname mismatch")])
async def test_bad_certificate_gets_nothing(certs: dict[str, CertFiles], served: str,
                                            why: str) -> None:
    trusted = certs["good"].ca_file if served == "untrusted" else certs[served].ca_file
    async with FakeServer(tls_script(certs[served], ("PLAIN",))) as srv:
        events = await run_tls_link(srv, trusted, allow_plain=True)
    after_tls = bytes(srv.received).partition(b"|TLS|")[2]
    assert after_tls == b""  # the handshake failed: not one byte of plaintext
    [failed] = [e for e in events if isinstance(e, ev.LinkFailed)]
    assert "did not verify" in failed.reason and why in failed.reason
    assert len(events) == 1 and srv.connections == 1


async def test_scram_over_verified_tls(certs: dict[str, CertFiles]) -> None:
    """The control: with a good certificate the client does authenticate, with SCRAM."""
    async with FakeServer(tls_script(certs["good"], ("LOGIN", "PLAIN", "SCRAM-SHA-1"))) as srv:
        await run_tls_link(srv, certs["good"].ca_file, allow_plain=True, timeout=1)
    after_tls = bytes(srv.received).partition(b"|TLS|")[2]
    assert b"<auth" in after_tls and b"mechanism=\"SCRAM-SHA-1\"" in after_tls.replace(b"'", b'"')
    assert PASSWORD.encode() not in after_tls


@pytest.mark.parametrize("allow_plain", [False, True])
async def test_plain_only_by_opt_in(certs: dict[str, CertFiles], allow_plain: bool) -> None:
    async with FakeServer(tls_script(certs["good"], ("LOGIN", "PLAIN", "DIGEST-MD5"))) as srv:
        events = await run_tls_link(srv, certs["good"].ca_file, allow_plain=allow_plain,
                                    timeout=1)
    after_tls = bytes(srv.received).partition(b"|TLS|")[2].replace(b"'", b'"')
    if allow_plain:
        assert b"mechanism=\"PLAIN\"" in after_tls  # over verified TLS, by explicit choice
    else:
        assert b"<auth" not in after_tls
        [failed] = [e for e in events if isinstance(e, ev.LinkFailed)]
        assert "allow_plain" in failed.reason and "LOGIN, PLAIN" in failed.reason


class RecordingTransport(asyncio.Transport):
    """A plain (non-TLS) transport that keeps what is written."""

    def __init__(self) -> None:
        super().__init__()
        self.written = bytearray()
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written += bytes(data)

    def get_extra_info(self, name: str, default: object = None) -> object:
        return default

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.closed = True


async def test_second_locks_without_tls() -> None:
    """Below the stream-features gate: no credentials and no SASL element leave
    without TLS, even if something in slixmpp asks for them."""
    from slixmpp.util.sasl import SASLCancelled

    from xmppterm.protocol.client import XmppClient
    from xmppterm.transport.tls import client_context

    client = XmppClient(JID, PASSWORD, ssl_context=client_context(), allow_plain=True)
    transport = RecordingTransport()
    client.transport = transport
    with pytest.raises(SASLCancelled):
        client._sasl_credentials({"username", "password"}, set())
    assert client._sasl_security({"encrypted", "unencrypted_plain"}) == {
        "encrypted": False, "unencrypted_plain": False}
    client.send_raw("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>x</auth>")
    assert transport.written == b"" and transport.closed
    assert client.failure is not None and client.failure.kind.value == "tls missing"


async def test_see_other_host_is_not_followed() -> None:
    async with FakeServer(sends(b"")) as elsewhere:
        redirect = (STREAM + "<stream:error><see-other-host xmlns='urn:ietf:params:xml:ns:"
                    f"xmpp-streams'>127.0.0.1:{elsewhere.port}</see-other-host></stream:error>")
        async with FakeServer(sends(redirect.encode())) as srv:
            events = await run_link(srv)
    assert elsewhere.connections == 0 and srv.connections == 1
    [lost] = events
    assert isinstance(lost, ev.LinkLost) and "see-other-host" in lost.reason


async def test_silent_server_times_out_once() -> None:
    async with FakeServer(sends(b"")) as srv:
        events = await run_link(srv, timeout=1)
        await asyncio.sleep(0.5)
    assert srv.connections == 1
    assert [type(e) for e in events] == [ev.LinkLost] and "Timed out" in events[0].reason


async def test_refused_connection_is_one_attempt() -> None:
    events: list[ev.Event] = []
    link = ProtocolLink(account(free_tcp_port()), PASSWORD, events.append, timeout=5)
    await link.connect()
    await asyncio.sleep(0.5)
    await link.disconnect()
    assert [type(e) for e in events] == [ev.LinkLost] and "Could not connect" in events[0].reason
    with pytest.raises(RuntimeError):
        await link.connect()
