"""Room administration and bookmarks of one identity's rooms, for core.rooms.

`RoomAdminControl.handle` takes the admin intents (CreateRoom, ShowRoomConfig,
SetRoomConfig, Moderate, RetractRoomMessage, ListAffiliation, SetBookmark) with the
identity's online link and the room's state; `link_up` reads the bookmarks at each
login and joins those marked autojoin; `observe` sees the room events (a join we
asked for in CreateRoom ends there).

A private room (CreateRoom) is members-only, non-anonymous (so OMEMO can work),
persistent, unlisted and archived, as far as the server's form allows: what it did not
offer is said, never silently skipped. A room that already exists is configured only
when we own it; otherwise it is joined as it is, and the user is told.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from ..domain import events as ev
from ..domain.ids import AccountId, ChatKey, InvalidJid, parse_jid
from ..domain.ports import EventSink
from ..domain.rooms import (
    Affiliation,
    Bookmark,
    CreateRoom,
    JoinRoom,
    ListAffiliation,
    Moderate,
    ModerationAction,
    RetractRoomMessage,
    Role,
    RoomConfigShown,
    RoomIntent,
    RoomJoined,
    RoomJoinFailed,
    RoomListing,
    RoomState,
    SetBookmark,
    SetRoomConfig,
    ShowRoomConfig,
)
from ..protocol.errors import RequestFailed
from ..store.store import Store

log = logging.getLogger(__name__)
JOIN_TIMEOUT = 30.0
ROLE_ACTIONS = {ModerationAction.KICK: Role.NONE, ModerationAction.VOICE: Role.PARTICIPANT,
                ModerationAction.DEVOICE: Role.VISITOR}
AFFILIATION_ACTIONS = {ModerationAction.BAN: Affiliation.OUTCAST,
                       ModerationAction.MEMBER: Affiliation.MEMBER,
                       ModerationAction.ADMIN: Affiliation.ADMIN,
                       ModerationAction.OWNER: Affiliation.OWNER,
                       ModerationAction.NONE: Affiliation.NONE}
DONE = {ModerationAction.KICK: "kicked", ModerationAction.VOICE: "given voice",
        ModerationAction.DEVOICE: "made a visitor (no voice)", ModerationAction.BAN: "banned",
        ModerationAction.MEMBER: "made a member", ModerationAction.ADMIN: "made an admin",
        ModerationAction.OWNER: "made an owner",
        ModerationAction.NONE: "no longer affiliated (member, admin or owner)"}
TITLES = {Affiliation.OWNER: "Owners", Affiliation.ADMIN: "Admins",
          Affiliation.MEMBER: "Members", Affiliation.OUTCAST: "Banned",
          Affiliation.NONE: "Without affiliation"}

JoinFn = Callable[[JoinRoom], Awaitable[None]]


class AdminPort(Protocol):
    """What core uses of a link's `admin` (protocol.muc.admin.RoomAdmin)."""

    async def configure_private(self, room: str) -> Any: ...

    async def show_config(self, room: str) -> tuple[tuple[str, str, str, str], ...]: ...

    async def set_config(self, room: str, values: Any) -> None: ...

    async def set_role(self, room: str, nick: str, role: Role, reason: str = "") -> None: ...

    async def set_affiliation(self, room: str, jid: str, affiliation: Affiliation,
                              reason: str = "") -> None: ...

    async def affiliations(self, room: str, affiliation: Affiliation) -> tuple[Any, ...]: ...

    async def retract(self, room: str, stanza_id: str, reason: str = "") -> None: ...


class BookmarkPort(Protocol):
    """What core uses of a link's `bookmarks` (protocol.muc.bookmarks.Bookmarks)."""

    async def fetch(self) -> tuple[Bookmark, ...]: ...

    async def put(self, mark: Bookmark) -> str: ...

    async def remove(self, room: str) -> None: ...


def room_jid(text: str) -> str:
    """A room's bare JID (room@service), or InvalidJid."""
    jid = parse_jid(text.strip())
    if not jid.local or jid.resource:
        raise InvalidJid(f"{text!r} is not a room address (room@service)")
    return jid.bare


