"""Private messages through a room (XEP-0045 §7.5): the pure parts. The chat key, reading
an incoming or archived one (and what is NOT one), the outgoing stanza, the room's error
reply, and core's lines about nick continuity."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from typing import Any

import pytest

from xmppterm.core.private_chats import _news, omemo_refusal
from xmppterm.domain import events as ev
from xmppterm.domain.ids import AccountId, ChatKey
from xmppterm.domain.messages import Delivery, Direction, Encryption
from xmppterm.domain.rooms import (
    Occupant,
    OccupantsChanged,
    RoomFeatures,
    RoomJoined,
    RoomLeft,
    RoomState,
)
from xmppterm.protocol import stanzas as st
from xmppterm.protocol.muc.private import PrivateChats, private_message, private_stanza

ME = AccountId("me")
ROOM = "plans@conference.example.org"
OWN = "me@example.org"
NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
C = "jabber:client"
MUC_USER = "http://jabber.org/protocol/muc#user"


def stanza(text: str) -> ET.Element:
    return ET.fromstring(text)  # noqa: S314 (test literals)


def msg(frm: str, body: str = "hi", kind: str = "chat", extra: str = "",
        to: str = f"{OWN}/term") -> ET.Element:
    body_el = f"<body>{body}</body>" if body else ""
    return stanza(f"<message xmlns='{C}' from='{frm}' to='{to}' type='{kind}' id='r1'>"
                  f"{body_el}{extra}</message>")


class FakeTranslator:
    def __init__(self) -> None:
        self.ctx = st.Context(ME, OWN)
        self.account = ME
        self.events: list[ev.Event] = []

    def emit(self, event: ev.Event) -> None:
        self.events.append(event)


def chats(joined: set[str], known: set[str] | None = None) -> tuple[PrivateChats, FakeTranslator]:
    tr = FakeTranslator()
    found = PrivateChats(None, tr, joined.__contains__,
                         (known if known is not None else joined).__contains__, lambda: None)
    return found, tr


# -- the chat key ----------------------------------------------------------------------------
def test_private_chat_key() -> None:
    key = ChatKey.private(ME, "Plans@Conference.Example.org", "a/b@c")
    assert key.jid == f"{ROOM}/a/b@c" and key.is_private
    assert key.occupant == (ROOM, "a/b@c")  # the nick raw, '/' and '@' included
    assert ChatKey.of(ME, f"{ROOM}/nick") == ChatKey(ME, ROOM)  # 1:1 keys stay bare
    assert not ChatKey(ME, ROOM).is_private and ChatKey(ME, ROOM).occupant is None


# -- reading ---------------------------------------------------------------------------------
def test_private_message_plain_and_encrypted() -> None:
    chat = ChatKey.private(ME, ROOM, "bob")
    plain = private_message(msg(f"{ROOM}/bob", "hello"), chat, Direction.INCOMING,
                            f"{ROOM}/bob", "l1", NOW, None)
    assert plain is not None and plain.body == "hello" and plain.encryption is Encryption.PLAIN
    assert plain.nick is None and not plain.in_room  # never a room message
    correction = private_message(
        msg(f"{ROOM}/bob", "fixed", extra="<replace xmlns='urn:xmpp:message-correct:0' id='x'/>"),
        chat, Direction.INCOMING, f"{ROOM}/bob", "l4", NOW, None)
    assert correction is not None and correction.replaces is None  # a nick is not a person
    for ns in ("urn:xmpp:omemo:2", "eu.siacs.conversations.axolotl"):
        sealed = private_message(
            msg(f"{ROOM}/bob", "I sent you an OMEMO message", extra=f"<encrypted xmlns='{ns}'/>"),
            chat, Direction.INCOMING, f"{ROOM}/bob", "l2", NOW, None)
        assert sealed is not None and sealed.encryption is Encryption.UNDECRYPTABLE
        assert sealed.body == "" and "not supported" in (sealed.error or "")
    state_only = msg(f"{ROOM}/bob", "",
                     extra="<composing xmlns='http://jabber.org/protocol/chatstates'/>")
    assert private_message(state_only, chat, Direction.INCOMING, "x", "l3", NOW, None) is None


def test_claims_only_from_an_occupant_of_a_joined_room() -> None:
    found, tr = chats({ROOM})
    assert found.claims(msg(f"{ROOM}/bob", "psst"))
    [event] = tr.events
    assert isinstance(event, ev.MessageReceived)
    assert event.message.chat == ChatKey.private(ME, ROOM, "bob")
    assert event.message.sender == f"{ROOM}/bob" and event.message.chat != ChatKey(ME, ROOM)
    # a room we left (or never joined), with or without the muc#user marker: not ours
    left, tr2 = chats(set(), known={ROOM})
    assert not left.claims(msg(f"{ROOM}/bob", "psst", extra=f"<x xmlns='{MUC_USER}'/>"))
    assert not tr2.events
    # not from an occupant JID, or not type chat/normal: not a private message
    for other in (msg(ROOM, "from the room itself"), msg(f"{ROOM}/bob", kind="groupchat"),
                  msg(f"{ROOM}/bob", kind="error"), msg("bob@example.org/res")):
        assert not found.claims(other)
    # a chat state alone, or the chat-state row's look (report=False): taken quietly
    assert found.claims(msg(f"{ROOM}/bob", ""))
    assert found.claims(msg(f"{ROOM}/bob", "psst"), report=False)
    assert len(tr.events) == 1


def archived(inner: str, result_id: str = "a1") -> ET.Element:
    return stanza(f"<result xmlns='urn:xmpp:mam:2' id='{result_id}' queryid='q'>"
                  f"<forwarded xmlns='urn:xmpp:forward:0'>"
                  f"<delay xmlns='urn:xmpp:delay' stamp='2024-04-01T10:00:00Z'/>"
                  f"{inner}</forwarded></result>")


def inner(frm: str, to: str, body: str = "old", marker: bool = True) -> str:
    x = f"<x xmlns='{MUC_USER}'/>" if marker else ""
    return f"<message xmlns='{C}' from='{frm}' to='{to}' type='chat'><body>{body}</body>{x}</message>"


def test_own_archive_maps_private_messages_or_drops_them() -> None:
    found, tr = chats(set(), known={ROOM})  # known: joined or being joined
    assert found.archived(archived(inner(f"{ROOM}/bob", f"{OWN}/term")), NOW)
    assert found.archived(archived(inner(f"{OWN}/term", f"{ROOM}/bob", "mine", marker=False),
                                   "a2"), NOW)
    incoming, outgoing = (e.message for e in tr.events if isinstance(e, ev.MessageReceived))
    pm = ChatKey.private(ME, ROOM, "bob")
    assert incoming.chat == pm and incoming.direction is Direction.INCOMING
    assert incoming.stanza_id == "a1" and incoming.timestamp.year == 2024
    assert outgoing.chat == pm and outgoing.direction is Direction.OUTGOING
    assert outgoing.sender == OWN and outgoing.delivery is Delivery.SENT
    # a room not known here: dropped when marked, else read as a 1:1 message as before
    unknown, tr2 = chats(set())
    assert unknown.archived(archived(inner(f"{ROOM}/bob", f"{OWN}/term")), NOW)
    assert not unknown.archived(archived(inner("bob@example.org/res", f"{OWN}/term",
                                               marker=False)), NOW)
    assert not unknown.archived(archived(inner(f"{ROOM}/bob", f"{OWN}/term", marker=False)), NOW)
    assert not tr2.events
    # neither from nor to us: not ours to read here
    assert not found.archived(archived(inner(f"{ROOM}/bob", "eve@example.org")), NOW)


def test_outgoing_stanza() -> None:
    out = stanza(f"<message xmlns='{C}' to='{ROOM}/bob' type='chat'/>")
    private_stanza(out, "hello", "m1")
    assert out.get("id") == "m1" and out.findtext(f"{{{C}}}body") == "hello"
    assert out.find(f"{{{MUC_USER}}}x") is not None
    origin = out.find("{urn:xmpp:sid:0}origin-id")
    assert origin is not None and origin.get("id") == "m1"
    assert [c.tag.rpartition("}")[2] for c in out] == ["body", "x", "origin-id"]  # nothing else


def test_error_reply_marks_failed_only_from_that_room() -> None:
    found, tr = chats({ROOM})
    found._sent["m1"] = f"{ROOM}/bob"
    error = ("<error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
             "<text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>Recipient not in room</text>"
             "</error>")
    forged = stanza(f"<message xmlns='{C}' from='eve@example.org' type='error' id='m1'>"
                    f"{error}</message>")
    assert not found.refused(forged)
    reply = stanza(f"<message xmlns='{C}' from='{ROOM}/bob' type='error' id='m1'>{error}</message>")
    assert found.refused(reply)
    [event] = tr.events
    assert isinstance(event, ev.MessageDeliveryChanged) and event.delivery is Delivery.FAILED
    assert event.chat == ChatKey.private(ME, ROOM, "bob")
    assert event.error == "item-not-found: Recipient not in room"
    assert not found.refused(reply)  # once


# -- core's lines ----------------------------------------------------------------------------
@pytest.mark.parametrize(("event", "words"), [
    (OccupantsChanged(ME, ChatKey(ME, ROOM), gone=(("bob", ""),)), "bob left"),
    (OccupantsChanged(ME, ChatKey(ME, ROOM), renamed=(("bob", "rob"),)), "now called rob"),
    (OccupantsChanged(ME, ChatKey(ME, ROOM), present=(Occupant("bob"),)), "may be someone else"),
    (OccupantsChanged(ME, ChatKey(ME, ROOM), renamed=(("eve", "bob"),)), "may be someone else"),
    (RoomJoined(ME, ChatKey(ME, ROOM), "me", (Occupant("bob"),), RoomFeatures()), "may be someone else"),
    (RoomJoined(ME, ChatKey(ME, ROOM), "me", (), RoomFeatures()), "not in"),
    (RoomLeft(ME, ChatKey(ME, ROOM)), "You left"),
])
def test_nick_continuity_lines(event: Any, words: str) -> None:
    before = RoomState(ChatKey(ME, ROOM), "me", True, {})
    assert words in _news(event, ChatKey.private(ME, ROOM, "bob"), before)


def test_nick_continuity_quiet_and_clean() -> None:
    present = RoomState(ChatKey(ME, ROOM), "me", True, {"bob": Occupant("bob")})
    status = OccupantsChanged(ME, ChatKey(ME, ROOM), present=(Occupant("bob", status="away"),))
    assert _news(status, ChatKey.private(ME, ROOM, "bob"), present) == ""  # not a return
    hostile = "\x1b[2J\u202eevil\nfake line"
    line = _news(OccupantsChanged(ME, ChatKey(ME, ROOM), gone=((hostile, ""),)),
                 ChatKey.private(ME, ROOM, hostile), present)
    assert "\x1b" not in line and "\n" not in line and "\u202e" not in line


def test_omemo_refusal_names_the_real_jid_when_known() -> None:
    state = RoomState(ChatKey(ME, ROOM), "me", True,
                      {"bob": Occupant("bob", jid="bob@example.org"), "eve": Occupant("eve")})
    assert "/msg bob@example.org" in omemo_refusal(state, ROOM, "bob")
    assert "does not show their real JID" in omemo_refusal(state, ROOM, "eve")
