"""Group chats (XEP-0045 MUC) as the rest of the program sees them: occupants, room
features, the room state reducer, and the intents and events of the room commands.
Pure: no I/O, no library types.

A room is a chat like any other: `ChatKey(account, room_bare_jid)`. Its messages are
`ChatMessage`s with `nick` set (the occupant's nick when it wrote) and `sender` the
writer's real bare JID where the room shows it, else the occupant JID `room/nick`.

Who is who in a room: an occupant is a nick; in a non-anonymous room (or to a
moderator) the room also tells its real JID. Messages of type groupchat count only
when they come from a room we joined (protocol checks it); our own messages come back
as reflections (same origin-id) and are shown once.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import Enum

from .events import Event
from .ids import ChatKey
from .intents import Intent

# XEP-0045 status codes the client acts on.
SELF_PRESENCE = "110"
NON_ANONYMOUS = "100"  # on join: real JIDs are visible to all occupants
ROOM_CREATED = "201"
NICK_ASSIGNED = "210"  # the service changed our nick on join
NICK_CHANGED = "303"
BANNED = "301"
KICKED = "307"
REMOVED_AFFILIATION = "321"
REMOVED_MEMBERS_ONLY = "322"
SHUTDOWN = "332"
REMOVED_ERROR = "333"
CONFIG_CHANGED = "104"
NOW_NON_ANONYMOUS = "172"
NOW_SEMI_ANONYMOUS = "173"
NOW_FULLY_ANONYMOUS = "174"
ANONYMITY_CODES = frozenset({NOW_NON_ANONYMOUS, NOW_SEMI_ANONYMOUS, NOW_FULLY_ANONYMOUS})

REMOVAL_REASONS = {
    BANNED: "You were banned from the room",
    KICKED: "You were kicked from the room",
    REMOVED_AFFILIATION: "You were removed from the room (your affiliation changed)",
    REMOVED_MEMBERS_ONLY: "You were removed: the room is now members-only",
    SHUTDOWN: "The room's service is shutting down",
    REMOVED_ERROR: "The room removed you after a technical problem",
}


class Role(Enum):
    MODERATOR = "moderator"
    PARTICIPANT = "participant"
    VISITOR = "visitor"
    NONE = "none"


class Affiliation(Enum):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"
    OUTCAST = "outcast"
    NONE = "none"


MEMBER_AFFILIATIONS = (Affiliation.OWNER, Affiliation.ADMIN, Affiliation.MEMBER)


@dataclass(frozen=True, slots=True)
class Occupant:
    """One occupant as the room presents it. `nick` and `status` are remote text:
    sanitise before drawing; `jid` is the real bare JID when the room tells it."""

    nick: str
    role: Role = Role.PARTICIPANT
    affiliation: Affiliation = Affiliation.NONE
    jid: str | None = None
    show: str = "available"  # available, away, chat, dnd, xa
    status: str = ""
    occupant_id: str | None = None  # XEP-0421, only from a room that announces it: the
    # room's stable id of this person (same across nick changes and rejoins); opaque


@dataclass(frozen=True, slots=True)
class RoomFeatures:
    """What the room's disco#info (and its status codes) say about it."""

    non_anonymous: bool = False  # muc_nonanonymous: every occupant sees real JIDs
    members_only: bool = False
    persistent: bool = False
    public: bool = True
    moderated: bool = False
    password: bool = False
    archived: bool = False  # urn:xmpp:mam:2 on the room
    moderation: bool = False  # urn:xmpp:message-moderate:0 (XEP-0425)
    occupant_id: bool = False  # urn:xmpp:occupant-id:0 (XEP-0421): the room strips the
    # occupant-ids clients send and adds its own; read only then
    name: str = ""

    @property
    def omemo_possible(self) -> bool:
        """OMEMO can work only where every member's real JID is known (XEP-0384 §6)."""
        return self.non_anonymous


@dataclass(frozen=True, slots=True)
class Bookmark:
    """A bookmarked room (XEP-0402, or XEP-0048 on servers without it)."""

    room: str
    name: str = ""
    nick: str = ""
    autojoin: bool = False
    password: str = ""


