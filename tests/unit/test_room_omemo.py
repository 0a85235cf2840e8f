"""OMEMO in rooms without a server: who wrote an encrypted groupchat message (hostile
stanzas included), and core.room_omemo.RoomOmemo's policy with a fake link."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import pytest

from xmppterm.config import AccountConfig
from xmppterm.core.room_omemo import RoomOmemo
from xmppterm.domain import events as ev
from xmppterm.domain.ids import AccountId, ChatKey
from xmppterm.domain.messages import ChatMessage, Delivery, Direction, Encryption
from xmppterm.domain.omemo import ChatSecurity, ChatSecurityChanged
from xmppterm.domain.rooms import Affiliation, Occupant, RoomFeatures, RoomState
from xmppterm.protocol import stanzas as st
from xmppterm.protocol.omemo import room_intake as ri
from xmppterm.protocol.omemo.decrypt import Receiver
from xmppterm.protocol.omemo.port import OmemoRefused
from xmppterm.protocol.omemo.receive import archived_group_envelope, live_group_envelope
from xmppterm.store.store import Store

ACC = AccountId("work")
ME = "me@x.org"
ROOM = "club@conf.x.org"
CTX = st.Context(ACC, ME)
NOW = datetime(2030, 1, 1, tzinfo=UTC)
PRIVATE = RoomFeatures(non_anonymous=True, members_only=True, archived=True)
ENC = "<encrypted xmlns='eu.siacs.conversations.axolotl'><header sid='7'><key rid='9'>a</key>" \
      "<iv>b</iv></header><payload>c</payload></encrypted>"


class Rooms:
    def __init__(self, table: dict[str, dict[str, str]]) -> None:
        self.table = table

    def joined(self, room: str) -> bool:
        return room in self.table

    def real_jid(self, room: str, nick: str) -> str | None:
        return self.table.get(room, {}).get(nick)


def xml(text: str) -> ET.Element:
    return ET.fromstring(  # noqa: S314 (test literals)
        text.replace("<message ", "<message xmlns='jabber:client' ", 1))


def groupchat(frm: str, extra: str = "") -> ET.Element:
    return xml(f"<message from='{frm}' type='groupchat'>{ENC}{extra}<body>fallback</body>"
               "<origin-id xmlns='urn:xmpp:sid:0' id='o1'/></message>")


def test_live_writers_come_from_the_occupant_table_of_a_joined_room() -> None:
    rooms = Rooms({ROOM: {"bob": "bob@x.org", "me": ME}})
    found = live_group_envelope(groupchat(f"{ROOM}/bob"), CTX, rooms, NOW)
    assert found is not None
    assert (found.chat, found.nick, found.sender) == (ROOM, "bob", "bob@x.org")
    assert found.direction is Direction.INCOMING and found.live and found.origin_id == "o1"
    mine = live_group_envelope(groupchat(f"{ROOM}/me"), CTX, rooms, NOW)
    assert mine is not None and mine.direction is Direction.OUTGOING
    unknown = live_group_envelope(groupchat(f"{ROOM}/ghost"), CTX, rooms, NOW)
    assert unknown is not None and unknown.sender == ""  # marked undecryptable later
    # Not a joined room, the room itself, a malformed sender, no directory: not taken.
    assert live_group_envelope(groupchat("other@conf.x.org/bob"), CTX, rooms, NOW) is None
    assert live_group_envelope(groupchat(ROOM), CTX, rooms, NOW) is None
    assert live_group_envelope(groupchat("@@/x"), CTX, rooms, NOW) is None
    assert live_group_envelope(groupchat(f"{ROOM}/bob"), CTX, None, NOW) is None


def test_only_the_room_stamps_and_numbers_its_messages() -> None:
    forged = ("<delay xmlns='urn:xmpp:delay' from='bob@x.org' stamp='2001-01-01T00:00:00Z'/>"
              "<stanza-id xmlns='urn:xmpp:sid:0' by='bob@x.org' id='forged'/>")
    found = live_group_envelope(groupchat(f"{ROOM}/bob", forged), CTX,
                                Rooms({ROOM: {"bob": "bob@x.org"}}), NOW)
    assert found is not None and found.timestamp == NOW and found.stanza_id is None
    real = (f"<delay xmlns='urn:xmpp:delay' from='{ROOM}' stamp='2029-01-01T00:00:00Z'/>"
            f"<stanza-id xmlns='urn:xmpp:sid:0' by='{ROOM}' id='s1'/>")
    found = live_group_envelope(groupchat(f"{ROOM}/bob", real), CTX,
                                Rooms({ROOM: {"bob": "bob@x.org"}}), NOW)
    assert found is not None and found.stanza_id == "s1" and found.timestamp.year == 2029
    future = f"<delay xmlns='urn:xmpp:delay' from='{ROOM}' stamp='2099-01-01T00:00:00Z'/>"
    later = ri.room_timestamp(groupchat(f"{ROOM}/bob", future), ROOM, NOW)
    assert later == NOW


def archived(inner_extra: str, frm: str = f"{ROOM}/bob") -> ET.Element:
    return ET.fromstring(  # noqa: S314 (test literals)
        "<message xmlns='jabber:client'><result xmlns='urn:xmpp:mam:2' id='arch1'>"
        "<forwarded xmlns='urn:xmpp:forward:0'>"
        "<delay xmlns='urn:xmpp:delay' stamp='2029-05-05T00:00:00Z'/>"
        f"<message xmlns='jabber:client' from='{frm}' type='groupchat'>{ENC}{inner_extra}"
        "</message></forwarded></result></message>").find("{urn:xmpp:mam:2}result")  # type: ignore[return-value]


def item(jid: str) -> str:
    return f"<x xmlns='http://jabber.org/protocol/muc#user'><item jid='{jid}'/></x>"


def test_archived_writers_come_from_the_archive_or_else_the_table() -> None:
    rooms = Rooms({ROOM: {"bob": "carol@x.org"}})
    found = archived_group_envelope(archived(item("bob@x.org/phone")), ROOM, CTX, rooms, NOW)
    assert found is not None and found.sender == "bob@x.org" and found.stanza_id == "arch1"
    assert not found.live and found.timestamp.year == 2029
    # Two <x> that disagree: neither is believed; the occupant with that nick now is
    # (the decryption checks it: only that account's device can have written it).
    two = archived(item("bob@x.org") + item("mallory@x.org"))
    assert archived_group_envelope(two, ROOM, CTX, rooms, NOW).sender == "carol@x.org"  # type: ignore[union-attr]
    assert archived_group_envelope(two, ROOM, CTX, None, NOW).sender == ""  # type: ignore[union-attr]
    assert archived_group_envelope(archived(item("not a jid@@")), ROOM, CTX, None,
                                   NOW).sender == ""  # type: ignore[union-attr]
    # From another room than the one asked, or not a groupchat: not taken.
    assert archived_group_envelope(archived("", "other@conf.x.org/bob"), ROOM, CTX, rooms,
                                   NOW) is None
    assert archived_group_envelope(archived("", ROOM), ROOM, CTX, rooms, NOW) is None


async def test_a_writer_the_room_does_not_show_is_marked_not_decrypted() -> None:
    emitted: list[ev.Event] = []
    receiver = Receiver(None, None, ACC, ME, emitted.append, None, None)  # type: ignore[arg-type]
    envelope = live_group_envelope(groupchat(f"{ROOM}/ghost"), CTX, Rooms({ROOM: {}}), NOW)
    assert envelope is not None
    await receiver.handle(envelope)  # never reaches the library (it is None here)
    [event] = emitted
    assert isinstance(event, ev.MessageReceived)
    msg = event.message
    assert (msg.encryption, msg.error, msg.body) == (Encryption.UNDECRYPTABLE, ri.NO_REAL_JID, "")
    assert (msg.sender, msg.nick, msg.chat.jid) == (f"{ROOM}/ghost", "ghost", ROOM)


# -- the policy ------------------------------------------------------------------------------
@dataclass
class FakeSealed:
    encryption: Encryption = Encryption.OMEMO_UNTRUSTED
    skipped: tuple[str, ...] = ()


@dataclass
class Listed:
    jid: str


class FakeAdmin:
    def __init__(self) -> None:
        self.lists = {Affiliation.OWNER: ["owner@x.org"], Affiliation.ADMIN: [],
                      Affiliation.MEMBER: ["away@x.org", ME]}

    async def affiliations(self, room: str, affiliation: Affiliation) -> tuple[Listed, ...]:
        return tuple(Listed(j) for j in self.lists[affiliation])


class FakePort:
    def __init__(self) -> None:
        self.sealed: list[tuple[str, frozenset[str], str]] = []

    async def seal_group(self, room: str, members: frozenset[str], body: str,
                         message_id: str) -> FakeSealed:
        self.sealed.append((room, members, body))
        return FakeSealed()

    async def devices(self, jid: str | None) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
        return (), ()


class FakeLink:
    def __init__(self) -> None:
        self.omemo, self.admin, self.online = FakePort(), FakeAdmin(), True


def policy(mode: Any = "default") -> tuple[RoomOmemo, list[ev.Event], Store]:
    events: list[ev.Event] = []
    store = Store.open(None)
    config = AccountConfig(id=ACC, jid=ME, omemo=mode)
    return RoomOmemo(config, store, events.append), events, store


def state(features: RoomFeatures = PRIVATE, joined: bool = True) -> RoomState:
    occupants = {"bob": Occupant("bob", jid="bob@x.org"), "anon": Occupant("anon")}
    return RoomState(ChatKey(ACC, ROOM), "me", joined, occupants, features=features)


def notices(events: list[ev.Event]) -> list[ev.Notice]:
    return [e for e in events if isinstance(e, ev.Notice)]


async def test_private_rooms_turn_on_and_seal_for_every_member() -> None:
    rooms, events, store = policy()
    link = FakeLink()
    await rooms.joined(state(), link)
    assert rooms.enabled(ROOM) and rooms.is_room(ROOM)
    out = await rooms.prepare(state(), "hi", "m1", link)
    assert out.sealed is not None and out.encryption is Encryption.OMEMO_UNTRUSTED
    [(room, members, body)] = link.omemo.sealed
    assert (room, body) == (ROOM, "hi")
    assert members == {"owner@x.org", "away@x.org", ME, "bob@x.org"}  # away members too
    assert any(isinstance(e, ChatSecurityChanged) and e.security is ChatSecurity.OMEMO_UNVERIFIED
               for e in events)
    again, _, _ = policy()
    again._store = store
    await again.load()
    assert again.enabled(ROOM)  # kept in the store


@pytest.mark.parametrize(("features", "mode", "on"), [
    (RoomFeatures(non_anonymous=True), "default", False),  # open room: not by default
    (RoomFeatures(non_anonymous=True), "always", True),
    (RoomFeatures(members_only=True), "always", False),  # semi-anonymous: never
    (PRIVATE, "never", False),
])
async def test_which_rooms_turn_on_by_themselves(features: RoomFeatures, mode: str,
                                                  on: bool) -> None:
    rooms, _, _ = policy(mode)
    await rooms.joined(state(features), FakeLink())
    assert rooms.enabled(ROOM) is on
    out = await rooms.prepare(state(features), "x", "m", FakeLink())
    assert (out.encryption is not Encryption.PLAIN) is on


async def test_omemo_is_refused_in_a_room_that_hides_real_jids() -> None:
    rooms, _, _ = policy()
    semi = state(RoomFeatures(members_only=True))
    await rooms.joined(semi, FakeLink())
    with pytest.raises(OmemoRefused, match="semi-anonymous"):
        await rooms.switch(ChatKey(ACC, ROOM), True, FakeLink())
    assert not rooms.enabled(ROOM)
    assert (await rooms.prepare(semi, "x", "m", FakeLink())).encryption is Encryption.PLAIN


async def test_a_room_turned_semi_anonymous_refuses_and_never_sends_plaintext() -> None:
    rooms, events, store = policy()
    link = FakeLink()
    await rooms.joined(state(), link)
    semi = state(RoomFeatures(members_only=True))
    await rooms.features_changed(semi, link)
    assert any(n.error and "no longer shows" in n.text for n in notices(events))
    with pytest.raises(OmemoRefused, match="nothing is sent in plaintext"):
        await rooms.prepare(semi, "secret", "m1", link)
    pending = ChatMessage(id="m2", chat=ChatKey(ACC, ROOM), direction=Direction.OUTGOING,
                          sender=ME, body="queued", timestamp=NOW, delivery=Delivery.PENDING,
                          origin_id="m2", nick="me")  # written while it was still PLAIN
    await store.add_message(pending)
    assert await rooms.outgoing(pending, link, None) is None  # FAILED, not sent plain
    failed = await store.get_message(ACC, "m2")
    assert failed is not None and failed.delivery is Delivery.FAILED
    assert link.omemo.sealed == []
    await rooms.features_changed(state(), link)  # non-anonymous again (172)
    assert any("again" in n.text for n in notices(events))
    assert (await rooms.prepare(state(), "ok", "m3", link)).sealed is not None


async def test_a_message_written_before_the_join_waits_and_is_sealed_after_it() -> None:
    rooms, _, store = policy()
    link = FakeLink()
    out = await rooms.prepare(state(joined=False), "early", "m1", link)
    assert out.hold and out.encryption is Encryption.PLAIN  # nothing known yet
    await rooms.joined(state(), link)  # private: OMEMO turns on
    msg = ChatMessage(id="m1", chat=ChatKey(ACC, ROOM), direction=Direction.OUTGOING,
                      sender=ME, body="early", timestamp=NOW, delivery=Delivery.PENDING,
                      origin_id="m1", nick="me")
    await store.add_message(msg)
    ready = await rooms.outgoing(msg, link, None)
    assert ready is not None and ready[1] is not None  # sealed, never plaintext
    assert ready[0].encryption is Encryption.OMEMO_UNTRUSTED


async def test_a_new_member_makes_the_lists_be_read_again() -> None:
    rooms, _, _ = policy()
    link = FakeLink()
    await rooms.joined(state(), link)
    await rooms.prepare(state(), "one", "m1", link)
    link.admin.lists[Affiliation.MEMBER].append("new@x.org")
    newcomer = replace(state(), occupants={**state().occupants,
                                          "new": Occupant("new", jid="new@x.org",
                                                          affiliation=Affiliation.MEMBER)})
    rooms.occupants_changed(newcomer)
    await rooms.prepare(newcomer, "two", "m2", link)
    assert "new@x.org" in link.omemo.sealed[-1][1]
    await asyncio.sleep(0)
