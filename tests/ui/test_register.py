"""The sign-up form (/register) with a fake SignUp: the steps, the server's fields shown
sanitised (a CAPTCHA as text and links), the generated password, the server's errors,
saving the identity; and /route and the route in the sidebar."""

from __future__ import annotations

import base64
from collections.abc import Mapping

from textual.widgets import Button, Input

from xmppterm.domain import events as ev
from xmppterm.domain.connection import ConnState
from xmppterm.domain.intents import ShowRoute
from xmppterm.domain.ports import AccountInfo
from xmppterm.domain.registration import (
    FormField,
    MediaUri,
    RegistrationFailed,
    RegistrationForm,
    SignUpDone,
    SignUpRequest,
    refusal,
)
from xmppterm.ui.app import XmppTermApp
from xmppterm.ui.screens.register import RegisterScreen, build_request

from .conftest import WORK, FakeBackend, screen_lines

B64 = base64.b64encode(bytes(range(32))).decode()
PIN = f"sha256/{B64}"

FORM = RegistrationForm(
    "example.org", (
        FormField("FORM_TYPE", "hidden", values=("urn:xmpp:captcha",)),
        FormField("challenge", "hidden", values=("c1",)),
        FormField("username", label="User\u202ename", required=True),
        FormField("password", "text-private", label="Password", required=True),
        FormField("ocr", label="Type the text [b]you[/b] see", required=True,
                  media=(MediaUri("image/png", "https://x.example/c.png\u009b2J"),)),
    ), title="Join \u009b31m us", instructions="Be nice.", form_type="urn:xmpp:captcha")


class FakeSession:
    def __init__(self, request: SignUpRequest) -> None:
        self.request = request
        self.answers: list[dict[str, str]] = []
        self.closed = False
        self.refusals: list[RegistrationFailed] = []

    @property
    def form(self) -> RegistrationForm:
        return FORM

    @property
    def route(self) -> tuple[str, ...]:
        return ("Route: TOR: every connection of this identity goes through Tor",)

    async def submit(self, answers: Mapping[str, str]) -> SignUpDone:
        self.answers.append(dict(answers))
        if self.refusals:
            raise self.refusals.pop(0)
        jid = f"{answers['username']}@example.org"
        table = {"name": self.request.name, **self.request.table(jid),
                 "password": answers["password"]}
        return SignUpDone(jid, answers["password"], table)

    async def close(self) -> None:
        self.closed = True


class FakeSignUp:
    def __init__(self, refuse_begin: str = "") -> None:
        self.sessions: list[FakeSession] = []
        self.refuse_begin = refuse_begin
        self.refusals: list[RegistrationFailed] = []

    async def begin(self, request: SignUpRequest) -> FakeSession:
        if self.refuse_begin:
            raise RegistrationFailed(self.refuse_begin)
        session = FakeSession(request)
        session.refusals = list(self.refusals)
        self.sessions.append(session)
        return session


def text_of(app: XmppTermApp) -> str:
    return "\n".join(screen_lines(app))


async def fill_server(pilot: object, app: XmppTermApp, domain: str = "example.org") -> None:
    box = app.screen.query_one("#where-domain", Input)
    box.value = domain
    box.focus()
    await pilot.press("enter")  # type: ignore[attr-defined]
    await app.workers.wait_for_complete()
    await pilot.pause()  # type: ignore[attr-defined]


async def press(pilot: object, app: XmppTermApp, selector: str) -> None:
    """Press a button and wait for what it started (two quick clicks on one button would
    fall within Textual's click debounce)."""
    app.screen.query_one(selector, Button).press()
    await pilot.pause()  # type: ignore[attr-defined]
    await app.workers.wait_for_complete()
    await pilot.pause()  # type: ignore[attr-defined]


def test_build_request() -> None:
    request = build_request({"domain": " Example.org ", "port": "5223"}, "tor", True)
    assert request == SignUpRequest("example.org", "main", "tor", port=5223, tls="direct")
    assert build_request({"domain": "x.org", "port": "ab"}, "default", False) == (
        "Port: a number from 1 to 65535.")


def test_build_request_takes_a_key_pin_canonical_or_says_what_is_wrong() -> None:
    request = build_request({"domain": "x.org", "tls_pin": f" sha256//{B64} "}, "default",
                            False)
    assert isinstance(request, SignUpRequest) and request.tls_pin == PIN
    assert request.table("a@x.org")["tls_pin"] == PIN
    assert build_request({"domain": "x.org", "tls_pin": ""}, "default", False) == (
        SignUpRequest("x.org"))
    for typed, why in ((B64, "does not start with sha256/"),
                       ("sha256/" + B64[:-4], "holds 30 bytes"),
                       ("sha256/\u202e" + B64, "not valid base64")):
        problem = build_request({"domain": "x.org", "tls_pin": typed}, "default", False)
        assert isinstance(problem, str) and problem.startswith("Key pin (tls_pin): ")
        assert why in problem and "\u202e" not in problem


async def test_the_key_pin_goes_to_the_sign_up_and_into_the_saved_identity() -> None:
    signup = FakeSignUp()
    saved: list[dict[str, object]] = []

    async def save(table: dict[str, object]) -> str | None:
        saved.append(dict(table))
        return None

    app = XmppTermApp(FakeBackend(), signup=signup, on_account_created=save)
    async with app.run_test(size=(80, 24)) as pilot:
        app.register()
        await pilot.pause()
        assert "Key pin (optional)  sha256/BASE64: only this server key" in text_of(app)
        pin_box = app.screen.query_one("#where-tls_pin", Input)
        pin_box.value = "sha256/abc"
        await fill_server(pilot, app)
        assert signup.sessions == [] and "Key pin (tls_pin): 'sha256/abc'" in text_of(app)
        pin_box.value = f"sha256//{B64}"
        await fill_server(pilot, app)
        [session] = signup.sessions
        assert session.request == SignUpRequest("example.org", tls_pin=PIN)
        screen = app.screen
        for index, value in ((2, "carol"), (3, "pw"), (4, "x")):
            screen.query_one(f"#answer-{index}", Input).value = value
        await press(pilot, app, "#create")
        assert saved and saved[0]["tls_pin"] == PIN


