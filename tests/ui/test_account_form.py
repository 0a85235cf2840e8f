"""The first-run form: validation, and the round trip through on_account_created."""

from __future__ import annotations

import base64

from textual.widgets import Input

from xmppterm.config import parse_config
from xmppterm.ui.app import XmppTermApp
from xmppterm.ui.screens.account_form import AccountForm, build_table

from .conftest import FakeBackend, screen_lines

B64 = base64.b64encode(bytes(range(32))).decode()
PIN = f"sha256/{B64}"


def test_build_table_accepts_a_password_or_a_command() -> None:
    table, problem = build_table({"jid": "Me@Example.org", "password": "pw"}, False)
    assert problem == ""
    assert table == {"name": "main", "jid": "me@example.org", "tls": "starttls",
                     "password": "pw"}
    table, _ = build_table({"jid": "me@example.org", "password_command": "pass x",
                            "host": "xmpp.example.net", "port": "5223", "name": "work"}, True)
    assert table == {"name": "work", "jid": "me@example.org", "tls": "direct",
                     "password_command": "pass x", "host": "xmpp.example.net", "port": 5223}


def test_build_table_refuses_what_the_config_would_refuse() -> None:
    cases = {
        "JID": {"jid": "example.org", "password": "pw"},
        "JID:": {"jid": "a b@example.org", "password": "pw"},
        "password OR": {"jid": "me@example.org"},
        "OR a password command": {"jid": "me@example.org", "password": "p",
                                  "password_command": "c"},
        "Port": {"jid": "me@example.org", "password": "p", "port": "70000"},
        "Port:": {"jid": "me@example.org", "password": "p", "port": "x1"},
        "Host": {"jid": "me@example.org", "password": "p", "host": "evil.org:1"},
        "Identity name": {"jid": "me@example.org", "password": "p", "name": "a.b"},
    }
    for words, values in cases.items():
        table, problem = build_table(values, False)
        assert table is None and words.rstrip(":") in problem, (values, problem)


def test_build_table_takes_a_key_pin_canonical() -> None:
    table, problem = build_table({"jid": "me@example.org", "password": "pw",
                                  "tls_pin": f"  sha256//{B64} "}, False)
    assert problem == "" and table is not None and table["tls_pin"] == PIN
    assert parse_config({"accounts": {"main": {k: v for k, v in table.items() if k != "name"}}}
                        ).accounts[0].tls_pins == (PIN,)
    table, _ = build_table({"jid": "me@example.org", "password": "pw", "tls_pin": " "}, False)
    assert table is not None and "tls_pin" not in table


def test_build_table_refuses_a_malformed_key_pin_naming_tls_pin() -> None:
    for typed, why in ((B64, "does not start with sha256/"),
                       ("sha256/" + B64[:-4], "holds 30 bytes"),
                       ("sha256/" + B64 + "\u009b2J", "not valid base64")):
        table, problem = build_table({"jid": "me@example.org", "password": "pw",
                                      "tls_pin": typed}, False)
        assert table is None and "key `accounts.main.tls_pin`" in problem, problem
        assert why in problem and 'tls_pin = "sha256/BASE64"' in problem
        assert "\u009b" not in problem


async def test_the_key_pin_field_fits_in_80x24_and_shows_its_error() -> None:
    received: list[dict[str, object]] = []

    async def created(table: dict[str, object]) -> str | None:
        received.append(dict(table))
        return None

    app = XmppTermApp(FakeBackend([]), first_run=True, on_account_created=created)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        rows = screen_lines(app)
        assert any("Key pin (optional)" in row and "README: tls_pin" in row for row in rows)
        assert any("Save" in row for row in rows)  # the whole form is on the screen
        screen = app.screen
        screen.query_one("#field-jid", Input).value = "me@example.org"
        screen.query_one("#field-password", Input).value = "secret"
        screen.query_one("#field-tls_pin", Input).value = "sha256/abc"
        screen.query_one("#field-tls_pin", Input).focus()
        await pilot.press("enter")
        await pilot.pause()
        assert received == [] and isinstance(app.screen, AccountForm)
        rows = screen_lines(app)
        assert any("accounts.main.tls_pin" in row for row in rows)
        assert any("Save" in row for row in rows)  # the error fits too
        screen.query_one("#field-tls_pin", Input).value = f"sha256//{B64}"
        await pilot.press("enter")
        await pilot.pause()
        assert received and received[0]["tls_pin"] == PIN


async def test_first_run_form_round_trip() -> None:
    received: list[dict[str, object]] = []

    async def created(table: dict[str, object]) -> str | None:
        received.append(dict(table))
        table.pop("name")  # the caller owns the dict it gets
        return "An account named 'main' exists already." if len(received) == 1 else None

    app = XmppTermApp(FakeBackend([]), first_run=True, on_account_created=created)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, AccountForm)
        await pilot.press(*"me@example.org", "tab", *"secret", "enter")
        await pilot.pause()
        assert received == [{"name": "main", "jid": "me@example.org", "tls": "starttls",
                             "password": "secret"}]
        assert isinstance(app.screen, AccountForm)  # shown again, with the error
        assert any("exists already" in row for row in screen_lines(app))
        assert not any("secret" in row for row in screen_lines(app))  # masked
        await pilot.press("enter")
        await pilot.pause()
        assert len(received) == 2
        assert not isinstance(app.screen, AccountForm)
        assert "Identity main added." in "\n".join(app.chatlog.lines)


async def test_invalid_input_stays_in_the_form() -> None:
    received: list[dict[str, object]] = []

    async def created(table: dict[str, object]) -> str | None:
        received.append(table)
        return None

    app = XmppTermApp(FakeBackend([]), first_run=True, on_account_created=created)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press(*"not a jid", "enter")
        await pilot.pause()
        assert isinstance(app.screen, AccountForm) and received == []
        assert any("JID:" in row for row in screen_lines(app))


async def test_tls_mode_is_chosen_with_the_keyboard() -> None:
    received: list[dict[str, object]] = []

    async def created(table: dict[str, object]) -> str | None:
        received.append(table)
        return None

    app = XmppTermApp(FakeBackend([]), first_run=True, on_account_created=created)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press(*"me@example.org", "tab", "tab", *"pass show x")
        for _ in range(6):  # host, port, CA file, key pin, identity name, TLS
            await pilot.press("tab")
        await pilot.press("enter")  # on the TLS button: switch to direct TLS
        assert any("direct TLS (XEP-0368)" in row for row in screen_lines(app))
        app.screen.query_one("#field-jid").focus()
        await pilot.press("enter")
        await pilot.pause()
        assert received and received[0]["tls"] == "direct"
        assert received[0]["password_command"] == "pass show x"


async def test_cancel_says_what_to_do() -> None:
    app = XmppTermApp(FakeBackend([]), first_run=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, AccountForm)
        assert "No identity was added" in "\n".join(app.chatlog.lines)
