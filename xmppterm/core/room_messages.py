"""Messages of one identity's rooms, as core handles them: the outbox, our reflections,
incoming messages, and the room archive markers.

- Sending: a room message is kept PENDING in the store first, like a 1:1 one, and
  handed to the room only while we are joined (after a reconnect: after the rejoin);
  otherwise it waits, and `flush(room)` sends it once RoomJoined comes.
- The OMEMO seam: when the session has a `room_omemo` (core/room_omemo.py), its
  `prepare(state, body, message_id, link)` decides every room message, returning the
  `Outgoing` of core/omemo.py (`encryption`, `sealed`, `hold`, `later`); without it
  rooms are plain. A refusal (OmemoRefused) gives the text back (SendRefused), and a
  pending message that can no longer be sealed is FAILED: never plaintext instead.
- Our reflection (OUTGOING, with the origin-id we gave it) marks the kept message
  DELIVERED and records the room's stanza-id, so the room archive finds it known.
- A correction (XEP-0308) leaves exactly as the message it corrects did: encrypted
  (the id named inside the OMEMO 2 envelope) or in plaintext; where the room's OMEMO
  was switched since, it is refused (core/corrections.py `refuse_mixed`), and one that
  waited in the outbox is FAILED then. Its reflection is matched like any other.
- Each room's archive marker (its newest stanza-id read) moves after every page of a
  catch-up, and after one completed with each live message that carries a stanza-id.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..domain import events as ev
from ..domain.corrections import wire_id
from ..domain.delivery import advance
from ..domain.ids import ChatKey
from ..domain.messages import ChatMessage, Delivery, Direction, Encryption
from ..domain.ports import EventSink
from ..domain.rooms import RoomArchivePage, RoomState
from ..protocol.muc.port import RoomPort
from ..protocol.omemo.port import OmemoRefused
from ..store.store import Store
from .corrections import refuse_mixed
from .link import Link, NotConnected
from .marks import mark_sent

if TYPE_CHECKING:
    from .session import AccountSession

log = logging.getLogger(__name__)
MARKER = "room_mam:"  # + room JID: the newest room stanza-id read from its archive


def rooms_of(link: Link | None) -> RoomPort | None:
    """The link's room operations (a fake link in a unit test may have none)."""
    port: RoomPort | None = getattr(link, "rooms", None)
    return port


