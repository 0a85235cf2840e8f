"""Contact intents of one identity: roster changes, subscription answers, blocking
(XEP-0191) and our own presence. The manager hands every `ContactIntent` here.

Nothing is shared between identities: each intent acts on its own identity's link,
and the presence chosen for an identity is applied to its own next links only.
"""

from __future__ import annotations

from typing import Protocol

from ..config import AccountConfig
from ..domain import events as ev
from ..domain import intents as it
from ..domain.ids import AccountId, InvalidJid, parse_jid
from ..domain.ports import EventSink
from ..domain.roster import Show
from ..protocol.errors import RequestFailed
from .link import Link, LinkFactory
from .session import AccountSession


class ContactPort(Protocol):
    """What core uses of a link's `contacts` (protocol.contacts.ContactOps)."""

    show: Show
    status: str

    def set_presence(self, show: Show, status: str, online: bool) -> None: ...

    async def set_item(self, jid: str, name: str, groups: tuple[str, ...] = ()) -> None: ...

    async def remove_item(self, jid: str) -> None: ...

    def subscribe(self, jid: str) -> None: ...

    def answer(self, jid: str, approve: bool) -> None: ...

    async def blocklist(self) -> tuple[str, ...]: ...

    async def block(self, jid: str, blocked: bool = True) -> None: ...


def contacts_of(link: Link | None) -> ContactPort | None:
    """The link's contact operations (a fake link in a unit test may have none)."""
    ops: ContactPort | None = getattr(link, "contacts", None)
    return ops


SHOW_WORDS = {Show.AVAILABLE: "online", Show.CHAT: "free to chat", Show.AWAY: "away",
              Show.XA: "away for long", Show.DND: "do not disturb"}


class ContactsControl:
    """Routes contact intents; remembers each identity's chosen presence."""

    def __init__(self, emit: EventSink) -> None:
        self._emit = emit
        self._presence: dict[AccountId, tuple[Show, str]] = {}
        self._latest: dict[AccountId, ContactPort] = {}  # of each identity's newest link

    def wrap(self, inner: LinkFactory) -> LinkFactory:
        """A link factory that gives each new link its identity's chosen presence,
        before it logs in (so the first presence sent is the chosen one)."""

        def make(config: AccountConfig, password: str, emit: EventSink) -> Link:
            link = inner(config, password, emit)
            ops, chosen = contacts_of(link), self._presence.get(config.id)
            if ops is not None:
                self._latest[config.id] = ops
                if chosen is not None:
                    ops.show, ops.status = chosen
            return link

        return make

    def presence(self, account: AccountId) -> tuple[Show, str]:
        return self._presence.get(account, (Show.AVAILABLE, ""))

    def _say(self, account: AccountId, text: str, error: bool = False) -> None:
        self._emit(ev.Notice(account, text, error=error))

    async def apply(self, session: AccountSession, intent: it.ContactIntent) -> None:
        if isinstance(intent, it.SetPresence):
            self.set_presence(session, intent.show, intent.status)
            return
        ops = contacts_of(session.online_link)
        if ops is None:
            self._say(session.account, f"{session.account} is offline: /connect first.", True)
            return
        try:
            await self._apply_online(session, ops, intent)
        except InvalidJid as exc:
            self._say(session.account, f"Not a usable JID: {exc}", True)
        except RequestFailed as exc:
            self._say(session.account, f"{session.account}: {exc}", True)

    async def _apply_online(self, session: AccountSession, ops: ContactPort,
                            intent: it.ContactIntent) -> None:
        match intent:
            case it.AddContact(jid=jid, name=name):
                await self._add(session, ops, parse_jid(jid).bare, name)
            case it.RemoveContact(jid=jid):
                await self._remove(session, ops, parse_jid(jid).bare)
            case it.RenameContact(jid=jid, name=name):
                await self._rename(session, ops, parse_jid(jid).bare, name)
            case it.AnswerSubscription(jid=jid, approve=approve):
                self._answer(session, ops, parse_jid(jid).bare, approve)
            case it.Block(jid=jid) | it.Unblock(jid=jid):
                await self._block(session, ops, parse_jid(jid).full, isinstance(intent, it.Block))
            case it.ListBlocked():
                jids = await ops.blocklist()
                self._emit(ev.BlockListReceived(session.account, jids, requested=True))

    async def _add(self, session: AccountSession, ops: ContactPort, jid: str, name: str) -> None:
        account = session.account
        if jid == session.config.jid:
            self._say(account, "That is this identity itself.", True)
            return
        known = session.roster.get(jid)
        await ops.set_item(jid, name or (known.name if known else ""),
                           known.groups if known else ())
        # The user chose this contact: they may see our presence. The pre-approval goes
        # first: the server handles our stanzas in order, so it is stored before the
        # contact even hears of our request. After it, a contact quick to ask back could
        # reach the server first, and the user would be asked to approve them again.
        ops.answer(jid, True)
        ops.subscribe(jid)
        self._emit(ev.SubscriptionAnswered(account, jid, True))
        self._say(account, f"{account}: added {jid}, and asked to see their presence.")

    async def _remove(self, session: AccountSession, ops: ContactPort, jid: str) -> None:
        if jid not in session.roster:
            self._say(session.account, f"{jid} is not a contact of {session.account}.", True)
            return
        await ops.remove_item(jid)
        self._say(session.account, f"{session.account}: removed {jid}; neither of you sees "
                  "the other's presence now.")

    async def _rename(self, session: AccountSession, ops: ContactPort, jid: str,
                      name: str) -> None:
        item = session.roster.get(jid)
        if item is None:
            self._say(session.account, f"{jid} is not a contact of {session.account}: "
                      f"/add {jid} {name}", True)
            return
        await ops.set_item(jid, name, item.groups)

    def _answer(self, session: AccountSession, ops: ContactPort, jid: str,
                approve: bool) -> None:
        ops.answer(jid, approve)
        self._emit(ev.SubscriptionAnswered(session.account, jid, approve))
        outcome = "may now see your presence" if approve else "was refused"
        self._say(session.account, f"{session.account}: {jid} {outcome}.")

    async def _block(self, session: AccountSession, ops: ContactPort, jid: str,
                     blocked: bool) -> None:
        await ops.block(jid, blocked)
        self._emit(ev.BlockListChanged(session.account, (jid,), blocked))
        verb = "blocked: the server drops what they send" if blocked else "unblocked"
        self._say(session.account, f"{session.account}: {jid} {verb}.")

    def set_presence(self, session: AccountSession, show: Show, status: str) -> None:
        account = session.account
        self._presence[account] = (show, status)
        online = session.online_link is not None
        ops = self._latest.get(account)
        if ops is not None:  # also a link still logging in: it announces this one
            ops.set_presence(show, status, online=online)
        words = SHOW_WORDS.get(show, show.value) + (f" ({status})" if status else "")
        later = "" if online else " (sent when it connects)"
        self._say(account, f"{account}: presence {words}{later}.")
