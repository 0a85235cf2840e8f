"""Incoming OMEMO: which messages are taken, and what each turns into.

The translator offers every live message, validated carbon and accepted archive result
to `Intake` first; the link's room part (protocol/muc) offers it the groupchat messages
of joined rooms and the results of room archives (writers: room_intake.py).
A message holding an `<encrypted>` element is taken whole: its
`<body>` (a fallback) is never shown as the message, and nothing else outside the
encrypted payload (a correction, a reply, markup) goes into what is shown; only the
routing facts are read from the outside (who, when, the ids used to drop duplicates).

Taken messages are decrypted one at a time, in arrival order, by `Receiver`, which
turns each into one of:
- a message marked OMEMO_TRUSTED (from a verified device) or OMEMO_UNTRUSTED;
- nothing, for an empty message (key transport, session confirmation or a heartbeat,
  also "not for us" ones), and for a replay of a ciphertext already decrypted;
- an UNDECRYPTABLE message with the reason and no body.
The plaintext never goes through an XML parser (legacy OMEMO) or only through the
bounded SCE reader (OMEMO 2); it is raw remote text, sanitised where it is drawn.
"""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from ...domain.messages import Direction
from .. import stanzas as st
from . import room_intake as ri
from . import wire

if TYPE_CHECKING:
    from .room_intake import RoomDirectory

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Envelope:
    """The routing facts of an encrypted message, read from outside the payload."""

    message: ET.Element  # the stanza holding <encrypted>
    chat: str  # the peer's bare JID
    direction: Direction
    sender: str  # the author's bare JID: decrypted as coming from this account
    timestamp: datetime
    stanza_id: str | None
    origin_id: str | None
    fallback: bool  # it carried a <body>
    live: bool = False  # received as it was sent (not a carbon or from the archive)
    nick: str | None = None  # in a room (`chat` the room): the writer's nick
    # In a room `sender` is the writer's real bare JID as the room tells it, "" when it
    # does not: such a message cannot be decrypted (room_intake.py).


def _envelope(message: ET.Element, ctx: st.Context, now: datetime, peer: str,
              direction: Direction, stanza_id: str | None = None,
              timestamp: datetime | None = None, live: bool = False) -> Envelope:
    outgoing = direction is Direction.OUTGOING
    return Envelope(
        message=message, chat=peer, direction=direction, sender=ctx.own if outgoing else peer,
        timestamp=timestamp or st.trusted_timestamp(message, ctx, now),
        stanza_id=stanza_id if stanza_id is not None else st.stanza_id(message, ctx),
        origin_id=st.origin_id(message), fallback=bool(st.body_of(message)), live=live)


def live_envelope(message: ET.Element, ctx: st.Context, now: datetime) -> Envelope | None:
    if message.get("type", "normal") not in ("chat", "normal"):
        return None
    sender = st.jid_of(message.get("from"))
    if sender is None:
        return None
    return _envelope(message, ctx, now, sender.bare, Direction.INCOMING, live=True)


def carbon_envelope(inner: ET.Element, peer: str, ctx: st.Context, now: datetime,
                    sent: bool) -> Envelope:
    return _envelope(inner, ctx, now, peer, Direction.OUTGOING if sent else Direction.INCOMING)


def archive_envelope(result: ET.Element, ctx: st.Context, now: datetime) -> Envelope | None:
    """From an archive `<result>` already accepted as ours (mam.open_result)."""
    forwarded = result.find(st.FORWARDED)
    inner = forwarded.find(f"{st.CLIENT}message") if forwarded is not None else None
    if inner is None or inner.get("type", "normal") not in ("chat", "normal"):
        return None
    sender, target = st.jid_of(inner.get("from")), st.jid_of(inner.get("to"))
    if sender is None or target is None:
        return None
    if sender.bare == ctx.own:
        direction, peer = Direction.OUTGOING, target.bare
    elif target.bare == ctx.own:
        direction, peer = Direction.INCOMING, sender.bare
    else:
        return None
    delay = forwarded.find(st.DELAY) if forwarded is not None else None
    stamp = st.parse_stamp(delay.get("stamp")) if delay is not None else None
    result_id = result.get("id")
    return _envelope(inner, ctx, now, peer, direction,
                     stanza_id=result_id if result_id and len(result_id) <= st.MAX_ID else None,
                     timestamp=min(stamp, now) if stamp else now)


