"""`/msg` and `/query` to a room occupant: a private chat through the room (XEP-0045 §7.5).

In a room's buffer, `/msg NICK [TEXT]` and `/query NICK` name an occupant present there;
anywhere, `/msg room@service/NICK` names one of a room we are in. The chat is
`ChatKey.private(account, room, nick)`, always PLAIN; in a room where OMEMO is on, no
plaintext private chat is opened (the occupant's real JID is suggested when the room
shows it). Core checks the same again when a message is written (core/private_chats.py).
No Textual here.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..core.private_chats import omemo_refusal
from ..domain.ids import AccountId, ChatKey, InvalidJid, parse_jid
from ..domain.omemo import ChatSecurity
from ..domain.sanitize import clean_field
from .room_commands import RoomHost
from .room_text import jid


def private_target(host: RoomHost, account: AccountId, target: str) -> ChatKey | str | None:
    """The private chat `/msg TARGET` means, a refusal for the user, or None when TARGET
    is not a room occupant (a JID for a 1:1 chat)."""
    chat = host.current_chat
    if chat is not None and chat.account == account and host.rooms.is_room(chat):
        state = host.rooms.state(chat)
        if state is not None and target in state.occupants:
            return _checked(host, account, chat, target)
        if "@" not in target:
            return (f"{clean_field(target, 60)} is not in {jid(chat.jid)} now "
                    "(/who lists who is): no private chat opened.")
    if "@" not in target or "/" not in target:
        return None
    try:
        parsed = parse_jid(target)
    except InvalidJid:
        return None  # the 1:1 path says why
    room = ChatKey(account, parsed.bare)
    if not parsed.resource or not host.rooms.is_room(room):
        return None
    state = host.rooms.state(room)
    if state is None or not state.joined or parsed.resource not in state.occupants:
        return (f"{clean_field(parsed.resource, 60)} is not in {jid(room.jid)} now (or you "
                "are not): no private chat opened.")
    return _checked(host, account, room, parsed.resource)


def _checked(host: RoomHost, account: AccountId, room: ChatKey, nick: str) -> ChatKey | str:
    state = host.rooms.state(room)
    if state is None or not state.joined:
        return f"You are not in {jid(room.jid)} now: /join {jid(room.jid)} first."
    if nick == state.nick:
        return "That is you."
    security: Mapping[ChatKey, ChatSecurity] = getattr(host, "security", {})
    if security.get(room, ChatSecurity.PLAIN) is not ChatSecurity.PLAIN:
        return clean_field(omemo_refusal(state, room.jid, nick), 400)
    return ChatKey.private(account, room.jid, nick)
