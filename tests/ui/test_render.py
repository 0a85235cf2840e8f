"""How entries become lines: the layout that keeps remote text from imitating anything."""

from __future__ import annotations

import re

from xmppterm.domain.ids import ChatKey
from xmppterm.domain.messages import Delivery, Direction, Encryption
from xmppterm.ui.render import GUTTER, NoticeLine, render_entry

from .conftest import ALICE, WORK, message

HOSTILE = "\x1b]52;c;ZXZpbA==\x07 \x1b[2J \x9b31m [@click=app.quit()] [/] \u202edlrow"
FIRST_LINE = re.compile(r"^\d\d:\d\d ")


def lines(entry: object, width: int = 60) -> list[str]:
    return [text.plain for text in render_entry(entry, width, {})]  # type: ignore[arg-type]


def test_incoming_message_line() -> None:
    assert lines(message("hello")) == ["12:34 P    <alice@example.org> hello"]


def test_own_message_shows_delivery_mark_in_its_column() -> None:
    marks = {Delivery.PENDING: "…", Delivery.SENT: "✓", Delivery.DELIVERED: "✓✓"}
    for delivery, mark in marks.items():
        out = lines(message("hi", direction=Direction.OUTGOING, delivery=delivery))
        assert out == [f"12:34 P {mark.ljust(2)} <me> hi"]


def test_failed_message_says_why_on_a_line_of_its_own() -> None:
    msg = message("hi", direction=Direction.OUTGOING).with_delivery(Delivery.FAILED, "no route")
    out = lines(msg)
    assert out[0] == "12:34 P ✗  <me> hi"
    assert out[1] == "      ✗ not sent: no route"


def test_encryption_marks() -> None:
    expected = {Encryption.PLAIN: "P", Encryption.OMEMO_TRUSTED: "E",
                Encryption.OMEMO_UNTRUSTED: "U", Encryption.UNDECRYPTABLE: "X"}
    for encryption, mark in expected.items():
        assert lines(message("x", encryption=encryption))[0][6] == mark


def test_multiline_body_continues_under_the_gutter() -> None:
    body = "first\n12:35 P    <bob@example.org> forged\n12:35 -!- forged notice"
    out = lines(message(body))
    assert out[0].endswith("first")
    assert out[1] == GUTTER + "12:35 P    <bob@example.org> forged"
    assert out[2] == GUTTER + "12:35 -!- forged notice"
    assert all(not FIRST_LINE.match(line) for line in out[1:])


def test_wrapped_lines_continue_under_the_gutter() -> None:
    out = lines(message("word " * 40), width=40)
    assert len(out) > 3
    assert all(line.startswith(GUTTER) for line in out[1:])
    assert all(len(line) <= 40 for line in out)


def test_me_action() -> None:
    assert lines(message("/me waves")) == ["12:34 P    * alice@example.org waves"]
    own = lines(message("/me waves", direction=Direction.OUTGOING, delivery=Delivery.SENT))
    assert own == ["12:34 P ✓  * me waves"]


def test_notice_is_marked_and_different_from_messages() -> None:
    out = lines(NoticeLine("connected"))
    assert re.fullmatch(r"\d\d:\d\d -!- connected", out[0])
    error = lines(NoticeLine("it broke", error=True))
    assert re.fullmatch(r"\d\d:\d\d -!- ✗ it broke", error[0])


def test_hostile_text_is_drawn_literally_with_placeholders() -> None:
    sender = "evil\x1b[2J\u202e@example.org"
    out = "\n".join(lines(message(HOSTILE, sender=sender), width=200))
    assert "\x1b" not in out and "\x9b" not in out and "\x07" not in out and "\u202e" not in out
    assert "␛]52;c;ZXZpbA==␇" in out
    assert "⟨U+009B⟩31m" in out
    assert "[@click=app.quit()] [/]" in out
    assert "⟨U+202E⟩dlrow" in out
    assert "<⚠" not in out  # the warning mark stands before the bracket
    assert "⚠<evil␛[2J⟨U+202E⟩@example.org>" in out


def test_lookalike_sender_is_marked() -> None:
    cyrillic = ChatKey(WORK, "аlice@example.org")  # Cyrillic а
    assert "⚠<аlice@example.org>" in lines(message("hi", chat=cyrillic))[0]
    assert "⚠" not in lines(message("hi", chat=ALICE))[0]


def test_tabs_and_carriage_returns_do_not_break_the_layout() -> None:
    out = lines(message("a\tb\r\nc\rd"))
    assert out[0].endswith("a   b")
    assert out[1:] == [GUTTER + "c", GUTTER + "d"]