def _group_envelope(message: ET.Element, ctx: st.Context, room: str, nick: str,
                    real: str | None, stanza_id: str | None, timestamp: datetime,
                    live: bool) -> Envelope:
    return Envelope(
        message=message, chat=room,
        direction=Direction.OUTGOING if real == ctx.own else Direction.INCOMING,
        sender=real or "", timestamp=timestamp, stanza_id=stanza_id,
        origin_id=st.origin_id(message), fallback=bool(st.body_of(message)), live=live,
        nick=nick)


def live_group_envelope(message: ET.Element, ctx: st.Context, rooms: RoomDirectory | None,
                        now: datetime) -> Envelope | None:
    """From an occupant of a room we are in; the writer as the occupant table has it."""
    found = ri.occupant_of(message)
    if found is None or rooms is None or not rooms.joined(found[0]):
        return None
    room, nick = found
    return _group_envelope(message, ctx, room, nick, rooms.real_jid(room, nick),
                           ri.room_stanza_id(message, room),
                           ri.room_timestamp(message, room, now), live=True)


def archived_group_envelope(result: ET.Element, room: str, ctx: st.Context,
                            rooms: RoomDirectory | None, now: datetime) -> Envelope | None:
    """From a result of `room`'s archive; the writer as the archive recorded it."""
    forwarded = result.find(st.FORWARDED)
    inner = forwarded.find(f"{st.CLIENT}message") if forwarded is not None else None
    found = ri.occupant_of(inner, room) if inner is not None else None
    if inner is None or found is None or inner.get("type") != "groupchat":
        return None
    nick = found[1]
    real = ri.archived_real_jid(inner) or (rooms.real_jid(room, nick) if rooms else None)
    delay = forwarded.find(st.DELAY) if forwarded is not None else None
    stamp = st.parse_stamp(delay.get("stamp")) if delay is not None else None
    result_id = result.get("id")
    return _group_envelope(inner, ctx, room, nick, real,
                           result_id if result_id and len(result_id) <= st.MAX_ID else None,
                           min(stamp, now) if stamp else now, live=False)


class Intake:
    """What the translator asks before it reads a message itself: True means the message
    is OMEMO and was taken (queued for `deliver`, or dropped as unusable)."""

    def __init__(self, ctx: st.Context, deliver: Callable[[Envelope], None],
                 now: Callable[[], datetime]) -> None:
        self.ctx, self._deliver, self._now = ctx, deliver, now
        # The joined rooms and their occupants' real JIDs (room_intake.RoomDirectory).
        self.rooms: RoomDirectory | None = None

    def live(self, message: ET.Element) -> bool:
        if not wire.encrypted_elements(message):
            return False
        if message.get("type") == "groupchat":
            self._take_group(live_group_envelope(message, self.ctx, self.rooms, self._now()))
        else:
            self._take(live_envelope(message, self.ctx, self._now()))
        return True

    def room_archived(self, result: ET.Element, room: str) -> bool:
        """A `<result>` of a query to the archive of `room` (a bare JID), already accepted
        as an answer to our open query from that room: True when it is OMEMO (taken)."""
        forwarded = result.find(st.FORWARDED)
        inner = forwarded.find(f"{st.CLIENT}message") if forwarded is not None else None
        if inner is None or not wire.encrypted_elements(inner):
            return False
        self._take_group(archived_group_envelope(result, room, self.ctx, self.rooms,
                                                 self._now()))
        return True

    def _take_group(self, envelope: Envelope | None) -> None:
        if envelope is None:
            log.info("dropped an OMEMO groupchat message that is not from a joined room")
            return
        self._deliver(envelope)

    def carbon(self, inner: ET.Element, peer: str, sent: bool) -> bool:
        if not wire.encrypted_elements(inner):
            return False
        self._take(carbon_envelope(inner, peer, self.ctx, self._now(), sent))
        return True

    def archived(self, result: ET.Element) -> bool:
        forwarded = result.find(st.FORWARDED)
        inner = forwarded.find(f"{st.CLIENT}message") if forwarded is not None else None
        if inner is None or not wire.encrypted_elements(inner):
            return False
        self._take(archive_envelope(result, self.ctx, self._now()))
        return True

    def _take(self, envelope: Envelope | None) -> None:
        if envelope is None:
            log.info("dropped an OMEMO message that is not a one-to-one chat message")
            return
        self._deliver(envelope)
