"""Private messages through a room (XEP-0045 §7.5), both ways, and in our own archive.

A private chat is `ChatKey.private(account, room, nick)`: the occupant JID, never the
room's chat and never a 1:1 chat with the room's bare JID.

Origins: a message of type chat/normal from `room/nick` is a private message only when
we are joined to `room` (the room's service is then the only one who can send from that
address; a `<x muc#user>` marker is not required, XEP-0045 only says clients SHOULD add
it). From a room we are not in, a message carrying the marker is dropped (invites.py),
one without it stays what it looks like (a 1:1 message). In our own archive (XEP-0313)
a message from or to `room/nick` goes to the private chat when the room is known here
(joined or being joined); one with the marker from an unknown room is dropped with a
log line; without the marker it is read as a 1:1 message as before.

OMEMO in private messages is not supported: an `<encrypted>` one is shown UNDECRYPTABLE
with the reason, never with its fallback body. Corrections (XEP-0308) are not applied:
one shows as a message of its own. Sending: type chat to `room/nick` with
`<x muc#user/>` and an origin-id, no receipt request, no chat states (the room's service
reads and may drop them). An error reply from the room marks the message FAILED.
"""

from __future__ import annotations

import logging
import uuid
import xml.etree.ElementTree as ET
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from ...domain import events as ev
from ...domain.ids import ChatKey
from ...domain.messages import ChatMessage, Delivery, Direction, Encryption
from .. import stanzas as st
from ..errors import NotConnected
from ..omemo import wire
from . import stanzas as ms

log = logging.getLogger(__name__)
NOT_SUPPORTED = ("OMEMO in private messages through a room is not supported (the sender "
                 "encrypted it; write to their real JID to use OMEMO)")
MAX_TRACKED = 1024  # ids of private messages we sent: for the room's error replies


def is_encrypted(message: ET.Element) -> bool:
    return bool(wire.encrypted_elements(message))


def private_message(message: ET.Element, chat: ChatKey, direction: Direction, sender: str,
                    local_id: str, timestamp: datetime,
                    stanza_id: str | None) -> ChatMessage | None:
    """The message of a private chat: a body, or UNDECRYPTABLE for an `<encrypted>` one
    (its fallback body dropped); None for neither (a chat state alone)."""
    encrypted = is_encrypted(message)
    body = st.body_of(message)
    if not body and not encrypted:
        return None
    outgoing = direction is Direction.OUTGOING
    return ChatMessage(
        id=local_id, chat=chat, direction=direction, sender=sender,
        body="" if encrypted else body, timestamp=timestamp,
        encryption=Encryption.UNDECRYPTABLE if encrypted else Encryption.PLAIN,
        delivery=Delivery.SENT if outgoing else Delivery.RECEIVED,
        error=NOT_SUPPORTED if encrypted else None, stanza_id=stanza_id,
        origin_id=st.origin_id(message), remote_id=st.remote_id(message))
    # no `replaces`: a nick is not a person (whoever holds it later could "correct" an
    # earlier holder's message), so a correction shows as a message of its own


def private_stanza(message: ET.Element, body: str, message_id: str) -> None:
    """Fill an outgoing `<message type=chat>` to room/nick: body, id, the muc#user
    marker and the origin-id; nothing else (no receipt request, no chat state)."""
    message.set("id", message_id)
    ET.SubElement(message, f"{st.CLIENT}body").text = body
    ET.SubElement(message, ms.X_USER)
    ET.SubElement(message, "{urn:xmpp:sid:0}origin-id", {"id": message_id})


