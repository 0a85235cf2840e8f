"""What the UI keeps of group chats (pure, no Textual): each room's state through the
domain reducers, highlights, look-alike nicks, invitations, bookmarks, and whether the
join/leave lines are folded away.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from ..domain.ids import AccountId, ChatKey
from ..domain.messages import ChatMessage, Direction
from ..domain.rooms import (
    Bookmark,
    OccupantsChanged,
    RoomInvited,
    RoomJoined,
    RoomState,
    occupant_left,
    occupant_present,
    occupant_renamed,
)
from ..domain.sanitize import clean_field
from .room_render import RoomLook, names_any, skeleton, suspicious

MAX_SEEN = 5000  # nicks remembered per room for the look-alike check
MAX_INVITES = 50


@dataclass(frozen=True, slots=True)
class Summary:
    """What an OccupantsChanged did, for its one line in the room's log."""

    joined: tuple[str, ...] = ()
    left: tuple[tuple[str, str], ...] = ()  # (nick, why)
    renamed: tuple[tuple[str, str], ...] = ()
    roles: tuple[tuple[str, str], ...] = ()  # (nick, new role or affiliation, in words)

    def __bool__(self) -> bool:
        return bool(self.joined or self.left or self.renamed or self.roles)


@dataclass(slots=True)
class _Nicks:
    """The nicks seen in one room this session, grouped by what they look like."""

    groups: dict[str, set[str]] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)
    confusable: frozenset[str] = frozenset()

    def add(self, nicks: Iterable[str]) -> bool:
        """Remember nicks; True if the set of confusable ones changed."""
        changed = False
        for nick in nicks:
            if nick in self.seen or len(self.seen) >= MAX_SEEN:
                continue
            self.seen.add(nick)
            group = self.groups.setdefault(skeleton(nick), set())
            group.add(nick)
            if len(group) > 1 or suspicious(nick):
                changed = True
        if changed:
            self.confusable = frozenset(
                nick for group in self.groups.values() for nick in group
                if len(group) > 1 or suspicious(nick))
        return changed


