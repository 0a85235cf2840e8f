"""`tls_pin` against the real Prosody (STARTTLS and direct TLS), against a fake server
that must get nothing after the TLS handshake when the key is not pinned, and through
core, which must not retry a pin failure."""

from __future__ import annotations

import asyncio
import shutil
import ssl
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from xmppterm.config import AccountConfig
from xmppterm.core.link import protocol_link_factory
from xmppterm.core.session import AccountSession
from xmppterm.devserver import Account, CertFiles, ProsodyServer, make_certs, make_untrusted_certs
from xmppterm.domain import events as ev
from xmppterm.domain.connection import ConnState
from xmppterm.domain.ids import AccountId
from xmppterm.domain.ports import EventSink
from xmppterm.protocol.link import ProtocolLink
from xmppterm.store.store import Store
from xmppterm.transport.tls import spki_pin

from .peers import Events
from .test_hostile_server import JID, PASSWORD, FakeServer, Script, assert_no_credentials, tls_script

pytestmark = pytest.mark.integration
ME = AccountId("me")


def file_pin(cert_file: Path) -> str:
    cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
    return spki_pin(cert.public_bytes(Encoding.DER))


@pytest.fixture(scope="module")
def stranger_pin(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The pin of some other key: what the user pinned before the key was swapped."""
    return file_pin(make_certs(tmp_path_factory.mktemp("other-key"), ["example.test"]).cert_file)


def prosody_account(server: ProsodyServer, acc: Account, direct: bool,
                    pins: tuple[str, ...]) -> AccountConfig:
    return AccountConfig(id=ME, jid=acc.jid, password=acc.password, host="127.0.0.1",
                         port=server.direct_tls_port if direct else server.c2s_port,
                         tls="direct" if direct else "starttls", ca_file=server.ca_file,
                         tls_pins=pins)


async def connect_once(config: AccountConfig, password: str, timeout: float = 15) -> Events:
    events = Events()
    link = ProtocolLink(config, password, events, timeout=timeout)
    try:
        await link.connect()
        await asyncio.sleep(0.2)  # anything that would still arrive
    finally:
        await link.disconnect()
    return events


# -- the real Prosody ---------------------------------------------------------------------------
@pytest.mark.parametrize("direct", [False, True], ids=["starttls", "direct-tls"])
async def test_the_right_pin_connects(prosody: ProsodyServer,
                                      account_factory: Callable[..., Account],
                                      stranger_pin: str, direct: bool) -> None:
    acc = account_factory()
    right = file_pin(prosody.certs.cert_file)
    events = await connect_once(prosody_account(prosody, acc, direct, (stranger_pin, right)),
                                acc.password)
    assert events.of(ev.LinkUp) and not events.of(ev.LinkFailed), events.items


@pytest.mark.parametrize("direct", [False, True], ids=["starttls", "direct-tls"])
async def test_a_wrong_pin_fails_and_shows_the_actual_one(
        prosody: ProsodyServer, account_factory: Callable[..., Account], stranger_pin: str,
        direct: bool) -> None:
    acc = account_factory()
    events = await connect_once(prosody_account(prosody, acc, direct, (stranger_pin,)),
                                acc.password)
    [failed] = events.of(ev.LinkFailed)
    actual = file_pin(prosody.certs.cert_file)
    assert "does not match tls_pin in [accounts.me]" in failed.reason
    assert f'tls_pin = "{actual}"' in failed.reason and "intercepting" in failed.reason
    assert stranger_pin not in failed.reason
    assert [type(e) for e in events.items] == [ev.LinkFailed]  # no LinkUp, no LinkLost


@pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl command")
@pytest.mark.parametrize("direct", [False, True], ids=["starttls", "direct-tls"])
def test_the_readme_recipe_reads_the_servers_pin(prosody: ProsodyServer, direct: bool) -> None:
    """README's openssl pipeline, against the running server, gives the pin that works."""
    port = prosody.direct_tls_port if direct else prosody.c2s_port
    starttls = "" if direct else "-starttls xmpp -xmpphost example.test "
    recipe = (f"openssl s_client -connect 127.0.0.1:{port} -servername example.test {starttls}"
              "</dev/null 2>/dev/null | openssl x509 -pubkey -noout | openssl pkey -pubin "
              "-outform der | openssl dgst -sha256 -binary | base64")
    out = subprocess.run(["sh", "-c", recipe], capture_output=True, text=True,
                         check=True, timeout=30)
    assert "sha256/" + out.stdout.strip() == file_pin(prosody.certs.cert_file)


# -- a fake server: nothing after the handshake ------------------------------------------------
@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, CertFiles]:
    base = tmp_path_factory.mktemp("pin-certs")
    return {"good": make_certs(base / "good", ["example.test"]),
            "untrusted": make_untrusted_certs(base / "untrusted", ["example.test"])}


