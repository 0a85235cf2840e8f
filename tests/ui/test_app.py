"""The app driven with Pilot against a FakeBackend, on an 80x24 screen."""

from __future__ import annotations

import re

from xmppterm.domain.connection import ConnState
from xmppterm.domain.events import (
    ChatClosed,
    ChatOpened,
    ConnectionChanged,
    MessageDeliveryChanged,
    MessageReceived,
    Notice,
    PresenceChanged,
    RosterReceived,
)
from xmppterm.domain.ids import ChatKey
from xmppterm.domain.intents import CloseChat, OpenChat, SendMessage
from xmppterm.domain.messages import Delivery, Direction
from xmppterm.domain.roster import Presence, RosterItem, Show
from xmppterm.ui.app import XmppTermApp
from xmppterm.ui.screens.help import HelpScreen

from .conftest import ALICE, WORK, FakeBackend, message, screen_lines, until

BOB = ChatKey(WORK, "bob@example.org")
HOSTILE = "\x1b]52;c;ZXZpbA==\x07 \x1b[2J \x9b31m [@click=app.quit()] [/] \u202eevil"
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def log_text(app: XmppTermApp) -> str:
    return "\n".join(app.chatlog.lines)


async def open_alice(backend: FakeBackend, pilot: object, *history: object) -> None:
    backend.push(ChatOpened(WORK, ALICE, tuple(history), focus=True))  # type: ignore[arg-type]
    await pilot.pause()  # type: ignore[attr-defined]