class RoomBook:
    """Every room of every identity the UI knows of."""

    def __init__(self) -> None:
        self.rooms: set[ChatKey] = set()  # chats that are rooms
        self.states: dict[ChatKey, RoomState] = {}
        self.highlights: dict[ChatKey, int] = {}
        self.own_nicks: dict[ChatKey, set[str]] = {}
        self.nicks: dict[ChatKey, _Nicks] = {}
        self.invites: dict[tuple[AccountId, str], RoomInvited] = {}
        self.bookmarks: dict[AccountId, tuple[Bookmark, ...]] = {}
        self.fold_joins = False

    # -- which chats are rooms -------------------------------------------------------------
    def mark_room(self, chat: ChatKey) -> None:
        self.rooms.add(chat)

    def is_room(self, chat: ChatKey | None) -> bool:
        if chat is None:
            return False
        return chat in self.rooms or any(b.room == chat.jid
                                         for b in self.bookmarks.get(chat.account, ()))

    def state(self, chat: ChatKey | None) -> RoomState | None:
        return self.states.get(chat) if chat is not None else None

    def forget(self, chat: ChatKey) -> None:
        self.states.pop(chat, None)
        self.highlights.pop(chat, None)
        self.own_nicks.pop(chat, None)
        self.nicks.pop(chat, None)
        self.rooms.discard(chat)

    # -- look ------------------------------------------------------------------------------
    def look(self, chat: ChatKey | None) -> RoomLook | None:
        """What the log needs to draw the room's lines (None: not a room)."""
        if chat is None or chat not in self.rooms:
            return None
        nicks = self.nicks.get(chat)
        return RoomLook(frozenset(self.own_nicks.get(chat, ())),
                        nicks.confusable if nicks is not None else frozenset())

    def see(self, chat: ChatKey, nicks: Iterable[str]) -> bool:
        return self.nicks.setdefault(chat, _Nicks()).add(nicks)

    def _own(self, chat: ChatKey, nick: str) -> None:
        self.own_nicks.setdefault(chat, set()).add(nick)

    # -- events ----------------------------------------------------------------------------
    def joined(self, event: RoomJoined) -> RoomState:
        occupants = {o.nick: o for o in event.occupants}
        state = RoomState(event.room, event.nick, True, occupants, event.subject, event.features)
        self.rooms.add(event.room)
        self.states[event.room] = state
        self._own(event.room, event.nick)
        self.see(event.room, [*occupants, event.nick])
        return state

    def changed(self, event: OccupantsChanged) -> Summary:
        """Apply the change through the domain reducers; what it did, in words."""
        state = self.states.get(event.room)
        if state is None:
            return Summary()
        for old, new in event.renamed:
            state = occupant_renamed(state, old, new)
        joined, roles = [], []
        for occupant in event.present:
            before = state.occupants.get(occupant.nick)
            if before is None:
                joined.append(occupant.nick)
            elif before.role != occupant.role:
                roles.append((occupant.nick, occupant.role.value))
            elif before.affiliation != occupant.affiliation:
                roles.append((occupant.nick, occupant.affiliation.value))
            state = occupant_present(state, occupant)
        left = [(nick, why) for nick, why in event.gone if nick in state.occupants]
        for nick, _why in event.gone:
            state = occupant_left(state, nick)
        self.states[event.room] = state
        self._own(event.room, state.nick)
        self.see(event.room, [o.nick for o in event.present])
        return Summary(tuple(joined), tuple(left), event.renamed, tuple(roles))

    def left(self, chat: ChatKey) -> None:
        state = self.states.get(chat)
        if state is not None:
            self.states[chat] = replace(state, joined=False, occupants={})

    def message(self, message: ChatMessage, shown: bool) -> bool:
        """A room message arrived: remember its nick; True if it is a highlight (counted
        when the room is not shown)."""
        chat = message.chat
        self.rooms.add(chat)
        if message.nick:
            self.see(chat, [message.nick])
        if message.direction is not Direction.INCOMING:
            return False
        if not names_any(message.body, self.own_nicks.get(chat, ())):
            return False
        if not shown:
            self.highlights[chat] = self.highlights.get(chat, 0) + 1
        return True

    def invited(self, event: RoomInvited) -> None:
        """Keep an invitation until it is answered (the newest MAX_INVITES: a flood of
        invitations cannot fill the memory)."""
        known = self.invites.pop((event.account, event.room), None)
        if event.again and known is not None:  # the room's copy: what it lacks stays
            event = replace(event, reason=event.reason or known.reason,
                            password=event.password or known.password)
        self.invites[(event.account, event.room)] = event
        while len(self.invites) > MAX_INVITES:
            del self.invites[next(iter(self.invites))]

    def invitation(self, account: AccountId | None, room: str | None) -> RoomInvited | str:
        """The invitation /accept or /decline means, or why there is none to answer."""
        pending = [i for i in self.invites.values() if room is None or i.room == room]
        mine = [i for i in pending if i.account == account]
        if len(mine) == 1 or (len(pending) == 1 and room is not None):
            return (mine or pending)[0]
        if room is not None:
            return f"No invitation to {clean_field(room, 80)} is waiting. /join it instead."
        if not pending:
            return "No invitation is waiting."
        names = ", ".join(clean_field(i.room, 60) for i in (mine or pending)[:5])
        return f"Several invitations wait ({names}): name the room."

    def answered(self, invite: RoomInvited) -> None:
        self.invites.pop((invite.account, invite.room), None)

    def completion_nicks(self, chat: ChatKey | None) -> list[str]:
        """The occupants' nicks for Tab, sorted; our own and unprintable ones left out."""
        state = self.state(chat)
        if state is None:
            return []
        return sorted((n for n in state.occupants if n != state.nick and clean_field(n) == n
                       and n.strip() == n and n), key=str.casefold)
