"""In-band registration with a key pin (`tls_pin`): against the real Prosody the right pin
signs up and the identity logs in pinned; a wrong one ends the connection right after
the TLS handshake, so no account is made (the name stays free). A fake server shows
that not one byte follows the handshake."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from xmppterm.config import load_config, parse_config
from xmppterm.core.signup import SignUpService
from xmppterm.devserver import CertFiles, ProsodyServer, make_certs
from xmppterm.devserver.storage import encode_path_part
from xmppterm.domain import events as ev
from xmppterm.domain.ids import AccountId
from xmppterm.domain.registration import RegistrationFailed, SignUpRequest
from xmppterm.register import Console, sign_up

from .test_hostile_server import FakeServer, tls_script
from .test_tls_pin import connect_once, direct_tls_script, file_pin

pytestmark = pytest.mark.integration
DOMAIN = "example.test"
MODES = pytest.mark.parametrize("direct", [False, True], ids=["starttls", "direct-tls"])
PIN_WORDS = "does not match the key pin (tls_pin) you gave"


@pytest.fixture
def open_server(prosody_factory: Callable[..., ProsodyServer]) -> ProsodyServer:
    return prosody_factory(allow_registration=True)


@pytest.fixture(scope="module")
def stranger_pin(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The pin of some other key: what an interceptor's certificate would not match."""
    return file_pin(make_certs(tmp_path_factory.mktemp("other-key"), ["example.test"]).cert_file)


def port_of(server: ProsodyServer, direct: bool) -> int:
    return server.direct_tls_port if direct else server.c2s_port


def account_file(server: ProsodyServer, localpart: str) -> Path:
    """Where Prosody keeps the account (its internal storage, as devserver writes it)."""
    return (server.data_path / encode_path_part(DOMAIN) / "accounts"
            / f"{encode_path_part(localpart)}.dat")


def assert_pin_sentence(text: str, actual: str, stranger: str) -> None:
    assert PIN_WORDS in text and f"it presented {actual}" in text, text
    assert "nothing was sent" in text and f"give {actual} as the key pin" in text, text
    assert stranger not in text


@MODES
async def test_the_right_pin_signs_up_and_the_identity_logs_in_pinned(
        open_server: ProsodyServer, stranger_pin: str, direct: bool) -> None:
    right = file_pin(open_server.certs.cert_file)
    request = SignUpRequest(DOMAIN, name="pinned", route="direct", host="127.0.0.1",
                            port=port_of(open_server, direct),
                            tls="direct" if direct else "starttls",
                            ca_file=str(open_server.ca_file), tls_pin=right)
    session = await SignUpService(dict).begin(request)
    try:
        assert session.probe.tls_pins == (right,)  # what the registration connection trusts
        done = await session.submit({"username": "pinned-user", "password": "a strong one"})
    finally:
        await session.close()
    assert done.jid == f"pinned-user@{DOMAIN}" and account_file(open_server, "pinned-user").exists()
    table = dict(done.table)
    name, password = str(table.pop("name")), str(table.pop("password"))
    assert table["tls_pin"] == right  # the identity keeps the pin
    account = parse_config({"accounts": {name: table}}).account(AccountId(name))
    assert account.tls_pins == (right,)
    events = await connect_once(account, password)
    assert events.of(ev.LinkUp) and not events.of(ev.LinkFailed), events.items
    assert stranger_pin != right


def cli_args(server: ProsodyServer, direct: bool, pin: str) -> argparse.Namespace:
    return argparse.Namespace(
        server=DOMAIN, name="cli", tor=False, proxy=None, direct=True, host="127.0.0.1",
        port=port_of(server, direct), direct_tls=direct, ca_file=server.ca_file, tls_pin=pin,
        keep_password="config", passphrase_command=None)


@MODES
async def test_a_wrong_pin_sends_nothing_so_no_account_is_made(
        open_server: ProsodyServer, stranger_pin: str, tmp_path: Path, direct: bool) -> None:
    path = tmp_path / "config.toml"
    right = file_pin(open_server.certs.cert_file)
    answers = iter(["pin-victim"])
    console = Console(ask=lambda prompt: next(answers), ask_secret=lambda prompt: "pw-typed",
                      echo=False)
    code = await sign_up(cli_args(open_server, direct, stranger_pin), path, None, console)
    assert code == 2, console.lines
    assert_pin_sentence("\n".join(console.lines), right, stranger_pin)
    assert not any("Username" in line for line in console.lines)  # no form was ever shown
    assert next(answers) == "pin-victim"  # nothing was asked
    assert not path.exists() and not account_file(open_server, "pin-victim").exists()
    # the name is still free: the same sign-up with the server's real pin makes it
    answers = iter(["pin-victim"])
    code = await sign_up(cli_args(open_server, direct, right), path, None, console)
    assert code == 0, console.lines
    assert account_file(open_server, "pin-victim").exists()
    account = load_config(path).account(AccountId("cli"))
    assert account.jid == f"pin-victim@{DOMAIN}" and account.tls_pins == (right,)
    assert account.password is not None
    events = await connect_once(account, account.password)
    assert events.of(ev.LinkUp), events.items


# -- a fake server: nothing after the handshake ------------------------------------------------
@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> CertFiles:
    return make_certs(tmp_path_factory.mktemp("register-pin-certs"), ["example.test"])


@MODES
@pytest.mark.parametrize("pinned", ["right", "wrong"])
async def test_an_unpinned_key_gets_not_one_byte_of_registration(
        good: CertFiles, stranger_pin: str, direct: bool, pinned: str) -> None:
    right = file_pin(good.cert_file)
    script = direct_tls_script(good) if direct else tls_script(good, ("SCRAM-SHA-1",))
    async with FakeServer(script) as srv:
        request = SignUpRequest(DOMAIN, route="direct", host="127.0.0.1", port=srv.port,
                                tls="direct" if direct else "starttls", ca_file=str(good.ca_file),
                                tls_pin=right if pinned == "right" else stranger_pin)
        failed: RegistrationFailed | None = None
        try:  # the fake server never answers a registration: the right pin waits
            await asyncio.wait_for(SignUpService(dict).begin(request), 1.5)
        except RegistrationFailed as exc:
            failed = exc
        except TimeoutError:
            pass
        await asyncio.sleep(0.2)  # anything the client would still send
    _, marker, after_tls = bytes(srv.received).partition(b"|TLS|")
    assert marker and srv.connections == 1
    if pinned == "right":  # the control: the same script does see what a client sends
        assert b"<stream:stream" in after_tls
        assert direct or b"jabber:iq:register" in after_tls
        return
    assert after_tls == b""  # no stream header, no registration query, nothing
    assert b"jabber:iq:register" not in bytes(srv.received)
    assert failed is not None
    assert_pin_sentence(str(failed), right, stranger_pin)
