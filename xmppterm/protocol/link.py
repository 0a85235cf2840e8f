"""The facade core uses for one identity's connection: core never touches slixmpp.

One `ProtocolLink` is one connection attempt and, if it succeeds, that session; core
makes a new link for each attempt and runs the reconnect policy itself. The outcome of
`connect()` is reported through `emit` (LinkUp, LinkLost or LinkFailed), once.

Stream management (XEP-0198): after a session with it is lost, the link is `resumable`
for a while and core may ask it, once, to `resume()` on the same client: the server then
hands over what it queued and slixmpp resends what it had not acked, so nothing typed or
received is lost in between. If the server no longer holds the stream, the same attempt
binds a new session instead. A message counts as SENT when the server acks it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from slixmpp.exceptions import IqError, IqTimeout

from ..config import AccountConfig
from ..domain import events as ev
from ..domain.ids import InvalidJid, bare_jid
from ..domain.ports import EventSink
from ..domain.rooms import RoomMembershipLost
from ..transport.connect import Connector
from ..transport.socks import connector_for
from ..transport.tls import client_context
from . import stanzas as st
from .archive import ArchiveSync
from .client import READY_EVENT, XmppClient
from .contacts import ContactOps
from .errors import NotConnected
from .muc.admin import RoomAdmin
from .muc.bookmarks import Bookmarks
from .muc.rooms import RoomOps
from .muc.selfping import SelfPing
from .muc.service import RoomServiceFinder
from .omemo.port import Sealed
from .omemo.send import SealedMessage
from .omemo.service import OmemoService, StoreRecords
from .translate import Translator, bind, bind_rooms

log = logging.getLogger(__name__)
NEGOTIATION_TIMEOUT = 60.0  # from the first byte to a bound session with a roster
ROSTER_TIMEOUT = 30.0
RESUME_WINDOW = 300.0  # seconds after a loss in which we try to resume the stream
REQUEST_ACK = "<r xmlns='urn:xmpp:sm:3'/>"
ACK_DRAIN = 2.0  # seconds a clean disconnect waits for the acks of messages in flight


class ProtocolLink:
    def __init__(self, account: AccountConfig, password: str, emit: EventSink,
                 connector: Connector | None = None,
                 timeout: float = NEGOTIATION_TIMEOUT,
                 socks_auth: tuple[str, str] | None = None,
                 records: StoreRecords | None = None) -> None:
        """Create inside a running loop (slixmpp binds to it). Without `connector`, the
        account's route: its proxy (with `socks_auth`, the identity's own credentials,
        unless the config sets some) or a direct connection. `records` (the store) holds
        the identity's OMEMO state; without it OMEMO is off."""
        connector = connector or connector_for(account, socks_auth)
        if account.proxy is not None and connector.local_dns:
            raise ValueError(f"{account.id} must connect through its proxy")
        self.account = account
        self.timeout = timeout
        self._outer_emit = emit
        self._outcome: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._tasks: set[asyncio.Future[Any]] = set()
        self._started = False
        self._client = XmppClient(
            account.jid, password, ssl_context=client_context(account.ca_file),
            direct_tls=account.tls == "direct", host=account.host, port=account.port,
            allow_plain=account.allow_plain, connector=connector,
            receipts=account.receipts, chat_states=account.chat_states,
            tls_pins=account.tls_pins)
        self._translator = Translator(st.Context(account.id, account.jid), self._emit,
                                      lambda: str(self._client.boundjid.full))
        bind(self._client, self._translator)
        self.omemo = OmemoService(self._client, account, records, records, self._translator.emit)
        self._translator.omemo = self.omemo.intake
        self._client.add_event_handler("session_start", lambda _: self._spawn(self._bootstrap()))
        self._client.add_event_handler("session_resumed", self._request_acks)
        self._archive = ArchiveSync(self._client, self._translator)
        self.contacts = ContactOps(self._client, self._translator)  # roster, blocking, presence
        self.admin = RoomAdmin(self._client)  # room owner/admin/moderator requests
        self.bookmarks = Bookmarks(self._client, self._translator)  # XEP-0402 / XEP-0048
        self.selfping = SelfPing(self._client, self._translator)  # XEP-0410
        self.room_service = RoomServiceFinder(self._client, self._translator)  # XEP-0030
        self.rooms = RoomOps(self._client, self._translator,  # group chats: muc/port.py
                             lambda: self._client.send(REQUEST_ACK))
        self._translator.rooms = self.rooms
        bind_rooms(self._client, self.rooms)
        self.omemo.use_rooms(self.rooms)  # who is who in the rooms we are in
        self._catch_up: asyncio.Future[None] | None = None
        self._lost_at: float | None = None  # loop time of the last loss of a session
        self._resume_tried = False

    def __repr__(self) -> str:
        return f"<ProtocolLink {self.account.id} {self.account.jid} online={self.online}>"

    @property
    def online(self) -> bool:
        return (self._translator.up and not self._translator.closing
                and self._client.transport is not None)

    def _emit(self, event: ev.Event) -> None:
        ended = isinstance(event, ev.LinkUp | ev.LinkLost | ev.LinkFailed)
        if isinstance(event, ev.LinkUp):
            self._lost_at, self._resume_tried = None, False
        if isinstance(event, ev.LinkLost | ev.LinkFailed):
            self.rooms.link_lost()  # every room is joined again on the next session
        if isinstance(event, RoomMembershipLost):  # self-ping: the room forgot us
            self.rooms.forget(event.room.jid)  # so that core's rejoin sends a real join
        if isinstance(event, ev.LinkLost) and self._lost_at is None:
            self._lost_at = asyncio.get_running_loop().time()
        if ended and not self._outcome.done():
            self._outcome.set_result(None)
        self._outer_emit(event)

    async def connect(self) -> None:
        """One attempt; returns when its outcome has been reported (or on timeout)."""
        if self._started:
            raise RuntimeError("a ProtocolLink makes one attempt: create a new one to retry")
        self._started = True
        await self._attempt()

    @property
    def resumable(self) -> bool:
        """The session was lost, recently, with a stream the server may still hold, and
        no resumption has been tried since."""
        sm: Any = self._client.plugin["xep_0198"]
        lost = self._lost_at
        return (lost is not None and not self._resume_tried and not self._translator.closing
                and bool(sm.sm_id) and bool(sm.allow_resume) and self._client.failure is None
                and asyncio.get_running_loop().time() - lost < RESUME_WINDOW)

    async def resume(self) -> None:
        """One more attempt on the same client, to resume the stream (see above)."""
        if not self.resumable:
            raise RuntimeError("nothing to resume: create a new link")
        self._resume_tried = True
        self._translator.reopen()
        self._outcome = asyncio.get_running_loop().create_future()
        await self._attempt()

    async def _attempt(self) -> None:
        self._client.connect()
        try:
            await asyncio.wait_for(asyncio.shield(self._outcome), self.timeout)
        except TimeoutError:
            self._translator.lost(f"Timed out connecting to {self.account.domain}")
            self._client.cancel_connection_attempt()
            self._client.abort()

    async def _bootstrap(self) -> None:
        """After the session is bound: roster, then LinkUp, presence, carbons."""
        client = self._client
        try:
            await client.get_roster(timeout=ROSTER_TIMEOUT)
        except (IqError, IqTimeout):
            self._translator.lost(f"{self.account.domain} did not send the roster")
            client.abort()
            return
        client.event(READY_EVENT)
        self.contacts.announce()
        self._spawn(self.room_service.run())  # for /join NAME: RoomServiceFound
        self._spawn(self.contacts.fetch_blocklist())
        self._spawn(client.plugin["xep_0280"].enable())

    def _spawn(self, aw: Coroutine[Any, Any, Any] | asyncio.Future[Any]) -> None:
        task: asyncio.Future[Any] = asyncio.ensure_future(aw)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Future[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.info("background request failed: %s", type(task.exception()).__name__)

    def send_chat(self, to: str, body: str, message_id: str,
                  replaces: str | None = None) -> bool:
        """Send a chat message (id = origin-id = message_id) asking for a receipt; with
        `replaces`, a correction (XEP-0308) of our message with that id. True
        when SENT will be reported on the server's ack (stream management); False when
        the server gives no acks and the message counts as sent once written."""
        if not self.online:
            raise NotConnected(f"{self.account.id} is not online")
        try:
            bare = bare_jid(to)
        except InvalidJid as exc:
            raise ValueError(str(exc)) from None
        if self._translator.handed_over(message_id):
            return True  # in this stream's queue (resent on resumption) or acked: not twice
        acked = bool(self._client.plugin["xep_0198"].enabled_out)
        self._translator.note_sent(message_id, bare, acked)
        self._client.send_chat(bare, body, message_id, replaces)
        if acked:
            self._client.send(REQUEST_ACK)  # queued after the message: its ack covers it
        return acked

    async def seal(self, to: str, body: str, message_id: str,
                   replaces: str | None = None) -> SealedMessage:
        """Encrypt a chat message with OMEMO (raises port.OmemoRefused: nothing is sent
        then, and nothing in plaintext ever); `send_sealed` sends it."""
        if not self.online:
            raise NotConnected(f"{self.account.id} is not online")
        try:
            bare = bare_jid(to)
        except InvalidJid as exc:
            raise ValueError(str(exc)) from None
        return await self.omemo.seal(bare, body, message_id, replaces)

    def send_chat_state(self, to: str, state: str) -> bool:
        """A chat state (XEP-0085) to a contact, as the `chat_states` setting allows;
        False when not sent (offline, not allowed, not a valid JID)."""
        if not self.online:
            return False
        try:
            bare = bare_jid(to)
        except InvalidJid:
            return False
        return self._client.send_chat_state(bare, state)

    def send_sealed(self, sealed: Sealed) -> bool:
        """Send what `seal` made, as `send_chat` sends a plaintext message."""
        if not isinstance(sealed, SealedMessage):
            raise TypeError("send_sealed takes what this link's seal() returned")
        if not self.online or sealed.stanza.stream is not self._client:
            raise NotConnected(f"{self.account.id} is not online (or sealed on another link)")
        if self._translator.handed_over(sealed.message_id):
            return True
        acked = bool(self._client.plugin["xep_0198"].enabled_out)
        self._translator.note_sent(sealed.message_id, sealed.to, acked)
        sealed.stanza.send()
        if acked:
            self._client.send(REQUEST_ACK)
        return acked

    async def catch_up(self, marker: str | None) -> None:
        """Read our server archive after `marker` (ArchiveSync); a newer catch-up
        replaces one still running. Results and progress come through `emit`."""
        if self._catch_up is not None:
            self._catch_up.cancel()
        task = asyncio.ensure_future(self._archive.run(marker))
        self._catch_up = task
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        await task

    def _request_acks(self, _: Any = None) -> None:
        if self._translator.awaiting_acks:  # slixmpp resent them without asking for acks
            self._client.send(REQUEST_ACK)

    async def _drain_acks(self) -> None:
        """Before a clean disconnect: ask for the acks of messages still in flight."""
        if not self.online or not self._translator.awaiting_acks:
            return
        self._client.send(REQUEST_ACK)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + ACK_DRAIN
        while self._translator.awaiting_acks and loop.time() < deadline:
            await asyncio.sleep(0.05)

    async def disconnect(self) -> None:
        """Close the session (or the attempt); nothing is reported after this."""
        await self._drain_acks()
        self._translator.closing = True
        await self.omemo.close()
        self.selfping.close()
        self.rooms.close()
        client = self._client
        client.cancel_connection_attempt()
        if client.transport is not None:
            try:
                await asyncio.wait_for(client.disconnect(wait=2.0), 5.0)
            except TimeoutError:
                client.abort()
        pending = set(self._tasks)
        filters = client._run_out_filters  # slixmpp's send loop outlives the connection
        if filters is not None and not filters.done():
            pending.add(filters)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=1.0)
        if not self._outcome.done():
            self._outcome.set_result(None)
