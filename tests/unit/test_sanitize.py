"""Hostile text becomes visible and inert (THREATS.md, "Rendering hostile text")."""

import pytest

from xmppterm.domain.sanitize import (
    body_lines,
    clean_body,
    clean_field,
    lookalike_warning,
)

HOSTILE = [
    "\x1b]52;c;ZXZpbA==\x07",  # OSC 52: write the clipboard
    "\x1b]0;owned\x07",  # set the window title
    "\x1b[2J\x1b[H",  # clear the screen
    "\x9b31m",  # C1 CSI
    "\x9d0;t\x9c",  # C1 OSC ... ST
    "\x00\x08\x7f",
    "\u202egnp.exe",  # right-to-left override
    "a\u2066b\u2069",
    "\U000e0041\U000e0042",  # tag characters
]


@pytest.mark.parametrize("text", HOSTILE)
@pytest.mark.parametrize("clean", [clean_body, clean_field])
def test_no_control_or_override_survives(text: str, clean) -> None:
    out = clean(text)
    for ch in out:
        code = ord(ch)
        assert not (code < 0x20 and ch not in "\t\n"), repr(out)
        assert not (0x7F <= code <= 0x9F), repr(out)
        assert ch not in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
        assert not 0xE0000 <= code <= 0xE007F


def test_escape_is_shown_not_dropped() -> None:
    assert clean_body("\x1b[2J") == "␛[2J"
    assert clean_body("x\x9by") == "x⟨U+009B⟩y"
    assert clean_body("\u202eabc") == "⟨U+202E⟩abc"


def test_markup_is_left_as_text() -> None:
    # Widgets draw Text objects, so markup needs no escaping, but it must not be altered.
    assert clean_body("[@click=app.quit()] [/] [b]x[/b]") == "[@click=app.quit()] [/] [b]x[/b]"


def test_body_keeps_newlines_and_rtl_prose() -> None:
    persian = "سلام\u200c دنیا"  # ZWNJ is part of Persian spelling
    assert clean_body(persian) == persian
    assert clean_body("a\r\nb\rc") == "a\nb\nc"
    assert body_lines("one\ntwo\u2028three") == ["one", "two", "three"]


def test_field_is_one_line_and_shows_invisibles() -> None:
    assert "\n" not in clean_field("alice\n12:00 <bob> hi")
    assert clean_field("al\u200bice") == "al⟨U+200B⟩ice"
    assert clean_field("x" * 500).endswith("…")
    assert len(clean_field("x" * 500)) == 201


def test_body_is_bounded() -> None:
    assert len(clean_body("x" * 1_000_000)) <= 20_001


def test_lookalikes_are_flagged() -> None:
    assert lookalike_warning("alice@example.org") is None
    assert "cyrillic" in (lookalike_warning("\u0430lice@example.org") or "")
    assert "invisible" in (lookalike_warning("ali\u200dce") or "")
    assert "xn--" in (lookalike_warning("bob@b\u00fccher.de") or "")
    assert lookalike_warning("Мария") is None  # one script is fine
