"""The group-chat commands: /join, /part, /nick, /topic, /who, /invite, /accept,
/decline, /create, /config, /kick, /ban, /voice, /devoice, /affiliation, /members,
/bookmark, /joins; and the room checks of /msg, /close and plain text.

Each turns into one intent of domain/rooms.py (or a line for the user saying why not);
the answers come back as events (room_view.py). No Textual here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from ..domain import rooms as r
from ..domain.commands import NO_IDENTITY, Command
from ..domain.ids import AccountId, ChatKey, InvalidJid, parse_jid, parse_local
from ..domain.intents import Intent
from ..domain.sanitize import clean_field
from .omemo_commands import OmemoHost
from .room_book import RoomBook
from .room_text import bookmarks_text, jid, who_text

LEVELS = {"member": r.ModerationAction.MEMBER, "admin": r.ModerationAction.ADMIN,
          "owner": r.ModerationAction.OWNER, "none": r.ModerationAction.NONE}
LISTS = {"owner": r.Affiliation.OWNER, "owners": r.Affiliation.OWNER,
         "admin": r.Affiliation.ADMIN, "admins": r.Affiliation.ADMIN,
         "member": r.Affiliation.MEMBER, "members": r.Affiliation.MEMBER,
         "outcast": r.Affiliation.OUTCAST, "outcasts": r.Affiliation.OUTCAST,
         "banned": r.Affiliation.OUTCAST}
ROLE_ACTIONS = {"kick": r.ModerationAction.KICK, "voice": r.ModerationAction.VOICE,
                "devoice": r.ModerationAction.DEVOICE}


class RoomHost(OmemoHost, Protocol):
    """What the room commands need of the app: the OMEMO commands' host, and its rooms."""

    rooms: RoomBook


Result = Intent | str | None  # an intent to send, an error for the user, or done
Handler = Callable[[RoomHost, AccountId, tuple[str, ...]], Result]
InRoom = Callable[[RoomHost, ChatKey, tuple[str, ...]], Result]


def run_room_command(host: RoomHost, command: Command) -> None:
    account = host.current_account
    if account is None:
        host.say(NO_IDENTITY, error=True)
        return
    name, args = command.name, command.args
    if name in ANYWHERE:
        result = ANYWHERE[name](host, account, args)
    else:
        chat = host.current_chat
        if chat is None or not host.rooms.is_room(chat):
            result = f"/{name} works in a group chat: /join ROOM@SERVICE first, or go to its buffer."
        else:
            result = IN_ROOM[name](host, chat, args)
    if isinstance(result, str):
        host.say(result, error=True)
    elif result is not None:
        host.dispatch(result)


# -- checks used by the command runner ---------------------------------------------------
def room_instead(host: RoomHost, chat: ChatKey) -> bool:
    """/msg or /query to a room: say to /join it (True), else False."""
    if not host.rooms.is_room(chat):
        return False
    host.say(f"{jid(chat.jid)} is a group chat: /join {jid(chat.jid)} enters it.", error=True)
    return True


def send_problem(host: RoomHost, chat: ChatKey) -> str | None:
    """Why a line cannot go to this room now (we are known to be out of it), or None."""
    state = host.rooms.state(chat)
    if state is None or state.joined:
        return None
    return f"You are not in {jid(chat.jid)} now: /join {jid(chat.jid)} to go back in."


def leave_before_close(host: RoomHost, chat: ChatKey) -> None:
    """/close on a room we are in leaves it first."""
    state = host.rooms.state(chat)
    if state is not None and state.joined:
        host.dispatch(r.LeaveRoom(chat.account, chat))


# -- anywhere ----------------------------------------------------------------------------
def _room_jid(text: str) -> tuple[str, str] | str:
    """(room bare JID, nick from a `/resource`) or the error for the user."""
    try:
        parsed = parse_jid(text)
    except InvalidJid as exc:
        return f"Invalid room address {clean_field(text, 80)!r}: {exc}"
    if not parsed.local:
        return f"{clean_field(text, 80)} is not a room: a room looks like room@conference.example.org"
    return parsed.bare, parsed.resource


