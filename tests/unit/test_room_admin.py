"""Room administration without a server: owner forms, error sentences, bookmark parsing
(hostile content included) and RoomAdminControl with a fake link."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

import pytest

from xmppterm.core.room_admin import RoomAdminControl
from xmppterm.domain import events as ev
from xmppterm.domain.ids import AccountId, ChatKey
from xmppterm.domain.rooms import (
    Affiliation,
    Bookmark,
    CreateRoom,
    JoinRoom,
    ListAffiliation,
    Moderate,
    ModerationAction,
    Occupant,
    RetractRoomMessage,
    Role,
    RoomFeatures,
    RoomJoined,
    RoomListing,
    RoomState,
    SetBookmark,
)
from xmppterm.protocol.errors import RequestFailed
from xmppterm.protocol.muc.admin import Configured, Listed, refusal
from xmppterm.protocol.muc.bookmarks import (
    CONFERENCE_48,
    MAX_BOOKMARKS,
    NODE,
    conference,
    read_items,
    read_storage,
)
from xmppterm.protocol.muc.dataform import FormValueError, check_value, parse_form, submit_form

ME = AccountId("me")
ROOM = "plans@conference.example.test"
FORM = """<x xmlns='jabber:x:data' type='form'>
  <field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/muc#roomconfig</value></field>
  <field type='fixed'><value>Room settings</value></field>
  <field var='muc#roomconfig_membersonly' type='boolean' label='Members only?'><value>0</value></field>
  <field var='muc#roomconfig_whois' type='list-single'><value>moderators</value>
    <option><value>moderators</value></option><option><value>anyone</value></option></field>
  <field var='muc#roomconfig_roomadmins' type='jid-multi'/>
  <field var='muc#roomconfig_roomdesc' type='text-single'><value>x</value></field>
