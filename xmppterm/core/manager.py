"""SessionManager: N identities on one loop, one event stream, intents routed by account."""

from __future__ import annotations

import logging

from ..config import AccountConfig, Config
from ..domain import events as ev
from ..domain import intents as it
from ..domain.chatstates import SetChatState
from ..domain.connection import ConnState
from ..domain.ids import AccountId, ChatKey
from ..domain.omemo import OmemoIntent
from ..domain.ports import AccountInfo, EventSink
from ..domain.rooms import RoomIntent
from ..store.store import Store
from .contacts import ContactsControl
from .link import ISOLATION, LinkFactory, store_link_factory
from .route import describe_route
from .session import AccountSession
from .tasks import TaskGroup

log = logging.getLogger(__name__)


class SessionManager:
    """Implements `domain.ports.Backend` for the UI."""

    def __init__(self, config: Config, store: Store,
                 link_factory: LinkFactory | None = None) -> None:
        self.config = config
        self.store = store
        self._sinks: list[EventSink] = []
        self._tasks = TaskGroup("session manager")
        self.contacts = ContactsControl(self._emit)  # roster, blocking, presence intents
        self._link_factory = self.contacts.wrap(link_factory or store_link_factory(store))
        self.sessions: dict[AccountId, AccountSession] = {
            acc.id: AccountSession(acc, store, self._emit, self._link_factory)
            for acc in config.accounts
        }

    # -- Backend ---------------------------------------------------------------------------
    def accounts(self) -> list[AccountInfo]:
        return [
            AccountInfo(id=s.account, jid=s.config.jid, color=s.config.color,
                        route=s.config.route, plain_password=s.config.plain_password_in_config,
                        state=s.state)
            for s in self.sessions.values()
        ]

    def subscribe(self, sink: EventSink) -> None:
        self._sinks.append(sink)

    def dispatch(self, intent: it.Intent) -> None:
        session = self.sessions.get(intent.account)
        if session is None:
            self._emit(ev.Notice(intent.account, f"There is no identity named {intent.account}.",
                                 error=True))
            return
        self._tasks.spawn(self._run(session, intent))

    async def start(self) -> None:
        """Load cached state, reopen last session's chats, connect identities marked connect."""
        for session in self.sessions.values():
            await session.start()
            if session.config.connect:
                session.connect()

    async def suspend(self) -> list[AccountId]:
        """Take every identity offline (the store is about to lock); returns those that
        were online or on their way, for `resume`."""
        active = [s.account for s in self.sessions.values()
                  if s.state not in (ConnState.OFFLINE, ConnState.FAILED)]
        for session in self.sessions.values():
            await session.disconnect()
            session.open_chats = []
        return active

    async def resume(self, active: list[AccountId]) -> None:
        """After the store is unlocked again: reload state and reconnect `active`."""
        for session in self.sessions.values():
            await session.start()
            if session.account in active:
                session.connect()

    async def add_account(self, account: AccountConfig) -> None:
        """A new identity (from the first-run form): start it and connect it."""
        session = AccountSession(account, self.store, self._emit, self._link_factory)
        self.sessions[account.id] = session
        await session.start()
        if account.connect:
            session.connect()

    async def shutdown(self) -> None:
        for session in self.sessions.values():
            await session.close()
        await self._tasks.cancel_all()

    # -- internals -----------------------------------------------------------------------
    def _emit(self, event: ev.Event) -> None:
        for sink in list(self._sinks):
            try:
                sink(event)
            except Exception:
                log.exception("an event subscriber failed on %s", type(event).__name__)

    async def _run(self, session: AccountSession, intent: it.Intent) -> None:
        try:
            await self._apply(session, intent)
        except Exception as exc:
            log.exception("intent %s failed", type(intent).__name__)
            self._emit(ev.Notice(session.account, f"{type(intent).__name__} failed: "
                                 f"{type(exc).__name__}", error=True))

    async def _apply(self, session: AccountSession, intent: it.Intent) -> None:
        match intent:
            case it.SendMessage(chat=chat, body=body):
                await session.send(chat, body)
            case it.CorrectMessage(chat=chat, body=body, target=target):
                await session.correct(chat, body, target)
            case it.OpenChat(chat=chat, focus=focus, at=at):
                await session.open_chat(chat, focus, at=at)
            case it.SearchHistory(text=text, chat=search_in):
                await session.search(text, search_in)
            case it.CloseChat(chat=chat):
                await session.close_chat(chat)
            case it.Connect():
                session.connect()
            case it.Disconnect():
                await session.disconnect()
            case it.ContactIntent():
                await self.contacts.apply(session, intent)
            case it.ShowRoute():
                self._emit(self.describe_route(session))
            case OmemoIntent() if (private := _private_chat(intent)) is not None:
                self._emit(ev.Notice(session.account, "OMEMO is not supported in private "
                                     "chats through a room: they stay PLAIN.", private, error=True))
            case OmemoIntent():
                await session.omemo.handle(intent, session.online_link)
            case RoomIntent():
                await session.rooms.handle(intent)
            case SetChatState(chat=chat, state=state):
                link = session.online_link  # never to a room: every occupant would get it
                if link is not None and not session.rooms.is_room(chat.jid) and \
                        not chat.is_private:  # nor through one (XEP-0045 §7.5)
                    link.send_chat_state(chat.jid, state.value)

    def describe_route(self, session: AccountSession) -> ev.RouteDescribed:
        """`/route`: where this identity's connections go, with the credential in use."""
        config = session.config
        head = f"Route of {config.id} ({config.jid}), now {session.state.value}:"
        isolation = ISOLATION.credentials(config) if config.proxy is not None else None
        return ev.RouteDescribed(session.account, (head, *describe_route(config, isolation)))


def _private_chat(intent: it.Intent) -> ChatKey | None:
    """The private chat through a room an intent is about, if it is about one."""
    chat = getattr(intent, "chat", None)
    return chat if isinstance(chat, ChatKey) and chat.is_private else None
