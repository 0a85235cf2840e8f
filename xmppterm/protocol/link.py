"""The facade core uses for one identity's connection: core never touches slixmpp.

One `ProtocolLink` is one connection attempt and, if it succeeds, that session; core
makes a new link for each attempt and runs the reconnect policy itself. The outcome of
`connect()` is reported through `emit` (LinkUp, LinkLost or LinkFailed), once.
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
from ..transport.connect import Connector
from ..transport.socks import connector_for
from ..transport.tls import client_context
from . import stanzas as st
from .client import READY_EVENT, XmppClient
from .errors import NotConnected
from .translate import Translator, bind

log = logging.getLogger(__name__)
NEGOTIATION_TIMEOUT = 60.0  # from the first byte to a bound session with a roster
ROSTER_TIMEOUT = 30.0


class ProtocolLink:
    def __init__(self, account: AccountConfig, password: str, emit: EventSink,
                 connector: Connector | None = None,
                 timeout: float = NEGOTIATION_TIMEOUT,
                 socks_auth: tuple[str, str] | None = None) -> None:
        """Create inside a running loop (slixmpp binds to it). Without `connector`, the
        account's route: its proxy (with `socks_auth`, the identity's own credentials,
        unless the config sets some) or a direct connection."""
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
            allow_plain=account.allow_plain, connector=connector)
        self._translator = Translator(st.Context(account.id, account.jid), self._emit,
                                      lambda: str(self._client.boundjid.full))
        bind(self._client, self._translator)
        self._client.add_event_handler("session_start", lambda _: self._spawn(self._bootstrap()))

    def __repr__(self) -> str:
        return f"<ProtocolLink {self.account.id} {self.account.jid} online={self.online}>"

    @property
    def online(self) -> bool:
        return (self._translator.up and not self._translator.closing
                and self._client.transport is not None)

    def _emit(self, event: ev.Event) -> None:
        ended = isinstance(event, ev.LinkUp | ev.LinkLost | ev.LinkFailed)
        if ended and not self._outcome.done():
            self._outcome.set_result(None)
        self._outer_emit(event)

    async def connect(self) -> None:
        """One attempt; returns when its outcome has been reported (or on timeout)."""
        if self._started:
            raise RuntimeError("a ProtocolLink makes one attempt: create a new one to retry")
        self._started = True
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
        client.send_presence()
        self._spawn(client.plugin["xep_0280"].enable())

    def _spawn(self, aw: Coroutine[Any, Any, Any] | asyncio.Future[Any]) -> None:
        task: asyncio.Future[Any] = asyncio.ensure_future(aw)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Future[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.info("background request failed: %s", type(task.exception()).__name__)

    def send_chat(self, to: str, body: str, message_id: str) -> None:
        """Send a chat message (id = origin-id = message_id) asking for a receipt."""
        if not self.online:
            raise NotConnected(f"{self.account.id} is not online")
        try:
            bare = bare_jid(to)
        except InvalidJid as exc:
            raise ValueError(str(exc)) from None
        self._translator.note_sent(message_id, bare)
        self._client.send_chat(bare, body, message_id)

    async def disconnect(self) -> None:
        """Close the session (or the attempt); nothing is reported after this."""
        self._translator.closing = True
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
