"""The pure group-chat readers (protocol/muc/stanzas.py), the occupant bursts
(occupants.py) and the room archive's origin check (archive.py), without a server."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from xmppterm.domain.ids import AccountId, ChatKey
from xmppterm.domain.messages import Direction
from xmppterm.domain.rooms import Affiliation, Occupant, Role
from xmppterm.protocol.muc import stanzas as ms
from xmppterm.protocol.muc.archive import RoomArchive
from xmppterm.protocol.muc.occupants import Burst

ROOM = "room@conference.example.test"
NOW = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
USER = "http://jabber.org/protocol/muc#user"
CHAT = ChatKey(AccountId("me"), ROOM)


def xml(text: str) -> ET.Element:
    return ET.fromstring(text)  # noqa: S314 (test literals)


def presence(nick: str, body: str = "", kind: str = "") -> ET.Element:
    attr = f" type='{kind}'" if kind else ""
    return xml(f"<presence xmlns='jabber:client' from='{ROOM}/{nick}'{attr}>"
               f"<x xmlns='{USER}'>{body}</x></presence>")


def test_presence_reads_item_codes_and_real_jid() -> None:
    read = ms.room_presence(presence("alice", "<item affiliation='admin' role='moderator' "
                                     "jid='Alice@Example.test/phone'/><status code='110'/>"
                                     "<status code='100'/>"))
    assert read is not None and read.own and read.available
    assert read.occupant == Occupant("alice", Role.MODERATOR, Affiliation.ADMIN,
                                     "alice@example.test")
    assert read.codes == {"110", "100"}


@pytest.mark.parametrize("code, words", [("307", "kicked"), ("301", "banned"),
                                         ("321", "affiliation"), ("322", "members-only"),
                                         ("332", "shutting down"), ("333", "technical")])
def test_removal_codes(code: str, words: str) -> None:
    read = ms.room_presence(presence("me", f"<item role='none'><reason>bye</reason></item>"
                                     f"<status code='110'/><status code='{code}'/>",
                                     "unavailable"))
    assert read is not None and words in read.removal and read.reason == "bye"
    assert not read.available and read.occupant.role is Role.NONE


def test_nick_change_and_hostile_nicks_stay_raw() -> None:
    read = ms.room_presence(presence("old", "<item nick='new/one'/><status code='303'/>",
                                     "unavailable"))
    assert read is not None and read.new_nick == "new/one"
    for nick in ("a/b/c", "x\u202eevil", "\u0085ctl", "[b]markup[/b]", "ünï"):
        found = ms.split_occupant(f"{ROOM}/{nick}")
        assert found == (ROOM, nick)
    assert ms.split_occupant(ROOM) is None
    assert ms.split_occupant("bad jid@x/nick") is None
    assert ms.split_occupant(f"{ROOM}/" + "n" * 2000) is None


def test_unknown_role_and_garbage_do_not_break() -> None:
    read = ms.room_presence(presence("bob", "<item role='emperor' affiliation='god'/>"))
    assert read is not None and read.occupant.role is Role.PARTICIPANT
    assert read.occupant.affiliation is Affiliation.NONE
    assert ms.room_presence(xml("<presence xmlns='jabber:client' from='x@y/z'/>")) is None


@pytest.mark.parametrize("condition, words", [
    ("not-authorized", "password"), ("registration-required", "members-only"),
    ("conflict", "/join ROOM OTHERNICK"), ("forbidden", "banned"),
    ("service-unavailable", "full"), ("item-not-found", "does not exist")])
def test_join_errors_say_what_to_do(condition: str, words: str) -> None:
    error = xml(f"<presence xmlns='jabber:client' type='error' from='{ROOM}/me'><error "
                f"type='auth'><{condition} xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
                "</error></presence>")
    assert words in ms.join_error(error)


def test_features_from_disco() -> None:
    query = xml("<query xmlns='http://jabber.org/protocol/disco#info'><identity "
                "category='conference' type='text' name='Plans'/>"
                + "".join(f"<feature var='{v}'/>" for v in (
                    "muc_nonanonymous", "muc_membersonly", "muc_persistent", "muc_hidden",
                    "muc_moderated", "muc_passwordprotected", "urn:xmpp:mam:2",
                    "urn:xmpp:message-moderate:0")) + "</query>")
    found = ms.room_features(query)
    assert found.non_anonymous and found.members_only and found.persistent
    assert not found.public and found.moderated and found.password
    assert found.archived and found.moderation and found.name == "Plans"


def groupchat(nick: str, extra: str = "", body: str = "hi") -> ET.Element:
    return xml(f"<message xmlns='jabber:client' type='groupchat' id='m1' "
               f"from='{ROOM}/{nick}'><body>{body}</body>{extra}</message>")


def test_room_message_origins() -> None:
    extra = ("<stanza-id xmlns='urn:xmpp:sid:0' by='evil@example.test' id='forged'/>"
             f"<stanza-id xmlns='urn:xmpp:sid:0' by='{ROOM}' id='real'/>"
             "<origin-id xmlns='urn:xmpp:sid:0' id='copied'/>"
             "<delay xmlns='urn:xmpp:delay' from='evil@example.test' stamp='2001-01-01T00:00:00Z'/>")
    msg = groupchat("bob", extra)
    assert ms.room_stanza_id(msg, ROOM) == "real"
    assert ms.room_timestamp(msg, ROOM, NOW) == NOW  # a delay not from the room
    chat = ms.room_message(msg, CHAT, "bob", ms.Writer(False, None), "me@example.test", "L",
                           NOW, "real")
    assert chat is not None and chat.origin_id is None  # never kept for others
    assert chat.sender == f"{ROOM}/bob" and chat.nick == "bob"
    assert chat.direction is Direction.INCOMING
    own = ms.room_message(msg, CHAT, "me", ms.Writer(True, None), "me@example.test", "L",
                          NOW, "real")
    assert own is not None and own.origin_id == "copied"
    assert own.direction is Direction.OUTGOING and own.sender == "me@example.test"
    dated = groupchat("bob", f"<delay xmlns='urn:xmpp:delay' from='{ROOM}' "
                      "stamp='2024-05-06T07:08:09Z'/>")
    assert ms.room_timestamp(dated, ROOM, NOW) == datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    bad = groupchat("bob", f"<delay xmlns='urn:xmpp:delay' from='{ROOM}' stamp='nonsense'/>")
    assert ms.room_timestamp(bad, ROOM, NOW) == NOW  # malformed: kept, stamped now


OID = "urn:xmpp:occupant-id:0"


def test_occupant_id_is_a_feature_of_the_room() -> None:
    query = xml("<query xmlns='http://jabber.org/protocol/disco#info'>"
                f"<feature var='{OID}'/></query>")
    assert ms.room_features(query).occupant_id
    assert not ms.room_features(xml("<query xmlns='http://jabber.org/protocol/disco#info'>"
                                    "<feature var='urn:xmpp:occupant-id:1'/></query>")
                                ).occupant_id


@pytest.mark.parametrize(("extra", "expected"), [
    (f"<occupant-id xmlns='{OID}' id='abc='/>", "abc="),
    ("", None),
    (f"<occupant-id xmlns='{OID}'/>", None),  # no id
    (f"<occupant-id xmlns='{OID}' id=''/>", None),
    (f"<occupant-id xmlns='{OID}' id='{'x' * 257}'/>", None),  # too long
    (f"<occupant-id xmlns='{OID}' id='a'/><occupant-id xmlns='{OID}' id='b'/>", None),
    ("<occupant-id xmlns='urn:example:other' id='abc'/>", None),
    (f"<x xmlns='urn:example'><occupant-id xmlns='{OID}' id='deep'/></x>", None),
])
def test_occupant_id_read_only_where_the_room_announces_it(extra: str,
                                                           expected: str | None) -> None:
    msg = groupchat("bob", extra)
    on = ms.room_message(msg, CHAT, "bob", ms.Writer(False, None, True), "me@example.test",
                         "L", NOW, None)
    off = ms.room_message(msg, CHAT, "bob", ms.Writer(False, None), "me@example.test", "L",
                          NOW, None)
    assert on is not None and on.occupant_id == expected
    assert off is not None and off.occupant_id is None  # a room without XEP-0421: never
    pres = xml(f"<presence xmlns='jabber:client' from='{ROOM}/bob'><x xmlns='{USER}'>"
               f"<item role='participant'/></x>{extra}</presence>")
    read_on, read_off = ms.room_presence(pres, occupant_ids=True), ms.room_presence(pres)
    assert read_on is not None and read_on.occupant.occupant_id == expected
    assert read_off is not None and read_off.occupant.occupant_id is None


def test_subject_only_without_body() -> None:
    assert ms.subject_of(xml("<message xmlns='jabber:client' type='groupchat'>"
                             "<subject>Plans</subject></message>")) == "Plans"
    assert ms.subject_of(groupchat("a", "<subject>x</subject>")) is None


def test_invitations() -> None:
    direct = xml("<message xmlns='jabber:client' from='ann@example.test/pc'>"
                 f"<x xmlns='jabber:x:conference' jid='{ROOM}' reason='come' "
                 "password='pw'/></message>")
    assert ms.direct_invite(direct) == ms.Invitation(ROOM, "ann@example.test", "come", "pw")
    for jid in (f"{ROOM}/nick", "example.test", "not a jid"):
        forged = xml("<message xmlns='jabber:client' from='ann@example.test/pc'>"
                     f"<x xmlns='jabber:x:conference' jid='{jid}'/></message>")
        assert ms.direct_invite(forged) is None
    mediated = xml(f"<message xmlns='jabber:client' from='{ROOM}'><x xmlns='{USER}'>"
                   "<invite from='bob@example.test/x'><reason>r</reason></invite>"
                   "<password>p</password></x></message>")
    assert ms.mediated_invite(mediated) == ms.Invitation(ROOM, "bob@example.test", "r", "p")
    from_occupant = xml(f"<message xmlns='jabber:client' from='{ROOM}/eve'><x xmlns='{USER}'>"
                        "<invite from='bob@example.test'/></x></message>")
    assert ms.mediated_invite(from_occupant) is None


def test_burst_folds_to_the_net_effect() -> None:
    burst = Burst()
    burst.came(Occupant("a"))
    burst.left("a")
    burst.came(Occupant("b"))
    burst.rename("b", "c")
    burst.rename("c", "d")
    burst.came(Occupant("x"))
    burst.rename("x", "y")
    burst.left("y")
    event = burst.event(CHAT)
    assert [o.nick for o in event.present] == ["d"]
    assert dict(event.gone) == {"a": "", "x": ""}
    assert event.renamed == (("b", "d"),)


def result_message(sender: str, query_id: str) -> ET.Element:
    return xml(f"<message xmlns='jabber:client' from='{sender}'><result xmlns='urn:xmpp:mam:2' "
               f"queryid='{query_id}' id='s1'><forwarded xmlns='urn:xmpp:forward:0'>"
               f"<message xmlns='jabber:client' type='groupchat' from='{ROOM}/bob'>"
               "<body>archived</body></message></forwarded></result></message>")


def test_room_archive_takes_results_only_from_the_room() -> None:
    got: list[str] = []
    translator = SimpleNamespace(omemo=None)
    archive = RoomArchive(None, translator, lambda room: True,
                          lambda room, inner, rid, stamp: got.append(rid or ""))
    archive.queries["q1"], archive.counts["q1"] = ROOM, 0
    assert not archive.take(result_message(ROOM, "other"))  # not a room query of ours
    assert archive.take(result_message(f"{ROOM}/eve", "q1"))  # an occupant forging it
    assert archive.take(result_message("eve@example.test", "q1"))
    assert got == [] and archive.refused == 2
    assert archive.take(result_message(ROOM, "q1"))
    assert got == ["s1"] and archive.counts["q1"] == 1
