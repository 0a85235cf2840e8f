"""Make remote text safe to draw (THREATS.md, "Rendering hostile text").

Every remote string passes through one of these before it reaches a widget. What
would act on the terminal or mislead the reader becomes a visible placeholder:

* C0 controls (except tab and newline in bodies) become their Control Pictures
  (ESC -> U+241B), DEL becomes U+2421: an escape sequence (CSI, OSC 52, a title)
  is drawn as harmless text such as `␛]52;c;...`.
* C1 controls (U+0080-U+009F, CSI and OSC among them), bidi embeddings, overrides
  and isolates, Unicode tag characters, and lone surrogates become `⟨U+XXXX⟩`.
* In one-line fields (nick, JID, roster name, status, subject, resource...) line
  breaks and zero-width or invisible format characters are made visible too, so
  two look-alike names can be told apart.

Markup is not handled here: widgets draw rich `Text` objects and never parse
markup, so `[@click=app.quit()]` and a stray `[/]` are shown as typed.
"""

from __future__ import annotations

import unicodedata

MAX_FIELD = 200  # characters of a one-line field shown before it is cut
MAX_BODY = 20_000  # characters of a body shown before it is cut

BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Marks that are legitimate in right-to-left prose but invisible in a name.
BIDI_MARKS = frozenset("\u200e\u200f\u061c")
ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff\u180e\u00ad")
LINE_SEPARATORS = frozenset("\u2028\u2029\u0085")


def _placeholder(ch: str) -> str:
    return f"⟨U+{ord(ch):04X}⟩"


def _visible(ch: str, one_line: bool) -> str:
    code = ord(ch)
    if ch == "\t":
        return " " if one_line else "\t"
    if ch == "\n":
        return "⏎" if one_line else "\n"
    if code < 0x20:
        return chr(0x2400 + code)
    if code == 0x7F:
        return "\u2421"
    if ch in LINE_SEPARATORS:
        return "⏎" if one_line else "\n"
    if 0x80 <= code <= 0x9F or ch in BIDI_CONTROLS or 0xD800 <= code <= 0xDFFF:
        return _placeholder(ch)
    if 0xE0000 <= code <= 0xE007F:  # tag characters: invisible "ASCII smuggling"
        return _placeholder(ch)
    if one_line and (ch in ZERO_WIDTH or ch in BIDI_MARKS or unicodedata.category(ch) == "Cf"):
        return _placeholder(ch)
    return ch


def _needs_work(text: str, one_line: bool) -> bool:
    for ch in text:
        code = ord(ch)
        if code < 0x20 or 0x7F <= code <= 0x9F or code >= 0x2000 or ch in "\u061c\u00ad\u180e":
            return True
    return False


def _clean(text: str, one_line: bool, limit: int) -> str:
    cut = len(text) > limit
    text = text[:limit]
    if _needs_work(text, one_line):
        text = "".join(_visible(ch, one_line) for ch in text)
    return text + "…" if cut else text


def clean_body(text: str) -> str:
    """A message body: newlines and tabs stay, everything dangerous is made visible."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _clean(text, one_line=False, limit=MAX_BODY)


def clean_field(text: str, limit: int = MAX_FIELD) -> str:
    """A one-line remote field (nick, JID, name, status): nothing may hide or break the line."""
    return _clean(text, one_line=True, limit=limit)


def body_lines(text: str) -> list[str]:
    """A sanitised body as lines; the log draws every line after the first indented under a
    gutter, so a body cannot imitate a system line or another sender."""
    return clean_body(text).split("\n")


SCRIPT_WORDS = ("LATIN", "CYRILLIC", "GREEK", "ARMENIAN", "HEBREW", "ARABIC", "CHEROKEE",
                "GEORGIAN", "DEVANAGARI", "CJK", "HIRAGANA", "KATAKANA", "HANGUL", "THAI")


def scripts_of(text: str) -> set[str]:
    """The writing systems of the letters of `text` (by Unicode character name)."""
    found: set[str] = set()
    for ch in text:
        if not ch.isalpha():
            continue
        name = unicodedata.name(ch, "")
        for word in SCRIPT_WORDS:
            if name.startswith(word):
                found.add(word)
                break
        else:
            found.add("OTHER")
    return found


def lookalike_warning(text: str) -> str | None:
    """Why a name or JID could be mistaken for another, or None.

    Mixed scripts (a Cyrillic `а` in a Latin name), invisible characters, and
    internationalised domains are flagged; the caller shows the warning beside it.
    """
    if any(ch in ZERO_WIDTH or ch in BIDI_MARKS or ch in BIDI_CONTROLS for ch in text):
        return "contains invisible characters"
    scripts = scripts_of(text)
    if len(scripts) > 1:
        return "mixes scripts: " + ", ".join(sorted(s.lower() for s in scripts))
    if "@" in text or "." in text:
        domain = text.rpartition("@")[2].split("/")[0]
        if any(ord(ch) > 0x7F for ch in domain):
            try:
                return "international domain, really " + domain.encode("idna").decode("ascii")
            except UnicodeError:
                return "international domain"
    return None
