"""Chat states (XEP-0085): "typing…" both ways, as the `chat_states` setting allows.

What we send follows what the user does in the composer of a one-to-one chat:
`composing` when they start typing a message, `paused` after PAUSE_AFTER seconds
without a keystroke, `active` when the line is emptied (or sent: the message itself
ends the notification at the other end). Commands are not typing. Nothing is sent
in rooms (every occupant would get it) nor to those the setting excludes (by default,
strangers: protocol checks it against the roster at send time).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from .events import Event
from .ids import ChatKey
from .intents import Intent

PAUSE_AFTER = 5.0  # seconds without a keystroke before "composing" becomes "paused"
NAMESPACE = "http://jabber.org/protocol/chatstates"


class ChatState(Enum):
    ACTIVE = "active"
    COMPOSING = "composing"
    PAUSED = "paused"
    INACTIVE = "inactive"
    GONE = "gone"


@dataclass(frozen=True, slots=True)
class SetChatState(Intent):
    """Tell the contact of a one-to-one chat what we are doing."""

    chat: ChatKey
    state: ChatState


@dataclass(frozen=True, slots=True)
class ChatStateChanged(Event):
    """The contact of a one-to-one chat told what they are doing."""

    chat: ChatKey
    state: ChatState


def after_edit(sent: ChatState | None, text: str) -> ChatState | None:
    """What to send after the composer's text became `text`, given the last state sent
    in this chat (None: none yet); None when nothing needs sending."""
    typing = bool(text.strip()) and not (text.startswith("/") and not text.startswith("//"))
    if typing:
        return ChatState.COMPOSING if sent is not ChatState.COMPOSING else None
    if sent in (ChatState.COMPOSING, ChatState.PAUSED):
        return ChatState.ACTIVE
    return None


def read(tags: list[str]) -> ChatState | None:
    """The one chat state among a message's child tags (`{ns}name`), or None for none,
    an unknown one, or several (a malformed message)."""
    found = [ChatState(t.split("}", 1)[1]) for t in tags
             if t.startswith(f"{{{NAMESPACE}}}") and t.split("}", 1)[1] in STATES]
    return found[0] if len(found) == 1 else None


STATES = frozenset(state.value for state in ChatState)
