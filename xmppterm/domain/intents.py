"""Intents (imperative): what the user asks for. Every intent names its account."""

from __future__ import annotations

from dataclasses import dataclass

from .ids import AccountId, ChatKey
from .roster import Show


@dataclass(frozen=True, slots=True)
class Intent:
    account: AccountId


@dataclass(frozen=True, slots=True)
class SendMessage(Intent):
    chat: ChatKey
    body: str


@dataclass(frozen=True, slots=True)
class CorrectMessage(Intent):
    """`/correct`: our last message in `chat` is to read `body` (XEP-0308). `target`:
    the id of the message the user saw as their last one (refused if a newer one came
    meanwhile, e.g. sent from another device); None: whichever is last."""

    chat: ChatKey
    body: str
    target: str | None = None


@dataclass(frozen=True, slots=True)
class OpenChat(Intent):
    chat: ChatKey
    focus: bool = True
    at: str | None = None  # a message id: open the chat around it (a search result)


@dataclass(frozen=True, slots=True)
class CloseChat(Intent):
    chat: ChatKey


@dataclass(frozen=True, slots=True)
class Connect(Intent):
    pass


@dataclass(frozen=True, slots=True)
class Disconnect(Intent):
    pass


# Roster, subscriptions, blocking and own presence: core hands these to `core.contacts`.
@dataclass(frozen=True, slots=True)
class ContactIntent(Intent):
    """The base of the intents about contacts, blocking and presence."""


@dataclass(frozen=True, slots=True)
class AddContact(ContactIntent):
    """Add `jid` to the roster, ask to see its presence and pre-approve its request."""

    jid: str
    name: str = ""


@dataclass(frozen=True, slots=True)
class RemoveContact(ContactIntent):
    jid: str


@dataclass(frozen=True, slots=True)
class RenameContact(ContactIntent):
    jid: str
    name: str


@dataclass(frozen=True, slots=True)
class AnswerSubscription(ContactIntent):
    """Approve (let `jid` see our presence) or deny its subscription request."""

    jid: str
    approve: bool


@dataclass(frozen=True, slots=True)
class Block(ContactIntent):
    jid: str


@dataclass(frozen=True, slots=True)
class Unblock(ContactIntent):
    jid: str


@dataclass(frozen=True, slots=True)
class ListBlocked(ContactIntent):
    """Ask the server for the block list (answered by `BlockListReceived(requested=True)`)."""


@dataclass(frozen=True, slots=True)
class SetPresence(ContactIntent):
    """Our presence for this identity; kept for its next connections too."""

    show: Show
    status: str = ""


@dataclass(frozen=True, slots=True)
class ShowRoute(Intent):
    """Describe where this identity's connections go (answered by `RouteDescribed`)."""


@dataclass(frozen=True, slots=True)
class SearchHistory(Intent):
    """Find `text` in the stored history of one chat, or of the whole identity (chat None)."""

    text: str
    chat: ChatKey | None = None
