"""What one identity sends: kept in the outbox first, sealed when the chat uses OMEMO,
handed to the link when online, and never lost (core/session.py owns one).

A message is stored PENDING before anything else; it leaves now (online), at the next
connection (flush), or when its OMEMO decision or sealing ends (`later`). One held
because nobody could tell whether the contact uses OMEMO (their device list could not
be read) is asked about again while the connection stays, at HELD_RETRIES intervals,
and else at the next connection. A room's messages go to core/rooms.py.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from ..domain import events as ev
from ..domain.corrections import last_own, wire_id
from ..domain.ids import AccountId, ChatKey
from ..domain.messages import ChatMessage, Delivery, Direction
from ..domain.ports import EventSink
from ..protocol.omemo.port import OmemoRefused, Sealed
from ..store.store import Store
from .corrections import Corrections, refuse_mixed
from .link import Link, NotConnected
from .marks import mark_sent
from .omemo import ChatOmemo, port_of
from .private_chats import PrivateChats
from .rooms import RoomsControl
from .tasks import TaskGroup

CORRECT = "/correct "  # a refused correction goes back to the composer as the command
HELD_RETRIES = (15.0, 60.0, 240.0)  # seconds between asking again about a held message


class Outbox:
    def __init__(self, account: AccountId, jid: str, store: Store, emit: EventSink, *,
                 omemo: ChatOmemo, corrections: Corrections, rooms: RoomsControl,
                 private: PrivateChats, tasks: TaskGroup, online_link: Callable[[], Link | None],
                 show: Callable[[ChatMessage, str | None], Awaitable[None]]) -> None:
        self.account, self._jid, self._store, self._emit = account, jid, store, emit
        self._omemo, self._corrections, self._rooms = omemo, corrections, rooms
        self._private = private
        self._tasks, self._online_link, self._show = tasks, online_link, show
        self._sending = asyncio.Lock()  # one message at a time: sealing must not reorder
        self._in_flight: set[str] = set()  # ids being handed to the link (sealing awaits)

    async def correct(self, chat: ChatKey, body: str,
                      target: str | None = None) -> ChatMessage | None:
        """`/correct`: our last message in the chat gets `body`, here at once and for the
        others by a correction (XEP-0308) sent like any message (outbox, OMEMO). With
        `target`, only if that is still our last message (else refused: text back)."""
        original, why = last_own(await self._corrections.history(chat), target)
        if chat.is_private:
            original, why = None, "Corrections are not sent in private chats through a room."
        if original is None:
            self._emit(ev.SendRefused(self.account, chat, CORRECT + body, why))
            return None
        return await self.send(chat, body, original)

    async def send(self, chat: ChatKey, body: str,
                   correcting: ChatMessage | None = None) -> ChatMessage | None:
        """Keep the message in the outbox first, then hand it to the server if online.
        In an OMEMO chat it is sealed first: if that fails, nothing is kept or sent and
        SendRefused gives the text back (core/omemo.py). A room's: core/rooms.py.
        With `correcting` (our message), a correction of it: that message shows `body`."""
        if self._rooms.is_room(chat.jid):
            async with self._sending:
                return await self._rooms.send(chat, body, correcting)
        if chat.is_private:  # through a room: always plaintext (core/private_chats.py)
            async with self._sending:
                return await self._private.send(chat, body)
        async with self._sending:
            message_id = uuid.uuid4().hex
            replaces = wire_id(correcting) if correcting is not None else None
            try:
                out = await self._omemo.prepare(chat, body, message_id, self._online_link(),
                                                replaces=replaces)
                if correcting is not None:
                    refuse_mixed(correcting, out.encryption)
            except OmemoRefused as exc:
                shown = body if correcting is None else CORRECT + body
                self._emit(ev.SendRefused(self.account, chat, shown, exc.reason))
                return None
            msg = ChatMessage(
                id=message_id, chat=chat, direction=Direction.OUTGOING,
                sender=self._jid, body=body, timestamp=datetime.now(UTC),
                encryption=out.encryption, delivery=Delivery.PENDING, origin_id=message_id,
                replaces=replaces, applied_to=correcting.id if correcting else None)
            await self._store.add_message(msg)
            shown_msg = msg if correcting is None else await self._corrections.mine(msg, correcting)
            await self._show(shown_msg, msg.id if correcting is None else None)
            if out.later is not None:
                self._in_flight.add(msg.id)  # a flush in between must not send it too
                self._tasks.spawn(self._transmit_later(msg, out.later))
            elif out.hold:
                self._tasks.spawn(self._ask_again(msg.id))
            else:
                await self._transmit(msg, out.sealed)
            return msg

    async def _transmit_later(self, msg: ChatMessage, work: asyncio.Future[object]) -> None:
        """Send a message once its OMEMO decision or sealing (core/omemo.py) is done: with
        what was sealed, else decided and sealed again (refused: marked FAILED)."""
        await asyncio.wait([work])
        result = None if work.cancelled() or work.exception() else work.result()
        self._in_flight.discard(msg.id)
        current = await self._store.get_message(self.account, msg.id)
        if current is not None and current.delivery is Delivery.PENDING:
            await self._transmit(current, result if self._omemo.is_sealed(result) else None)

    async def _ask_again(self, message_id: str) -> None:
        """A message held undecided: while online, ask again whether its chat uses OMEMO
        and send it once that is known (it stays pending, for the next connection, if
        the answer never comes; a flush meanwhile may have sent it already)."""
        for delay in HELD_RETRIES:
            await asyncio.sleep(delay)
            msg = await self._store.get_message(self.account, message_id)
            link = self._online_link()
            if msg is None or msg.delivery is not Delivery.PENDING or link is None:
                return
            try:
                await self._omemo.must_encrypt(msg.chat, port_of(link))
            except (OmemoRefused, NotConnected):
                continue  # still not known
            await self._transmit(msg)
            return

    async def flush(self) -> None:
        """Every 1:1 message still pending, in order (at each connection)."""
        for msg in await self._store.pending(self.account):
            if msg.in_room or msg.chat.is_private:
                continue  # a room's outbox leaves once the room is joined (core/rooms.py)
            if not await self._transmit(msg):
                break

    async def _transmit(self, msg: ChatMessage, sealed: Sealed | None = None) -> bool:
        if msg.id in self._in_flight:
            return True  # a send and a flush raced: the other call sends it, once
        self._in_flight.add(msg.id)
        try:
            return await self._transmit_now(msg, sealed)
        finally:
            self._in_flight.discard(msg.id)

    async def _transmit_now(self, msg: ChatMessage, sealed: Sealed | None) -> bool:
        link = self._online_link()
        if link is None:
            return False
        try:
            ready = await self._omemo.outgoing(msg, link, sealed)  # None: refused, FAILED
            if ready is None:
                return True
            msg, sealed = ready
            if link.send_sealed(sealed) if sealed is not None else send_plain(link, msg):
                return True  # pending until the server acks it: then SENT comes as an event
        except NotConnected:
            return False
        await mark_sent(self._store, self._emit, msg)
        return True


def send_plain(link: Link, msg: ChatMessage) -> bool:
    """Hand a plaintext message to the link; a correction names what it corrects."""
    if msg.replaces:
        return link.send_chat(msg.chat.jid, msg.body, msg.id, replaces=msg.replaces)
    return link.send_chat(msg.chat.jid, msg.body, msg.id)