@dataclass(frozen=True, slots=True)
class RoomState:
    """What core (and the UI) know of a joined room; changed only by `apply_*` below."""

    room: ChatKey
    nick: str
    joined: bool = False
    occupants: dict[str, Occupant] = field(default_factory=dict)
    subject: str = ""
    features: RoomFeatures = field(default_factory=RoomFeatures)

    @property
    def me(self) -> Occupant | None:
        return self.occupants.get(self.nick)


def occupant_present(state: RoomState, occupant: Occupant) -> RoomState:
    return replace(state, occupants={**state.occupants, occupant.nick: occupant})


def occupant_left(state: RoomState, nick: str) -> RoomState:
    occupants = dict(state.occupants)
    occupants.pop(nick, None)
    return replace(state, occupants=occupants)


def occupant_renamed(state: RoomState, old: str, new: str) -> RoomState:
    occupants = dict(state.occupants)
    found = occupants.pop(old, None)
    if found is not None:
        occupants[new] = replace(found, nick=new)
    nick = new if old == state.nick else state.nick
    return replace(state, occupants=occupants, nick=nick)


def mentions(body: str, nick: str) -> bool:
    """The message names `nick` as a word (case-insensitive): a highlight."""
    if not nick:
        return False
    low, target = body.casefold(), nick.casefold()
    start = low.find(target)
    while start >= 0:
        end = start + len(target)
        before = low[start - 1] if start else " "
        after = low[end] if end < len(low) else " "
        if not (before.isalnum() or before == "_") and not (after.isalnum() or after == "_"):
            return True
        start = low.find(target, start + 1)
    return False


# -- events ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class RoomJoined(Event):
    """We are in the room (the room sent our own presence, code 110), with everyone
    already there. Also after a rejoin (reconnect, self-ping)."""

    room: ChatKey
    nick: str
    occupants: tuple[Occupant, ...]
    features: RoomFeatures
    subject: str = ""
    created: bool = False  # code 201: we created it and it waits for its configuration


@dataclass(frozen=True, slots=True)
class RoomJoinFailed(Event):
    room: ChatKey
    reason: str  # for the user, naming what to do (password, nick taken, members-only…)


@dataclass(frozen=True, slots=True)
class RoomLeft(Event):
    """We are out of the room: we left, or were removed (`reason` says why)."""

    room: ChatKey
    reason: str = ""
    removed: bool = False  # kicked, banned, removed: do not rejoin by ourselves


@dataclass(frozen=True, slots=True)
class RoomMembershipLost(Event):
    """Self-ping (XEP-0410) found that the room no longer counts us as an occupant,
    though it never said so (its server restarted, a stanza was lost): core rejoins."""

    room: ChatKey
    reason: str = ""


@dataclass(frozen=True, slots=True)
class RoomArchivePage(Event):
    """A page of a room's archive (XEP-0313) was read after a join; its messages came
    just before as MessageReceived. `marker` is the room stanza-id the next catch-up
    continues after (None: unchanged); `done` ends the catch-up (`failed`: the room
    gave no answer). A link event: core keeps it, the UI never sees it."""

    room: ChatKey
    marker: str | None
    done: bool = False
    failed: bool = False


@dataclass(frozen=True, slots=True)
class OccupantsChanged(Event):
    """Occupants came, went, changed role/affiliation/status or nick, coalesced: one
    event for a burst of presences (joining a busy room gives one, not hundreds)."""

    room: ChatKey
    present: tuple[Occupant, ...] = ()  # came or changed
    gone: tuple[tuple[str, str], ...] = ()  # (nick, why: "" left, or kicked/banned…)
    renamed: tuple[tuple[str, str], ...] = ()  # (old nick, new nick)


@dataclass(frozen=True, slots=True)
class RoomSubjectChanged(Event):
    room: ChatKey
    subject: str
    by: str = ""  # the nick that set it ("" the room itself)


@dataclass(frozen=True, slots=True)
class RoomFeaturesChanged(Event):
    """The room's configuration changed (codes 104/172/173/174, re-read disco#info)."""

    room: ChatKey
    features: RoomFeatures


@dataclass(frozen=True, slots=True)
class RoomInvited(Event):
    """An invitation (XEP-0249 direct, or mediated through the room). Remote text."""

    room: str
    inviter: str
    reason: str = ""
    password: str = ""
    mediated: bool = False  # through the room (XEP-0045 §7.8.2): it can be declined
    again: bool = False  # the mediated copy of an invitation already told: update it quietly


