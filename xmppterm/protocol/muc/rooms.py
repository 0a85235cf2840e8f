"""Group chats of one identity's client (XEP-0045): joining, occupants, room messages,
reflections, subjects. Implements `port.RoomPort`. slixmpp's xep_0045 plugin is not
used: it announces groupchat messages and invitations from anyone, takes every error
message for a room's, and keeps a room table beside this one. Stanzas come through the
rows of `translate.ROOM_HANDLERS` (matchers below), read by `stanzas.py`.

Origins: a groupchat message or presence counts only from a room we joined or are
joining; subject, `<delay>`, `<stanza-id>` only as the room set them. Our reflections
(from our nick) are reported OUTGOING with their origin-id: core marks the message it
keeps DELIVERED instead of showing it twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from slixmpp.exceptions import IqError, IqTimeout
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXMLMask, MatchXPath

from ...domain import events as ev
from ...domain.ids import ChatKey
from ...domain.rooms import (
    ANONYMITY_CODES,
    CONFIG_CHANGED,
    NICK_ASSIGNED,
    ROOM_CREATED,
    Occupant,
    RoomFeatures,
    RoomFeaturesChanged,
    RoomJoined,
    RoomJoinFailed,
    RoomLeft,
    RoomSubjectChanged,
)
from .. import stanzas as st
from ..errors import NotConnected
from . import stanzas as ms
from .archive import RoomArchive
from .invites import Invitations
from .private import PrivateChats
from .room_state import Room, raiser

log = logging.getLogger(__name__)
PRESENCE_EVENT = "xt_room_presence"  # data: a presence with <x muc#user>
GROUPCHAT_EVENT = "xt_groupchat"  # data: a message of type groupchat (any content)
INVITE_EVENT = "xt_room_invite"  # data: a message with a direct or mediated invitation
JOIN_TIMEOUT = 30.0
SUBJECT_WAIT = 3.0  # after our own presence: the subject ends the join (XEP-0045 §7.2.15)
DISCO_TIMEOUT = 15.0
BURST = 0.2  # seconds occupant presences are gathered into one OccupantsChanged
FIRST_HISTORY = 50  # a room without an archive, joined for the first time
REFRESH_CODES = ANONYMITY_CODES | {CONFIG_CHANGED}


class RoomOps:
    def __init__(self, client: Any, translator: Any, request_ack: Callable[[], None]) -> None:
        """`translator` is the link's: `account`, `ctx`, `emit`, `note_sent`,
        `handed_over`, `omemo` (its intake: offered encrypted groupchat messages first)."""
        self._client, self._tr, self._request_ack = client, translator, request_ack
        self._rooms: dict[str, Room] = {}
        self._topics: dict[str, str] = {}  # ids of our subject changes -> their room
        self._tasks: set[asyncio.Future[Any]] = set()
        self.archive = RoomArchive(client, translator, self._rooms.__contains__,
                                   self._archived_message)
        self.invitations = Invitations(client, translator, self._rooms.__contains__)
        self.private = PrivateChats(client, translator, self.joined, self._rooms.__contains__,
                                    request_ack)  # private messages through rooms
        for name, matcher, event in (
                ("xt room presence", MatchXPath(f"{{jabber:client}}presence/{ms.X_USER}"),
                 PRESENCE_EVENT),
                ("xt groupchat", MatchXMLMask("<message xmlns='jabber:client' type='groupchat'/>"),
                 GROUPCHAT_EVENT),
                ("xt direct invite", MatchXPath(f"{{jabber:client}}message/{{{ms.CONFERENCE}}}x"),
                 INVITE_EVENT),
                ("xt mediated invite",
                 MatchXPath(f"{{jabber:client}}message/{ms.X_USER}/{{{ms.MUC_USER}}}invite"),
                 INVITE_EVENT)):
            client.register_handler(Callback(name, matcher, raiser(client, event)))

    # -- what core and OMEMO read ------------------------------------------------------------
    def joined(self, room: str) -> bool:
        found = self._rooms.get(room)
        return found is not None and found.joined

    def nick(self, room: str) -> str | None:
        found = self._rooms.get(room)
        return found.nick if found is not None else None

    def real_jid(self, room: str, nick: str) -> str | None:
        found = self._rooms.get(room)
        occupant = found.table.occupants.get(nick) if found is not None else None
        return occupant.jid if occupant is not None else None

    def occupants(self, room: str) -> tuple[Occupant, ...]:
        found = self._rooms.get(room)
        return tuple(found.table.occupants.values()) if found is not None else ()

    def _key(self, room: str) -> ChatKey:
        return ChatKey(self._tr.account, room)

    def _emit(self, event: ev.Event) -> None:
        self._tr.emit(event)

    def _spawn(self, aw: Any) -> None:
        task: asyncio.Future[Any] = asyncio.ensure_future(aw)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- joining -----------------------------------------------------------------------------
    def join(self, room: str, nick: str, password: str = "",
             history_since: datetime | None = None) -> None:
        current = self._rooms.get(room)
        if current is not None and (current.joined or current.outcome is not None):
            if current.joined:  # already in: report it again (core may have missed it)
                self._joined(current)
            return
        entry = Room(room, nick, password)
        loop = asyncio.get_running_loop()  # under way from now: a second join waits
        entry.outcome, entry.subject_seen = loop.create_future(), loop.create_future()
        self._rooms[room] = entry
        self._spawn(self._join(entry, history_since))

    async def _join(self, room: Room, history_since: datetime | None) -> None:
        assert room.outcome is not None and room.subject_seen is not None  # set by join()
        before = await self.features(room.jid)
        room.features = before or room.features  # the join's presences are read with it
        self._client.send(self._join_stanza(room, before, history_since))
        try:
            why = await asyncio.wait_for(asyncio.shield(room.outcome), JOIN_TIMEOUT)
        except TimeoutError:
            why = "The room did not answer; try /join again later"
        if self._rooms.get(room.jid) is not room:
            return  # left or removed meanwhile (reported there)
        if why is not None:
            del self._rooms[room.jid]
            self._emit(RoomJoinFailed(self._tr.account, self._key(room.jid), why))
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(room.subject_seen), SUBJECT_WAIT)
        room.features = await self.features(room.jid) or before or RoomFeatures()
        if self._rooms.get(room.jid) is room:
            room.joined = True
            self._joined(room)

    def _joined(self, room: Room) -> None:
        self._emit(RoomJoined(self._tr.account, self._key(room.jid), room.nick,
                              tuple(room.table.occupants.values()), room.features,
                              room.subject, room.created))

    def _join_stanza(self, room: Room, features: RoomFeatures | None,
                     since: datetime | None) -> Any:
        pres = self._client.make_presence(pto=f"{room.jid}/{room.nick}")
        pres.xml.append(ms.join_element(room.password, features, since, FIRST_HISTORY))
        return pres

    async def features(self, room: str) -> RoomFeatures | None:
        """The room's disco#info, read (None: no answer, or the room does not exist)."""
        try:
            iq = await self._client.plugin["xep_0030"].get_info(jid=room, timeout=DISCO_TIMEOUT)
        except (IqError, IqTimeout):
            return None
        query = iq.xml.find(f"{{{ms.DISCO_INFO}}}query")
        return ms.room_features(query) if query is not None else None

    async def _refresh(self, room: Room) -> None:
        found = await self.features(room.jid)
        if found is not None and self._rooms.get(room.jid) is room:
            room.features = found
            self._emit(RoomFeaturesChanged(self._tr.account, self._key(room.jid), found))

    # -- leaving, nick, subject ------------------------------------------------------------
    def leave(self, room: str, reason: str = "") -> None:
        found = self._rooms.pop(room, None)
        if found is None:
            return
        self._flush(found)
        if self._tr.up:
            pres = self._client.make_presence(pto=f"{room}/{found.nick}", ptype="unavailable",
                                              pstatus=reason or None)
            pres.send()
        self._emit(RoomLeft(self._tr.account, self._key(room)))

    def change_nick(self, room: str, nick: str) -> None:
        found = self._rooms.get(room)
        if found is None or not found.joined:
            raise NotConnected(f"not in {room}")
        found.pending_nick = nick
        self._client.make_presence(pto=f"{room}/{nick}").send()

    def set_subject(self, room: str, subject: str) -> None:
        if not self.joined(room):
            raise NotConnected(f"not in {room}")
        msg = self._client.make_message(mto=room, mtype="groupchat")
        msg["subject"] = subject
        msg["id"] = uuid.uuid4().hex
        self._topics[msg["id"]] = room
        msg.send()

    def refused(self, xml: ET.Element) -> bool:
        """An error answer to one of our subject changes: told in the room (True)."""
        room = self._topics.get(xml.get("id") or "")
        if room is None or (xml.get("from") or "").partition("/")[0] != room:
            return False
        del self._topics[xml.get("id") or ""]
        self._tr.emit(ev.Notice(self._tr.account, "The room refused to change the topic ("
                                f"{st.error_text(xml)}): only moderators may, unless the room "
                                "lets everyone.", self._key(room), error=True))
        return True

    # -- sending -----------------------------------------------------------------------------
    def send_groupchat(self, room: str, body: str, message_id: str,
                       replaces: str | None = None) -> bool:
        if not self._tr.up or not self.joined(room):
            raise NotConnected(f"not in {room}")
        if self._tr.handed_over(message_id):
            return True
        acked = bool(self._client.plugin["xep_0198"].enabled_out)
        self._tr.note_sent(message_id, room, acked)
        msg = self._client.make_message(mto=room, mbody=body, mtype="groupchat")
        msg["id"] = message_id
        ET.SubElement(msg.xml, "{urn:xmpp:sid:0}origin-id", {"id": message_id})
        if replaces:  # a correction of our message with that id (XEP-0308)
            ET.SubElement(msg.xml, "{urn:xmpp:message-correct:0}replace", {"id": replaces})
        msg.send()  # no receipt request: rooms answer with the reflection
        if acked:
            self._request_ack()
        return acked

    def invite(self, room: str, jid: str, reason: str = "", password: str = "") -> None:
        found = self._rooms.get(room)
        self.invitations.send(room, jid, reason, password,
                              found is not None and found.features.members_only)

    def decline(self, room: str, inviter: str, reason: str = "") -> None:
        self.invitations.decline(room, inviter, reason)

    async def catch_up(self, room: str, after: str | None) -> None:
        await self.archive.run(room, after)

    def close(self) -> None:
        for room in self._rooms.values():
            if room.timer is not None:
                room.timer.cancel()
        for task in list(self._tasks):
            task.cancel()

    # -- presences (rows of translate.ROOM_HANDLERS) ---------------------------------------
    def presence(self, stanza: Any) -> None:
        found = ms.split_occupant(stanza.xml.get("from"))
        room = self._rooms.get(found[0]) if found is not None else None
        read = ms.room_presence(stanza.xml, room is not None and room.features.occupant_id)
        if read is None or room is None:
            return
        if read.own:
            self._own_presence(room, read)
            return
        report = room.joined
        if read.available:
            room.table.came(read.occupant, report)
        elif read.new_nick is not None:
            room.table.rename(read.nick, read.new_nick, report)
        else:
            room.table.left(read.nick, read.removal, report)
        self._schedule(room)

    def _own_presence(self, room: Room, read: ms.RoomPresence) -> None:
        if read.available:
            if not room.joined:
                room.created = room.created or ROOM_CREATED in read.codes
                if NICK_ASSIGNED in read.codes or read.nick != room.nick:
                    room.nick = read.nick
                room.table.came(read.occupant, False)
                if room.outcome is not None and not room.outcome.done():
                    room.outcome.set_result(None)
                return
            room.nick, room.pending_nick = read.nick, None
            room.table.came(read.occupant, True)
            self._schedule(room)
            if read.codes & REFRESH_CODES:
                self._spawn(self._refresh(room))
        elif read.new_nick is not None:
            room.table.rename(read.nick, read.new_nick, room.joined)
            room.nick = read.new_nick
            self._schedule(room)
        else:
            self._removed(room, read)

    def _removed(self, room: Room, read: ms.RoomPresence) -> None:
        del self._rooms[room.jid]
        self._flush(room)
        why = read.removal or "The room ended your presence in it"
        if read.reason:
            why = f"{why}: {read.reason}"
        if room.outcome is not None and not room.outcome.done():
            room.outcome.set_result(why)
        self._emit(RoomLeft(self._tr.account, self._key(room.jid), why,
                            removed=bool(read.removal)))

    def presence_error(self, stanza: Any) -> None:
        sender = stanza.xml.get("from") or ""
        room = self._rooms.get(sender.partition("/")[0])
        if room is None:
            return
        if not room.joined and room.outcome is not None and not room.outcome.done():
            room.outcome.set_result(ms.join_error(stanza.xml))
        elif room.pending_nick is not None:
            room.pending_nick = None
            self._emit(ev.Notice(self._tr.account, "The nick could not be changed: "
                                 + ms.join_error(stanza.xml), self._key(room.jid), error=True))

    def _schedule(self, room: Room) -> None:
        if room.joined and room.timer is None and room.table.burst:
            room.timer = asyncio.get_running_loop().call_later(BURST, self._flush, room)

    def _flush(self, room: Room) -> None:
        room.timer = None
        event = room.table.take(self._key(room.jid))
        if event is not None and room.joined:
            self._emit(event)

    # -- messages ----------------------------------------------------------------------------
    def message(self, msg: Any) -> None:
        xml: ET.Element = msg.xml
        sender = xml.get("from") or ""
        room = self._rooms.get(sender.partition("/")[0])
        if room is None:
            log.warning("dropped a groupchat message that did not come from a room we are in")
            return
        omemo = self._tr.omemo
        if omemo is not None and omemo.live(xml):
            return
        found = ms.split_occupant(sender)
        subject = ms.subject_of(xml)
        if subject is not None:
            self._subject(room, subject, found[1] if found else "")
        elif found is None:
            if ms.status_codes(xml) & REFRESH_CODES and room.joined:
                self._spawn(self._refresh(room))
        else:
            self._live_message(room, xml, found[1])

    def _subject(self, room: Room, subject: str, by: str) -> None:
        room.subject = subject
        if not room.joined:
            if room.subject_seen is not None and not room.subject_seen.done():
                room.subject_seen.set_result(None)
            return
        self._emit(RoomSubjectChanged(self._tr.account, self._key(room.jid), subject, by))

    def _live_message(self, room: Room, xml: ET.Element, nick: str) -> None:
        if room.timer is not None:  # presences that came first are told first: who was
            room.timer.cancel()  # present when it was written decides a correction
            self._flush(room)
        now = datetime.now(UTC)
        occupant = room.table.occupants.get(nick)
        writer = ms.Writer(nick == room.nick, occupant.jid if occupant else None,
                           room.features.occupant_id)
        chat = ms.room_message(xml, self._key(room.jid), nick, writer, self._tr.ctx.own,
                               uuid.uuid4().hex, ms.room_timestamp(xml, room.jid, now),
                               ms.room_stanza_id(xml, room.jid))
        if chat is not None:
            self._emit(ev.MessageReceived(self._tr.account, chat))

    def _archived_message(self, room: str, inner: ET.Element, result_id: str | None,
                          stamp: datetime | None) -> None:
        """A message of `room`'s archive (already checked to be an answer to our query)."""
        found = ms.split_occupant(inner.get("from"))
        if found is None or found[0] != room or inner.get("type") != "groupchat":
            return
        entry = self._rooms.get(room)
        nick = found[1]
        real = ms.archived_real_jid(inner)
        own = real == self._tr.ctx.own if real else (entry is not None and nick == entry.nick)
        now = datetime.now(UTC)
        ids = entry is not None and entry.features.occupant_id
        chat = ms.room_message(inner, self._key(room), nick, ms.Writer(own, real, ids),
                               self._tr.ctx.own, uuid.uuid4().hex,
                               min(stamp, now) if stamp else now, result_id)
        if chat is not None:
            self._emit(ev.MessageReceived(self._tr.account, chat))

    def invite_received(self, msg: Any) -> None:
        self.invitations.received(msg.xml)

    def claims(self, xml: ET.Element, report: bool = True) -> bool:
        """A 1:1-looking message that belongs to rooms (private.py, invites.py)."""
        return self.private.claims(xml, report) or self.invitations.claims(xml)

    def archived(self, xml: ET.Element) -> bool:
        """A result of a room archive query of ours (taken here), or not ours to read."""
        return self.archive.take(xml)

    def forget(self, room: str) -> None:
        """Self-ping (XEP-0410) found that `room` no longer counts us: drop it without a
        word to the room, so that the next `join` sends a real join presence."""
        found = self._rooms.pop(room, None)
        if found is not None and found.timer is not None:
            found.timer.cancel()

    def link_lost(self) -> None:
        """The session ended: every room must be joined again on the next one."""
        for room in list(self._rooms.values()):
            if room.timer is not None:
                room.timer.cancel()
        self._rooms.clear()
