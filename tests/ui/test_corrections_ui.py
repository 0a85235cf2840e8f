"""Corrections (XEP-0308) on screen: redrawn in place, in one frame, marked edited,
hostile corrected text drawn literally; refused ones marked; /correct."""

from __future__ import annotations

import re
from dataclasses import replace

from xmppterm.domain.events import MessageDeliveryChanged, MessageReceived
from xmppterm.domain.intents import CorrectMessage
from xmppterm.domain.messages import Delivery, Direction
from xmppterm.ui.app import XmppTermApp
from xmppterm.ui.widgets.chatlog import ChatLog

from .conftest import ALICE, WORK, FakeBackend, message, screen_lines, until
from .test_app import open_alice
from .test_chatlog import LogApp

HOSTILE = "\x1b]52;c;ZXZpbA==\x07 [@click=app.quit()] [/] \u202eevil"
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def edited(original: object, body: str) -> object:
    return replace(original, body=body, original_body=original.body)  # type: ignore[type-var]


async def test_a_correction_is_redrawn_in_place_in_one_frame() -> None:
    app = LogApp()
    async with app.run_test(size=(160, 24)) as pilot:
        log = app.query_one(ChatLog)
        first = message("teh text", msg_id="x")
        log.show([message("before"), first, message("after")])
        await pilot.pause()
        app.frames.clear()
        assert log.replace(edited(first, HOSTILE))  # type: ignore[arg-type]
        await until(pilot, lambda: app.frames)  # the first frame, however slow the machine
        await pilot.pause(0.1)  # a second one would come by now
        await pilot.pause()
        assert len(app.frames) == 1
        assert len(log.entries) == 3
        line = log.lines[1]
        assert line.endswith("(edited)") and "teh text" not in line
        assert "␛]52;c;ZXZpbA==␇ [@click=app.quit()] [/] ⟨U+202E⟩evil" in line
        assert not RAW_CONTROL.search("\n".join(log.lines))
        assert log.lines[2].endswith("after")


async def test_app_replaces_the_message_and_marks_refused_corrections(
        backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(100, 24)) as pilot:
        first = message("teh text", msg_id="m-1")
        await open_alice(backend, pilot, first)
        backend.push(MessageReceived(WORK, edited(first, "the [b]text[/b]")))  # type: ignore[arg-type]
        await pilot.pause()
        rows = screen_lines(app)
        assert sum("<alice@example.org>" in row for row in rows) == 1
        assert any("<alice@example.org> the [b]text[/b] (edited)" in row for row in rows)
        claim = replace(message("rewritten", sender="alice@example.org"), replaces="r-1")
        backend.push(MessageReceived(WORK, claim))
        await pilot.pause()
        rows = screen_lines(app)
        assert any("<alice@example.org> rewritten" in row for row in rows)
        assert app.chatlog.lines[-1] == \
            "      ⚠ claims to correct an earlier message: not applied"


async def test_correct_command_and_a_failed_correction(backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(100, 24)) as pilot:
        await open_alice(backend, pilot, message("mine", direction=Direction.OUTGOING,
                                                 delivery=Delivery.DELIVERED, msg_id="m"))
        await pilot.press(*"/correct the right words", "enter")
        assert backend.of_type(CorrectMessage) == [
            CorrectMessage(WORK, ALICE, "the right words", "m")]
        backend.push(MessageDeliveryChanged(WORK, ALICE, "not-shown", Delivery.FAILED,
                                            "refused \x1b[2J"))
        await pilot.pause()
        text = " ".join(line.removeprefix("      │ ") for line in app.chatlog.lines)
        assert "A correction (or a message no longer shown) was not sent: refused ␛[2J" in text
