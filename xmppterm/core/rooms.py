"""One identity's group chats (XEP-0045), as core keeps them: `session.rooms`.

- The rooms we are in, with our nick (and password), are kept in the encrypted store
  (record "rooms"): after a reconnect (LinkUp) and after a restart every one of them
  is joined again; a room we left or were removed from (kicked, banned…) is dropped
  from it and never rejoined by ourselves.
- Each room is an open chat (ChatOpened(room=True)); its RoomState changes only
  through the reducers of domain/rooms.py, from the link's room events.
- Room intents: JoinRoom, LeaveRoom, ChangeNick, SetSubject, InviteToRoom, AnswerInvite
  here; the administration intents go to core/room_admin.py (`self.admin`).
- Messages (outbox, reflections, archive): core/room_messages.py.
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..domain import events as ev
from ..domain.ids import ChatKey, InvalidJid, parse_jid, parse_local
from ..domain.messages import ChatMessage
from ..domain.ports import EventSink
from ..domain.rooms import (
    AnswerInvite,
    ChangeNick,
    CreateRoom,
    InviteToRoom,
    JoinRoom,
    LeaveRoom,
    OccupantsChanged,
    RoomArchivePage,
    RoomFeaturesChanged,
    RoomIntent,
    RoomInvited,
    RoomJoined,
    RoomJoinFailed,
    RoomLeft,
    RoomMembershipLost,
    RoomServiceFound,
    RoomState,
    RoomSubjectChanged,
    SetSubject,
    occupant_left,
    occupant_present,
    occupant_renamed,
)
from ..protocol.muc.port import RoomPort
from ..store.store import Store
from .link import Link, NotConnected
from .room_admin import RoomAdminControl
from .room_messages import RoomMessages, rooms_of

if TYPE_CHECKING:
    from .session import AccountSession

log = logging.getLogger(__name__)
RECORD = "rooms"  # {room: {"nick": …, "password": …}}
ROOM_EVENTS = (RoomJoined, RoomJoinFailed, RoomLeft, OccupantsChanged, RoomSubjectChanged,
               RoomFeaturesChanged, RoomInvited, RoomArchivePage, RoomMembershipLost,
               RoomServiceFound)
OFFLINE = "{account} is offline: the room is joined when it connects."
NO_SERVICE = ("No group-chat service is known for {account} yet (your server may have none): "
              "give the full address, e.g. {name}@conference.example.org")


def room_address(text: str) -> str:
    """A room's bare JID (room@service), or InvalidJid."""
    jid = parse_jid(text)
    if not jid.local or jid.resource:
        raise InvalidJid(f"{text[:60]!r} is not a room address (room@service)")
    return jid.bare


