"""core.signup with a fake registrar: the new identity's route is planned like a configured
one ([settings] defaults apply), checked before anything connects, and the outcome is
the account table to save. No network."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from xmppterm.config import AccountConfig
from xmppterm.core.link import SocksIsolation
from xmppterm.core.signup import SignUpService
from xmppterm.domain.registration import (
    FormField,
    RegistrationFailed,
    RegistrationForm,
    SignUpRequest,
    refusal,
)

FORM = RegistrationForm("example.org", (
    FormField("FORM_TYPE", "hidden", values=("jabber:iq:register",)),
    FormField("username", label="Username", required=True),
    FormField("password", "text-private", label="Password", required=True)))


class FakeRegistrar:
    def __init__(self, account: AccountConfig, pair: tuple[str, str],
                 form: RegistrationForm = FORM) -> None:
        self.account, self.pair, self.form = account, pair, form
        self.submitted: list[dict[str, tuple[str, ...]]] = []
        self.closed = False
        self.taken: set[str] = set()

    async def open(self) -> RegistrationForm:
        return self.form

    async def submit(self, values: dict[str, tuple[str, ...]]) -> None:
        self.submitted.append(values)
        if values["username"][0].casefold() in self.taken:  # the server nodepreps
            raise refusal("example.org", "conflict", "The requested username already exists.")

    async def close(self) -> None:
        self.closed = True


class Harness:
    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw
        self.made: list[FakeRegistrar] = []
        self.isolation = SocksIsolation()
        self.service = SignUpService(lambda: self.raw, None, self.factory, self.isolation)

    def factory(self, account: AccountConfig, pair: tuple[str, str]) -> FakeRegistrar:
        self.made.append(FakeRegistrar(account, pair))
        return self.made[-1]


async def test_settings_tor_applies_and_the_table_is_what_to_save() -> None:
    h = Harness({"settings": {"tor": True}, "accounts": {"old": {"jid": "o@x.org"}}})
    session = await h.service.begin(SignUpRequest("example.org", name="new"))
    [registrar] = h.made
    assert registrar.account.route == "TOR" and registrar.account.domain == "example.org"
    assert registrar.pair == h.isolation.credentials(registrar.account)
    assert session.route[0].startswith("Route: TOR") and registrar.pair[0] in session.route[1]
    registrar.taken.add("alice")
    with pytest.raises(RegistrationFailed) as err:
        await session.submit({"username": "Alice", "password": "pw"})
    assert err.value.retry and "taken" in str(err.value)
    done = await session.submit({"username": "bob", "password": "pw2"})
    assert done.jid == "bob@example.org" and done.password == "pw2"
    assert done.table == {"name": "new", "jid": "bob@example.org", "tls": "starttls",
                          "password": "pw2"}  # no route key: [settings] decides, as above
    assert registrar.submitted[-1] == {"FORM_TYPE": ("jabber:iq:register",),
                                       "username": ("bob",), "password": ("pw2",)}
    await session.close()
    assert registrar.closed


async def test_an_explicit_route_overrides_settings() -> None:
    h = Harness({"settings": {"tor": True}})
    await h.service.begin(SignUpRequest("example.org", route="direct"))
    await h.service.begin(SignUpRequest("example.org", route="proxy",
                                        proxy="socks5://10.0.0.1:1080", name="p"))
    assert [r.account.route for r in h.made] == ["DIRECT", "PROXY"]


@pytest.mark.parametrize(("raw", "request_", "words"), [
    ({}, SignUpRequest("example.org", name="bad name"), "Identity name"),
    ({"accounts": {"main": {"jid": "a@x.org"}}}, SignUpRequest("example.org"), "exists already"),
    ({}, SignUpRequest("x" * 56 + ".onion"), "onion address, which only Tor can reach"),
    ({}, SignUpRequest("example.org", route="proxy", proxy="socks5://proxy.example:1"),
     "not an IP address"),
    ({}, SignUpRequest("example.org", tls_pin="sha256/not-a-pin"), r"Key pin \(tls_pin\)"),
])
async def test_what_the_config_would_refuse_is_refused_before_connecting(
        raw: dict[str, Any], request_: SignUpRequest, words: str) -> None:
    h = Harness(raw)
    with pytest.raises(RegistrationFailed, match=words):
        await h.service.begin(request_)
    assert h.made == []


async def test_the_key_pin_reaches_the_connection_and_the_identity() -> None:
    pin = "sha256/" + base64.b64encode(bytes(range(32))).decode()
    h = Harness({})
    session = await h.service.begin(SignUpRequest("example.org", tls_pin=pin))
    assert h.made[0].account.tls_pins == (pin,)  # the registration connection is pinned
    done = await session.submit({"username": "bob", "password": "pw"})
    assert done.table["tls_pin"] == pin
    unpinned = await h.service.begin(SignUpRequest("example.org", name="other"))
    assert h.made[1].account.tls_pins == () and unpinned.probe.tls_pins == ()


async def test_answers_are_checked_before_sending() -> None:
    h = Harness({})
    session = await h.service.begin(SignUpRequest("example.org"))
    for answers, words in (({"username": "a"}, "Fill in: Password"),
                           ({"username": "a/b", "password": "p"}, "Username"),
                           ({"username": "a@b", "password": "p"}, "Username")):
        with pytest.raises(RegistrationFailed, match=words) as err:
            await session.submit(answers)
        assert err.value.retry
    assert h.made[0].submitted == []


async def test_a_form_without_username_cannot_make_an_identity() -> None:
    h = Harness({})
    h.factory = lambda account, pair: FakeRegistrar(  # type: ignore[method-assign]
        account, pair, RegistrationForm("example.org", (FormField("email", required=True),)))
    h.service = SignUpService(lambda: h.raw, None, h.factory, h.isolation)
    session = await h.service.begin(SignUpRequest("example.org"))
    with pytest.raises(RegistrationFailed, match="no username field"):
        await session.submit({"email": "a@b.c"})
