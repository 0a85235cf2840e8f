"""How one log entry becomes lines of styled text (pure: rich only, no Textual).

The layout makes every line's origin unmistakable (THREATS.md, "Rendering hostile text"):

    12:34 P ✓✓ <me> our message
    12:35 P    <alice@example.org> first line of her message, wrapped at the
          │ width of the log, and her second line under the gutter
    12:36 -!- a line from xmppterm itself

A message's first line has the encryption letter in column 7 and our delivery mark
after it; a notice has `-!-` there. Every further line of a message (a newline in
the body, or wrapping) starts with the gutter `      │ `, which no first line has, so
a body can neither start a line that looks like another sender's nor a system
line. Remote text is sanitised here and only ever put in `Text` objects: markup is
never parsed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from rich._wrap import divide_line
from rich.style import Style
from rich.text import Text

from ..domain.corrections import NOT_APPLIED
from ..domain.messages import ChatMessage, Delivery, Direction, Encryption
from ..domain.sanitize import body_lines, clean_body, clean_field, lookalike_warning
from .room_render import HIGHLIGHT_MARK, RoomLook, highlighted, nick_label

GUTTER = "      │ "
GUTTER_WIDTH = len(GUTTER)
MIN_WIDTH = GUTTER_WIDTH + 12
SENDER_LIMIT = 64
OWN_LABEL = "me"

ENCRYPTION_MARKS: dict[Encryption, tuple[str, str]] = {
    Encryption.PLAIN: ("P", "plain"),
    Encryption.OMEMO_TRUSTED: ("E", "omemo-trusted"),
    Encryption.OMEMO_UNTRUSTED: ("U", "omemo-untrusted"),
    Encryption.UNDECRYPTABLE: ("X", "undecryptable"),
}
DELIVERY_MARKS: dict[Delivery, tuple[str, str]] = {
    Delivery.RECEIVED: ("  ", "time"),
    Delivery.PENDING: ("… ", "pending"),
    Delivery.SENT: ("✓ ", "sent"),
    Delivery.DELIVERED: ("✓✓", "delivered"),
    Delivery.FAILED: ("✗ ", "error"),
}
LEGEND = (
    ("P", "plain: not end-to-end encrypted"),
    ("E", "OMEMO from a device you verified"),
    ("U", "OMEMO from a device you have not verified"),
    ("X", "encrypted, but it could not be decrypted"),
    ("…", "ours, waiting to be sent"),
    ("✓", "ours, sent to the server"),
    ("✓✓", "ours, delivered to the contact"),
    ("✗", "ours, not sent (the reason follows)"),
    ("!", "a room message that names you (a highlight)"),
    ("⚠", "a look-alike name: mixed scripts, invisible characters, or (in a room) a nick "
          "that looks like another occupant's"),
    ("→ ←", "in a room: who came and who left (/joins fold hides these lines)"),
    ("-!-", "a line from xmppterm itself, never from a contact"),
    ("(edited)", "the sender corrected this message (XEP-0308); it shows the correction"),
    ("⚠ claims…", "a correction that names a message it may not change (another sender, "
                  "another encryption, or unknown): shown as a message of its own"),
)
EDITED = " (edited)"


@dataclass(frozen=True, slots=True)
class NoticeLine:
    """A line from xmppterm itself (connection changes, errors, help)."""

    text: str
    error: bool = False
    timestamp: datetime = field(default_factory=lambda: datetime.now().astimezone())


@dataclass(frozen=True, slots=True)
class RoomEventLine(NoticeLine):
    """A line from xmppterm about a room (who came, left, was renamed): `parts` are
    (text, style name) runs drawn after `-!- `, nicks in their colour. `text` is the
    same line in plain words. Every part is sanitised again where it is drawn."""

    parts: tuple[tuple[str, str], ...] = ()


LogEntry = ChatMessage | NoticeLine


def lookalike(text: str) -> str | None:
    """`sanitize.lookalike_warning`, with a fast path: pure ASCII is one script, no
    invisible characters and no IDN, so it cannot be flagged (big rosters draw fast)."""
    return None if text.isascii() else lookalike_warning(text)


def entry_id(entry: LogEntry) -> str | None:
    return entry.id if isinstance(entry, ChatMessage) else None


def clock(stamp: datetime) -> str:
    """HH:MM in local time (naive stamps are taken as local already)."""
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone()
    return stamp.strftime("%H:%M")


def wrap(text: Text, width: int) -> list[Text]:
    """Word-wrap a one-line Text to `width` cells (long words are folded)."""
    width = max(1, width)
    lines = text.divide(divide_line(text.plain, width, fold=True)) if text.plain else [text]
    for line in lines:
        line.rstrip()
    return list(lines)


def hang(first: Text, width: int, gutter: Text) -> list[Text]:
    """Wrap `first` at `width`; the rest of it continues under `gutter`."""
    offsets = divide_line(first.plain, width, fold=True)
    if not offsets:
        return [first]
    head, rest = first.divide([offsets[0]])
    head.rstrip()
    return [head, *(gutter + part for part in wrap(rest, width - len(gutter)))]


def render_entry(entry: LogEntry, width: int, styles: Mapping[str, Style],
                 look: RoomLook | None = None) -> list[Text]:
    """The lines of one entry at `width` cells; styles are keyed by component name;
    `look` tells about the room shown (our nicks, look-alike nicks), if it is one."""
    width = max(width, MIN_WIDTH)
    try:
        if isinstance(entry, RoomEventLine):
            return _render_room_line(entry, width, styles)
        if isinstance(entry, NoticeLine):
            return _render_notice(entry, width, styles)
        return _render_message(entry, width, styles, look)
    except Exception as exc:  # a malformed entry must not stop the log from drawing
        broken = NoticeLine(f"This entry could not be drawn ({type(exc).__name__}).", True)
        return _render_notice(broken, width, styles)


def _style(styles: Mapping[str, Style], name: str) -> Style:
    return styles.get(name, Style.null())


def _render_notice(notice: NoticeLine, width: int, styles: Mapping[str, Style]) -> list[Text]:
    kind = "error" if notice.error else "notice"
    style = _style(styles, kind)
    gutter = Text(GUTTER, _style(styles, "gutter"))
    lines = clean_body(notice.text).expandtabs(4).split("\n")
    head = Text.assemble((clock(notice.timestamp) + " ", _style(styles, "time")),
                         ("-!- ", style), ("✗ " if notice.error else "", style),
                         (lines[0], style))
    out = hang(head, width, gutter)
    for line in lines[1:]:
        out.extend(gutter + part for part in wrap(Text(line, style), width - GUTTER_WIDTH))
    return out


def _render_room_line(line: RoomEventLine, width: int,
                      styles: Mapping[str, Style]) -> list[Text]:
    head = Text.assemble((clock(line.timestamp) + " ", _style(styles, "time")),
                         ("-!- ", _style(styles, "notice")))
    for text, style in line.parts:
        head.append(clean_field(text, 400), _style(styles, style))
    return hang(head, width, Text(GUTTER, _style(styles, "gutter")))


def _sender(message: ChatMessage, styles: Mapping[str, Style], action: bool,
            look: RoomLook | None) -> Text:
    if message.in_room:
        return nick_label(message, styles, look, action)
    if message.direction is Direction.OUTGOING:
        who, style = OWN_LABEL, _style(styles, "self")
    else:
        who, style = clean_field(message.sender, SENDER_LIMIT), _style(styles, "peer")
    label = Text()
    if message.direction is Direction.INCOMING and lookalike(message.sender):
        label.append("⚠", _style(styles, "warning"))
    label.append(f"* {who} " if action else f"<{who}> ", style)
    return label


def _head(message: ChatMessage, styles: Mapping[str, Style], action: bool,
          look: RoomLook | None = None) -> Text:
    enc_mark, enc_class = ENCRYPTION_MARKS[message.encryption]
    del_mark, del_class = DELIVERY_MARKS[message.delivery]
    if highlighted(message, look):
        del_mark, del_class = HIGHLIGHT_MARK, "highlight"
    # Separating spaces go with the styled run before them: fewer style changes, fewer
    # bytes on the wire for every repaint of the line.
    return Text.assemble(
        (clock(message.timestamp) + " ", _style(styles, "time")),
        (enc_mark + " ", _style(styles, enc_class)),
        (del_mark + " ", _style(styles, del_class)),
        _sender(message, styles, action, look),
    )


def _render_undecryptable(message: ChatMessage, width: int,
                          styles: Mapping[str, Style]) -> list[Text]:
    """An OMEMO message that did not decrypt: the reason, never a body (a fallback body
    from outside the encryption is not the message)."""
    reason = clean_field(message.error or "no reason given")
    text = Text(f"(encrypted; could not be decrypted: {reason})", _style(styles, "undecryptable"))
    return hang(_head(message, styles, False) + text, width, Text(GUTTER, _style(styles, "gutter")))


def _render_message(message: ChatMessage, width: int, styles: Mapping[str, Style],
                    look: RoomLook | None = None) -> list[Text]:
    if message.encryption is Encryption.UNDECRYPTABLE:
        return _render_undecryptable(message, width, styles)
    body = [line.expandtabs(4) for line in body_lines(message.body)]
    action = body[0].startswith("/me ")
    if action:
        body[0] = body[0][4:]
    gutter = Text(GUTTER, _style(styles, "gutter"))
    body_style = _style(styles, "highlight" if highlighted(message, look) else "body")
    lines = [Text(line, body_style) for line in body]
    if message.edited:
        lines[-1].append(EDITED, _style(styles, "notice"))
    out = hang(_head(message, styles, action, look) + lines[0], width, gutter)
    for line in lines[1:]:
        out.extend(gutter + part for part in wrap(line, width - GUTTER_WIDTH))
    if message.delivery is Delivery.FAILED:
        reason = clean_field(message.error or "no reason given")
        out.extend(_under(f"✗ not sent: {reason}", _style(styles, "error"), width))
    if message.replaces and message.shown:
        out.extend(_under(f"⚠ {NOT_APPLIED}", _style(styles, "warning"), width))
    return out


def _under(text: str, style: Style, width: int) -> list[Text]:
    """A line about the message above it (our words, no remote text unsanitised)."""
    return hang(Text("      ") + Text(text, style), width, Text(" " * GUTTER_WIDTH))