def _room_or_name(text: str) -> tuple[str, str] | str:
    """As _room_jid; a bare name (`plans`, `plans/nick`) stays a name, lower-cased:
    core puts it on the identity's group-chat service."""
    if "@" in text:
        return _room_jid(text)
    name, _, nick = text.partition("/")
    try:
        return parse_local(name), nick
    except InvalidJid as exc:
        return f"Invalid room name {clean_field(name, 80)!r}: {exc}"


def _join(host: RoomHost, account: AccountId, args: tuple[str, ...]) -> Result:
    found = _room_or_name(args[0])
    if isinstance(found, str):
        return found
    room, nick = found
    nick = (args[1] if len(args) > 1 else nick).strip()
    chat = ChatKey(account, room)
    state = host.rooms.state(chat)
    if state is not None and state.joined and not nick:
        host.say(f"You are in {jid(room)} already (buffer of its own; /nick changes your nick).")
        return None
    if "@" in room:  # a bare name: its room is known when core opens it
        host.rooms.mark_room(chat)
    return r.JoinRoom(account, room, nick, args[2] if len(args) > 2 else "")


def _answer(accept: bool) -> Handler:
    def answer(host: RoomHost, account: AccountId, args: tuple[str, ...]) -> Result:
        room = None
        if args:
            found = _room_jid(args[0])
            if isinstance(found, str):
                return found
            room = found[0]
        invite = host.rooms.invitation(account, room)
        if isinstance(invite, str):
            return invite
        host.rooms.answered(invite)
        if accept:
            host.rooms.mark_room(ChatKey(invite.account, invite.room))
        return r.AnswerInvite(invite.account, invite.room, accept,
                              invite.password if accept else "", invite.inviter,
                              invite.mediated)
    return answer


def _create(host: RoomHost, account: AccountId, args: tuple[str, ...]) -> Result:
    found = _room_or_name(args[0])
    if isinstance(found, str):
        return found
    members = []
    for text in args[1:]:
        try:
            members.append(parse_jid(text).bare)
        except InvalidJid as exc:
            return f"Invalid member address {clean_field(text, 80)!r}: {exc}"
    if "@" in found[0]:
        host.rooms.mark_room(ChatKey(account, found[0]))
    return r.CreateRoom(account, found[0], found[1], tuple(members))


def _joins(host: RoomHost, account: AccountId, args: tuple[str, ...]) -> Result:
    word = args[0].lower()
    if word not in ("show", "fold"):
        return "Usage: /joins show|fold"
    host.rooms.fold_joins = word == "fold"
    host.say("Join and leave lines are folded away in every room (this session)." if word == "fold"
             else "Join and leave lines are shown in rooms.")
    return None


def _bookmark(host: RoomHost, account: AccountId, args: tuple[str, ...]) -> Result:
    chat = host.current_chat
    if chat is None or not host.rooms.is_room(chat):
        if args:
            return "/bookmark with words works in a group chat; alone it lists the bookmarks."
        host.say(bookmarks_text(account, host.rooms.bookmarks.get(account, ())))
        return None
    words = {word.lower() for word in args}
    if not words <= {"remove", "autojoin", "noautojoin"} or {"autojoin", "noautojoin"} <= words:
        return "Usage: /bookmark [remove] [autojoin|noautojoin]"
    state = host.rooms.state(chat)
    return r.SetBookmark(account, chat.jid, autojoin="noautojoin" not in words,
                         nick=state.nick if state is not None else "",
                         name=state.features.name if state is not None else "",
                         remove="remove" in words)


ANYWHERE: dict[str, Handler] = {
    "join": _join, "accept": _answer(True), "decline": _answer(False), "create": _create,
    "joins": _joins, "bookmark": _bookmark,
}


# -- in a room ---------------------------------------------------------------------------
def _unquote(text: str) -> str:
    text = text.strip()
    return text[1:-1] if len(text) > 1 and text[0] == text[-1] == '"' else text


def _occupant(host: RoomHost, chat: ChatKey, nick: str) -> r.Occupant | str:
    state = host.rooms.state(chat)
    if state is None or not state.joined:
        return f"You are not in {jid(chat.jid)} now: /join {jid(chat.jid)} first."
    found = state.occupants.get(nick)
    if found is None:
        return f"Nobody is called {clean_field(nick, 40)!r} in {jid(chat.jid)} (see /who)."
    return found