@dataclass(frozen=True, slots=True)
class BookmarksReceived(Event):
    bookmarks: tuple[Bookmark, ...]


@dataclass(frozen=True, slots=True)
class RoomConfigShown(Event):
    """The room's configuration form, as (var, label, type, value(s)) lines."""

    room: ChatKey
    fields: tuple[tuple[str, str, str, str], ...]


@dataclass(frozen=True, slots=True)
class RoomListing(Event):
    """An affiliation list (/members, /admins…) or other lines about the room."""

    room: ChatKey
    title: str
    lines: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RoomServiceFound(Event):
    """After each login: the server's group-chat service (XEP-0045 §6.1, by XEP-0030), a
    bare domain JID, or None (none listed, an error, no answer). Core keeps it (the UI
    never sees it): a JoinRoom or CreateRoom with a bare name goes to NAME@service."""

    service: str | None


# -- intents -----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class RoomIntent(Intent):
    """The base of the room intents: core hands them to `core.rooms`."""


@dataclass(frozen=True, slots=True)
class JoinRoom(RoomIntent):
    room: str  # a bare JID room@service, or a bare name: on the service found
    nick: str = ""  # "" the identity's default nick (its JID's local part)
    password: str = ""
    focus: bool = True


@dataclass(frozen=True, slots=True)
class LeaveRoom(RoomIntent):
    room: ChatKey
    reason: str = ""


@dataclass(frozen=True, slots=True)
class ChangeNick(RoomIntent):
    room: ChatKey
    nick: str


@dataclass(frozen=True, slots=True)
class SetSubject(RoomIntent):
    room: ChatKey
    subject: str


@dataclass(frozen=True, slots=True)
class InviteToRoom(RoomIntent):
    room: ChatKey
    jid: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class CreateRoom(RoomIntent):
    """Create a private room: members-only, non-anonymous, persistent, archived, not
    listed; `members` become members (and are invited)."""

    room: str  # as JoinRoom's
    nick: str = ""
    members: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ShowRoomConfig(RoomIntent):
    room: ChatKey


@dataclass(frozen=True, slots=True)
class SetRoomConfig(RoomIntent):
    room: ChatKey
    values: tuple[tuple[str, str], ...]  # (field var, value)


class ModerationAction(Enum):
    KICK = "kick"  # role none (by nick)
    VOICE = "voice"  # role participant
    DEVOICE = "devoice"  # role visitor
    BAN = "ban"  # affiliation outcast (by JID, or the nick's real JID)
    MEMBER = "member"
    ADMIN = "admin"
    OWNER = "owner"
    NONE = "none"  # affiliation none


@dataclass(frozen=True, slots=True)
class Moderate(RoomIntent):
    room: ChatKey
    action: ModerationAction
    target: str  # a nick, or a JID for affiliations
    reason: str = ""


@dataclass(frozen=True, slots=True)
class RetractRoomMessage(RoomIntent):
    """Moderator retraction (XEP-0425) of a message, by its room stanza-id."""

    room: ChatKey
    message_id: str  # our local id of the message
    reason: str = ""


@dataclass(frozen=True, slots=True)
class ListAffiliation(RoomIntent):
    """Ask the room for its owners, admins, members or outcasts (answered by RoomListing)."""

    room: ChatKey
    affiliation: Affiliation


@dataclass(frozen=True, slots=True)
class SetBookmark(RoomIntent):
    """Add or change (or with `remove`, delete) the bookmark of a room."""

    room: str
    autojoin: bool = True
    nick: str = ""
    name: str = ""
    password: str = ""
    remove: bool = False


@dataclass(frozen=True, slots=True)
class AnswerInvite(RoomIntent):
    """Accept (join) or decline an invitation. A declined mediated one is declined
    through the room to `inviter` (XEP-0045 §7.8.2); a direct one (XEP-0249, which has
    no decline) is only forgotten."""

    room: str
    accept: bool
    password: str = ""
    inviter: str = ""  # the RoomInvited's
    mediated: bool = False  # the RoomInvited's
