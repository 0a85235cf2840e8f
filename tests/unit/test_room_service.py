"""A room named without its service (`/join plans`): which group-chat service the
server's disco answers name (protocol/muc/service.py, pure parts, hostile answers on
purpose), and core putting bare names on it (core/rooms.py with a fake link)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime
from typing import Any

import pytest

from xmppterm.config import AccountConfig
from xmppterm.core.rooms import RoomsControl
from xmppterm.domain import events as ev
from xmppterm.domain.ids import AccountId, ChatKey, InvalidJid, parse_local
from xmppterm.domain.rooms import CreateRoom, JoinRoom, RoomServiceFound
from xmppterm.protocol.muc.service import (
    DISCO_INFO,
    DISCO_ITEMS,
    MAX_ITEMS,
    MUC,
    PARALLEL,
    RoomServiceFinder,
    answer_query,
    candidates,
    choose,
    is_room_service,
    service_jid,
)
from xmppterm.store.store import Store

ACC = AccountId("work")
DOMAIN = "example.org"


def items(*attrs: dict[str, str]) -> ET.Element:
    query = ET.Element(f"{{{DISCO_ITEMS}}}query")
    for a in attrs:
        ET.SubElement(query, f"{{{DISCO_ITEMS}}}item", a)
    return query


def info(identities: tuple[tuple[str, str], ...] = (("conference", "text"),),
         features: tuple[str, ...] = (MUC,)) -> ET.Element:
    query = ET.Element(f"{{{DISCO_INFO}}}query")
    for category, kind in identities:
        ET.SubElement(query, f"{{{DISCO_INFO}}}identity", {"category": category, "type": kind})
    for var in features:
        ET.SubElement(query, f"{{{DISCO_INFO}}}feature", {"var": var})
    return query


def result(sender: str | None, query: ET.Element, kind: str = "result") -> ET.Element:
    iq = ET.Element("{jabber:client}iq", {"type": kind, "id": "q1"})
    if sender is not None:
        iq.set("from", sender)
    iq.append(query)
    return iq


# -- which items are asked about ----------------------------------------------------------
@pytest.mark.parametrize("text", [
    "conference.example.org", "Conference.Example.ORG", "muc.other.net", "xn--bcher-kva.example",
    "bücher.example", "a-b.example"])
def test_service_jid_takes_bare_domains(text: str) -> None:
    assert service_jid(text) == text.lower()


@pytest.mark.parametrize("text", [
    None, "", "room@conference.example.org", "@conference.example.org",
    "conference.example.org/res", "conference.example.org/", "conf\x1b[2J.example.org",
    "conf\u202e.example.org", "conf\x00.example.org", "conf erence.example.org",
    "conference..example.org", ".example.org", "conference.example.org:5222",
    "[::1]", "-bad.example.org", "bad-.example.org", "c<x>.example.org", "a&b.example.org",
    "x" * 64 + ".example.org", ("a" * 60 + ".") * 5 + "org", "conf\u200b.example.org"])
def test_service_jid_refuses_anything_else(text: str | None) -> None:
    assert service_jid(text) is None


def test_candidates_keep_bare_domains_without_node_own_subdomains_first() -> None:
    query = items({"jid": "muc.elsewhere.net"}, {"jid": "pubsub.example.org"},
                  {"jid": "conference.example.org", "node": "rooms"},
                  {"jid": "room@conference.example.org"}, {"jid": "conference.example.org/x"},
                  {"jid": "evil\x1b]52;c;x\x07.example.org"}, {"jid": "example.org"},
                  {"jid": "Chat.Example.org"}, {"jid": "chat.example.org"}, {"name": "no jid"})
    ET.SubElement(query, "{urn:other}item", {"jid": "other-ns.example.org"})
    assert candidates(query, DOMAIN) == ["pubsub.example.org", "chat.example.org",
                                         "muc.elsewhere.net"]


def test_candidates_are_bounded() -> None:
    query = items(*({"jid": f"s{n}.example.org"} for n in range(5000)))
    found = candidates(query, DOMAIN)
    assert len(found) == MAX_ITEMS and found[0] == "s0.example.org"
    assert candidates(None, DOMAIN) == [] and candidates(items(), DOMAIN) == []


# -- which item is a MUC service ---------------------------------------------------------
@pytest.mark.parametrize(("query", "muc"), [
    (info(), True),
    (info((("pubsub", "service"), ("conference", "text"))), True),
    (info((("conference", "irc"),)), False),  # a gateway, not a MUC service
    (info((("pubsub", "service"),)), False),
    (info(features=()), False),  # identity without the MUC feature
    (info(features=("http://jabber.org/protocol/muc#user",)), False),
    (info(identities=()), False),  # feature without the identity
    (None, False),
])
def test_is_room_service_needs_identity_and_feature(query: ET.Element | None, muc: bool) -> None:
    assert is_room_service(query) is muc


def test_choose_takes_the_first_muc_in_order() -> None:
    asked = ["a.example.org", "b.example.org", "c.example.org"]
    assert choose(asked, [info(features=()), info(), info()]) == "b.example.org"
    assert choose(asked, [None, None, info()]) == "c.example.org"
    assert choose(asked, [None, info((("conference", "irc"),)), None]) is None
    assert choose([], []) is None


# -- whose answer counts -------------------------------------------------------------------
class ScriptedFinder(RoomServiceFinder):
    """The finder with disco answers from a table, recording what it asked."""

    def __init__(self, answers: dict[tuple[str, str], ET.Element | None]) -> None:
        report = type("Report", (), {"account": ACC, "ctx": type("Ctx", (), {"domain": DOMAIN})(),
                                     "emit": lambda self, e: None})()
        super().__init__(None, report)
        self.answers, self.asked = answers, []

    async def _ask(self, jid: str, namespace: str) -> ET.Element | None:
        self.asked.append((jid, namespace))
        return self.answers.get((jid, namespace))


async def test_discovery_stops_at_the_first_batch_holding_a_service() -> None:
    """Every login runs it (over Tor too): once a batch of PARALLEL answers holds the
    group-chat service, the other components are not asked."""
    names = [f"c{i}.{DOMAIN}" for i in range(PARALLEL * 3)]
    answers: dict[tuple[str, str], ET.Element | None] = {
        (DOMAIN, DISCO_ITEMS): items(*({"jid": n} for n in names)),
        **{(n, DISCO_INFO): info((("pubsub", "service"),), ()) for n in names},
    }
    answers[(names[PARALLEL + 1], DISCO_INFO)] = info()
    finder = ScriptedFinder(answers)
    assert await finder.find() == names[PARALLEL + 1]
    assert [jid for jid, ns in finder.asked if ns == DISCO_INFO] == names[:PARALLEL * 2]
    none = ScriptedFinder({**answers, (names[PARALLEL + 1], DISCO_INFO): None})
    assert await none.find() is None
    assert len([1 for _, ns in none.asked if ns == DISCO_INFO]) == len(names)


def test_answer_counts_only_from_the_jid_asked() -> None:
    asked = "conference.example.org"
    good = result(asked, info())
    assert answer_query(good, asked, DISCO_INFO) is good[0]
    assert answer_query(result("Conference.Example.org", info()), asked, DISCO_INFO) is not None
    for sender in (None, "", "example.org", "me@example.org", "conference.example.org/x",
                   "room@conference.example.org", "evil.example", "bad@@x"):
        assert answer_query(result(sender, info()), asked, DISCO_INFO) is None, sender
    assert answer_query(result(asked, info(), "error"), asked, DISCO_INFO) is None
    assert answer_query(result(asked, items()), asked, DISCO_INFO) is None  # wrong namespace


# -- the name a user types ----------------------------------------------------------------
def test_parse_local_lowercases_and_refuses_what_no_local_part_holds() -> None:
    assert parse_local(" Plans ") == "plans"
    assert parse_local("ＰＬＡＮＳ") == "plans"  # NFKC, as parse_jid
    for bad in ("", "  ", "pl@ns", "pl/ans", "pl:ans", "pl ans", "pl\x1bans", "pl\u202eans",
                "a" * 1024, 'pl"ans', "pl<ans>"):
        with pytest.raises(InvalidJid):
            parse_local(bad)


# -- core: a bare name goes to the service found ------------------------------------------
class FakeRooms:
    def __init__(self) -> None:
        self.joins: list[tuple[str, str]] = []

    def join(self, room: str, nick: str, password: str = "",
             history_since: datetime | None = None) -> None:
        self.joins.append((room, nick))


class FakeLink:
    def __init__(self) -> None:
        self.rooms, self.online = FakeRooms(), True


class Session:
    """What RoomsControl reads of core/session.AccountSession."""

    def __init__(self) -> None:
        self.account, self.config = ACC, AccountConfig(id=ACC, jid="me@example.org")
        self.online_link = FakeLink()
        self.opened: list[ChatKey] = []

    async def open_chat(self, chat: ChatKey, focus: bool, **_: Any) -> None:
        self.opened.append(chat)


async def control() -> tuple[RoomsControl, Session, list[ev.Event]]:
    events: list[ev.Event] = []
    session = Session()
    rooms = RoomsControl(session, Store.open(None), events.append)  # type: ignore[arg-type]
    await rooms.load()
    return rooms, session, events


def errors(events: list[ev.Event]) -> list[str]:
    return [e.text for e in events if isinstance(e, ev.Notice) and e.error]


async def test_no_service_known_says_so_and_sends_nothing() -> None:
    rooms, session, events = await control()
    await rooms.handle(JoinRoom(ACC, "Plans"))
    await rooms.handle(CreateRoom(ACC, "plans", "boss", ("bea@example.org",)))
    await rooms.on_event(RoomServiceFound(ACC, None))  # discovery found none
    await rooms.handle(JoinRoom(ACC, "plans"))
    expected = ("No group-chat service is known for work yet (your server may have none): "
                "give the full address, e.g. plans@conference.example.org")
    assert errors(events) == [expected] * 3
    assert session.online_link.rooms.joins == [] and session.opened == []
    assert rooms.saved == {} and rooms.states == {}


async def test_a_bare_name_joins_on_the_service_found() -> None:
    rooms, session, events = await control()
    await rooms.on_event(RoomServiceFound(ACC, "muc.example.org"))
    assert not [e for e in events if isinstance(e, RoomServiceFound)]  # core keeps it
    await rooms.handle(JoinRoom(ACC, " Plans ", "me"))
    await rooms.handle(JoinRoom(ACC, "other@conference.elsewhere.net"))  # full: as it is
    assert session.online_link.rooms.joins == [("plans@muc.example.org", "me"),
                                               ("other@conference.elsewhere.net", "me")]
    assert session.opened == [ChatKey(ACC, "plans@muc.example.org"),
                              ChatKey(ACC, "other@conference.elsewhere.net")]
    assert set(rooms.saved) == {"plans@muc.example.org", "other@conference.elsewhere.net"}
    assert errors(events) == []


async def test_a_later_discovery_replaces_the_service() -> None:
    rooms, session, events = await control()
    await rooms.on_event(RoomServiceFound(ACC, "muc.example.org"))
    await rooms.on_event(RoomServiceFound(ACC, None))  # the next login found none
    await rooms.handle(JoinRoom(ACC, "plans"))
    assert session.online_link.rooms.joins == [] and len(errors(events)) == 1


@pytest.mark.parametrize("name", ["pl ans", "pl:ans", "pl\x1b[2Jans", "pl\u202eans", "plans/nick",
                                  ""])
async def test_a_bad_name_is_refused_before_anything(name: str) -> None:
    rooms, session, events = await control()
    await rooms.on_event(RoomServiceFound(ACC, "muc.example.org"))
    await rooms.handle(JoinRoom(ACC, name))
    await rooms.handle(CreateRoom(ACC, name))
    said = errors(events)
    assert len(said) == 2 and all(s.startswith("Not a usable room address") for s in said)
    assert all("\x1b" not in s and "\u202e" not in s for s in said)
    assert session.online_link.rooms.joins == [] and session.opened == []
