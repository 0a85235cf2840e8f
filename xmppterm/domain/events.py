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
class SendRefused(Event):
    """A message was neither sent nor kept (encryption failed, in a chat where it is on):
    the UI puts `body` back into the composer and shows `reason`."""

    chat: ChatKey
    body: str
    reason: str


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
    room: bool = False  # a group chat (domain/rooms.py)


@dataclass(frozen=True, slots=True)
class SearchResults(Event):
    """The messages of `chat` (or of the whole identity, chat None) that contain `text`,
    newest first; `truncated` when there were more than could be returned."""

    text: str
    chat: ChatKey | None
    results: tuple[ChatMessage, ...]
    truncated: bool = False


@dataclass(frozen=True, slots=True)
class RouteDescribed(Event):
    """Where the identity's connections go, in lines for the user (from its configuration
    and the SOCKS credential in use; no secret in it)."""

    lines: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ChatClosed(Event):
    chat: ChatKey


@dataclass(frozen=True, slots=True)
class Notice(Event):
    """A line for the user: an error or information, from the client itself (never remote)."""

    text: str
    chat: ChatKey | None = None
    error: bool = False


@dataclass(frozen=True, slots=True)
class SubscriptionRequested(Event):
    """`jid` asks to see our presence; nothing is shared until the user approves.
    `text` is the remote request text: sanitise before drawing."""

    jid: str
    text: str = ""


@dataclass(frozen=True, slots=True)
class SubscriptionAnswered(Event):
    """We approved or denied the request of `jid`."""

    jid: str
    approved: bool


@dataclass(frozen=True, slots=True)
class BlockListReceived(Event):
    """The server's whole block list (XEP-0191); `requested` when the user asked (/blocked)."""

    jids: tuple[str, ...]
    requested: bool = False


@dataclass(frozen=True, slots=True)
class BlockListChanged(Event):
    """JIDs were blocked or unblocked (by us, or by another of our clients); an unblock
    with no JIDs empties the list."""

    jids: tuple[str, ...]
    blocked: bool


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


@dataclass(frozen=True, slots=True)
class ArchivePage(Event):
    """A page of our own server archive (XEP-0313) was read during a catch-up; its
    messages came just before, as MessageReceived. `marker` is where the next catch-up
    continues: an archive id, "" for the archive's start, None for unchanged. `done` ends
    the catch-up: `truncated` when it stopped at its bound with more left, `failed` when
    the server gave no answer or no archive. `gap` when the archive no longer held the
    marker (messages may be missing). A link event: core keeps it, the UI never sees it."""

    marker: str | None
    done: bool = False
    fetched: int = 0
    truncated: bool = False
    failed: bool = False
    gap: bool = False
