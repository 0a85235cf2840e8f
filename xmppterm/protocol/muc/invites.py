"""Room invitations, both ways, and the 1:1-looking messages that belong to rooms.

Sending (XEP-0249 §4, XEP-0045 §7.8.2): a direct invitation always (a mediated one can
be blocked on the way by the invitee's privacy rules); in a members-only room also the
mediated one, because that is how the room itself adds the invitee to its member list
(XEP-0249 §4: before inviting to a members-only room, make the contact a member). The
receiving client shows only one of the two (§4), as `received` does here.

Receiving: a direct invitation names the room in `jid`, which must be a room address
(a bare JID with a local part); a mediated one must come from the room's bare JID.
An invitation to a room we are in is discarded (§4).
"""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

from ...domain.rooms import RoomInvited
from . import stanzas as ms

INVITE_MEMORY = 120.0  # seconds in which a second invitation to a room is not shown


class Invitations:
    def __init__(self, client: Any, translator: Any, inside: Callable[[str], bool]) -> None:
        """`inside(room)`: we are in `room` (or joining it)."""
        self._client, self._tr, self._inside = client, translator, inside
        self._shown: dict[str, tuple[float, bool]] = {}  # room -> (when, mediated)

    def send(self, room: str, jid: str, reason: str, password: str,
             members_only: bool) -> None:
        msg = self._client.make_message(mto=jid)
        attrs = {"jid": room, **({"reason": reason} if reason else {}),
                 **({"password": password} if password else {})}
        ET.SubElement(msg.xml, f"{{{ms.CONFERENCE}}}x", attrs)
        msg.send()
        if members_only:
            mediated = self._client.make_message(mto=room)
            x = ET.SubElement(mediated.xml, ms.X_USER)
            invite = ET.SubElement(x, f"{{{ms.MUC_USER}}}invite", {"to": jid})
            if reason:
                ET.SubElement(invite, f"{{{ms.MUC_USER}}}reason").text = reason
            mediated.send()

    def decline(self, room: str, inviter: str, reason: str = "") -> None:
        """Decline a mediated invitation (XEP-0045 §7.8.2)."""
        msg = self._client.make_message(mto=room)
        x = ET.SubElement(msg.xml, ms.X_USER)
        decline = ET.SubElement(x, f"{{{ms.MUC_USER}}}decline", {"to": inviter})
        if reason:
            ET.SubElement(decline, f"{{{ms.MUC_USER}}}reason").text = reason
        msg.send()

    def received(self, xml: ET.Element) -> None:
        if xml.get("type") in ("error", "groupchat"):
            return
        # mediated first: a room adds a jabber:x:conference copy to the mediated one
        # (Prosody does), which read as direct would name the room as the inviter
        mediated = ms.mediated_invite(xml)
        found = mediated or ms.direct_invite(xml)
        if found is None or self._inside(found.room):
            return  # malformed, or a room we are in (XEP-0249 §4: discard it)
        now = asyncio.get_running_loop().time()
        self._shown = {r: s for r, s in self._shown.items() if now - s[0] < INVITE_MEMORY}
        shown = self._shown.get(found.room)
        if shown is not None and (shown[1] or mediated is None):
            return  # the second of a direct and a mediated invitation: shown once
        self._shown[found.room] = (now, mediated is not None)
        # the mediated one after the direct one: passed on quietly, so that a decline
        # reaches the inviter through the room
        self._tr.emit(RoomInvited(self._tr.account, found.room, found.inviter, found.reason,
                                  found.password, mediated=mediated is not None,
                                  again=shown is not None))

    def claims(self, xml: ET.Element) -> bool:
        """A 1:1-looking message that belongs to rooms but not to one we are in (the
        private messages of joined rooms are private.py's): a private message through a
        room we are not in, an invitation (read by its own row). Dropped here."""
        return ms.is_room_private(xml)
