"""Intents (imperative): what the user asks for. Every intent names its account."""

from __future__ import annotations

from dataclasses import dataclass

from .ids import AccountId, ChatKey


@dataclass(frozen=True, slots=True)
class Intent:
    account: AccountId


@dataclass(frozen=True, slots=True)
class SendMessage(Intent):
    chat: ChatKey
    body: str


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


@dataclass(frozen=True, slots=True)
class SearchHistory(Intent):
    """Find `text` in the stored history of one chat, or of the whole identity (chat None)."""

    text: str
    chat: ChatKey | None = None