class RoomMessages:
    def __init__(self, session: AccountSession, store: Store, emit: EventSink) -> None:
        self._session, self._store, self._emit = session, store, emit
        self.account = session.account
        self._in_flight: set[str] = set()
        self._later: set[asyncio.Future[None]] = set()  # sends waiting for room OMEMO
        self.synced: set[str] = set()  # rooms whose archive catch-up completed this session

    # -- sending -----------------------------------------------------------------------------
    async def send(self, state: RoomState, body: str,
                   correcting: ChatMessage | None = None) -> ChatMessage | None:
        """A new message, or with `correcting` (our message) a correction of it."""
        message_id = uuid.uuid4().hex
        link = self._session.online_link
        encryption, sealed, hold, later = Encryption.PLAIN, None, False, None
        room_omemo: Any = getattr(self._session, "room_omemo", None)
        replaces = wire_id(correcting) if correcting is not None else None
        try:
            if correcting is not None:  # before sealing: as the room is known now
                refuse_mixed(correcting, _written(state.room.jid, room_omemo))
            if room_omemo is not None:
                out = await room_omemo.prepare(state, body, message_id, link, replaces)
                encryption, sealed, hold, later = out.encryption, out.sealed, out.hold, out.later
            if correcting is not None:  # as it was decided (the room may have turned on)
                refuse_mixed(correcting, encryption)
        except OmemoRefused as exc:
            shown = body if correcting is None else "/correct " + body
            self._emit(ev.SendRefused(self.account, state.room, shown, exc.reason))
            return None
        msg = ChatMessage(id=message_id, chat=state.room, direction=Direction.OUTGOING,
                          sender=self._session.config.jid, body=body,
                          timestamp=datetime.now(UTC), encryption=encryption,
                          delivery=Delivery.PENDING, origin_id=message_id, nick=state.nick,
                          replaces=replaces, applied_to=correcting.id if correcting else None)
        await self._store.add_message(msg)
        shown_msg = msg if correcting is None else \
            await self._session.corrections.mine(msg, correcting)
        self._emit(ev.MessageReceived(self.account, shown_msg))
        if later is not None:
            self._in_flight.add(msg.id)
            task = asyncio.ensure_future(self._after(msg, later, state))
            self._later.add(task)
            task.add_done_callback(self._later.discard)
        elif not hold:
            await self.transmit(msg, state, sealed)
        return msg

    async def _after(self, msg: ChatMessage, work: asyncio.Future[Any], state: RoomState) -> None:
        await asyncio.wait([work])
        self._in_flight.discard(msg.id)
        result = None if work.cancelled() or work.exception() else work.result()
        current = await self._store.get_message(self.account, msg.id)
        if current is not None and current.delivery is Delivery.PENDING:
            sealed = result if hasattr(result, "encryption") and hasattr(result, "skipped") \
                else None
            await self.transmit(current, state, sealed)

    async def flush(self, state: RoomState) -> None:
        """Send what waits in the outbox for this room (after RoomJoined)."""
        for msg in await self._store.pending(self.account):
            if msg.chat == state.room and not await self.transmit(msg, state):
                break

    async def transmit(self, msg: ChatMessage, state: RoomState, sealed: Any = None) -> bool:
        """Hand `msg` to the room now if we are joined; False: it stays pending."""
        if msg.id in self._in_flight:
            return True
        self._in_flight.add(msg.id)
        try:
            return await self._transmit(msg, state, sealed)
        finally:
            self._in_flight.discard(msg.id)

    async def _transmit(self, msg: ChatMessage, state: RoomState, sealed: Any) -> bool:
        link = self._session.online_link
        port = rooms_of(link)
        if link is None or port is None or not port.joined(msg.chat.jid):
            return False
        written = msg.encryption
        room_omemo: Any = getattr(self._session, "room_omemo", None)
        if msg.replaces and sealed is None and written is Encryption.PLAIN and \
                _written(msg.chat.jid, room_omemo) is not Encryption.PLAIN:
            return await self._mixed(msg)  # a plaintext correction; the room encrypts now
        try:
            ready = await self._omemo_outgoing(msg, link, sealed)
        except NotConnected:
            return False
        if ready is None:
            return True  # refused: FAILED with the reason, nothing sent
        msg, sealed = ready
        if msg.replaces and (written is Encryption.PLAIN) != (sealed is None):
            return await self._mixed(msg)  # never leaves other than it was written
        try:
            acked = link.send_sealed(sealed) if sealed is not None else \
                port.send_groupchat(msg.chat.jid, msg.body, msg.id, **_named(msg))
        except NotConnected:
            return False
        if not acked:
            await mark_sent(self._store, self._emit, msg)
        return True

    async def _omemo_outgoing(self, msg: ChatMessage, link: Link, sealed: Any
                              ) -> tuple[ChatMessage, Any] | None:
        """The message and its sealed stanza as the room's OMEMO has them now (None for
        the stanza: plaintext); None when refused (FAILED). Without room OMEMO, a
        message written encrypted is FAILED rather than sent in plaintext."""
        room_omemo: Any = getattr(self._session, "room_omemo", None)
        if room_omemo is not None:
            ready: tuple[ChatMessage, Any] | None = await room_omemo.outgoing(msg, link, sealed)
            return ready
        if sealed is None and msg.encryption is not Encryption.PLAIN:
            await self._fail(msg, "OMEMO for rooms is not available here: not sent")
            return None
        return msg, sealed

    async def _mixed(self, msg: ChatMessage) -> bool:
        await self._fail(msg, "The room's OMEMO was switched since this correction was "
                              "written: it would not leave the way the message it corrects "
                              "did (encrypted or not). Not sent")
        return True

    async def _fail(self, msg: ChatMessage, reason: str) -> None:
        await self._store.update_message(msg.with_delivery(Delivery.FAILED, reason))
        self._emit(ev.MessageDeliveryChanged(self.account, msg.chat, msg.id, Delivery.FAILED,
                                             reason))

    # -- incoming ----------------------------------------------------------------------------
    async def incoming(self, msg: ChatMessage) -> None:
        if msg.direction is Direction.OUTGOING and await self._reflection(msg):
            await self._live_marker(msg)
            return
        corrections = self._session.corrections
        msg = corrections.stamp(msg)  # the writer's continuous presence, if seen
        taken, changed = await corrections.apply(msg)
        if changed is not None:
            self._emit(ev.MessageReceived(self.account, changed))
        if taken:
            await self._live_marker(msg)
            return
        if await self._store.add_message(msg):
            self._emit(ev.MessageReceived(self.account, msg))
            room_omemo: Any = getattr(self._session, "room_omemo", None)
            if room_omemo is not None:
                await room_omemo.incoming(msg)  # plaintext in an OMEMO room: said loudly
        await self._live_marker(msg)

    async def _reflection(self, msg: ChatMessage) -> bool:
        """Our own message came back: the kept one is DELIVERED, with the room's id (read
        and written in one step of the store: a /correct of it meanwhile is kept)."""
        def ours(mine: ChatMessage) -> bool:
            return mine.chat == msg.chat and mine.direction is Direction.OUTGOING

        def delivered(mine: ChatMessage) -> ChatMessage | None:
            moved = advance(mine.delivery, Delivery.DELIVERED)
            updated = replace(mine, stanza_id=mine.stanza_id or msg.stanza_id,
                              delivery=moved or mine.delivery, error=None if moved else mine.error)
            return updated if ours(mine) and updated != mine else None

        if not msg.origin_id:
            return False
        mine, _ = await self._store.modify_message(self.account, msg.origin_id, delivered)
        if mine is None or not ours(mine):
            return False
        moved = advance(mine.delivery, Delivery.DELIVERED)
        if moved is not None:
            self._emit(ev.MessageDeliveryChanged(self.account, msg.chat, mine.id, moved))
        return True

    # -- the room archive ----------------------------------------------------------------------
    async def marker(self, room: str) -> str | None:
        blob = await self._store.load_record(self.account, MARKER + room)
        return blob.decode("utf-8") if blob is not None else None

    async def catch_up(self, state: RoomState) -> None:
        """Read the room's archive after our marker (joined rooms with an archive)."""
        port = rooms_of(self._session.online_link)
        if port is not None and state.features.archived:
            self.synced.discard(state.room.jid)
            await port.catch_up(state.room.jid, await self.marker(state.room.jid))

    async def page(self, event: RoomArchivePage) -> None:
        if event.marker is not None:
            await self._store.save_record(self.account, MARKER + event.room.jid,
                                          event.marker.encode("utf-8"))
        if event.done and not event.failed:
            self.synced.add(event.room.jid)

    async def _live_marker(self, msg: ChatMessage) -> None:
        if msg.chat.jid in self.synced and msg.stanza_id:
            await self._store.save_record(self.account, MARKER + msg.chat.jid,
                                          msg.stanza_id.encode("utf-8"))

    async def last_seen(self, chat: ChatKey) -> datetime | None:
        """When the newest message kept for the room was written (history `since`)."""
        newest = await self._store.history(chat, 1)
        return newest[-1].timestamp if newest else None


def _named(msg: ChatMessage) -> dict[str, str]:
    """The keyword a correction adds to send_groupchat (nothing for a new message)."""
    return {"replaces": msg.replaces} if msg.replaces else {}


def _written(room: str, room_omemo: Any) -> Encryption:
    """The class a message written to `room` now gets (PLAIN, or OMEMO: sealed)."""
    encrypts = room_omemo is not None and room_omemo.enabled(room)
    return Encryption.OMEMO_UNTRUSTED if encrypts else Encryption.PLAIN
