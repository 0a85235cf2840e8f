"""How a group-chat message differs on screen from a 1:1 one (pure: rich only).

The layout is the one of `render.py`, with the occupant's nick in the sender place:

    12:34 P    <alice> a message in the room
    12:35 P !  <bob> alice: this one names you      (a highlight: `!` and its style)
    12:36 P    ⚠<аlice> a look-alike of alice        (⚠: confusable with another nick)
    12:37 P ✓✓ <me-nick> our own, with its delivery mark

Each nick has a stable colour, one of the theme's `chatlog--nick-N` slots chosen by a
checksum of the nick (never a colour literal). Nicks are remote text: sanitised here.
"""

from __future__ import annotations

import unicodedata
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from rich.style import Style
from rich.text import Text

from ..domain.messages import ChatMessage, Direction
from ..domain.rooms import mentions
from ..domain.sanitize import BIDI_CONTROLS, BIDI_MARKS, ZERO_WIDTH, clean_field, lookalike_warning

NICK_COLOURS = 8
NICK_LIMIT = 40
NICK_COMPONENTS = (*(f"nick-{n}" for n in range(1, NICK_COLOURS + 1)), "highlight")
HIGHLIGHT_MARK = "! "
ROOM_ITSELF = "-room-"  # a message of the room itself (no nick): no <...> around it

# Letters of other scripts that look like Latin ones (a small, common subset of Unicode's
# confusables), and digits and capitals that pass for lower-case letters.
_CONFUSABLES = str.maketrans({
    "а": "a", "в": "b", "е": "e", "ё": "e", "һ": "h", "і": "i", "ї": "i", "ј": "j", "к": "k",
    "м": "m", "н": "h", "о": "o", "р": "p", "с": "c", "т": "t", "у": "y", "х": "x",
    "ѕ": "s", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ɡ": "g", "ı": "i",
    "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o",
    "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ϲ": "c",
    "0": "o", "1": "l", "|": "l", "I": "l",
})


@dataclass(frozen=True, slots=True)
class RoomLook:
    """What the log needs to know of the room shown to draw its messages."""

    own_nicks: frozenset[str] = frozenset()  # every nick we had in it this session
    confusable: frozenset[str] = frozenset()  # nicks to mark ⚠


def skeleton(nick: str) -> str:
    """A nick reduced to what it looks like: two nicks with one skeleton are confusable."""
    text = unicodedata.normalize("NFKC", nick).translate(_CONFUSABLES)
    text = "".join(ch for ch in text.casefold().translate(_CONFUSABLES)
                   if ch not in ZERO_WIDTH and ch not in BIDI_MARKS and ch not in BIDI_CONTROLS
                   and unicodedata.category(ch) not in ("Cf", "Mn"))
    return text


def suspicious(nick: str) -> bool:
    """The nick alone could deceive: mixed scripts, invisible characters."""
    return not nick.isascii() and lookalike_warning(nick) is not None


def code_points(nick: str) -> str:
    """`U+0430 l i c e`: the non-ASCII characters of a nick as code points (for /who)."""
    return " ".join(ch if ch.isascii() and ch.isprintable() else f"U+{ord(ch):04X}"
                    for ch in nick)


def nick_slot(nick: str) -> int:
    """The nick's colour slot, 1..NICK_COLOURS: the same in every run and every room."""
    return zlib.crc32(nick.encode("utf-8", "surrogatepass")) % NICK_COLOURS + 1


def names_any(body: str, nicks: Iterable[str]) -> bool:
    """The body names one of `nicks` as a word (the `/me ` of an action does not count)."""
    text = body[4:] if body.startswith("/me ") else body
    return any(mentions(text, nick) for nick in nicks)


def highlighted(message: ChatMessage, look: RoomLook | None) -> bool:
    """An incoming room message that names one of our nicks as a word."""
    if look is None or not message.in_room or message.direction is not Direction.INCOMING:
        return False
    return names_any(message.body, look.own_nicks)


def nick_label(message: ChatMessage, styles: Mapping[str, Style], look: RoomLook | None,
               action: bool) -> Text:
    """`<nick> ` (or `* nick ` for /me) in the nick's colour, ⚠ before a look-alike."""
    nick = message.nick or ""
    own = message.direction is Direction.OUTGOING
    style = styles.get("self" if own else f"nick-{nick_slot(nick)}", Style.null())
    label = Text()
    if not nick and not own:
        label.append(ROOM_ITSELF + " ", styles.get("notice", Style.null()))
        return label
    if not own and (suspicious(nick) or (look is not None and nick in look.confusable)):
        label.append("⚠", styles.get("warning", Style.null()))
    shown = clean_field(nick, NICK_LIMIT)
    label.append(f"* {shown} " if action else f"<{shown}> ", style)
    return label