def direct_tls_script(cert: CertFiles) -> Script:
    """Direct TLS (XEP-0368): the handshake first, then it waits for a stream header."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert.cert_file, cert.key_file)

    async def script(srv: FakeServer, reader: asyncio.StreamReader,
                     writer: asyncio.StreamWriter) -> None:
        srv.received += b"|TLS|"
        try:
            await writer.start_tls(ctx)
        except (ssl.SSLError, OSError):
            return
        await srv.read_until(reader, b"<stream:stream")
    return script


async def run_pinned(srv: FakeServer, ca: Path, pins: tuple[str, ...], direct: bool
                     ) -> list[ev.Event]:
    events: list[ev.Event] = []
    config = AccountConfig(id=ME, jid=JID, host="127.0.0.1", port=srv.port, ca_file=ca,
                           tls="direct" if direct else "starttls", allow_plain=True,
                           tls_pins=pins)
    link = ProtocolLink(config, PASSWORD, events.append, timeout=1)
    await link.connect()
    await asyncio.sleep(0.3)
    await link.disconnect()
    return events


@pytest.mark.parametrize("direct", [False, True], ids=["starttls", "direct-tls"])
@pytest.mark.parametrize("pinned", ["right", "wrong"])
async def test_an_unpinned_key_gets_not_one_byte_after_the_handshake(
        certs: dict[str, CertFiles], stranger_pin: str, direct: bool, pinned: str) -> None:
    good = certs["good"]
    pin = file_pin(good.cert_file) if pinned == "right" else stranger_pin
    script = direct_tls_script(good) if direct else tls_script(good, ("PLAIN", "SCRAM-SHA-1"))
    async with FakeServer(script) as srv:
        events = await run_pinned(srv, good.ca_file, (pin,), direct)
    _, marker, after_tls = bytes(srv.received).partition(b"|TLS|")
    assert marker and srv.connections == 1
    if pinned == "right":  # the control: the same script does see what a client sends
        assert b"<stream:stream" in after_tls
        return
    assert after_tls == b""  # no stream header, no SASL, nothing
    assert_no_credentials(bytes(srv.received))
    [failed] = [e for e in events if isinstance(e, ev.LinkFailed)]
    assert f'tls_pin = "{file_pin(good.cert_file)}"' in failed.reason
    assert not any(isinstance(e, ev.LinkUp | ev.LinkLost) for e in events)


async def test_a_pin_does_not_replace_the_certificate_check(certs: dict[str, CertFiles]) -> None:
    """The pin of a certificate the CA does not vouch for: refused all the same."""
    untrusted = certs["untrusted"]
    async with FakeServer(tls_script(untrusted, ("SCRAM-SHA-1",))) as srv:
        events = await run_pinned(srv, certs["good"].ca_file, (file_pin(untrusted.cert_file),),
                                  direct=False)
    assert bytes(srv.received).partition(b"|TLS|")[2] == b""
    [failed] = [e for e in events if isinstance(e, ev.LinkFailed)]
    assert "did not verify" in failed.reason


# -- core: a pin failure is final ----------------------------------------------------------------
async def test_core_does_not_retry_a_pin_failure(prosody: ProsodyServer,
                                                 account_factory: Callable[..., Account],
                                                 stranger_pin: str) -> None:
    acc = account_factory()
    config = prosody_account(prosody, acc, False, (stranger_pin,))
    links: list[object] = []

    def factory(account: AccountConfig, password: str, emit: EventSink) -> object:
        links.append(account)
        return protocol_link_factory(account, password, emit)

    events = Events()
    store = Store.open(None)
    session = AccountSession(config, store, events, factory,  # type: ignore[arg-type]
                             backoff=lambda attempt, rand: 0.05)
    try:
        await session.start()
        session.connect()
        failed = await events.wait(ev.ConnectionChanged, lambda e: e.state is ConnState.FAILED)
        assert "does not match tls_pin" in failed.detail
        await asyncio.sleep(1.0)  # twenty backoff periods: a retry would have started
        assert session.state is ConnState.FAILED and len(links) == 1
        states = [e.state for e in events.of(ev.ConnectionChanged)]
        assert ConnState.WAITING not in states and states[-1] is ConnState.FAILED
    finally:
        await session.close()
        await store.close()
