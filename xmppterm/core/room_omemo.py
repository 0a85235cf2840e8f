"""One identity's OMEMO policy in group chats: which rooms are encrypted, for whom, and
what the status line says. The cryptography is the link's (protocol/omemo/group.py).

OMEMO works only where every member's real JID is known: non-anonymous rooms
(`RoomFeatures.omemo_possible`). Which room is encrypted (the identity's `omemo`):
- "never": none;
- "default": a room turned on or off with /omemo; otherwise on as soon as it is seen
  to be non-anonymous AND members-only (a private group, as Conversations and Gajim
  decide);
- "always": every room where it is possible.
Once on, a room stays on (stored in the encrypted store). If the room later stops
showing real JIDs (status code 173/174, or a re-read configuration), its messages are
refused with the reason, never sent in plaintext, until it shows them again or the
user turns OMEMO off there. /omemo on is refused in a room that hides real JIDs.

A message is encrypted for every member: the owners, admins and members of the room's
affiliation lists (whether online or not) and the real JIDs of everyone present; a
member without a usable OMEMO device stops the send (group.py says whom).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

from ..config import AccountConfig
from ..domain import events as ev
from ..domain.ids import ChatKey
from ..domain.messages import ChatMessage, Encryption
from ..domain.omemo import ChatSecurity, ChatSecurityChanged, OmemoMode, chat_security
from ..domain.ports import EventSink
from ..domain.rooms import MEMBER_AFFILIATIONS, RoomState
from ..protocol.errors import RequestFailed
from ..protocol.omemo.port import OmemoRefused, Sealed
from ..store.store import Store
from .link import NotConnected
from .omemo import Outgoing, Slow, _within, port_of, refused, sealed_as

log = logging.getLogger(__name__)
ROOMS_RECORD = "omemo_rooms"
MEMBERS_MAX_AGE = 300.0  # seconds an affiliation list read from the room is reused
HIDDEN = ("This room does not show its members' real JIDs to everyone (it is "
          "semi-anonymous or anonymous), so OMEMO cannot work here: nobody could tell "
          "whose devices to encrypt for.")


@dataclass(frozen=True, slots=True)
class Members:
    jids: frozenset[str]
    read_at: float
    complete: bool  # every affiliation list could be read


def hidden_reason(room: str) -> str:
    return (f"OMEMO is on in {room}, but the room no longer shows its members' real JIDs "
            "(it was made semi-anonymous): encrypted messages cannot be sent there, and "
            "nothing is sent in plaintext. Ask an owner to make the room non-anonymous "
            "again, or turn OMEMO off here (/omemo off) to write without encryption.")


class RoomOmemo:
    def __init__(self, config: AccountConfig, store: Store, emit: EventSink) -> None:
        self.account, self.jid = config.id, config.jid
        self.mode = OmemoMode(config.omemo)
        self._store, self._emit = store, emit
        self._flags: dict[str, bool | None] = {}  # None: a room, no decision yet
        self._states: dict[str, RoomState] = {}
        self._members: dict[str, Members] = {}
        self.security: dict[str, ChatSecurity] = {}
        self._tasks: set[asyncio.Future[Any]] = set()

    def _spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        """Background work (the status line): the room's events do not wait for it."""
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Future[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.info("room OMEMO state not refreshed: %s", type(task.exception()).__name__)

    # -- which rooms ---------------------------------------------------------------------
    async def load(self) -> None:
        blob = await self._store.load_record(self.account, ROOMS_RECORD)
        loaded = json.loads(blob) if blob else {}
        self._flags = {str(k): None if v is None else bool(v) for k, v in loaded.items()}

    def is_room(self, jid: str) -> bool:
        """A room this identity was in (or has an OMEMO decision for)."""
        return jid in self._states or jid in self._flags

    def owns(self, msg: ChatMessage) -> bool:
        return msg.in_room or self.is_room(msg.chat.jid)

    def enabled(self, room: str) -> bool:
        """Messages to `room` must be encrypted (or not sent)."""
        return self.mode is not OmemoMode.NEVER and bool(self._flags.get(room))

    def state(self, room: str) -> RoomState | None:
        return self._states.get(room)

    async def _set_flag(self, room: str, enabled: bool | None) -> None:
        if room in self._flags and self._flags[room] == enabled:
            return
        self._flags[room] = enabled
        blob = json.dumps(self._flags, sort_keys=True).encode("utf-8")
        await self._store.save_record(self.account, ROOMS_RECORD, blob)

    async def _apply_default(self, state: RoomState) -> None:
        """Turn a room without a decision on where the mode says so."""
        room, features = state.room.jid, state.features
        if room not in self._flags:
            await self._set_flag(room, None)  # known as a room, e.g. after a restart
        if self._flags[room] is not None or self.mode is OmemoMode.NEVER or \
                not features.omemo_possible:
            return
        if self.mode is OmemoMode.ALWAYS or features.members_only:
            await self._set_flag(room, True)
            self._say("OMEMO is on in this room (private and non-anonymous): messages are "
                      "encrypted for every member's devices, or not sent.", state.room)

    # -- the room's life (called by core/rooms.py) ---------------------------------------
    async def joined(self, state: RoomState, link: Any) -> None:
        """On RoomJoined (also a rejoin): decide, warn, read the member lists again."""
        self._states[state.room.jid] = state
        self._members.pop(state.room.jid, None)
        await self._apply_default(state)
        if self.enabled(state.room.jid) and not state.features.omemo_possible:
            self._say(hidden_reason(state.room.jid), state.room, error=True)
        elif self.mode is OmemoMode.ALWAYS and not state.features.omemo_possible:
            self._say(f"{HIDDEN} Messages in this room are NOT encrypted.", state.room,
                      error=True)
        self._spawn(self.refresh(state.room, link))

    async def features_changed(self, state: RoomState, link: Any) -> None:
        """On RoomFeaturesChanged (codes 104/172/173/174): re-check, loudly."""
        room = state.room.jid
        before = self._states.get(room)
        self._states[room] = state
        self._members.pop(room, None)
        was = before.features.omemo_possible if before is not None else True
        now = state.features.omemo_possible
        if self.enabled(room) and was and not now:
            self._say(hidden_reason(room), state.room, error=True)
        elif self.enabled(room) and now and not was:
            self._say("This room shows its members' real JIDs again: OMEMO works here "
                      "again, messages are encrypted for every member.", state.room)
        await self._apply_default(state)
        self._spawn(self.refresh(state.room, link))

    def occupants_changed(self, state: RoomState) -> None:
        """On OccupantsChanged: someone new (a real JID the member lists did not have,
        or a changed affiliation) makes the lists be read again before the next send."""
        room = state.room.jid
        before = self._states.get(room)
        self._states[room] = state
        members = self._members.get(room)
        if members is None or before is None:
            return
        for occupant in state.occupants.values():
            old = before.occupants.get(occupant.nick)
            if occupant.jid and (occupant.jid not in members.jids or old is None
                                 or old.affiliation is not occupant.affiliation):
                self._members.pop(room, None)
                return

    def left(self, room: ChatKey) -> None:
        self._states.pop(room.jid, None)
        self._members.pop(room.jid, None)

    # -- sending -------------------------------------------------------------------------
    def _check(self, state: RoomState | None, room: str) -> RoomState:
        if state is None:
            raise OmemoRefused(f"Join {room} first: OMEMO needs to know who is in the room. "
                               "Nothing was sent.")
        if not state.features.omemo_possible:
            raise OmemoRefused(hidden_reason(room))
        return state

    async def prepare(self, state: RoomState, body: str, message_id: str,
                      link: Any, replaces: str | None = None) -> Outgoing:
        """For a new room message: PLAIN (OMEMO off here), or sealed now, or to be
        sealed when it is sent (core/omemo.py `Outgoing`). Raises OmemoRefused (nothing
        kept or sent): OMEMO is on and the room hides real JIDs, or sealing failed.
        `replaces`: a correction (XEP-0308) of our message with that id."""
        room = state.room.jid
        if not state.joined:  # offline, or rejoining: sealed when the room is joined again
            return Outgoing(Encryption.OMEMO_UNTRUSTED if self.enabled(room)
                            else Encryption.PLAIN, hold=True)
        self._states[room] = state
        await self._apply_default(state)
        if not self.enabled(room):
            return Outgoing(Encryption.PLAIN)
        self._check(state, room)
        if link is None:
            return Outgoing(Encryption.OMEMO_UNTRUSTED)
        try:
            sealed = await _within(self.seal(state, body, message_id, link, replaces))
        except Slow as slow:
            return Outgoing(Encryption.OMEMO_UNTRUSTED, later=slow.task)
        except NotConnected:
            return Outgoing(Encryption.OMEMO_UNTRUSTED, hold=True)
        return Outgoing(sealed.encryption, sealed)

    async def prepare_chat(self, chat: ChatKey, body: str, message_id: str,
                           link: Any, replaces: str | None = None) -> Outgoing:
        """`prepare` for a room known only by its JID (a send that did not come through
        core/rooms.py): refused when OMEMO is on and the room is not joined."""
        state = self._states.get(chat.jid)
        if state is None:
            if self.enabled(chat.jid):
                self._check(None, chat.jid)
            return Outgoing(Encryption.PLAIN)
        return await self.prepare(state, body, message_id, link, replaces)

    async def seal(self, state: RoomState, body: str, message_id: str, link: Any,
                   replaces: str | None = None) -> Sealed:
        """Seal for every member (with `replaces`: a correction of that message id);
        raises OmemoRefused, NotConnected."""
        port = port_of(link)
        if port is None or not getattr(link, "online", False):
            raise NotConnected
        room = self._check(state, state.room.jid).room.jid
        recipients = await self.recipients(state, link)
        sealer = getattr(port, "seal_group", None)
        if sealer is None:
            raise OmemoRefused("OMEMO in rooms is not available on this connection. "
                               "Nothing was sent.")
        extra = {"replaces": replaces} if replaces else {}
        sealed: Sealed = await sealer(room, recipients, body, message_id, **extra)
        return sealed

    async def recipients(self, state: RoomState, link: Any) -> frozenset[str]:
        """Every member (affiliation lists) and everyone present (real JIDs)."""
        room = state.room.jid
        members = self._members.get(room)
        loop = asyncio.get_running_loop()
        if members is None or loop.time() - members.read_at > MEMBERS_MAX_AGE:
            members = await self._read_members(room, link)
            self._members[room] = members
        present = {o.jid for o in state.occupants.values() if o.jid}
        return frozenset(members.jids | present)

    async def _read_members(self, room: str, link: Any) -> Members:
        admin: Any = getattr(link, "admin", None)
        found: set[str] = set()
        complete = admin is not None
        for affiliation in MEMBER_AFFILIATIONS if admin is not None else ():
            try:
                found |= {listed.jid for listed in await admin.affiliations(room, affiliation)}
            except RequestFailed as exc:
                complete = False
                log.info("an affiliation list was not read: %s", type(exc).__name__)
        before = self._members.get(room)
        if not complete and (before is None or before.complete):
            self._say("The room's member list could not be read: messages are encrypted "
                      "for the members present now (and those known before), not for "
                      "members who are away.", ChatKey(self.account, room), error=True)
        if before is not None and not complete:
            found |= before.jids
        return Members(frozenset(found), asyncio.get_running_loop().time(), complete)

    async def outgoing(self, msg: ChatMessage, link: Any, sealed: Sealed | None
                       ) -> tuple[ChatMessage, Sealed | None] | None:
        """For sending a room message now (the outbox): as ChatOmemo.outgoing. None when
        refused (the message is FAILED with the reason). Raises NotConnected."""
        room = msg.chat.jid
        if sealed is None and (msg.encryption is not Encryption.PLAIN or self.enabled(room)):
            try:
                sealed = await self.seal(self._check(self._states.get(room), room),
                                         msg.body, msg.id, link, msg.replaces)
            except OmemoRefused as exc:
                await refused(self._store, self._emit, msg, exc.reason)
                return None
        if sealed is not None:
            msg = await sealed_as(self._store, self._emit, msg, sealed)
        return msg, sealed

    # -- incoming ------------------------------------------------------------------------
    async def incoming(self, msg: ChatMessage) -> None:
        """After a room message was stored: plaintext in an OMEMO room is flagged."""
        if msg.encryption is Encryption.PLAIN and self.enabled(msg.chat.jid) and msg.body:
            who = msg.nick or msg.sender
            self._say(f"The message above from {who} was NOT encrypted, although this room "
                      "uses OMEMO. Do not trust it as private; your messages here stay "
                      "encrypted.", msg.chat, error=True)

    # -- the status line and the command -------------------------------------------------
    def _say(self, text: str, chat: ChatKey | None = None, error: bool = False) -> None:
        self._emit(ev.Notice(self.account, text, chat, error=error))

    def _set_security(self, room: ChatKey, security: ChatSecurity) -> None:
        if self.security.get(room.jid) != security:
            self.security[room.jid] = security
            self._emit(ChatSecurityChanged(self.account, room, security))

    async def refresh(self, room: ChatKey, link: Any) -> None:
        """Report the room's encryption state: PLAIN, or VERIFIED when every device of
        every member (and our own others) is verified, else UNVERIFIED."""
        state = self._states.get(room.jid)
        if not self.enabled(room.jid):
            self._set_security(room, ChatSecurity.PLAIN)
            return
        port = port_of(link)
        if port is None or state is None or not state.features.omemo_possible:
            self._set_security(room, ChatSecurity.OMEMO_UNVERIFIED)
            return
        try:
            own, _ = await port.devices(None)
            devices = list(own)
            for jid in sorted(await self.recipients(state, link) - {self.jid}):
                devices += (await port.devices(jid))[1]
        except (OmemoRefused, NotConnected, RequestFailed):
            return
        self._set_security(room, chat_security(True, tuple(devices)))

    async def switch(self, room: ChatKey, enabled: bool, link: Any) -> None:
        """/omemo on|off in a room; raises OmemoRefused with why not."""
        if self.mode is OmemoMode.NEVER and enabled:
            raise OmemoRefused(f'OMEMO is off for this identity (omemo = "never" in '
                               f"[accounts.{self.account}]).")
        if self.mode is OmemoMode.ALWAYS and not enabled:
            raise OmemoRefused(f'This identity encrypts every room where OMEMO can work '
                               f'(omemo = "always" in [accounts.{self.account}]): it cannot '
                               "be turned off here.")
        state = self._states.get(room.jid)
        if enabled and state is not None and not state.features.omemo_possible:
            raise OmemoRefused(f"{HIDDEN} OMEMO stays off in this room.")
        await self._set_flag(room.jid, enabled)
        self._say("OMEMO is now on in this room: messages are encrypted for every member's "
                  "devices, or not sent." if enabled else "OMEMO is now OFF in this room: "
                  "messages are sent in plaintext, readable by the room's server.",
                  room, error=not enabled)
        await self.refresh(room, link)
