"""Incoming OMEMO in group chats: who wrote an encrypted groupchat message.

A room relays messages as `room@service/nick`; OMEMO needs the writer's real bare JID
(its devices and sessions belong to that account). Where it comes from:
- a live message: the occupant table of the joined room (a non-anonymous room shows
  every occupant's real JID in their presence), through `RoomDirectory`;
- a result of the room's archive (XEP-0313): the `<x xmlns=muc#user><item jid=…/>`
  that the room adds to the archived message when it shows real JIDs (exactly one,
  else none is believed), or, failing that, the occupant with that nick now.
The room is trusted only to say who; the cryptography checks it: a message decrypts
only with a session of a device published by that very account (and OMEMO 2's
envelope must name that account as `from` and the room as `to`). A message whose
writer the room does not show cannot be decrypted and is marked so.

`<delay>` and `<stanza-id>` count only when the room itself put them there.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime
from typing import Protocol

from .. import stanzas as st

MUC_USER = "{http://jabber.org/protocol/muc#user}"
NO_REAL_JID = "the room does not show who sent it"


class RoomDirectory(Protocol):
    """What the rooms part of the link knows of the rooms we are in."""

    def joined(self, room: str) -> bool:
        """We are an occupant of `room` (a bare JID) now."""
        ...

    def real_jid(self, room: str, nick: str) -> str | None:
        """The real bare JID of the occupant `nick` of `room`, if the room shows it."""
        ...


def room_stanza_id(message: ET.Element, room: str) -> str | None:
    """The `<stanza-id>` the room added (by = the room's bare JID), if exactly one."""
    found = [el.get("id") for el in message.findall(st.STANZA_ID)
             if st.bare_of(el.get("by")) == room]
    return found[0] if len(found) == 1 and found[0] and len(found[0]) <= st.MAX_ID else None


def room_timestamp(message: ET.Element, room: str, now: datetime) -> datetime:
    """The room's own `<delay>` (room history), never later than now; else `now`."""
    delays = [d for d in message.findall(st.DELAY) if st.bare_of(d.get("from")) == room]
    stamp = st.parse_stamp(delays[0].get("stamp")) if len(delays) == 1 else None
    return min(stamp, now) if stamp else now


def archived_real_jid(message: ET.Element) -> str | None:
    """The writer's real bare JID as the room's archive recorded it: exactly one
    `<x><item jid>` (two that disagree, or a malformed JID: none)."""
    jids = {st.bare_of(item.get("jid")) for x in message.findall(f"{MUC_USER}x")
            for item in x.findall(f"{MUC_USER}item") if item.get("jid") is not None}
    return jids.pop() if len(jids) == 1 and "" not in jids else None


def occupant_of(message: ET.Element, room: str | None = None) -> tuple[str, str] | None:
    """(room, nick) of a groupchat message from an occupant (`room` given: only from that
    room); None for one from the room itself or with a malformed `from`."""
    sender = st.jid_of(message.get("from"))
    if sender is None or not sender.resource or (room is not None and sender.bare != room):
        return None
    return sender.bare, sender.resource
