"""One identity: its connection lifecycle, reconnects with jittered backoff, its chats;
what it sends goes through its outbox (core/outbox.py)."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable

from ..config import AccountConfig
from ..domain import events as ev
from ..domain.connection import ConnState, Trigger, backoff_delay, next_state
from ..domain.delivery import advance
from ..domain.ids import ChatKey
from ..domain.messages import ChatMessage, Direction
from ..domain.omemo import NewOmemoDevice
from ..domain.ports import EventSink
from ..domain.rooms import RoomJoined
from ..domain.roster import RosterItem, subscription_news
from ..store.store import Store
from .archive import ArchiveTracker
from .corrections import Corrections
from .link import Link, LinkFactory
from .omemo import ChatOmemo
from .outbox import Outbox
from .private_chats import PrivateChats
from .room_omemo import RoomOmemo
from .rooms import ROOM_EVENTS, RoomsControl
from .secrets import PasswordUnavailable, resolve_password
from .tasks import TaskGroup

log = logging.getLogger(__name__)
SEARCH_LIMIT = 200  # search results returned, newest first
AROUND = (100, 300)  # messages loaded before and after a search result opened in its chat


class AccountSession:
    def __init__(self, config: AccountConfig, store: Store, emit: EventSink,
                 link_factory: LinkFactory, rand: Callable[[], float] = random.random,
                 backoff: Callable[[int, float], float] = backoff_delay) -> None:
        self.config = config
        self.account = config.id
        self.state = ConnState.OFFLINE
        self.roster: dict[str, RosterItem] = {}
        self._store, self._emit, self._factory = store, emit, link_factory
        self._rand, self._backoff = rand, backoff
        self._link: Link | None = None
        self._attempt = 0
        self._retry: asyncio.TimerHandle | None = None
        self._inbox: asyncio.Queue[ev.Event] = asyncio.Queue()
        self.open_chats: list[str] = []
        self._tasks = TaskGroup(f"session {self.account}")
        self._archive = ArchiveTracker(self.account, store, emit)
        self.omemo = ChatOmemo(config, store, emit)
        self.room_omemo = RoomOmemo(config, store, emit)  # OMEMO in rooms (core/room_omemo.py)
        self.omemo.rooms = self.room_omemo
        self.rooms = RoomsControl(self, store, emit)  # group chats (core/rooms.py)
        self.private = PrivateChats(self, store, emit)  # through rooms (core/private_chats.py)
        self.corrections = Corrections(self.account, store)  # XEP-0308 (core/corrections.py)
        self.outbox = Outbox(self.account, config.jid, store, emit, omemo=self.omemo,
                             corrections=self.corrections, rooms=self.rooms,
                             private=self.private, tasks=self._tasks,
                             online_link=lambda: self.online_link, show=self._show)
        self._tasks.spawn(self._process_inbox())

    # -- lifecycle -------------------------------------------------------------------
    def _move(self, trigger: Trigger, detail: str = "") -> None:
        new = next_state(self.state, trigger)
        if new is self.state and trigger in (Trigger.LOST, Trigger.FATAL):
            return
        self.state = new
        self._emit(ev.ConnectionChanged(self.account, new, detail))

    async def start(self) -> None:
        await self.omemo.load()
        await self.room_omemo.load()
        await self.rooms.load()
        self.roster = {i.jid: i for i in await self._store.load_roster(self.account)}
        if self.roster:
            self._emit(ev.RosterReceived(self.account, tuple(self.roster.values())))
        for jid in await self._store.open_chats(self.account):
            await self.open_chat(ChatKey(self.account, jid), focus=False)

    def connect(self) -> None:
        if self.state in (ConnState.CONNECTING, ConnState.ONLINE):
            return
        self._cancel_retry()
        self._move(Trigger.CONNECT, self._route())
        self._tasks.spawn(self._attempt_connect())

    def _route(self) -> str:
        return self.config.route

    async def _attempt_connect(self) -> None:
        link = self._link
        if link is not None and link.resumable:
            await link.resume()  # the same stream, if the server still holds it
            return
        try:
            password = await resolve_password(self.config, await self._stored_password())
        except PasswordUnavailable as exc:
            self._move(Trigger.FATAL, str(exc))
            return
        if self.state is not ConnState.CONNECTING:
            return
        await self._drop_link()
        link = self._factory(self.config, password, self._from_link)
        self._link = link
        await link.connect()

    async def _stored_password(self) -> str | None:
        if self.config.password is not None or self.config.password_command:
            return None
        return await self._store.load_credential(self.account)

    async def disconnect(self) -> None:
        self._cancel_retry()
        self._move(Trigger.DISCONNECT)
        await self._drop_link()

    async def _drop_link(self) -> None:
        link, self._link = self._link, None
        if link is not None:
            await link.disconnect()

    def _cancel_retry(self) -> None:
        if self._retry is not None:
            self._retry.cancel()
            self._retry = None

    def _schedule_retry(self, reason: str) -> None:
        delay = self._backoff(self._attempt, self._rand())
        self._attempt += 1
        self._move(Trigger.LOST, f"{reason}; retrying in {delay:.0f} s")
        self._retry = asyncio.get_running_loop().call_later(delay, self._retry_due)

    def _retry_due(self) -> None:
        self._retry = None
        if self.state is ConnState.WAITING:
            self._move(Trigger.RETRY_DUE, self._route())
            self._tasks.spawn(self._attempt_connect())

    # -- from the protocol layer -------------------------------------------------------
    def _from_link(self, event: ev.Event) -> None:
        """Called by the link for every domain event, in stanza order."""
        self._inbox.put_nowait(event)

    async def _process_inbox(self) -> None:
        while True:
            event = await self._inbox.get()
            try:
                await self._handle(event)
            except Exception:
                log.exception("failed to handle a %s event", type(event).__name__)

    async def _handle(self, event: ev.Event) -> None:
        self.corrections.observe(event)  # who stays present in rooms
        match event:
            case ev.LinkUp():
                await self._link_up()
            case ev.LinkLost(reason=reason):
                self.rooms.link_lost()
                if self.state in (ConnState.CONNECTING, ConnState.ONLINE):
                    self._archive.link_changed()
                    if self._link is None or not self._link.resumable:
                        await self._drop_link()
                    self._schedule_retry(reason)
            case ev.ArchivePage():
                await self._archive.page(event)
            case ev.LinkFailed(reason=reason):
                self._move(Trigger.FATAL, reason)
                await self._drop_link()
            case ev.MessageReceived(message=msg) if msg.chat.is_private:
                await self._incoming(msg)  # through a room, never the room's chat
            case ev.MessageReceived(message=msg) if msg.in_room:
                await self.rooms.incoming(msg)
            case ev.MessageReceived(message=msg):
                await self._incoming(msg)
            case ev.Event() if isinstance(event, ROOM_EVENTS):
                self.private.observe(event)  # before the room's state moves on
                await self.rooms.on_event(event)
                if isinstance(event, RoomJoined) and event.room.jid in self.rooms.states:
                    await self.private.flush(self.rooms.states[event.room.jid])
            case ev.MessageDeliveryChanged():
                await self._delivery(event)
            case ev.RosterReceived(items=items):
                for item in items:  # answers that came while we were away
                    self._subscription_news(self.roster.get(item.jid), item)
                self.roster = {i.jid: i for i in items}
                await self._store.save_roster(self.account, items)
                self._emit(event)
            case ev.RosterItemChanged(item=item, removed=removed):
                await self._roster_item(item, removed)
            case NewOmemoDevice():
                self._emit(event)
                self._tasks.spawn(self.omemo.device_added(event, self.online_link))
            case _:
                self._emit(event)

    async def _link_up(self) -> None:
        if self.state is not ConnState.CONNECTING:
            return
        self._attempt = 0
        self._move(Trigger.SESSION_STARTED, self._route())
        self._archive.link_changed()
        await self.flush_outbox()
        for jid in self.open_chats:  # their OMEMO state, now that devices can be read
            chat = ChatKey(self.account, jid)
            if not self.rooms.is_room(jid) and not chat.is_private:  # nor through a room
                self._tasks.spawn(self.omemo.refresh(chat, self.online_link))
        if self._link is not None:  # every room again (its outbox leaves after the join)
            self._tasks.spawn(self.rooms.link_up(self._link))
        if self._link is not None:  # then what came while we were away (XEP-0313)
            self._tasks.spawn(self._archive.catch_up(self._link))

    def _subscription_news(self, old: RosterItem | None, new: RosterItem) -> None:
        news = subscription_news(old, new)
        if news is not None:
            self._emit(ev.Notice(self.account, news))

    def is_stranger(self, jid: str) -> bool:
        """Not in the roster (a private chat through a room is an occupant's, not one)."""
        return jid != self.config.jid and jid not in self.roster and "/" not in jid

    @property
    def online_link(self) -> Link | None:
        """The link, when this identity is online (for core.contacts)."""
        link = self._link
        return link if link is not None and link.online and self.state is ConnState.ONLINE \
            else None

    # -- chats ----------------------------------------------------------------------------
    async def open_chat(self, chat: ChatKey, focus: bool, skip: str | None = None,
                        at: str | None = None) -> None:
        """Tell the UI about a chat and its history; it stays open across restarts.
        With `at` (a message id, from a search) the history is the part around it."""
        around = await self._store.history_around(chat, at, *AROUND) if at else []
        if at and not around:
            self._emit(ev.Notice(self.account, "That message is no longer in the history.",
                                 chat, error=True))
        history = tuple(m for m in around if m.shown) or tuple(
            m for m in await self._store.history(chat) if m.id != skip and m.shown)
        if chat.jid not in self.open_chats:
            self.open_chats.append(chat.jid)
            await self._store.save_open_chats(self.account, self.open_chats)
        room = self.rooms.is_room(chat.jid)
        self._emit(ev.ChatOpened(self.account, chat, history,
                                 not room and self.is_stranger(chat.jid), focus,
                                 at if around else None, room=room))
        if chat.is_private:
            self.private.opened(chat)  # always PLAIN (core/private_chats.py)
        elif not room:
            self._tasks.spawn(self.omemo.refresh(chat, self.online_link))

    async def search(self, text: str, chat: ChatKey | None) -> None:
        """Find `text` in this identity's history (or one chat's): the store decrypts and
        matches on its own thread; the newest SEARCH_LIMIT results come back."""
        if chat is not None and chat.account != self.account:
            self._emit(ev.Notice(self.account, "That chat is not one of this identity.",
                                 error=True))
            return
        found = [m for m in await self._store.search(self.account, text, chat, SEARCH_LIMIT + 1)
                 if m.shown]
        self._emit(ev.SearchResults(self.account, text, chat, tuple(found[:SEARCH_LIMIT]),
                                    len(found) > SEARCH_LIMIT))

    async def close_chat(self, chat: ChatKey) -> None:
        if chat.jid in self.open_chats:
            self.open_chats.remove(chat.jid)
            await self._store.save_open_chats(self.account, self.open_chats)
        self._emit(ev.ChatClosed(self.account, chat))

    async def _incoming(self, msg: ChatMessage) -> None:
        taken, changed = await self.corrections.apply(msg, self._archive.live_marker(msg))
        if taken:
            if changed is not None:
                await self._show(changed, skip=None)
                if not msg.chat.is_private:
                    await self.omemo.incoming(msg)
            return
        if await self._store.add_message(msg, self._archive.live_marker(msg)):
            await self._show(msg, skip=msg.id)
            if not msg.chat.is_private:  # never OMEMO (core/private_chats.py)
                await self.omemo.incoming(msg)

    async def _show(self, msg: ChatMessage, skip: str | None) -> None:
        """Tell the UI about a new or changed message (opening its chat if need be)."""
        if msg.chat.jid not in self.open_chats:
            await self.open_chat(msg.chat, focus=False, skip=skip)
        self._emit(ev.MessageReceived(self.account, msg, self.is_stranger(msg.chat.jid)))

    async def _delivery(self, event: ev.MessageDeliveryChanged) -> None:
        def step(msg: ChatMessage) -> ChatMessage | None:
            if msg.direction is not Direction.OUTGOING or msg.chat != event.chat:
                return None
            if advance(msg.delivery, event.delivery) is None:
                return None  # a late ack after the receipt, an error after delivery: no step back
            return msg.with_delivery(event.delivery, event.error or None)
        # read and written in one step: a /correct of this message meanwhile is kept
        _, changed = await self._store.modify_message(self.account, event.message_id, step)
        if changed is not None:
            self._emit(event)

    async def _roster_item(self, item: RosterItem, removed: bool) -> None:
        if not removed:
            self._subscription_news(self.roster.get(item.jid), item)
        if removed:
            self.roster.pop(item.jid, None)
        else:
            self.roster[item.jid] = item
        await self._store.save_roster(self.account, tuple(self.roster.values()))
        self._emit(ev.RosterItemChanged(self.account, item, removed))

    # -- sending (core/outbox.py) -------------------------------------------------------
    async def correct(self, chat: ChatKey, body: str,
                      target: str | None = None) -> ChatMessage | None:
        return await self.outbox.correct(chat, body, target)

    async def send(self, chat: ChatKey, body: str) -> ChatMessage | None:
        return await self.outbox.send(chat, body)

    async def flush_outbox(self) -> None:
        await self.outbox.flush()

    async def close(self) -> None:
        await self.disconnect()
        await self._tasks.cancel_all()