def _target_jid(host: RoomHost, chat: ChatKey, text: str) -> str:
    """A nick's real JID where the room told it, a JID as typed, else the nick."""
    state = host.rooms.state(chat)
    occupant = state.occupants.get(text) if state is not None else None
    if occupant is not None:
        return occupant.jid or occupant.nick
    try:
        return parse_jid(text).bare
    except InvalidJid:
        return text


def _role(host: RoomHost, chat: ChatKey, args: tuple[str, ...], action: r.ModerationAction,
          reason: str = "") -> Result:
    occupant = _occupant(host, chat, _unquote(args[0]))
    if isinstance(occupant, str):
        return occupant
    return r.Moderate(chat.account, chat, action, occupant.nick, reason)


def _kick(host: RoomHost, chat: ChatKey, args: tuple[str, ...]) -> Result:
    return _role(host, chat, args, r.ModerationAction.KICK, args[1] if len(args) > 1 else "")


def _ban(host: RoomHost, chat: ChatKey, args: tuple[str, ...]) -> Result:
    target = _target_jid(host, chat, _unquote(args[0]))
    return r.Moderate(chat.account, chat, r.ModerationAction.BAN, target,
                      args[1] if len(args) > 1 else "")


def _affiliation(host: RoomHost, chat: ChatKey, args: tuple[str, ...]) -> Result:
    action = LEVELS.get(args[0].lower())
    if action is None:
        return "Usage: /affiliation member|admin|owner|none NICK|JID"
    return r.Moderate(chat.account, chat, action, _target_jid(host, chat, _unquote(args[1])))


def _members(host: RoomHost, chat: ChatKey, args: tuple[str, ...]) -> Result:
    which = LISTS.get(args[0].lower() if args else "member")
    if which is None:
        return "Usage: /members [owner|admin|member|outcast]"
    return r.ListAffiliation(chat.account, chat, which)


def _topic(host: RoomHost, chat: ChatKey, args: tuple[str, ...]) -> Result:
    if args:
        return r.SetSubject(chat.account, chat, args[0])
    state = host.rooms.state(chat)
    subject = state.subject if state is not None else ""
    host.say(f"Topic of {jid(chat.jid)}: {clean_field(subject, 300)}" if subject
             else f"{jid(chat.jid)} has no topic.")
    return None


def _who(host: RoomHost, chat: ChatKey, args: tuple[str, ...]) -> Result:
    state = host.rooms.state(chat)
    if state is None or not state.joined:
        return f"You are not in {jid(chat.jid)} now: /join {jid(chat.jid)} first."
    look = host.rooms.look(chat)
    host.say(who_text(state, look.confusable if look is not None else frozenset()))
    return None


def _invite(host: RoomHost, chat: ChatKey, args: tuple[str, ...]) -> Result:
    try:
        invitee = parse_jid(args[0]).bare
    except InvalidJid as exc:
        return f"Invalid JID {clean_field(args[0], 80)!r}: {exc}"
    return r.InviteToRoom(chat.account, chat, invitee, args[1] if len(args) > 1 else "")


def _config(host: RoomHost, chat: ChatKey, args: tuple[str, ...]) -> Result:
    if not args:
        return r.ShowRoomConfig(chat.account, chat)
    values = []
    for arg in args:
        var, sep, value = arg.partition("=")
        if not sep or not var.strip():
            return "Usage: /config [FIELD=VALUE ...] (/config alone shows the fields)"
        values.append((var.strip(), value))
    return r.SetRoomConfig(chat.account, chat, tuple(values))


def _nick(host: RoomHost, chat: ChatKey, args: tuple[str, ...]) -> Result:
    nick = _unquote(args[0])
    return r.ChangeNick(chat.account, chat, nick) if nick else "Usage: /nick NEWNICK"


IN_ROOM: dict[str, InRoom] = {
    "part": lambda host, chat, args: r.LeaveRoom(chat.account, chat, args[0] if args else ""),
    "nick": _nick, "topic": _topic, "who": _who, "invite": _invite, "config": _config,
    "kick": _kick, "ban": _ban, "affiliation": _affiliation, "members": _members,
    "voice": lambda host, chat, args: _role(host, chat, args, ROLE_ACTIONS["voice"]),
    "devoice": lambda host, chat, args: _role(host, chat, args, ROLE_ACTIONS["devoice"]),
}
COMMANDS = frozenset({*ANYWHERE, *IN_ROOM})
