"""Identifiers: accounts, JIDs and chats.

A chat is always `ChatKey(account, bare_jid)`: the same contact seen from two
identities is two chats that share nothing (DESIGN.md principle 2). The one exception
is a private chat through a room, `ChatKey.private`: the occupant JID `room/nick`.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

MAX_PART = 1023
LOCAL_FORBIDDEN = "\"&'/:<>@"  # never in a local part (RFC 7622 §3.3.1)


class InvalidJid(ValueError):
    """Raised for a string that is not a usable JID."""


@dataclass(frozen=True, slots=True, order=True)
class AccountId:
    """The name of an identity: the `<name>` of `[accounts.<name>]`."""

    name: str

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True, order=True)
class Jid:
    """A parsed JID. `bare` drops the resource."""

    local: str
    domain: str
    resource: str = ""

    @property
    def bare(self) -> str:
        return f"{self.local}@{self.domain}" if self.local else self.domain

    @property
    def full(self) -> str:
        return f"{self.bare}/{self.resource}" if self.resource else self.bare

    def __str__(self) -> str:
        return self.full


def _check_part(part: str, what: str, text: str) -> None:
    if len(part.encode("utf-8")) > MAX_PART:
        raise InvalidJid(f"{what} of {text[:60]!r} is longer than {MAX_PART} bytes")
    for ch in part:
        cat = unicodedata.category(ch)
        if ch.isspace() or cat in ("Cc", "Cf", "Cs", "Co", "Cn"):
            raise InvalidJid(f"{what} of the JID contains a forbidden character U+{ord(ch):04X}")


def parse_jid(text: str) -> Jid:
    """Parse `local@domain/resource`; localpart and domain are case-folded (NFKC)."""
    text = text.strip()
    if not text:
        raise InvalidJid("empty JID")
    bare, _, resource = text.partition("/")
    local, sep, domain = bare.rpartition("@")
    if not sep:
        local, domain = "", bare
    local = unicodedata.normalize("NFKC", local).casefold()
    domain = unicodedata.normalize("NFKC", domain).casefold().rstrip(".")
    if not domain:
        raise InvalidJid(f"{text[:60]!r} has no domain (expected name@example.org)")
    if sep and not local:
        raise InvalidJid(f"{text[:60]!r} has an empty name before '@'")
    if any(c in local for c in LOCAL_FORBIDDEN):
        raise InvalidJid(f"the name part of {text[:60]!r} contains a forbidden character")
    for part, what in ((local, "the name part"), (domain, "the domain"), (resource, "the resource")):
        _check_part(part, what, text)
    return Jid(local, domain, resource)


def parse_local(text: str) -> str:
    """A local part alone (a room name typed without its service, `plans`), normalised
    and checked as `parse_jid` does it; InvalidJid otherwise."""
    local = unicodedata.normalize("NFKC", text.strip()).casefold()
    if not local:
        raise InvalidJid("empty name")
    if any(c in local for c in LOCAL_FORBIDDEN):
        raise InvalidJid(f"the name {text[:60]!r} contains a forbidden character")
    _check_part(local, "the name", text)
    return local


def bare_jid(text: str) -> str:
    """The normalised bare JID of `text`."""
    return parse_jid(text).bare


@dataclass(frozen=True, slots=True, order=True)
class ChatKey:
    """One conversation: an identity and the bare JID of the peer (or room)."""

    account: AccountId
    jid: str

    @staticmethod
    def of(account: AccountId, jid: str) -> ChatKey:
        return ChatKey(account, bare_jid(jid))

    @staticmethod
    def private(account: AccountId, room: str, nick: str) -> ChatKey:
        """A private chat through a room (XEP-0045 §7.5): the occupant JID
        `room@service/nick`, the nick kept raw (it is remote text)."""
        return ChatKey(account, f"{bare_jid(room)}/{nick}")

    @property
    def is_private(self) -> bool:
        """A private chat with a room occupant (every other chat is a bare JID)."""
        return "/" in self.jid

    @property
    def occupant(self) -> tuple[str, str] | None:
        """(room bare JID, nick) of a private chat; None for any other chat."""
        room, _, nick = self.jid.partition("/")
        return (room, nick) if room and nick else None

    def __str__(self) -> str:
        return f"{self.account}:{self.jid}"