class RoomAdminControl:
    def __init__(self, emit: EventSink, join: JoinFn, store: Store | None = None) -> None:
        """`join` is core.rooms' join (it reports RoomJoined / RoomJoinFailed);
        `store` finds the room's stanza-id of a message to retract."""
        self._emit, self._join, self._store = emit, join, store
        self._waiting: dict[tuple[AccountId, str], asyncio.Future[ev.Event]] = {}

    def _say(self, account: AccountId, text: str, chat: ChatKey | None = None,
             error: bool = False) -> None:
        self._emit(ev.Notice(account, text, chat, error=error))

    def observe(self, event: ev.Event) -> None:
        """Every room event core sees: a join CreateRoom waits for ends here."""
        if isinstance(event, RoomJoined | RoomJoinFailed):
            waiter = self._waiting.get((event.account, event.room.jid))
            if waiter is not None and not waiter.done():
                waiter.set_result(event)

    async def handle(self, intent: RoomIntent, link: Any, state: RoomState | None) -> None:
        """One admin intent; `link` is the identity's online link (None: offline)."""
        admin: AdminPort | None = getattr(link, "admin", None)
        marks: BookmarkPort | None = getattr(link, "bookmarks", None)
        if admin is None or marks is None:
            self._say(intent.account, f"{intent.account} is offline: /connect first.",
                      error=True)
            return
        try:
            await self._dispatch(intent, link, admin, marks, state)
        except InvalidJid as exc:
            self._say(intent.account, f"Not a usable address: {exc}", error=True)
        except RequestFailed as exc:
            chat = getattr(intent, "room", None)
            self._say(intent.account, f"{_where(intent)}: {exc}.",
                      chat if isinstance(chat, ChatKey) else None, error=True)

    async def _dispatch(self, intent: RoomIntent, link: Any, admin: AdminPort,
                        marks: BookmarkPort, state: RoomState | None) -> None:
        match intent:
            case CreateRoom():
                await self._create(intent, link, admin, state)
            case ShowRoomConfig(room=room):
                fields = await admin.show_config(room.jid)
                self._emit(RoomConfigShown(intent.account, room, fields))
            case SetRoomConfig(room=room, values=values):
                await admin.set_config(room.jid, values)
                names = ", ".join(var for var, _ in values)
                self._say(intent.account, f"Room settings changed: {names}.", room)
            case Moderate():
                await self._moderate(intent, admin, state)
            case RetractRoomMessage():
                await self._retract(intent, admin)
            case ListAffiliation(room=room, affiliation=affiliation):
                listed = await admin.affiliations(room.jid, affiliation)
                lines = tuple(_listed_line(item) for item in listed) or ("(nobody)",)
                self._emit(RoomListing(intent.account, room, TITLES[affiliation], lines))
            case SetBookmark():
                await self._bookmark(intent, marks)

    # -- creating a private room -------------------------------------------------------------
    async def _create(self, intent: CreateRoom, link: Any, admin: AdminPort,
                      state: RoomState | None) -> None:
        account, room = intent.account, room_jid(intent.room)
        chat = ChatKey(account, room)
        if state is not None and state.joined:
            me = state.me
            created, mine = False, me is not None and me.affiliation is Affiliation.OWNER
        else:
            joined = await self._join_and_wait(account, room, intent.nick)
            if isinstance(joined, RoomJoinFailed):
                self._say(account, f"Could not create {room}: {joined.reason}", error=True)
                return
            created = joined.created
            mine = created or any(o.nick == joined.nick and o.affiliation is Affiliation.OWNER
                                  for o in joined.occupants)
        if not mine:
            self._say(account, f"{room} already exists and you are not its owner: you joined "
                      "it as it is (its settings are its owner's).", chat, error=True)
            return
        done = await admin.configure_private(room)
        members = await self._add_members(account, admin, room, intent.members,
                                          getattr(link, "rooms", None))
        self._say(account, _created_text(room, created, done, members), chat)
        if done.missing:
            self._say(account, "This server did not offer: " + ", ".join(done.missing)
                      + ". Check /config before trusting the room with secrets.", chat,
                      error=True)

    async def _join_and_wait(self, account: AccountId, room: str,
                             nick: str) -> RoomJoined | RoomJoinFailed:
        key = (account, room)
        waiter: asyncio.Future[ev.Event] = asyncio.get_running_loop().create_future()
        self._waiting[key] = waiter
        try:
            await self._join(JoinRoom(account, room, nick))
            result = await asyncio.wait_for(waiter, JOIN_TIMEOUT)
        except TimeoutError:
            return RoomJoinFailed(account, ChatKey(account, room), "the room did not answer")
        finally:
            self._waiting.pop(key, None)
        assert isinstance(result, RoomJoined | RoomJoinFailed)
        return result

    async def _add_members(self, account: AccountId, admin: AdminPort, room: str,
                           members: tuple[str, ...], rooms: Any) -> list[str]:
        """Make each a member, and invite them (through the link's room port)."""
        added = []
        for member in members:
            try:
                jid = parse_jid(member.strip()).bare
                await admin.set_affiliation(room, jid, Affiliation.MEMBER)
            except (InvalidJid, RequestFailed) as exc:
                self._say(account, f"Could not make {member} a member: {exc}.",
                          ChatKey(account, room), error=True)
                continue
            if rooms is not None:
                rooms.invite(room, jid)
            added.append(jid)
        return added

    # -- moderation ------------------------------------------------------------------------
    async def _moderate(self, intent: Moderate, admin: AdminPort,
                        state: RoomState | None) -> None:
        room, target, action = intent.room, intent.target.strip(), intent.action
        role = ROLE_ACTIONS.get(action)
        if role is not None:
            await admin.set_role(room.jid, target, role, intent.reason)
        else:
            jid = _real_jid(target, state)
            await admin.set_affiliation(room.jid, jid, AFFILIATION_ACTIONS[action],
                                        intent.reason)
            target = f"{target} ({jid})" if jid != target else target
        self._say(intent.account, f"{target} {DONE[action]}.", room)

    async def _retract(self, intent: RetractRoomMessage, admin: AdminPort) -> None:
        msg = await self._store.get_message(intent.account, intent.message_id) \
            if self._store is not None else None
        if msg is None or msg.chat != intent.room or not msg.stanza_id:
            self._say(intent.account, "That message has no id from the room, so it cannot be "
                      "retracted.", intent.room, error=True)
            return
        await admin.retract(intent.room.jid, msg.stanza_id, intent.reason)
        self._say(intent.account, "Asked the room to retract that message.", intent.room)

    # -- bookmarks -----------------------------------------------------------------------------
    async def _bookmark(self, intent: SetBookmark, marks: BookmarkPort) -> None:
        room = room_jid(intent.room)
        if intent.remove:
            await marks.remove(room)
            self._say(intent.account, f"Bookmark of {room} removed.")
            return
        note = await marks.put(Bookmark(room, intent.name, intent.nick, intent.autojoin,
                                        intent.password))
        how = "joined at every login" if intent.autojoin else "not joined automatically"
        self._say(intent.account, f"Bookmarked {room} ({how}).")
        if note:
            self._say(intent.account, note, error=True)

    async def link_up(self, account: AccountId, link: Any, joined: set[str]) -> None:
        """At each login: read the bookmarks (BookmarksReceived comes from the link) and
        join the autojoin rooms not in `joined`."""
        marks: BookmarkPort | None = getattr(link, "bookmarks", None)
        if marks is None:
            return
        try:
            found = await marks.fetch()
        except RequestFailed as exc:
            self._say(account, f"{account}: {exc}.", error=True)
            return
        for mark in found:
            if mark.autojoin and mark.room not in joined:
                await self._join(JoinRoom(account, mark.room, mark.nick, mark.password,
                                          focus=False))


def _where(intent: RoomIntent) -> str:
    room = getattr(intent, "room", "")
    return room.jid if isinstance(room, ChatKey) else str(room) or str(intent.account)


def _real_jid(target: str, state: RoomState | None) -> str:
    """An affiliation target: a JID as given, or an occupant's nick → its real JID."""
    occupant = state.occupants.get(target) if state is not None else None
    if occupant is not None:
        if occupant.jid is None:
            raise RequestFailed(f"the room does not show {target}'s address: give their JID")
        return occupant.jid
    if "@" not in target:
        raise RequestFailed(f"nobody here is called {target}: give a nick present or a JID")
    return parse_jid(target).bare


def _listed_line(item: Any) -> str:
    parts = [item.jid] + ([f"as {item.nick}"] if item.nick else []) + \
        ([f"({item.reason})"] if item.reason else [])
    return " ".join(parts)


def _created_text(room: str, created: bool, done: Any, members: list[str]) -> str:
    verb = "Created" if created else "Configured"
    props = ", ".join(done.set) or "nothing"
    who = f" Members added and invited: {', '.join(members)}." if members else ""
    return f"{verb} the private room {room}: {props}.{who}"