async def test_register_form_round_trip_with_a_captcha_and_a_taken_name() -> None:
    signup = FakeSignUp()
    signup.refusals = [refusal("example.org", "conflict", "The requested username already "
                               "exists.")]
    saved: list[dict[str, object]] = []

    async def save(table: dict[str, object]) -> str | None:
        saved.append(dict(table))
        return None

    app = XmppTermApp(FakeBackend(), signup=signup, on_account_created=save)
    async with app.run_test(size=(80, 40)) as pilot:
        await pilot.press(*"/register", "enter")
        await pilot.pause()
        assert isinstance(app.screen, RegisterScreen)
        await pilot.click("#field-route")  # default -> Tor
        await fill_server(pilot, app)
        [session] = signup.sessions
        assert session.request == SignUpRequest("example.org", route="tor")
        shown = text_of(app)
        assert "Route: TOR" in shown and "Join ⟨U+009B⟩31m us" in shown
        assert "User⟨U+202E⟩name (required)" in shown and "CAPTCHA" in shown
        assert "Type the text [b]you[/b] see" in shown
        assert "image/png at https://x.example/c.png⟨U+009B⟩2J (not fetched)" in shown
        assert "challenge" not in shown.lower().replace("challenge is", "")  # hidden fields
        screen = app.screen
        assert isinstance(screen, RegisterScreen)
        await pilot.click("#generate")
        await pilot.pause()
        password = screen.query_one("#answer-3", Input).value
        assert len(password) == 24 and f"Generated: {password}" in text_of(app)
        screen.query_one("#answer-2", Input).value = "alice"
        screen.query_one("#answer-4", Input).value = "x7f"
        await press(pilot, app, "#create")
        assert "That name is taken on example.org (conflict)" in text_of(app)
        assert "The requested username already exists." in text_of(app)
        assert isinstance(app.screen, RegisterScreen) and not session.closed
        screen.query_one("#answer-2", Input).value = "alice2"
        await press(pilot, app, "#create")
        assert not isinstance(app.screen, RegisterScreen) and session.closed
        assert session.answers[-1] == {"username": "alice2", "password": password, "ocr": "x7f"}
        assert saved == [{"name": "main", "jid": "alice2@example.org", "tls": "starttls",
                          "tor": True, "password": password}]
        assert "Account alice2@example.org created" in "\n".join(app.chatlog.lines)


async def test_a_closed_server_shows_its_error_and_stays_on_the_first_step() -> None:
    signup = FakeSignUp(refuse_begin="example.org does not let anyone create an account here "
                        "(service-unavailable).")
    app = XmppTermApp(FakeBackend(), signup=signup)
    async with app.run_test(size=(80, 24)) as pilot:
        app.register()
        await pilot.pause()
        await fill_server(pilot, app)
        assert "does not let anyone create an account here" in text_of(app)
        assert app.screen.query_one("#where-domain", Input).value == "example.org"
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, RegisterScreen)


async def test_a_save_problem_asks_for_another_identity_name() -> None:
    signup = FakeSignUp()
    answers: list[str | None] = ["An account named 'main' exists already.", None]
    saved: list[dict[str, object]] = []

    async def save(table: dict[str, object]) -> str | None:
        saved.append(dict(table))
        return answers.pop(0)

    app = XmppTermApp(FakeBackend(), signup=signup, on_account_created=save)
    async with app.run_test(size=(80, 40)) as pilot:
        app.register()
        await pilot.pause()
        await fill_server(pilot, app)
        screen = app.screen
        for index, value in ((2, "bob"), (3, "pw"), (4, "x")):
            screen.query_one(f"#answer-{index}", Input).value = value
        await press(pilot, app, "#create")
        assert "exists already" in text_of(app) and "not saved yet" in text_of(app)
        screen.query_one("#save-name", Input).value = "bob"
        await press(pilot, app, "#save")
        assert not isinstance(app.screen, RegisterScreen)
        assert [t["name"] for t in saved] == ["main", "bob"]


async def test_route_command_and_its_answer() -> None:
    backend = FakeBackend()
    app = XmppTermApp(backend)
    async with app.run_test(size=(100, 24)) as pilot:
        await pilot.press(*"/route", "enter")
        await pilot.pause()
        assert backend.of_type(ShowRoute) == [ShowRoute(WORK)]
        backend.push(ev.RouteDescribed(WORK, ("Route: TOR: through 127.0.0.1:9050",
                                              "DNS: remote")))
        await pilot.pause()
        lines = "\n".join(app.chatlog.lines)
        assert "Route: TOR: through 127.0.0.1:9050" in lines and "DNS: remote" in lines


async def test_sidebar_shows_each_identity_route_next_to_its_state() -> None:
    backend = FakeBackend([
        AccountInfo(WORK, "me@example.org", route="TOR", state=ConnState.CONNECTING),
        AccountInfo(type(WORK)("home"), "me@home.org", route="DIRECT",
                    state=ConnState.ONLINE)])
    app = XmppTermApp(backend)
    async with app.run_test(size=(120, 24)) as pilot:
        await pilot.pause()
        labels = [node.label.plain for node in app.sidebar.root.children]
        assert labels == ["work TOR connecting me@example.org", "home DIRECT online me@home.org"]