class PrivateChats:
    def __init__(self, client: Any, translator: Any, joined: Callable[[str], bool],
                 known: Callable[[str], bool], request_ack: Callable[[], None]) -> None:
        """`joined(room)`: we are in it; `known(room)`: joined or being joined."""
        self._client, self._tr = client, translator
        self._joined, self._known, self._request_ack = joined, known, request_ack
        self._sent: OrderedDict[str, str] = OrderedDict()  # id -> occupant JID

    def _chat(self, room: str, nick: str) -> ChatKey:
        return ChatKey.private(self._tr.account, room, nick)

    # -- incoming ----------------------------------------------------------------------------
    def claims(self, xml: ET.Element, report: bool = True) -> bool:
        """A message of type chat/normal from an occupant of a room we joined: a private
        message (reported, with `report`, when it has a body or is encrypted; a chat
        state alone is taken quietly). False for anything else."""
        if xml.get("type", "normal") not in ("chat", "normal"):
            return False
        found = ms.split_occupant(xml.get("from"))
        if found is None or not self._joined(found[0]):
            return False
        if not report:
            return True
        room, nick = found
        now = datetime.now(UTC)
        chat = private_message(xml, self._chat(room, nick), Direction.INCOMING,
                               f"{room}/{nick}", uuid.uuid4().hex,
                               st.trusted_timestamp(xml, self._tr.ctx, now),
                               st.stanza_id(xml, self._tr.ctx))
        if chat is not None:
            self._tr.emit(ev.MessageReceived(self._tr.account, chat))
        return True

    def archived(self, result: ET.Element, now: datetime) -> bool:
        """A result of our own archive that is a private message (True: taken, shown in
        its private chat or dropped); False for anything else."""
        forwarded = result.find(st.FORWARDED)
        inner = forwarded.find(f"{st.CLIENT}message") if forwarded is not None else None
        if inner is None or inner.get("type", "normal") not in ("chat", "normal"):
            return False
        own = self._tr.ctx.own
        outgoing = st.bare_of(inner.get("from")) == own
        if not outgoing and st.bare_of(inner.get("to")) != own:
            return False
        found = ms.split_occupant(inner.get("to" if outgoing else "from"))
        if found is None:
            return False
        if not self._known(found[0]):
            if inner.find(ms.X_USER) is None:
                return False  # looks like a 1:1 message with a resource: read as one
            log.info("dropped an archived private message through a room not known here")
            return True
        room, nick = found
        delay = forwarded.find(st.DELAY) if forwarded is not None else None
        stamp = st.parse_stamp(delay.get("stamp")) if delay is not None else None
        result_id = result.get("id")
        chat = private_message(
            inner, self._chat(room, nick), Direction.OUTGOING if outgoing else Direction.INCOMING,
            own if outgoing else f"{room}/{nick}", uuid.uuid4().hex,
            min(stamp, now) if stamp else now,
            result_id if result_id and len(result_id) <= st.MAX_ID else None)
        if chat is not None:
            self._tr.emit(ev.MessageReceived(self._tr.account, chat))
        return True

    # -- outgoing ----------------------------------------------------------------------------
    def send(self, room: str, nick: str, body: str, message_id: str) -> bool:
        """Send a private message to occupant `nick` of the joined `room`. True when SENT
        comes as the server's ack (XEP-0198), False when it counts as sent once written.
        Raises NotConnected when offline or not joined."""
        if not self._tr.up or not self._joined(room):
            raise NotConnected(f"not in {room}")
        if self._tr.handed_over(message_id):
            return True
        occupant = f"{room}/{nick}"
        acked = bool(self._client.plugin["xep_0198"].enabled_out)
        self._tr.note_sent(message_id, occupant, acked)
        self._sent[message_id] = occupant
        while len(self._sent) > MAX_TRACKED:
            self._sent.popitem(last=False)
        msg = self._client.make_message(mto=occupant, mtype="chat")
        private_stanza(msg.xml, body, message_id)
        msg.send()
        if acked:
            self._request_ack()
        return acked

    def refused(self, xml: ET.Element) -> bool:
        """An error reply to one of our private messages, from that occupant JID or its
        room: the message is FAILED with the (sanitised where drawn) reason."""
        message_id = xml.get("id") or ""
        occupant = self._sent.get(message_id)
        sender = xml.get("from") or ""
        if occupant is None or sender not in (occupant, occupant.partition("/")[0]):
            return False
        del self._sent[message_id]
        room, _, nick = occupant.partition("/")
        self._tr.emit(ev.MessageDeliveryChanged(self._tr.account, self._chat(room, nick),
                                                message_id, Delivery.FAILED,
                                                st.error_text(xml)))
        return True
