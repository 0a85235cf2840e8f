"""Private chats through a room (XEP-0045 §7.5), as core handles them.

A private chat is `ChatKey.private(account, room, nick)`. Its messages are always PLAIN:
the room's service reads them, and OMEMO in them is not supported. So:
- In a room where OMEMO is on (core/room_omemo.py `enabled`), nothing is written to an
  occupant through the room: refused, text back (SendRefused), with the hint to write
  to the occupant's real JID when the room shows it.
- A message is stored PENDING first, like any other, and handed to the room only while
  we are joined and the nick is present. Written while the room is not joined, it waits
  and leaves after the next join (`flush`), or is FAILED then if the nick is gone.
  Written while the nick is absent (left, renamed): refused, text back.
- Nick continuity: a nick is not a person. When the occupant leaves or changes nick, the
  private chat says so; when a nick comes back (or is there again after a rejoin), it
  says that it may be someone else.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..domain import events as ev
from ..domain.ids import ChatKey
from ..domain.messages import ChatMessage, Delivery, Direction
from ..domain.omemo import ChatSecurity, ChatSecurityChanged
from ..domain.ports import EventSink
from ..domain.rooms import OccupantsChanged, RoomJoined, RoomLeft, RoomState
from ..domain.sanitize import clean_field
from ..store.store import Store
from .link import NotConnected
from .marks import mark_sent
from .room_messages import rooms_of

if TYPE_CHECKING:
    from .session import AccountSession

PLAIN_NOTE = ("Private messages through {room} are never encrypted (PLAIN): the room's "
              "server reads them.")


def names(chat: ChatKey) -> tuple[str, str]:
    """(room, nick) of a private chat, for a line to the user (the nick cleaned)."""
    room, nick = chat.occupant or ("", "")
    return room, clean_field(nick, 60)


def omemo_refusal(state: RoomState | None, room: str, nick: str) -> str:
    """Why no plaintext private message goes through an encrypted room, and where to
    write instead."""
    occupant = state.occupants.get(nick) if state is not None else None
    where = (f"write to their real JID instead: /msg {occupant.jid}" if occupant is not None
             and occupant.jid else "the room does not show their real JID, so ask them for it "
             "(in the room) and write to that")
    return (f"{room} is encrypted (OMEMO): a private message through it would be plaintext "
            f"that the room's server reads. Not sent; {where}.")


class PrivateChats:
    def __init__(self, session: AccountSession, store: Store, emit: EventSink) -> None:
        self._session, self._store, self._emit = session, store, emit
        self.account = session.account

    def _state(self, room: str) -> RoomState | None:
        return self._session.rooms.states.get(room)

    def _encrypted(self, room: str) -> bool:
        room_omemo: Any = getattr(self._session, "room_omemo", None)
        return room_omemo is not None and room_omemo.enabled(room)

    def refusal(self, chat: ChatKey) -> str | None:
        """Why nothing may be written to this private chat now, or None."""
        room, nick = chat.occupant or ("", "")
        state = self._state(room)
        if self._encrypted(room):
            return omemo_refusal(state, room, nick)
        if state is not None and state.joined and nick not in state.occupants:
            return (f"{names(chat)[1]} is not in {room} now: the nick may come back as "
                    "someone else, so nothing is sent to it while it is gone.")
        if state is None and not self._session.rooms.is_room(room):
            return f"You are not in {room}: /join {room} first."
        return None

    def opened(self, chat: ChatKey) -> None:
        """A private chat was opened: its encryption, in words."""
        self._emit(ChatSecurityChanged(self.account, chat, ChatSecurity.PLAIN))
        self._emit(ev.Notice(self.account, PLAIN_NOTE.format(room=names(chat)[0]), chat))

    # -- sending -----------------------------------------------------------------------------
    async def send(self, chat: ChatKey, body: str) -> ChatMessage | None:
        why = self.refusal(chat)
        if why is not None:
            self._emit(ev.SendRefused(self.account, chat, body, why))
            return None
        message_id = uuid.uuid4().hex
        msg = ChatMessage(id=message_id, chat=chat, direction=Direction.OUTGOING,
                          sender=self._session.config.jid, body=body,
                          timestamp=datetime.now(UTC), delivery=Delivery.PENDING,
                          origin_id=message_id)
        await self._store.add_message(msg)
        if chat.jid not in self._session.open_chats:
            await self._session.open_chat(chat, focus=False, skip=msg.id)
        self._emit(ev.MessageReceived(self.account, msg))
        await self.transmit(msg)
        return msg

    async def transmit(self, msg: ChatMessage) -> bool:
        """Hand a pending private message to the room now if we are joined there;
        False: it stays pending (for `flush` after the next join)."""
        room, nick = msg.chat.occupant or ("", "")
        port = rooms_of(self._session.online_link)
        if port is None or not port.joined(room):
            return False
        try:
            acked = port.private.send(room, nick, msg.body, msg.id)
        except NotConnected:
            return False
        if not acked:
            await mark_sent(self._store, self._emit, msg)
        return True

    async def flush(self, state: RoomState) -> None:
        """After a join: the room's pending private messages leave, in order, to nicks
        that are present; to a nick that is not, or in a room now encrypted, FAILED."""
        for msg in await self._store.pending(self.account):
            found = msg.chat.occupant
            if found is None or found[0] != state.room.jid or \
                    msg.direction is not Direction.OUTGOING:
                continue
            why = self.refusal(msg.chat)
            if why is not None:
                await self._store.update_message(msg.with_delivery(Delivery.FAILED, why))
                self._emit(ev.MessageDeliveryChanged(self.account, msg.chat, msg.id,
                                                     Delivery.FAILED, why))
            elif not await self.transmit(msg):
                break

    # -- nick continuity ---------------------------------------------------------------------
    def _open(self, room: str) -> list[ChatKey]:
        return [ChatKey(self.account, jid) for jid in self._session.open_chats
                if "/" in jid and jid.partition("/")[0] == room]

    def observe(self, event: ev.Event) -> None:
        """Before core applies a room event: tell each open private chat of that room
        what happened to its nick."""
        room = getattr(event, "room", None)
        if not isinstance(room, ChatKey) or not isinstance(
                event, OccupantsChanged | RoomJoined | RoomLeft):
            return
        chats = self._open(room.jid)
        if not chats:
            return
        before = self._state(room.jid)
        for chat in chats:
            line = _news(event, chat, before)
            if line:
                self._emit(ev.Notice(self.account, line, chat))


def _news(event: ev.Event, chat: ChatKey, before: RoomState | None) -> str:
    room, nick = chat.occupant or ("", "")
    shown = clean_field(nick, 60)
    match event:
        case RoomLeft():
            return f"You left {room}: nothing goes to {shown} until you are back in it."
        case RoomJoined(occupants=occupants):
            if any(o.nick == nick for o in occupants):
                return (f"{shown} is in {room} (you joined again): it may be someone else "
                        "than before.")
            return f"{shown} is not in {room} now: nothing is sent to it."
        case OccupantsChanged(gone=gone, renamed=renamed, present=present):
            for old, new in renamed:
                if old == nick:
                    return (f"{shown} is now called {clean_field(new, 60)} in {room}: nothing "
                            f"more is sent to {shown} (/msg NICK in the room for the new one).")
            if any(g == nick for g, _ in gone):
                return f"{shown} left {room}: nothing more is sent to that nick."
            absent = before is None or nick not in before.occupants
            came = any(o.nick == nick for o in present) or any(n == nick for _, n in renamed)
            if absent and came:
                return f"{shown} is back in {room}: it may be someone else than before."
    return ""

