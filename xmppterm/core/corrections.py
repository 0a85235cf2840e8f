"""Corrections (XEP-0308) as core applies them: `session.corrections`.

Incoming (1:1 from session._incoming, rooms from room_messages.incoming): a message
that names another (`replaces`) changes it only when domain/corrections.judge says so;
then the correction is kept as a record of its own (`applied_to`: never shown, it
drops a second copy of itself from the archive) and the message it changed is
rewritten in the store, its first body kept, and passed on with its own id, so that
the UI redraws it in place. Anything else is filed as a new message by the caller,
marked as claiming a correction it cannot make.

Continuous presence in rooms: without real JIDs (an anonymous room) a correction must
come from the occupant who wrote the message, not from whoever holds the nick now.
Each occupant presence seen gets a random token, kept while the occupant stays (a
status change keeps it; a leave, a nick change, our own leave or a lost connection
ends it); `stamp` puts it on a room message that arrived live while it held, and the
rule compares tokens. A history or archive message older than the presence gets none:
it can be corrected only where real JIDs match.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from ..domain import events as ev
from ..domain.corrections import Verdict, corrected, judge
from ..domain.ids import AccountId, ChatKey
from ..domain.messages import ChatMessage, Direction, Encryption
from ..domain.rooms import (
    OccupantsChanged,
    RoomJoined,
    RoomJoinFailed,
    RoomLeft,
    RoomMembershipLost,
)
from ..protocol.omemo.port import OmemoRefused
from ..store.store import Store

WINDOW = 500  # the messages of a chat (newest) a correction may name one of


@dataclass(frozen=True, slots=True)
class _Seen:
    token: str
    since: datetime


class Corrections:
    def __init__(self, account: AccountId, store: Store) -> None:
        self.account, self._store = account, store
        self._present: dict[str, dict[str, _Seen]] = {}  # room -> nick -> presence

    # -- who is present, continuously ---------------------------------------------------------
    def observe(self, event: ev.Event) -> None:
        match event:
            case RoomJoined(room=room, occupants=occupants):
                self._present[room.jid] = {o.nick: self._new() for o in occupants}
            case OccupantsChanged(room=room):
                seen = self._present.setdefault(room.jid, {})
                for nick, _ in event.gone:
                    seen.pop(nick, None)
                for old, _ in event.renamed:
                    seen.pop(old, None)
                for occupant in event.present:
                    seen.setdefault(occupant.nick, self._new())
            case RoomLeft(room=room) | RoomJoinFailed(room=room) | RoomMembershipLost(room=room):
                self._present.pop(room.jid, None)
            case ev.LinkLost() | ev.LinkFailed():
                self._present.clear()

    @staticmethod
    def _new() -> _Seen:
        return _Seen(uuid.uuid4().hex, datetime.now(UTC))

    def stamp(self, msg: ChatMessage) -> ChatMessage:
        """A room message from someone else, with the presence it came in (if live)."""
        if not msg.in_room or msg.direction is not Direction.INCOMING or msg.nick is None:
            return msg
        seen = self._present.get(msg.chat.jid, {}).get(msg.nick)
        if seen is None or msg.timestamp < seen.since:
            return replace(msg, occupant=None)
        return replace(msg, occupant=seen.token)

    # -- applying -------------------------------------------------------------------------------
    async def apply(self, msg: ChatMessage, marker: str | None = None
                    ) -> tuple[bool, ChatMessage | None]:
        """(taken, the changed message): taken False when `msg` is to be filed as a new
        message (no correction, or one it may not make); (True, None) for a second copy
        of a correction already applied. `marker` moves the archive marker with it."""
        if not msg.replaces:
            return False, None
        verdict, original = judge(msg, await self._store.history(msg.chat, WINDOW))
        if verdict is not Verdict.APPLY or original is None:
            return False, None
        if not await self._store.add_message(replace(msg, applied_to=original.id), marker):
            return True, None
        return True, await self._rewrite(original, msg)

    async def mine(self, record: ChatMessage, original: ChatMessage) -> ChatMessage:
        """Our own correction `record` (kept, in the outbox) changes `original` now."""
        return await self._rewrite(original, record)

    async def _rewrite(self, original: ChatMessage, correction: ChatMessage) -> ChatMessage:
        """`original` with the correction's body, applied to the message as it is stored
        when written (its delivery or room id may have moved since `original` was read)."""
        _, changed = await self._store.modify_message(
            self.account, original.id, lambda current: corrected(current, correction))
        return changed or corrected(original, correction)

    async def history(self, chat: ChatKey) -> list[ChatMessage]:
        return await self._store.history(chat, WINDOW)


def refuse_mixed(original: ChatMessage, encryption: Encryption) -> None:
    """A correction leaves encrypted exactly when the message it corrects did: raises
    OmemoRefused otherwise (a plaintext correction would disclose an encrypted text,
    and receivers refuse a correction whose encryption differs)."""
    if (original.encryption is Encryption.PLAIN) != (encryption is Encryption.PLAIN):
        how = "encrypted" if original.encryption is not Encryption.PLAIN else "not encrypted"
        raise OmemoRefused(f"That message was {how}, and its correction would not be sent the "
                           "same way (OMEMO was switched since): nothing was sent.")