class RoomsControl:
    def __init__(self, session: AccountSession, store: Store, emit: EventSink) -> None:
        self._session, self._store, self._emit = session, store, emit
        self.account = session.account
        self.saved: dict[str, dict[str, str]] = {}  # room -> nick, password
        self.states: dict[str, RoomState] = {}
        self.service: str | None = None  # the server's group-chat service (RoomServiceFound)
        self.messages = RoomMessages(session, store, emit)
        self.admin = RoomAdminControl(emit, self.join, store)

    # -- what the session asks -------------------------------------------------------------
    async def load(self) -> None:
        blob = await self._store.load_record(self.account, RECORD)
        self.saved = json.loads(blob.decode("utf-8")) if blob is not None else {}
        for room, entry in self.saved.items():
            self.states.setdefault(room, RoomState(self._chat(room), entry.get("nick", "")))

    def is_room(self, jid: str) -> bool:
        return jid in self.saved or jid in self.states

    def _chat(self, room: str) -> ChatKey:
        return ChatKey(self.account, room)

    async def _save(self) -> None:
        await self._store.save_record(self.account, RECORD,
                                      json.dumps(self.saved).encode("utf-8"))

    async def link_up(self, link: Link) -> None:
        """A new session: join every room again (and the bookmarked ones)."""
        for room in list(self.saved):
            await self._enter(room, link)
        await self.admin.link_up(self.account, link, set(self.saved))

    def link_lost(self) -> None:
        self.messages.synced.clear()
        for room, state in self.states.items():
            if state.joined:
                self.states[room] = replace(state, joined=False)

    async def _enter(self, room: str, link: Link | None) -> bool:
        port = rooms_of(link)
        if port is None:
            return False
        entry = self.saved[room]
        since = await self.messages.last_seen(self._chat(room))
        port.join(room, entry.get("nick", ""), entry.get("password", ""), since)
        return True

    # -- intents -------------------------------------------------------------------------------
    async def handle(self, intent: RoomIntent) -> None:
        link = self._session.online_link
        try:
            await self._dispatch(intent, link)
        except InvalidJid as exc:
            self._say(f"Not a usable room address: {exc}", error=True)
        except NotConnected:
            chat = getattr(intent, "room", None)
            self._say("You are not in that room now (offline, or not joined yet).",
                      chat if isinstance(chat, ChatKey) else None, error=True)

    async def _dispatch(self, intent: RoomIntent, link: Link | None) -> None:
        port = rooms_of(link)
        if isinstance(intent, JoinRoom | CreateRoom):
            found = self._on_service(intent)
            if found is None:
                return
            intent = found
        match intent:
            case JoinRoom():
                await self.join(intent)
            case LeaveRoom(room=chat, reason=reason):
                await self._leave(chat, reason)
            case ChangeNick(room=chat, nick=nick) if port is not None:
                port.change_nick(chat.jid, nick)
            case SetSubject(room=chat, subject=subject) if port is not None:
                port.set_subject(chat.jid, subject)
            case InviteToRoom(room=chat, jid=jid, reason=reason) if port is not None:
                invitee = parse_jid(jid).bare
                password = self.saved.get(chat.jid, {}).get("password", "")
                port.invite(chat.jid, invitee, reason, password)
                self._say(f"Invited {invitee} to {chat.jid}.", chat)
            case AnswerInvite(room=room, accept=True, password=password):
                await self.join(JoinRoom(self.account, room, password=password))
            case AnswerInvite(accept=False):
                self._decline(intent, port)
            case ChangeNick() | SetSubject() | InviteToRoom():
                raise NotConnected()
            case _:
                await self.admin.handle(intent, link, self.states.get(_room_of(intent)))

    def _on_service(self, intent: JoinRoom | CreateRoom) -> RoomIntent | None:
        """A room given by its bare name (no '@'), lower-cased, put on the identity's
        group-chat service; None (the user is told) while none is known. InvalidJid
        for a name that cannot be a JID's local part."""
        if "@" in intent.room:
            return intent
        name = parse_local(intent.room)
        if self.service is None:
            self._say(NO_SERVICE.format(account=self.account, name=name), error=True)
            return None
        return replace(intent, room=f"{name}@{self.service}")

    async def join(self, intent: JoinRoom) -> None:
        """Join (and keep joining after reconnects) a room; the chat opens at once."""
        room = room_address(intent.room)
        nick = intent.nick or parse_jid(self._session.config.jid).local
        self.saved[room] = {"nick": nick, "password": intent.password}
        await self._save()
        current = self.states.get(room)
        if current is None or not current.joined:
            self.states[room] = RoomState(self._chat(room), nick)
        await self._session.open_chat(self._chat(room), intent.focus)
        if not await self._enter(room, self._session.online_link):
            self._say(OFFLINE.format(account=self.account), self._chat(room))

    def _decline(self, intent: AnswerInvite, port: RoomPort | None) -> None:
        """A mediated invitation is declined through the room (XEP-0045 §7.8.2); a direct
        one (XEP-0249 has no decline) is only forgotten: the room is not told."""
        if not intent.mediated or not intent.inviter:
            return
        room, inviter = room_address(intent.room), parse_jid(intent.inviter).bare
        if port is None:
            self._say(f"{self.account} is offline: {inviter} was not told that you declined "
                      f"{room}.", error=True)
            return
        port.decline(room, inviter)
        self._say(f"Declined the invitation to {room}; {inviter} is told through the room.")

    async def _leave(self, chat: ChatKey, reason: str) -> None:
        self.saved.pop(chat.jid, None)
        await self._save()
        port = rooms_of(self._session.online_link)
        if port is not None and port.nick(chat.jid) is not None:
            port.leave(chat.jid, reason)  # RoomLeft follows from the link
            return
        self._left(RoomLeft(self.account, chat))

    # -- events from the link ------------------------------------------------------------------
    async def on_event(self, event: ev.Event) -> None:
        self.admin.observe(event)
        match event:
            case RoomServiceFound(service=service):
                self.service = service
            case RoomJoined():
                await self._joined(event)
            case RoomJoinFailed(room=chat):
                self.saved.pop(chat.jid, None)
                await self._save()
                self.states.pop(chat.jid, None)
                self._emit(event)
            case RoomLeft(room=chat):
                if chat.jid in self.saved:
                    self.saved.pop(chat.jid)
                    await self._save()
                self._left(event)
            case RoomMembershipLost(room=chat) if chat.jid in self.saved:
                self._emit(event)
                await self._enter(chat.jid, self._session.online_link)
            case RoomArchivePage():
                await self.messages.page(event)
            case _:
                if self._update(event):
                    await self._save()
                self._emit(event)
                await self._tell_omemo(event)

    async def _joined(self, event: RoomJoined) -> None:
        room = event.room.jid
        if room not in self.saved:  # left while the join was under way
            port = rooms_of(self._session.online_link)
            if port is not None:
                port.leave(room)
            return
        if self.saved[room].get("nick") != event.nick:
            self.saved[room]["nick"] = event.nick
            await self._save()
        state = RoomState(event.room, event.nick, True,
                          {o.nick: o for o in event.occupants}, event.subject, event.features)
        self.states[room] = state
        self._emit(event)
        omemo = self._omemo()
        if omemo is not None:  # decide the room's encryption before anything leaves
            await omemo.joined(state, self._session.online_link)
        await self.messages.flush(state)
        await self.messages.catch_up(state)

    def _left(self, event: RoomLeft) -> None:
        state = self.states.get(event.room.jid)
        if state is not None:
            self.states[event.room.jid] = replace(state, joined=False, occupants={})
        omemo = self._omemo()
        if omemo is not None:
            omemo.left(event.room)
        self._emit(event)

    def _omemo(self) -> Any:
        """OMEMO in rooms (core/room_omemo.py), when the session has it."""
        return getattr(self._session, "room_omemo", None)

    async def _tell_omemo(self, event: ev.Event) -> None:
        omemo, room = self._omemo(), getattr(event, "room", None)
        state = self.states.get(room.jid) if isinstance(room, ChatKey) else None
        if omemo is None or state is None:
            return
        if isinstance(event, OccupantsChanged):
            omemo.occupants_changed(state)
        elif isinstance(event, RoomFeaturesChanged):
            await omemo.features_changed(state, self._session.online_link)

    def _update(self, event: ev.Event) -> bool:
        """Apply a room event to its RoomState; True when our saved nick changed."""
        room = getattr(event, "room", None)
        state = self.states.get(room.jid) if isinstance(room, ChatKey) else None
        if state is None:
            return False
        renamed = False
        match event:
            case OccupantsChanged():
                for nick, _ in event.gone:
                    state = occupant_left(state, nick)
                for old, new in event.renamed:
                    state = occupant_renamed(state, old, new)
                for occupant in event.present:
                    state = occupant_present(state, occupant)
                entry = self.saved.get(state.room.jid)
                if entry is not None and entry.get("nick") != state.nick:
                    entry["nick"], renamed = state.nick, True
            case RoomSubjectChanged(subject=subject):
                state = replace(state, subject=subject)
            case RoomFeaturesChanged(features=features):
                state = replace(state, features=features)
        self.states[state.room.jid] = state
        return renamed

    # -- messages ----------------------------------------------------------------------------
    async def send(self, chat: ChatKey, body: str,
                   correcting: ChatMessage | None = None) -> ChatMessage | None:
        state = self.states.get(chat.jid) or RoomState(chat, self.saved.get(
            chat.jid, {}).get("nick", ""))
        return await self.messages.send(state, body, correcting)

    async def incoming(self, msg: ChatMessage) -> None:
        await self.messages.incoming(msg)

    def _say(self, text: str, chat: ChatKey | None = None, error: bool = False) -> None:
        self._emit(ev.Notice(self.account, text, chat, error=error))


def _room_of(intent: RoomIntent) -> str:
    room = getattr(intent, "room", "")
    return room.jid if isinstance(room, ChatKey) else str(room)
