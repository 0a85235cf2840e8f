"""What core sees of group chats on a link (`ProtocolLink.rooms`). No slixmpp here:
core and its unit tests import this module without loading it.

Everything a room says comes back as domain events through the link's `emit`:
RoomJoined / RoomJoinFailed, RoomLeft, OccupantsChanged (coalesced), RoomSubjectChanged,
RoomFeaturesChanged, RoomInvited, MessageReceived (room messages, `nick` set; our own
reflections OUTGOING with their origin-id), RoomArchivePage.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from ...domain.rooms import Occupant


class PrivatePort(Protocol):
    def send(self, room: str, nick: str, body: str, message_id: str) -> bool:
        """A private message to occupant `nick` of the joined `room` (XEP-0045 §7.5;
        protocol/muc/private.py). True when SENT comes as the server's ack (XEP-0198),
        False when it counts as sent once written. Raises NotConnected when offline or
        not joined. An error reply from the room comes as MessageDeliveryChanged FAILED
        on the private chat `ChatKey.private(account, room, nick)`."""
        ...


class RoomPort(Protocol):
    @property
    def private(self) -> PrivatePort:
        """Private messages through a room."""
        ...

    def join(self, room: str, nick: str, password: str = "",
             history_since: datetime | None = None) -> None:
        """Enter `room` (a bare JID) as `nick`. History comes from the room's archive
        when it has one (none is asked of the join), else since `history_since` (None:
        the room's last few messages). The outcome is RoomJoined or RoomJoinFailed."""
        ...

    def leave(self, room: str, reason: str = "") -> None:
        """Leave; RoomLeft follows (at once when we were not in the room)."""
        ...

    def change_nick(self, room: str, nick: str) -> None: ...

    def set_subject(self, room: str, subject: str) -> None: ...

    def send_groupchat(self, room: str, body: str, message_id: str,
                       replaces: str | None = None) -> bool:
        """Send to a joined room (id = origin-id = message_id; with `replaces`, a
        correction of our message with that id, XEP-0308). True when SENT comes as
        the server's ack (XEP-0198), False when it counts as sent once written. Raises
        NotConnected when offline or not joined."""
        ...

    def invite(self, room: str, jid: str, reason: str = "", password: str = "") -> None:
        """Invite `jid` (XEP-0249 direct; mediated through the room as well when the room
        is members-only, so that the room adds them as a member where it does that)."""
        ...

    def decline(self, room: str, inviter: str, reason: str = "") -> None:
        """Decline a mediated invitation (XEP-0045 §7.8.2)."""
        ...

    def joined(self, room: str) -> bool: ...

    def nick(self, room: str) -> str | None:
        """Our nick in a room we are joined to or joining."""
        ...

    def real_jid(self, room: str, nick: str) -> str | None:
        """The real bare JID of occupant `nick` of `room`, when the room shows it."""
        ...

    def occupants(self, room: str) -> tuple[Occupant, ...]: ...

    async def catch_up(self, room: str, after: str | None) -> None:
        """Read the room's archive (XEP-0313) after room stanza-id `after` (None: its
        newest page). Results come as MessageReceived, progress as RoomArchivePage."""
        ...
