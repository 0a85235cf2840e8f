"""Messages as the rest of the program sees them: one record per message."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import Enum

from .ids import ChatKey


class Direction(Enum):
    INCOMING = "in"
    OUTGOING = "out"


class Encryption(Enum):
    """How a message arrived (or left): shown next to every message."""

    PLAIN = "plain"
    OMEMO_TRUSTED = "omemo-trusted"
    OMEMO_UNTRUSTED = "omemo-untrusted"
    UNDECRYPTABLE = "undecryptable"


class Delivery(Enum):
    """The state of a message: received ones are RECEIVED, ours move along the rest."""

    RECEIVED = "received"
    PENDING = "pending"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One message. `sender` is the bare JID (1:1) of who wrote it; `body` is raw remote text:
    it is sanitised only where it is drawn. In a room (`nick` set: the writer's nick
    then, remote text) `sender` is the writer's real bare JID when the room shows it,
    else the occupant JID `room@service/nick`."""

    id: str
    chat: ChatKey
    direction: Direction
    sender: str
    body: str
    timestamp: datetime
    encryption: Encryption = Encryption.PLAIN
    delivery: Delivery = Delivery.RECEIVED
    stanza_id: str | None = None
    origin_id: str | None = None
    error: str | None = None
    nick: str | None = None  # a room message: who wrote it, as the room named them
    # Corrections (XEP-0308, domain/corrections.py):
    remote_id: str | None = None  # the sender's stanza id: what a correction names (never
    # used to drop duplicates: anyone may copy it)
    replaces: str | None = None  # the id of the message this one claims to correct
    original_body: str | None = None  # a corrected message: the body it first had
    applied_to: str | None = None  # an applied correction: the local id of the message it
    # changed; such a record is kept (duplicates, the outbox) but never shown by itself
    occupant: str | None = None  # a room message: the writer's continuous presence, as
    # core saw it when it arrived (None: not established)
    occupant_id: str | None = None  # a room message: the writer's XEP-0421 occupant-id,
    # set by protocol only when the room announces urn:xmpp:occupant-id:0 (it then replaces
    # any id a client sends): the room's stable id of the person, kept across nick changes
    # and rejoins. `occupant` is ours (one presence as core saw it), this one the room's

    @property
    def in_room(self) -> bool:
        return self.nick is not None

    @property
    def edited(self) -> bool:
        return self.original_body is not None

    @property
    def shown(self) -> bool:
        """Drawn as a message of its own (an applied correction is not: it changed one)."""
        return self.applied_to is None

    def with_delivery(self, delivery: Delivery, error: str | None = None) -> ChatMessage:
        return replace(self, delivery=delivery, error=error)
