"""Incoming OMEMO: which messages are taken, and what each turns into.

The translator offers every live message, validated carbon and accepted archive result
to `Intake` first. A message holding an `<encrypted>` element is taken whole: its
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

from ...domain.messages import Direction
from .. import stanzas as st
from . import wire

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


class Intake:
    """What the translator asks before it reads a message itself: True means the message
    is OMEMO and was taken (queued for `deliver`, or dropped as unusable)."""

    def __init__(self, ctx: st.Context, deliver: Callable[[Envelope], None],
                 now: Callable[[], datetime]) -> None:
        self.ctx, self._deliver, self._now = ctx, deliver, now

    def live(self, message: ET.Element) -> bool:
        if not wire.encrypted_elements(message):
            return False
        self._take(live_envelope(message, self.ctx, self._now()))
        return True

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