async def test_typing_a_message_sends_it_to_the_open_chat(backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_alice(backend, pilot)
        await pilot.press(*"hi [b]there?", "enter")
        assert backend.of_type(SendMessage) == [SendMessage(WORK, ALICE, "hi [b]there?")]
        assert app.composer.value == ""


async def test_typing_in_the_status_buffer_explains(backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(*"hello", "enter")
        assert backend.of_type(SendMessage) == []
        assert "No chat is open: use /msg JID TEXT" in log_text(app)


async def test_incoming_message_is_shown(backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_alice(backend, pilot, message("from history"))
        backend.push(MessageReceived(WORK, message("hello there")))
        await pilot.pause()
        rows = screen_lines(app)
        assert any("<alice@example.org> from history" in row for row in rows)
        assert any(row.startswith("12:34 P    <alice@example.org> hello there") for row in rows)


async def test_hostile_text_everywhere_is_drawn_literally(backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(160, 40)) as pilot:
        evil = "evil\u202e@example.org"
        backend.push(RosterReceived(WORK, (
            RosterItem("alice@example.org", "[@click=app.quit()]"),
            RosterItem("bob@example.org", HOSTILE))))
        backend.push(PresenceChanged(WORK, Presence("alice@example.org", "r", Show.AWAY,
                                                    "\x9b[/]")))
        await open_alice(backend, pilot)
        backend.push(MessageReceived(WORK, message(HOSTILE, sender=evil)))
        backend.push(Notice(WORK, "server said: " + HOSTILE, chat=ALICE, error=True))
        drawn = "◐ [@click=app.quit()] ⟨U+009B⟩[/]"  # the roster name + the status
        await until(pilot, lambda: app.sidebar.label_of(ALICE) == drawn
                    and "server said: " in "\n".join(screen_lines(app)))
        assert app.is_running
        text = "\n".join(screen_lines(app))
        assert not RAW_CONTROL.search(text)
        assert "[@click=app.quit()] [/]" in text
        assert "␛]52;c;ZXZpbA==␇" in text and "␛[2J" in text and "⟨U+009B⟩31m" in text
        assert "⟨U+202E⟩evil" in text
        assert "⚠<evil⟨U+202E⟩@example.org>" in text
        sidebar = "\n".join(row[:30] for row in screen_lines(app))
        assert "◐ [@click=app.quit()]" in sidebar  # roster name, as typed
        assert app.sidebar.label_of(ALICE) == drawn
        assert "○ ⚠␛]52;c;ZXZpbA==␇" in sidebar  # bidi override in the name: marked
        svg = app.export_screenshot()
        assert not RAW_CONTROL.search(svg)
        await pilot.press("ctrl+n")  # still responsive
        assert app.chats.index == 0


async def test_multiline_body_second_line_is_under_the_gutter(backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_alice(backend, pilot)
        backend.push(MessageReceived(WORK, message("one\n12:00 -!- fake notice")))
        await pilot.pause()
        rows = screen_lines(app)
        at = next(i for i, row in enumerate(rows) if "<alice@example.org> one" in row)
        assert rows[at + 1].startswith("      │ 12:00 -!- fake notice")


async def test_buffer_switching_with_keys(backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(80, 24)) as pilot:
        backend.push(ChatOpened(WORK, ALICE, (message("from alice"),), focus=False))
        backend.push(ChatOpened(WORK, BOB, (message("from bob", chat=BOB),), focus=False))
        await pilot.pause()
        assert app.chats.index == 0
        await pilot.press("ctrl+n")
        assert app.chats.current.key == ALICE and "from alice" in log_text(app)
        await pilot.press("ctrl+n")
        assert app.chats.current.key == BOB and "from bob" in log_text(app)
        await pilot.press("ctrl+p")
        assert app.chats.current.key == ALICE
        await pilot.press("alt+3")
        assert app.chats.current.key == BOB
        await pilot.press("alt+1")
        assert app.chats.current.key is None
        await pilot.press("alt+9")  # no such buffer: nothing happens
        assert app.chats.current.key is None
        assert app.composer.value == ""  # Alt+digit typed nothing
        assert "[1:status]" in screen_lines(app)[-2]


async def test_unread_counts_and_activity(backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(120, 24)) as pilot:
        backend.push(RosterReceived(WORK, (RosterItem("alice@example.org"),)))
        backend.push(ChatOpened(WORK, ALICE, (), focus=False))
        backend.push(MessageReceived(WORK, message("one")), MessageReceived(WORK, message("two")))
        await until(pilot, lambda: "act:2" in screen_lines(app)[-2] and any(
            "alice@example.org [2]" in row for row in screen_lines(app)))
        assert "act:2" in screen_lines(app)[-2]
        assert any("alice@example.org [2]" in row for row in screen_lines(app))
        await pilot.press("alt+2")
        await until(pilot, lambda: "act:" not in screen_lines(app)[-2] and not any(
            "[2]" in row[:30] for row in screen_lines(app)))
        assert "act:" not in screen_lines(app)[-2]
        assert not any("[2]" in row[:30] for row in screen_lines(app))


async def test_sidebar_toggles_and_log_spans_the_full_width(backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(80, 24)) as pilot:
        assert not app.sidebar.display  # narrow: hidden at start
        assert app.chatlog.region.width == 80 and app.chatlog.region.x == 0
        backend.push(ChatOpened(WORK, ALICE, (message("hello"), message("word " * 12 + "END"),
                                              message("bye"))))
        await pilot.pause()
        assert any(row.rstrip().endswith("word END") for row in screen_lines(app))
        await pilot.press("f2")
        await until(pilot, lambda: app.chatlog.region.x >= 20 and [  # rewrapped and drawn
            row[app.chatlog.region.x:].rstrip() for row in screen_lines(app)][3:4] == [
            "      │ word END"])
        assert app.sidebar.display
        assert app.chatlog.region.x >= 20 and app.chatlog.region.width <= 60
        rows = [row[app.chatlog.region.x:].rstrip() for row in screen_lines(app)]
        assert rows[:4] == app.chatlog.lines[:4]  # the screen shows the rewrapped lines
        assert rows[3] == "      │ word END"
        await pilot.press("f2")
        assert not app.sidebar.display and app.chatlog.region.width == 80
    wide = XmppTermApp(FakeBackend())
    async with wide.run_test(size=(120, 30)) as pilot:
        assert wide.sidebar.display
        await pilot.press("alt+b")
        assert wide.chatlog.region.width == 120


async def test_stranger_is_listed_apart_from_contacts(backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(120, 24)) as pilot:
        backend.push(RosterReceived(WORK, (RosterItem("alice@example.org", "Alice"),)))
        stranger = message("psst", chat=ChatKey(WORK, "eve@evil.example"))
        backend.push(MessageReceived(WORK, stranger, stranger=True))
        await until(pilot, lambda: any("eve@evil.example" in row[:30] for row in screen_lines(app))
                    and any("Alice" in row[:30] for row in screen_lines(app)))
        eve = ChatKey(WORK, "eve@evil.example")
        assert app.sidebar.is_stranger_node(eve) and not app.sidebar.is_contact_node(eve)
        assert app.sidebar.is_contact_node(ALICE) and not app.sidebar.is_stranger_node(ALICE)
        rows = [row[:30].rstrip() for row in screen_lines(app)]
        strangers = next(i for i, row in enumerate(rows) if "strangers" in row)
        alice = next(i for i, row in enumerate(rows) if "Alice" in row)
        eve_row = next(i for i, row in enumerate(rows) if "eve@evil.example" in row)
        assert alice < strangers < eve_row


async def test_delivery_update_changes_the_mark(backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_alice(backend, pilot)
        own = message("sending", direction=Direction.OUTGOING, delivery=Delivery.PENDING,
                      msg_id="m-own")
        backend.push(MessageReceived(WORK, own))
        await pilot.pause()
        assert "12:34 P …  <me> sending" in log_text(app)
        backend.push(MessageDeliveryChanged(WORK, ALICE, "m-own", Delivery.DELIVERED))
        await pilot.pause()
        assert "12:34 P ✓✓ <me> sending" in log_text(app)
        backend.push(MessageDeliveryChanged(WORK, ALICE, "m-own", Delivery.FAILED, "offline"))
        await pilot.pause()
        assert "12:34 P ✗  <me> sending" in log_text(app)
        assert "✗ not sent: offline" in "\n".join(screen_lines(app))


async def test_help_command_lists_commands(backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(*"/help", "enter")
        text = log_text(app)
        for usage in ("/msg JID [TEXT]", "/query JID", "/close", "/me TEXT", "/quit"):
            assert usage in text


async def test_unknown_command_shows_an_error(backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_alice(backend, pilot)
        await pilot.press(*"/nope", "enter")
        assert "-!- ✗ Unknown command /nope" in log_text(app)
        assert backend.of_type(SendMessage) == []


async def test_invalid_jid_shows_an_error(backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(*"/msg bad@ hi", "enter")
        assert "✗ Invalid JID" in log_text(app)
        assert backend.intents == []


async def test_msg_opens_a_buffer_and_sends(backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(*"/msg alice@example.org hi", "enter")
        assert backend.intents == [OpenChat(WORK, ALICE, True), SendMessage(WORK, ALICE, "hi")]
        assert app.chats.current.key == ALICE
        await pilot.press(*"/close", "enter")
        assert backend.intents[-1] == CloseChat(WORK, ALICE)
        assert app.chats.current.key is None


async def test_chat_closed_event_removes_the_buffer(backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_alice(backend, pilot)
        backend.push(ChatClosed(WORK, ALICE))
        await pilot.pause()
        assert app.chats.find(ALICE) is None and app.chats.current.key is None


async def test_composer_history(backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_alice(backend, pilot)
        await pilot.press(*"first", "enter", *"second", "enter", *"draft")
        await pilot.press("up")
        assert app.composer.value == "second"
        await pilot.press("up")
        assert app.composer.value == "first"
        await pilot.press("up")
        assert app.composer.value == "first"
        await pilot.press("down", "down")
        assert app.composer.value == "draft"


async def test_completion_of_commands_and_jids(backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(80, 24)) as pilot:
        backend.push(RosterReceived(WORK, (RosterItem("alice@example.org"),
                                           RosterItem("alan@example.org"))))
        await pilot.pause()
        await pilot.press("slash", "q", "tab")
        assert app.composer.value == "/query "
        await pilot.press("tab")
        assert app.composer.value == "/quit "
        await pilot.press("ctrl+u", *"/msg al", "tab")
        assert app.composer.value == "/msg alan@example.org "
        await pilot.press("tab")
        assert app.composer.value == "/msg alice@example.org "
        assert app.composer.input.has_focus  # Tab did not move the focus


async def test_help_screen_opens_and_closes(backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        assert any("Ctrl+N, Ctrl+P" in row for row in screen_lines(app))
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("question_mark")  # in the composer: typed, not help
        assert app.composer.value == "?" and not isinstance(app.screen, HelpScreen)
        await pilot.press("f3", "question_mark")  # from the sidebar: help
        assert isinstance(app.screen, HelpScreen)


async def test_connection_changes_show_in_status_line_and_buffer(backend: FakeBackend) -> None:
    app = XmppTermApp(backend, status_text="DEMO")
    async with app.run_test(size=(80, 24)) as pilot:
        assert re.search(r"DEMO .*work TOR online PLAIN", screen_lines(app)[-2])
        backend.push(ConnectionChanged(WORK, ConnState.FAILED, "certificate not trusted"))
        await pilot.pause()
        assert "work TOR failed: certificate not trusted" in screen_lines(app)[-2]
        assert "-!- ✗ work: failed (certificate not trusted)" in log_text(app)
        assert screen_lines(app)[-1].startswith("work> ")


async def test_password_in_config_is_flagged() -> None:
    from xmppterm.domain.ports import AccountInfo

    backend = FakeBackend([AccountInfo(WORK, "me@example.org", plain_password=True)])
    app = XmppTermApp(backend)
    async with app.run_test(size=(80, 24)):
        assert "PASSWORD IN CONFIG" in screen_lines(app)[-2]


async def test_quit_shuts_the_backend_down(backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(*"/quit", "enter")
        await pilot.pause()
    assert backend.shut_down
    assert app.return_code == 0


async def test_selecting_a_contact_opens_its_chat(backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(120, 24)) as pilot:
        backend.push(RosterReceived(WORK, (RosterItem("alice@example.org", "Alice"),)))
        await pilot.pause()
        await pilot.press("f3", "down", "enter")
        await pilot.pause()
        assert backend.intents == [OpenChat(WORK, ALICE, True)]
        assert app.chats.current.key == ALICE
        assert app.composer.input.has_focus


async def test_a_malformed_event_is_reported_not_fatal(backend: FakeBackend) -> None:
    from dataclasses import replace

    app = XmppTermApp(backend)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_alice(backend, pilot)
        broken = replace(message("x"), body=None)  # type: ignore[arg-type]
        backend.push(MessageReceived(WORK, broken), MessageReceived(WORK, message("after")))
        await pilot.pause()
        assert app.is_running
        assert "-!- ✗ This entry could not be drawn (AttributeError)." in log_text(app)
        assert "<alice@example.org> after" in log_text(app)
        await pilot.press("alt+1", "alt+2")
        assert app.chats.current.key == ALICE and "after" in log_text(app)


async def test_backend_is_started_once_after_the_app_listens(backend: FakeBackend) -> None:
    async with XmppTermApp(backend).run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert backend.started == 1
        assert backend.subscribed_before_start


async def test_alt_digit_as_a_real_terminal_sends_it(backend: FakeBackend) -> None:
    """xterm and tmux send ESC 2 for Alt+2; Textual parses that as '™' (macOS Option+2)."""
    from textual._xterm_parser import XTermParser

    keys = [e.key for e in XTermParser().feed("\x1b2") if hasattr(e, "key")]
    app = XmppTermApp(backend)
    async with app.run_test(size=(80, 24)) as pilot:
        backend.push(ChatOpened(WORK, ALICE, (), focus=False))
        await pilot.pause()
        await pilot.press(*keys)
        await pilot.pause()
        assert "[2:alice@example.org]" in screen_lines(app)[-2]
        assert app.composer.value == ""


async def test_no_cursor_blink_over_ssh(backend: FakeBackend, monkeypatch: object) -> None:
    import pytest

    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    monkeypatch.setenv("SSH_CONNECTION", "10.0.0.1 5000 10.0.0.2 22")
    app = XmppTermApp(backend)
    async with app.run_test(size=(80, 24)):
        assert app.composer.input.cursor_blink is False
    monkeypatch.delenv("SSH_CONNECTION")
    monkeypatch.delenv("SSH_TTY", raising=False)
    app = XmppTermApp(backend)
    async with app.run_test(size=(80, 24)):
        assert app.composer.input.cursor_blink is True