</x>"""


def form() -> Any:
    return parse_form(ET.fromstring(FORM))  # noqa: S314 (test literal)


def test_form_parsed_and_values_checked() -> None:
    fields = {f.var: f for f in form()}
    assert list(fields) == ["FORM_TYPE", "muc#roomconfig_membersonly", "muc#roomconfig_whois",
                            "muc#roomconfig_roomadmins", "muc#roomconfig_roomdesc"]
    assert fields["muc#roomconfig_membersonly"].label == "Members only?"
    assert check_value(fields["muc#roomconfig_membersonly"], "TRUE") == ("1",)
    assert check_value(fields["muc#roomconfig_whois"], "anyone") == ("anyone",)
    assert check_value(fields["muc#roomconfig_roomadmins"], "a@b, c@d") == ("a@b", "c@d")
    with pytest.raises(FormValueError, match="takes 1 or 0"):
        check_value(fields["muc#roomconfig_membersonly"], "perhaps")
    with pytest.raises(FormValueError, match="takes one of: moderators, anyone"):
        check_value(fields["muc#roomconfig_whois"], "everybody")
    with pytest.raises(FormValueError, match="not a JID"):
        check_value(fields["muc#roomconfig_roomadmins"], "a@b, @@")


def test_submitted_form_keeps_every_value_and_applies_changes() -> None:
    x = submit_form(form(), {"muc#roomconfig_membersonly": ("1",)})
    got = {f.get("var"): [v.text for v in f] for f in x}
    assert x.get("type") == "submit"
    assert got == {"FORM_TYPE": ["http://jabber.org/protocol/muc#roomconfig"],
                   "muc#roomconfig_membersonly": ["1"], "muc#roomconfig_whois": ["moderators"],
                   "muc#roomconfig_roomadmins": [], "muc#roomconfig_roomdesc": ["x"]}


def test_hostile_form_is_bounded() -> None:
    x = ET.Element("{jabber:x:data}x")
    for i in range(1000):
        f = ET.SubElement(x, "{jabber:x:data}field", {"var": f"v{i}", "label": "L" * 9000})
        ET.SubElement(f, "{jabber:x:data}value").text = "V" * 9000
    fields = parse_form(x)
    assert len(fields) == 200 and len(fields[0].label) == 1024 and len(fields[0].value) == 1024


def error_iq(condition: str, text: str = "") -> ET.Element:
    iq = ET.Element("{jabber:client}iq", {"type": "error"})
    error = ET.SubElement(iq, "{jabber:client}error", {"type": "auth"})
    ET.SubElement(error, f"{{urn:ietf:params:xml:ns:xmpp-stanzas}}{condition}")
    if text:
        ET.SubElement(error, "{urn:ietf:params:xml:ns:xmpp-stanzas}text").text = text
    return iq


@pytest.mark.parametrize(("condition", "what", "expected"), [
    ("forbidden", "config", "you are not an owner here"),
    ("forbidden", "role", "you are not a moderator here"),
    ("forbidden", "affiliation", "you are not an admin or owner here"),
    ("not-allowed", "role", "you are not a moderator here, or they outrank you"),
    ("not-acceptable", "config", "the room did not accept those values"),
    ("item-not-found", "list", "the room (or that occupant) does not exist"),
    ("feature-not-implemented", "retract", "the room's service does not support that"),
    ("undefined-condition", "config", "the room refused (undefined-condition)"),
])
def test_refusals_in_words(condition: str, what: str, expected: str) -> None:
    assert expected in refusal(error_iq(condition), what)


def test_remote_error_text_is_one_line() -> None:
    said = refusal(error_iq("forbidden", "no\nway\x1b[2J" + "x" * 500), "config")
    assert "\n" not in said and said.startswith("you are not an owner here (the room says: no")
    assert len(said) < 400


def items(*entries: tuple[str, str]) -> ET.Element:
    el = ET.Element("{http://jabber.org/protocol/pubsub}items")
    for item_id, inner in entries:
        el.append(ET.fromstring(  # noqa: S314 (test literals)
            f"<item xmlns='http://jabber.org/protocol/pubsub' id='{item_id}'>{inner}</item>"))
    return el


def test_bookmarks_402_hostile_content_skipped() -> None:
    conf = f"<conference xmlns='{NODE}' name='{'n' * 5000}' autojoin='true'>" \
           "<nick>me</nick><password>pw</password><x><y><z/></y></x></conference>"
    got = read_items(items((ROOM, conf), ("bad jid@@", conf), ("conference.example.test", conf),
                           (f"{ROOM}/res", conf), ("a@b", "<other xmlns='urn:x'/>"),
                           ("c@d", "<conference xmlns='storage:bookmarks'/>")))
    assert list(got) == [ROOM]
    mark = got[ROOM]
    assert (mark.nick, mark.password, mark.autojoin, len(mark.name)) == ("me", "pw", True, 1024)


def test_bookmarks_huge_list_is_bounded() -> None:
    huge = items(*((f"r{i}@c.example", f"<conference xmlns='{NODE}'/>") for i in range(3000)))
    assert len(read_items(huge)) == MAX_BOOKMARKS
    storage = ET.Element("{storage:bookmarks}storage")
    for i in range(3000):
        ET.SubElement(storage, CONFERENCE_48, {"jid": f"r{i}@c.example", "autojoin": "1"})
    legacy = read_storage(storage)
    assert len(legacy) == MAX_BOOKMARKS and all(m.autojoin for m in legacy.values())


def test_bookmark_written_both_ways() -> None:
    mark = Bookmark(ROOM, name="Plans", nick="n", autojoin=True, password="p")
    new = conference(mark, NODE)
    old = conference(mark, "storage:bookmarks")
    assert new.get("jid") is None and old.get("jid") == ROOM
    assert read_items(items((ROOM, ET.tostring(new).decode())))[ROOM] == mark
    storage = ET.Element("{storage:bookmarks}storage")
    storage.append(old)
    assert read_storage(storage)[ROOM] == mark


# -- RoomAdminControl with a fake link -----------------------------------------------------
@dataclass
class FakeAdmin:
    owner_of: set[str] = field(default_factory=set)
    calls: list[tuple[Any, ...]] = field(default_factory=list)
    refuse: str = ""

    async def configure_private(self, room: str) -> Configured:
        self.calls.append(("configure", room))
        return Configured(("members-only", "persistent"), ("archived",))

    async def set_role(self, room: str, nick: str, role: Role, reason: str = "") -> None:
        if self.refuse:
            raise RequestFailed(self.refuse)
        self.calls.append(("role", nick, role))

    async def set_affiliation(self, room: str, jid: str, aff: Affiliation,
                              reason: str = "") -> None:
        self.calls.append(("affiliation", jid, aff))

    async def affiliations(self, room: str, aff: Affiliation) -> tuple[Listed, ...]:
        return (Listed("a@b", "ann"), Listed("c@d"))

    async def retract(self, room: str, stanza_id: str, reason: str = "") -> None:
        self.calls.append(("retract", stanza_id))

    def invite(self, room: str, jid: str, reason: str = "", password: str = "") -> None:
        self.calls.append(("invite", jid))  # the room port's invite (FakeLink.rooms)


@dataclass
class FakeMarks:
    marks: tuple[Bookmark, ...] = ()
    put_calls: list[Bookmark] = field(default_factory=list)

    async def fetch(self) -> tuple[Bookmark, ...]:
        return self.marks

    async def put(self, mark: Bookmark) -> str:
        self.put_calls.append(mark)
        return "fell back"

    async def remove(self, room: str) -> None:
        self.put_calls.append(Bookmark(room, name="REMOVED"))


@dataclass
class FakeLink:
    admin: FakeAdmin = field(default_factory=FakeAdmin)
    bookmarks: FakeMarks = field(default_factory=FakeMarks)

    @property
    def rooms(self) -> FakeAdmin:
        return self.admin


def control(created: bool = True, owner: bool = True) -> tuple[RoomAdminControl, list[Any]]:
    seen: list[Any] = []
    ctl: RoomAdminControl

    async def join(intent: JoinRoom) -> None:
        seen.append(intent)
        me = Occupant(intent.nick or "me", Role.MODERATOR,
                      Affiliation.OWNER if owner else Affiliation.MEMBER)
        asyncio.get_running_loop().call_soon(ctl.observe, RoomJoined(
            intent.account, ChatKey(intent.account, intent.room), me.nick, (me,),
            RoomFeatures(), created=created))

    ctl = RoomAdminControl(seen.append, join)
    return ctl, seen


async def test_create_configures_adds_and_invites_members() -> None:
    ctl, seen = control()
    link = FakeLink()
    await ctl.handle(CreateRoom(ME, ROOM, "boss", ("a@example.test", "bad@@")), link, None)
    assert seen[0] == JoinRoom(ME, ROOM, "boss")
    assert link.admin.calls == [("configure", ROOM),
                                ("affiliation", "a@example.test", Affiliation.MEMBER),
                                ("invite", "a@example.test")]
    texts = [e.text for e in seen if isinstance(e, ev.Notice)]
    assert any("Could not make bad@@ a member" in t for t in texts)
    assert any(t.startswith(f"Created the private room {ROOM}: members-only, persistent")
               for t in texts)
    assert any("did not offer: archived" in t for t in texts)


async def test_create_refused_for_an_existing_room_of_someone_else() -> None:
    ctl, seen = control(created=False, owner=False)
    link = FakeLink()
    await ctl.handle(CreateRoom(ME, ROOM), link, None)
    assert link.admin.calls == []
    notice = next(e for e in seen if isinstance(e, ev.Notice))
    assert notice.error and "you are not its owner" in notice.text


async def test_moderate_resolves_a_nick_to_its_real_jid() -> None:
    ctl, seen = control()
    link = FakeLink()
    chat = ChatKey(ME, ROOM)
    state = RoomState(chat, "me", True, {"eve": Occupant("eve", jid="eve@example.test"),
                                         "anon": Occupant("anon")})
    await ctl.handle(Moderate(ME, chat, ModerationAction.BAN, "eve"), link, state)
    await ctl.handle(Moderate(ME, chat, ModerationAction.KICK, "anon"), link, state)
    await ctl.handle(Moderate(ME, chat, ModerationAction.MEMBER, "anon"), link, state)
    assert link.admin.calls == [("affiliation", "eve@example.test", Affiliation.OUTCAST),
                                ("role", "anon", Role.NONE)]
    errors = [e.text for e in seen if isinstance(e, ev.Notice) and e.error]
    assert errors == [f"{ROOM}: the room does not show anon's address: give their JID."]
    link.admin.refuse = "you are not a moderator here"
    await ctl.handle(Moderate(ME, chat, ModerationAction.KICK, "anon"), link, state)
    assert seen[-1].text == f"{ROOM}: you are not a moderator here." and seen[-1].error


async def test_listing_bookmarks_and_offline() -> None:
    ctl, seen = control()
    link = FakeLink()
    chat = ChatKey(ME, ROOM)
    await ctl.handle(ListAffiliation(ME, chat, Affiliation.MEMBER), link, None)
    assert seen[-1] == RoomListing(ME, chat, "Members", ("a@b as ann", "c@d"))
    await ctl.handle(SetBookmark(ME, ROOM, nick="n"), link, None)
    assert link.bookmarks.put_calls == [Bookmark(ROOM, "", "n", True, "")]
    assert seen[-1].text == "fell back" and seen[-1].error
    await ctl.handle(SetBookmark(ME, "not a room"), link, None)
    assert "Not a usable address" in seen[-1].text
    await ctl.handle(RetractRoomMessage(ME, chat, "m1"), link, None)
    assert "cannot be retracted" in seen[-1].text
    await ctl.handle(ListAffiliation(ME, chat, Affiliation.MEMBER), None, None)
    assert "offline" in seen[-1].text


async def test_link_up_joins_autojoin_bookmarks_not_joined() -> None:
    ctl, seen = control()
    link = FakeLink(bookmarks=FakeMarks((Bookmark(ROOM, nick="n", autojoin=True),
                                         Bookmark("b@c.d", autojoin=True),
                                         Bookmark("x@c.d", autojoin=False))))
    await ctl.link_up(ME, link, joined={"b@c.d"})
    assert [e for e in seen if isinstance(e, JoinRoom)] == [
        JoinRoom(ME, ROOM, "n", "", focus=False)]
