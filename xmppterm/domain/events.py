"""Domain events (past tense): what happened. Every event carries its account."""

from __future__ import annotations

from dataclasses import dataclass

from .connection import ConnState
from .ids import AccountId, ChatKey
from .messages import ChatMessage, Delivery
from .roster import Presence, RosterItem


@dataclass(frozen=True, slots=True)
class Event:
    account: AccountId


@dataclass(frozen=True, slots=True)
class ConnectionChanged(Event):
    state: ConnState
    detail: str = ""  # why (an error text the user can act on), or the route when online


@dataclass(frozen=True, slots=True)
class MessageReceived(Event):
    """A message from someone else, or one of ours (sent, reflected or pending)."""

    message: ChatMessage
    stranger: bool = False  # the sender is not in this identity's roster


@dataclass(frozen=True, slots=True)
class MessageDeliveryChanged(Event):
    chat: ChatKey
    message_id: str
    delivery: Delivery
    error: str = ""


@dataclass(frozen=True, slots=True)
class RosterReceived(Event):
    """The whole roster (after login or from the cache)."""

    items: tuple[RosterItem, ...]


@dataclass(frozen=True, slots=True)
class RosterItemChanged(Event):
    item: RosterItem
    removed: bool = False


@dataclass(frozen=True, slots=True)
class PresenceChanged(Event):
    presence: Presence


@dataclass(frozen=True, slots=True)
class ChatOpened(Event):
    """A chat is open in the UI, with its recent history from the store."""

    chat: ChatKey
    history: tuple[ChatMessage, ...]
    stranger: bool = False
    focus: bool = True
    at: str | None = None  # the history is a window around this message: show it there


@dataclass(frozen=True, slots=True)
class SearchResults(Event):
    """The messages of `chat` (or of the whole identity, chat None) that contain `text`,
    newest first; `truncated` when there were more than could be returned."""

    text: str
    chat: ChatKey | None
    results: tuple[ChatMessage, ...]
    truncated: bool = False


@dataclass(frozen=True, slots=True)
class ChatClosed(Event):
    chat: ChatKey


@dataclass(frozen=True, slots=True)
class Notice(Event):
    """A line for the user: an error or information, from the client itself (never remote)."""

    text: str
    chat: ChatKey | None = None
    error: bool = False


# Link events: what the protocol layer reports about its connection. Core turns them
# into ConnectionChanged through the transition table; the UI never sees them.
@dataclass(frozen=True, slots=True)
class LinkUp(Event):
    """Authenticated over verified TLS, session bound. `jid` is the full JID bound."""

    jid: str


@dataclass(frozen=True, slots=True)
class LinkLost(Event):
    """The connection dropped or could not be made; retrying may help."""

    reason: str


@dataclass(frozen=True, slots=True)
class LinkFailed(Event):
    """A failure that retrying cannot fix: bad certificate, no TLS, refused credentials."""

    reason: str
