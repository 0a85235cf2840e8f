"""Up in an empty composer brings back our last message as `/correct TEXT` (as in
Conversations, Gajim and Dino): in 1:1 chats and rooms, only when core's /correct would
change that message, never a body the one-line Input would draw raw; a second Up is the
history, Escape drops it, another buffer takes it off the line."""

from __future__ import annotations

import pytest
from textual import events

from xmppterm.domain.events import MessageReceived
from xmppterm.domain.intents import CorrectMessage, SendMessage
from xmppterm.domain.messages import Delivery, Direction, Encryption
from xmppterm.ui.app import XmppTermApp
from xmppterm.ui.chats import Chats
from xmppterm.ui.widgets.composer import ComposerInput, fits_one_line

from .conftest import ALICE, WORK, FakeBackend, message, screen_lines
from .test_app import RAW_CONTROL, open_alice
from .test_rooms import ROOM, enter, room_message


def mine(body: str, delivery: Delivery = Delivery.DELIVERED, **kw: object) -> object:
    return message(body, direction=Direction.OUTGOING, delivery=delivery, **kw)  # type: ignore[arg-type]


async def send_lines(pilot: object, *lines: str) -> None:
    for line in lines:
        await pilot.press(*line, "enter")  # type: ignore[attr-defined]


async def test_up_in_an_empty_line_edits_our_last_message_and_enter_corrects_it(
        backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(100, 24)) as pilot:
        answer = mine("teh answer")
        await open_alice(backend, pilot, message("hello?"), answer)
        lines = list(app.chatlog.lines)
        await pilot.press("up")
        field = app.composer.input
        assert field.value == "/correct teh answer"
        assert field.cursor_position == len(field.value)
        assert app.chatlog.lines == lines  # nothing else is said
        await pilot.press("home", *["right"] * 9, *["delete"] * 3, *"the", "end", "!")
        assert field.value == "/correct the answer!"
        await pilot.press("enter")
        assert backend.of_type(CorrectMessage) == [
            CorrectMessage(WORK, ALICE, "the answer!", answer.id)]  # type: ignore[attr-defined]
        assert backend.of_type(SendMessage) == []
        assert field.value == ""


async def test_a_second_up_goes_on_into_the_history_and_down_comes_back(
        backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(100, 24)) as pilot:
        await open_alice(backend, pilot)
        await send_lines(pilot, "/help correct", "/help me")
        backend.push(MessageReceived(WORK, mine("sent earlier")))  # type: ignore[arg-type]
        await pilot.pause()
        await pilot.press("up")
        assert app.composer.value == "/correct sent earlier"
        await pilot.press("up")
        assert app.composer.value == "/help me"
        await pilot.press("up")
        assert app.composer.value == "/help correct"
        await pilot.press("down", "down")
        assert app.composer.value == "/correct sent earlier"


async def test_escape_and_emptying_the_line_drop_the_edit(backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(100, 24)) as pilot:
        await open_alice(backend, pilot, mine("typo"))
        await pilot.press("up")
        assert app.composer.value == "/correct typo"
        await pilot.press("escape")
        assert app.composer.value == ""
        assert app.focused is app.composer.input
        await pilot.press("up", "ctrl+u", "enter")
        assert backend.of_type(CorrectMessage) == []
        # Escape with an ordinary line leaves it alone.
        await pilot.press(*"a draft", "escape")
        assert app.composer.value == "a draft"


@pytest.mark.parametrize("case", ["status", "incoming last", "failed", "none", "undecryptable"])
async def test_without_a_correctable_message_up_is_the_history(
        backend: FakeBackend, case: str) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(100, 24)) as pilot:
        history = {
            "status": (mine("mine"),),
            "incoming last": (mine("mine"), message("theirs after")),
            "failed": (mine("mine", Delivery.DELIVERED), mine("lost", Delivery.FAILED)),
            "none": (message("theirs"),),
            "undecryptable": (mine("?", encryption=Encryption.UNDECRYPTABLE),),
        }[case]
        await open_alice(backend, pilot, *history)
        if case == "status":
            await pilot.press("ctrl+p")
            assert app.chats.current.key is None
        await send_lines(pilot, "/help me")
        await pilot.press("up")
        assert app.composer.value == "/help me"


@pytest.mark.parametrize("body", ["two\nlines", "a\ttab", "esc \x1b[2J here",
                                  "osc \x1b]52;c;ZXZpbA==\x07", "bidi \u202eevil", "c1 \x9b31m",
                                  "cr\rhere", "   "])
async def test_a_body_the_line_cannot_show_as_is_falls_back_silently(
        backend: FakeBackend, body: str) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(100, 24)) as pilot:
        await open_alice(backend, pilot)
        await send_lines(pilot, "/help me")
        backend.push(MessageReceived(WORK, mine(body)))  # type: ignore[arg-type]
        await pilot.pause()
        lines = list(app.chatlog.lines)
        await pilot.press("up")
        assert app.composer.value == "/help me"
        assert app.chatlog.lines == lines
        assert not any(RAW_CONTROL.search(row) for row in screen_lines(app))


