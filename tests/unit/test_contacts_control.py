"""core.contacts: contact intents against a fake link's contact operations (no server)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from xmppterm.config import AccountConfig
from xmppterm.core.contacts import ContactsControl
from xmppterm.domain import events as ev
from xmppterm.domain import intents as it
from xmppterm.domain.ids import AccountId
from xmppterm.domain.roster import RosterItem, Show
from xmppterm.protocol.errors import RequestFailed

ACC = AccountId("work")
CONFIG = AccountConfig(id=ACC, jid="me@example.org", password="pw")


@dataclass
class FakeOps:
    show: Show = Show.AVAILABLE
    status: str = ""
    calls: list[tuple[Any, ...]] = field(default_factory=list)
    fail: bool = False
    blocked: tuple[str, ...] = ()

    def set_presence(self, show: Show, status: str, online: bool) -> None:
        self.show, self.status = show, status
        self.calls.append(("presence", show, status, online))

    async def set_item(self, jid: str, name: str, groups: tuple[str, ...] = ()) -> None:
        if self.fail:
            raise RequestFailed(f"Could not save {jid}: forbidden")
        self.calls.append(("set", jid, name, tuple(groups)))

    async def remove_item(self, jid: str) -> None:
        self.calls.append(("remove", jid))

    def subscribe(self, jid: str) -> None:
        self.calls.append(("subscribe", jid))

    def answer(self, jid: str, approve: bool) -> None:
        self.calls.append(("answer", jid, approve))

    async def blocklist(self) -> tuple[str, ...]:
        return self.blocked

    async def block(self, jid: str, blocked: bool = True) -> None:
        self.calls.append(("block", jid, blocked))


@dataclass
class FakeLink:
    contacts: FakeOps = field(default_factory=FakeOps)
    online: bool = True


@dataclass
class FakeSession:
    """What ContactsControl reads of an AccountSession."""

    link: FakeLink | None = field(default_factory=FakeLink)
    roster: dict[str, RosterItem] = field(default_factory=dict)
    account: AccountId = ACC
    config: AccountConfig = CONFIG

    @property
    def online_link(self) -> FakeLink | None:
        return self.link


def control() -> tuple[ContactsControl, list[ev.Event]]:
    events: list[ev.Event] = []
    return ContactsControl(events.append), events


def notices(events: list[ev.Event]) -> list[tuple[str, bool]]:
    return [(e.text, e.error) for e in events if isinstance(e, ev.Notice)]


async def test_add_saves_asks_and_preapproves() -> None:
    ctl, events = control()
    session = FakeSession(roster={"bob@x.org": RosterItem("bob@x.org", "Bob", "none", ("g",))})
    await ctl.apply(session, it.AddContact(ACC, "Bob@X.org"))
    assert session.link is not None
    assert session.link.contacts.calls == [("set", "bob@x.org", "Bob", ("g",)),
                                           ("answer", "bob@x.org", True),  # stored first
                                           ("subscribe", "bob@x.org")]
    assert ev.SubscriptionAnswered(ACC, "bob@x.org", True) in events


async def test_adding_oneself_or_removing_a_stranger_is_explained() -> None:
    ctl, events = control()
    session = FakeSession()
    await ctl.apply(session, it.AddContact(ACC, "me@example.org"))
    await ctl.apply(session, it.RemoveContact(ACC, "x@y.org"))
    await ctl.apply(session, it.RenameContact(ACC, "x@y.org", "X"))
    assert session.link is not None and session.link.contacts.calls == []
    assert [error for _, error in notices(events)] == [True, True, True]


async def test_offline_and_refused_requests_become_notices() -> None:
    ctl, events = control()
    await ctl.apply(FakeSession(link=None), it.Block(ACC, "x@y.org"))
    assert notices(events) == [("work is offline: /connect first.", True)]
    session = FakeSession()
    assert session.link is not None
    session.link.contacts.fail = True
    await ctl.apply(session, it.AddContact(ACC, "x@y.org"))
    assert notices(events)[-1] == ("work: Could not save x@y.org: forbidden", True)
    await ctl.apply(session, it.Block(ACC, "not a jid@"))
    assert notices(events)[-1][1]


async def test_answers_blocks_and_the_list() -> None:
    ctl, events = control()
    session = FakeSession()
    assert session.link is not None
    session.link.contacts.blocked = ("spam@x.org",)
    for intent in (it.AnswerSubscription(ACC, "eve@x.org", False), it.Block(ACC, "spam@x.org/r"),
                   it.Unblock(ACC, "spam@x.org"), it.ListBlocked(ACC)):
        await ctl.apply(session, intent)
    assert session.link.contacts.calls == [("answer", "eve@x.org", False),
                                           ("block", "spam@x.org/r", True),
                                           ("block", "spam@x.org", False)]
    assert [e for e in events if not isinstance(e, ev.Notice)] == [
        ev.SubscriptionAnswered(ACC, "eve@x.org", False),
        ev.BlockListChanged(ACC, ("spam@x.org/r",), True),
        ev.BlockListChanged(ACC, ("spam@x.org",), False),
        ev.BlockListReceived(ACC, ("spam@x.org",), requested=True)]


async def test_the_chosen_presence_goes_to_the_next_links_of_that_identity_only() -> None:
    ctl, events = control()
    made: list[FakeLink] = []

    def factory(config: AccountConfig, password: str, emit: Any) -> FakeLink:
        made.append(FakeLink())
        return made[-1]

    wrapped = ctl.wrap(factory)
    wrapped(CONFIG, "pw", events.append)
    await ctl.apply(FakeSession(link=None), it.SetPresence(ACC, Show.XA, "gone"))
    assert made[0].contacts.calls == [("presence", Show.XA, "gone", False)]
    assert notices(events)[-1] == ("work: presence away for long (gone) (sent when it connects).",
                                   False)
    wrapped(CONFIG, "pw", events.append)
    other = AccountConfig(id=AccountId("home"), jid="me@home.org", password="pw")
    wrapped(other, "pw", events.append)
    assert (made[1].contacts.show, made[1].contacts.status) == (Show.XA, "gone")
    assert (made[2].contacts.show, made[2].contacts.status) == (Show.AVAILABLE, "")
