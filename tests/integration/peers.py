"""Scripted peers for integration tests: a plain slixmpp client trusting the per-run CA,
and an event recorder with waiting."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import slixmpp

from xmppterm.config import Config
from xmppterm.core.manager import SessionManager
from xmppterm.devserver import Account, ProsodyServer
from xmppterm.domain import events as ev
from xmppterm.domain.messages import Delivery
from xmppterm.store.store import Store
from xmppterm.transport.tls import client_context

E = TypeVar("E", bound=ev.Event)


def left_us(event: ev.MessageDeliveryChanged) -> bool:
    """The message reached the server: SENT on its ack, or DELIVERED when the
    recipient's receipt came first (the session never steps back to SENT then)."""
    return event.delivery in (Delivery.SENT, Delivery.DELIVERED)


class NotSeen(TimeoutError, AssertionError):
    """No matching event in time; says which events did come, for a failure's reader."""


async def until(check: Callable[[], bool | Awaitable[bool]], timeout: float = 10.0) -> None:
    """Poll `check()` (awaited when it returns an awaitable) every 50 ms until it is
    true, for at most `timeout` seconds: instead of a fixed sleep before asserting that
    something did happen. It does not fail by itself: the assertion that follows says
    what is wrong."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        await asyncio.sleep(0.05)


class Events:
    """Every event a link emitted, with waiting for one that matches."""

    def __init__(self) -> None:
        self.items: list[ev.Event] = []
        self._changed = asyncio.Event()

    def __call__(self, event: ev.Event) -> None:
        self.items.append(event)
        self._changed.set()

    def of(self, kind: type[E]) -> list[E]:
        return [e for e in self.items if isinstance(e, kind)]

    async def wait(self, kind: type[E], pred: Callable[[E], bool] = lambda e: True,
                   timeout: float = 10.0) -> E:
        async def find() -> E:
            while True:
                for e in self.of(kind):
                    if pred(e):
                        return e
                self._changed.clear()
                await self._changed.wait()
        try:
            return await asyncio.wait_for(find(), timeout)
        except TimeoutError:
            seen = "\n  ".join(repr(e)[:300] for e in self.items[-40:])
            raise NotSeen(f"no matching {kind.__name__} within {timeout} s; the last "
                                 f"events were:\n  {seen}") from None


class Peer(slixmpp.ClientXMPP):  # type: ignore[misc]
    """A plain slixmpp client that trusts the per-run CA."""

    def __init__(self, acc: Account, ca: Path, resource: str = "peer") -> None:
        super().__init__(f"{acc.jid}/{resource}", acc.password, ssl_context=client_context(ca))
        for plugin in ("xep_0030", "xep_0184", "xep_0199", "xep_0280", "xep_0359"):
            self.register_plugin(plugin)
        self.inbox: asyncio.Queue[Any] = asyncio.Queue()
        self.receipts: list[str] = []
        self.add_event_handler("message", self.inbox.put_nowait)
        self.add_event_handler("receipt_received", lambda m: self.receipts.append(m["receipt"]))

    async def start(self, server: ProsodyServer) -> Peer:
        self.connect(host="127.0.0.1", port=server.c2s_port)
        await self.wait_until("session_start", 15)
        await self.get_roster()
        self.send_presence()
        return self

    async def next_message(self, timeout: float = 10.0) -> Any:
        return await asyncio.wait_for(self.inbox.get(), timeout)

    async def stop(self) -> None:
        await self.disconnect(wait=1.0)
        filters = self._run_out_filters  # slixmpp's send loop outlives the connection
        if filters is not None:
            filters.cancel()
            await asyncio.wait([filters], timeout=1.0)


@asynccontextmanager
async def started(config: Config, store: Store) -> AsyncIterator[tuple[SessionManager, Events]]:
    """A SessionManager on `store`, started, with every event it emits; closed after."""
    manager = SessionManager(config, store)
    events = Events()
    manager.subscribe(events)
    await manager.start()
    try:
        yield manager, events
    finally:
        await manager.shutdown()
        await store.close()