async def test_markup_in_our_message_is_shown_and_sent_as_typed(backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(100, 24)) as pilot:
        body = "[b]x[/b] [@click=app.quit()] [/] ⚠ 👨‍👩‍👧"
        await open_alice(backend, pilot, mine(body, msg_id="marked"))
        await pilot.press("up")
        assert app.composer.value == "/correct " + body
        assert any(f"/correct {body}" in row for row in screen_lines(app)), screen_lines(app)
        await pilot.press("enter")
        assert backend.of_type(CorrectMessage) == [CorrectMessage(WORK, ALICE, body, "marked")]
        assert app.is_running


async def test_in_a_room_it_works_the_same(backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(100, 24)) as pilot:
        await enter(backend, pilot)
        helo = room_message("helo", nick="me", direction=Direction.OUTGOING,
                            delivery=Delivery.DELIVERED)
        backend.push(MessageReceived(WORK, room_message("hi all", nick="alice")),
                     MessageReceived(WORK, helo))
        await pilot.pause()
        await pilot.press("up")
        assert app.composer.value == "/correct helo"
        await pilot.press("backspace", "backspace", *"llo", "enter")
        assert backend.of_type(CorrectMessage) == [CorrectMessage(WORK, ROOM, "hello", helo.id)]
        backend.push(MessageReceived(WORK, room_message("hello back", nick="bob")))
        await pilot.pause()
        await pilot.press("up")
        assert app.composer.value == "/correct hello"  # the history: bob wrote last


async def test_the_correction_names_the_message_it_was_meant_for(backend: FakeBackend) -> None:
    """A newer message of ours arrives (from another device) while Up's correction is
    edited: the intent still names the first, so core refuses instead of changing the
    newer one. A /correct typed by hand names the one shown as ours last."""
    app = XmppTermApp(backend)
    async with app.run_test(size=(100, 24)) as pilot:
        await open_alice(backend, pilot, mine("first", msg_id="first"))
        await pilot.press("up", *" fixed")
        backend.push(MessageReceived(WORK, mine("from my phone", msg_id="phone")))  # type: ignore[arg-type]
        await pilot.pause()
        assert app.composer.value == "/correct first fixed"
        await pilot.press("enter")
        await send_lines(pilot, "/correct typed")
        assert backend.of_type(CorrectMessage) == [
            CorrectMessage(WORK, ALICE, "first fixed", "first"),
            CorrectMessage(WORK, ALICE, "typed", "phone")]


async def test_another_buffer_takes_the_edit_off_the_line(backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(100, 24)) as pilot:
        await open_alice(backend, pilot, mine("for alice"))
        await pilot.press("up")
        await pilot.press("ctrl+p")  # the status buffer
        assert app.composer.value == ""
        await pilot.press("ctrl+n", "up", "end", *" too", "ctrl+p")
        assert app.composer.value == ""
        await pilot.press("up")  # an edited one is kept in the history
        assert app.composer.value == "/correct for alice too"
        await pilot.press("ctrl+u", *"typed in status", "ctrl+n")
        assert app.composer.value == "typed in status"  # ordinary lines stay
        assert backend.of_type(CorrectMessage) == []


def test_a_buffer_opened_at_a_search_result_offers_nothing_until_a_new_message() -> None:
    chats = Chats()
    window = (mine("older, mine", msg_id="w1"), message("found", msg_id="w2"),
              mine("later in the window", msg_id="w3"))
    buffer = chats.open(ALICE, window, stranger=False, focus=True, at="w2")  # type: ignore[arg-type]
    assert buffer.partial and buffer.correctable() is None
    chats.add_message(mine("live", msg_id="n1"), stranger=False)  # type: ignore[arg-type]
    assert buffer.correctable() == ("n1", "live")
    chats.open(ALICE, window, stranger=False, focus=True, at="w2")  # type: ignore[arg-type]
    assert not buffer.partial and buffer.correctable() == ("n1", "live")
    reopened = Chats()
    reopened.open(ALICE, window, stranger=False, focus=True)  # type: ignore[arg-type]
    assert reopened.current.correctable() == ("w3", "later in the window")
    assert reopened.status.correctable() is None


def test_fits_one_line() -> None:
    assert fits_one_line("plain [b]markup[/b] ⚠ 👨‍👩‍👧 عربي")
    for body in ("", "  ", "a\nb", "a\tb", "a\rb", "\x1b[2J", "\x07", "\x7f", "\x9b",
                 "\u202e", "\u2066", "\u2028", "\U000e0041", "x" * 20_001):
        assert not fits_one_line(body), repr(body)


def test_the_input_is_not_offered_without_a_provider() -> None:
    assert ComposerInput().last_own() is None


async def test_a_paste_cannot_write_control_sequences_to_the_terminal(
        backend: FakeBackend) -> None:
    from xmppterm.ui.widgets.composer import pasteable

    assert pasteable("a\x1b]52;c;ZXZpbA==\x07b\x9bX\x7f\tc\nsecond") == \
        "a\ufffd]52;c;ZXZpbA==\ufffdb\ufffdX\ufffd c"
    app = XmppTermApp(backend)
    async with app.run_test(size=(80, 24)) as pilot:
        app.composer.input.post_message(events.Paste("hi \x1b[2J[b]there[/b]\nline two"))
        await pilot.pause()
        assert app.composer.value == "hi \ufffd[2J[b]there[/b]"
        assert not any("\x1b" in line for line in screen_lines(app))
