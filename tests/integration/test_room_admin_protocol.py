"""Room administration, bookmarks and self-ping at the protocol layer (RoomAdmin,
Bookmarks, SelfPing on a ProtocolLink) against the real Prosody, with scripted peers."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest

from xmppterm.config import AccountConfig
from xmppterm.devserver import Account, ProsodyServer
from xmppterm.devserver.prosody import TEST_MODULE_DIR
from xmppterm.domain.ids import AccountId, ChatKey
from xmppterm.domain.rooms import Affiliation, Bookmark, BookmarksReceived, Role, RoomMembershipLost
from xmppterm.protocol.link import ProtocolLink
from xmppterm.protocol.muc.admin import AdminRefused, RoomAdmin
from xmppterm.protocol.muc.bookmarks import NODE, PUBSUB, Storage, publish_options
from xmppterm.protocol.muc.selfping import Outcome

from .muc_admin_helpers import PresenceLog, codes, error_condition, forget_occupant, item_of, join, new_room
from .peers import Events, Peer

pytestmark = pytest.mark.integration
ME = AccountId("me")
PRIVATE_FEATURES = {"muc_membersonly", "muc_nonanonymous", "muc_persistent", "muc_hidden",
                    "urn:xmpp:mam:2"}


def config(server: ProsodyServer, acc: Account) -> AccountConfig:
    return AccountConfig(id=ME, jid=acc.jid, host="127.0.0.1", port=server.c2s_port,
                         ca_file=server.ca_file)


@dataclass
class Owner:
    link: ProtocolLink
    events: Events
    log: PresenceLog
    acc: Account


async def open_owner(server: ProsodyServer, acc: Account) -> Owner:
    events = Events()
    link = ProtocolLink(config(server, acc), acc.password, events)
    log = PresenceLog(link._client)
    await link.connect()
    assert link.online, events.items
    return Owner(link, events, log, acc)


async def peer_of(server: ProsodyServer, acc: Account, resource: str = "peer"
                  ) -> tuple[Peer, PresenceLog]:
    peer = Peer(acc, server.ca_file, resource)
    log = PresenceLog(peer)
    await peer.start(server)
    return peer, log


@pytest.fixture
async def owner(prosody: ProsodyServer, account_factory: Callable[..., Account]
                ) -> AsyncIterator[Owner]:
    o = await open_owner(prosody, account_factory())
    yield o
    await o.link.disconnect()


async def private_room(server: ProsodyServer, o: Owner) -> str:
    room = new_room(server)
    got = await join(o.link._client, o.log, room, "boss")
    assert "201" in codes(got), ET.tostring(got)
    done = await o.link.admin.configure_private(room)
    assert set(done.set) == {"members-only", "non-anonymous", "persistent", "not listed",
                             "archived"} and done.missing == ()
    return room


async def test_private_room_is_private_and_members_only(
        prosody: ProsodyServer, account_factory: Callable[..., Account], owner: Owner) -> None:
    room = await private_room(prosody, owner)
    features = await owner.link.admin.features(room)
    assert features >= PRIVATE_FEATURES and "muc_public" not in features
    assert "muc_semianonymous" not in features
    member, stranger = account_factory(), account_factory()
    await owner.link.admin.set_affiliation(room, member.jid, Affiliation.MEMBER)
    members = await owner.link.admin.affiliations(room, Affiliation.MEMBER)
    assert [m.jid for m in members] == [member.jid]
    (sp, slog), (mp, mlog) = await peer_of(prosody, stranger), await peer_of(prosody, member)
    try:
        refused = await join(sp, slog, room, "nosy")
        assert refused.get("type") == "error"
        assert error_condition(refused) == "registration-required"
        joined = await join(mp, mlog, room, "friend")
        assert "110" in codes(joined) and item_of(joined)["affiliation"] == "member"
        # non-anonymous: the member sees the owner's real JID
        boss = await mlog.wait(lambda x: x.get("from") == f"{room}/boss")
        assert item_of(boss)["jid"].split("/")[0] == owner.acc.jid
    finally:
        await sp.stop()
        await mp.stop()


async def test_an_existing_room_configured_only_by_its_owner(
        prosody: ProsodyServer, account_factory: Callable[..., Account], owner: Owner) -> None:
    room = await private_room(prosody, owner)
    member = account_factory()
    await owner.link.admin.set_affiliation(room, member.jid, Affiliation.MEMBER)
    mp, mlog = await peer_of(prosody, member)
    try:
        await join(mp, mlog, room, "friend")
        with pytest.raises(AdminRefused, match="you are not an owner here"):
            await RoomAdmin(mp).configure_private(room)
        # the owner may run it again on the existing room (nothing breaks)
        again = await owner.link.admin.configure_private(room)
        assert again.missing == ()
    finally:
        await mp.stop()


async def test_moderation_by_a_moderator_refused_for_a_participant(
        prosody: ProsodyServer, account_factory: Callable[..., Account], owner: Owner) -> None:
    room = new_room(prosody)
    await join(owner.link._client, owner.log, room, "mod")
    await owner.link.admin.configure_private(room)
    alice, bob = account_factory(), account_factory()
    for acc in (alice, bob):
        await owner.link.admin.set_affiliation(room, acc.jid, Affiliation.MEMBER)
    (ap, alog), (bp, blog) = await peer_of(prosody, alice), await peer_of(prosody, bob)
    try:
        await join(ap, alog, room, "alice")
        await join(bp, blog, room, "bob")
        with pytest.raises(AdminRefused, match="not a moderator here"):
            await RoomAdmin(ap).set_role(room, "bob", Role.NONE, "go away")
        with pytest.raises(AdminRefused, match="not an admin or owner here"):
            await RoomAdmin(ap).set_affiliation(room, bob.jid, Affiliation.OUTCAST)
        admin = owner.link.admin
        await admin.set_role(room, "bob", Role.VISITOR)
        await blog.wait(lambda x: x.get("from") == f"{room}/bob"
                        and item_of(x).get("role") == "visitor")
        await admin.set_role(room, "bob", Role.PARTICIPANT)
        await blog.wait(lambda x: x.get("from") == f"{room}/bob"
                        and item_of(x).get("role") == "participant")
        await admin.set_role(room, "bob", Role.NONE, "cool off")
        kicked = await blog.wait(lambda x: x.get("type") == "unavailable" and "307" in codes(x))
        assert kicked.get("from") == f"{room}/bob"
        await admin.set_affiliation(room, alice.jid, Affiliation.OUTCAST, "spam")
        banned = await alog.wait(lambda x: x.get("type") == "unavailable" and "301" in codes(x))
        assert banned.get("from") == f"{room}/alice"
        outcasts = await admin.affiliations(room, Affiliation.OUTCAST)
        assert [o.jid for o in outcasts] == [alice.jid]  # (Prosody keeps no reason)
        again = await join(ap, alog, room, "alice2")
        assert again.get("type") == "error"  # banned (Prosody names members-only first)
        with pytest.raises(AdminRefused, match="does not support retraction"):
            await admin.retract(room, "some-stanza-id")  # Prosody 0.12 has no XEP-0425
    finally:
        await ap.stop()
        await bp.stop()


async def test_config_shown_and_changed_validated_against_the_form(owner: Owner,
                                                                  prosody: ProsodyServer) -> None:
    room = await private_room(prosody, owner)
    admin = owner.link.admin
    shown = {var: (label, kind, value) for var, label, kind, value in
             await admin.show_config(room)}
    assert shown["muc#roomconfig_membersonly"][1:] == ("boolean", "1")
    assert shown["muc#roomconfig_whois"][2] == "anyone"
    await admin.set_config(room, [("muc#roomconfig_roomname", "Plans [b]"),
                                  ("muc#roomconfig_moderatedroom", "true")])
    values = {var: value for var, _, _, value in await admin.show_config(room)}
    assert values["muc#roomconfig_roomname"] == "Plans [b]"
    assert values["muc#roomconfig_moderatedroom"] == "1"
    assert values["muc#roomconfig_membersonly"] == "1"  # untouched fields keep their values
    with pytest.raises(AdminRefused, match="no setting 'muc#roomconfig_nonsense'"):
        await admin.set_config(room, [("muc#roomconfig_nonsense", "1")])
    with pytest.raises(AdminRefused, match="takes 1 or 0"):
        await admin.set_config(room, [("muc#roomconfig_persistentroom", "maybe")])
    with pytest.raises(AdminRefused, match="takes one of"):
        await admin.set_config(room, [("muc#roomconfig_whois", "everyone!")])


# -- bookmarks ---------------------------------------------------------------------------
async def test_bookmarks_pep_round_trip_and_pushes(
        prosody: ProsodyServer, account_factory: Callable[..., Account]) -> None:
    acc = account_factory()
    first, second = await open_owner(prosody, acc), await open_owner(prosody, acc)
    try:
        assert await first.link.bookmarks.fetch() == ()
        assert first.link.bookmarks.storage is Storage.PEP  # Prosody's mod_bookmarks: #compat
        await second.link.bookmarks.fetch()
        room = f"plans@{prosody.conference_domain}"
        mark = Bookmark(room, name="Plans", nick="me", autojoin=True, password="pw")
        assert await first.link.bookmarks.put(mark) == ""
        pushed = await second.events.wait(BookmarksReceived, lambda e: mark in e.bookmarks)
        assert pushed.bookmarks == (mark,) and pushed.account == ME
        third = await open_owner(prosody, acc)
        try:
            assert await third.link.bookmarks.fetch() == (mark,)
        finally:
            await third.link.disconnect()
        await first.link.bookmarks.remove(room)
        await second.events.wait(BookmarksReceived, lambda e: e.bookmarks == ())
        assert await first.link.bookmarks.fetch() == ()
        # the node is private: whitelist access
        options = await node_access_model(first)
        assert options == "whitelist"
    finally:
        await first.link.disconnect()
        await second.link.disconnect()


async def node_access_model(o: Owner) -> str:
    client = o.link._client
    await o.link.bookmarks.put(Bookmark(f"x@{o.acc.jid.split('@')[1]}"))
    iq = client.make_iq_get(ito=o.acc.jid)
    pubsub = ET.SubElement(iq.xml, "{http://jabber.org/protocol/pubsub#owner}pubsub")
    ET.SubElement(pubsub, "{http://jabber.org/protocol/pubsub#owner}configure", {"node": NODE})
    reply = await iq.send(timeout=10)
    for field in reply.xml.iter("{jabber:x:data}field"):
        if field.get("var") == "pubsub#access_model":
            return field.findtext("{jabber:x:data}value") or ""
    return ""


async def test_hostile_bookmarks_skipped_and_pushes_from_others_ignored(
        prosody: ProsodyServer, account_factory: Callable[..., Account]) -> None:
    acc, stranger = account_factory(), account_factory()
    o = await open_owner(prosody, acc)
    sp, _ = await peer_of(prosody, stranger)
    try:
        await o.link.bookmarks.fetch()
        good = f"good@{prosody.conference_domain}"
        client = o.link._client
        for item_id, inner in [
            (good, "<nick>n</nick><junk><a><b><c>deep</c></b></a></junk>"),
            ("not a jid@@", ""), (f"{prosody.conference_domain}", ""),  # no local part
            (f"room@{prosody.conference_domain}/res", ""), ("x" * 3000 + "@h", "")]:
            iq = client.make_iq_set(ito=acc.jid)
            iq.xml.append(ET.fromstring(  # noqa: S314 (test literals)
                f"<pubsub xmlns='{PUBSUB}'><publish node='{NODE}'><item id='{item_id}'>"
                f"<conference xmlns='{NODE}' name='{'N' * 5000}' autojoin='1'>{inner}"
                "</conference></item></publish></pubsub>"))
            iq.xml[0].append(publish_options())  # max_items=max: keep every item
            await iq.send(timeout=10)
        marks = await o.link.bookmarks.fetch()
        assert [m.room for m in marks] == [good]
        assert marks[0].nick == "n" and marks[0].autojoin and len(marks[0].name) == 1024
        before = len(o.events.of(BookmarksReceived))
        forged = sp.make_message(mto=str(client.boundjid), mtype="headline")
        forged.xml.append(ET.fromstring(  # noqa: S314 (test literals)
            f"<event xmlns='http://jabber.org/protocol/pubsub#event'><items node='{NODE}'>"
            f"<item id='evil@{prosody.conference_domain}'><conference xmlns='{NODE}' "
            "autojoin='true'/></item></items></event>"))
        forged.send()
        await asyncio.sleep(1.0)  # nothing may change
        assert len(o.events.of(BookmarksReceived)) == before
        assert set(o.link.bookmarks.items) == {good}
    finally:
        await o.link.disconnect()
        await sp.stop()


async def test_bookmarks_fall_back_to_private_storage_without_compat(
        prosody_factory: Callable[..., ProsodyServer]) -> None:
    server = prosody_factory(start=False)
    server.modules.remove("bookmarks")
    server.start()
    acc = server.new_account()
    o = await open_owner(server, acc)
    try:
        client = o.link._client
        url = ET.fromstring(  # noqa: S314 (test literals)
            "<query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'>"
            "<url name='site' url='https://example.org/'/></storage></query>")
        iq = client.make_iq_set()
        iq.xml.append(url)
        await iq.send(timeout=10)
        assert await o.link.bookmarks.fetch() == ()
        assert o.link.bookmarks.storage is Storage.PRIVATE
        mark = Bookmark(f"old@{server.conference_domain}", name="Old", nick="n", autojoin=True)
        assert await o.link.bookmarks.put(mark) == ""
        other = await open_owner(server, acc)
        try:
            assert await other.link.bookmarks.fetch() == (mark,)
            stored = await private_storage(other)
            assert stored.find("{storage:bookmarks}url") is not None  # kept as it was
            await other.link.bookmarks.remove(mark.room)
            assert await o.link.bookmarks.fetch() == ()
        finally:
            await other.link.disconnect()
    finally:
        await o.link.disconnect()


async def private_storage(o: Owner) -> ET.Element:
    iq = o.link._client.make_iq_get()
    iq.xml.append(ET.fromstring("<query xmlns='jabber:iq:private'>"  # noqa: S314 (test literals)
                                "<storage xmlns='storage:bookmarks'/></query>"))
    reply = await iq.send(timeout=10)
    found = reply.xml.find("{jabber:iq:private}query/{storage:bookmarks}storage")
    assert found is not None
    return found


async def test_refused_publish_options_fall_back_and_say_so(
        prosody_factory: Callable[..., ProsodyServer]) -> None:
    server = prosody_factory(start=False)
    server.plugin_paths.append(TEST_MODULE_DIR)
    server.modules.append("xt_refuse_publish_options")
    server.start()
    o = await open_owner(server, server.new_account())
    try:
        await o.link.bookmarks.fetch()
        assert o.link.bookmarks.storage is Storage.PEP
        mark = Bookmark(f"r@{server.conference_domain}", nick="n", autojoin=True)
        note = await o.link.bookmarks.put(mark)
        assert "XEP-0048" in note and o.link.bookmarks.storage is Storage.PRIVATE
        stored = await private_storage(o)
        assert [c.get("jid") for c in stored] == [mark.room]
    finally:
        await o.link.disconnect()


# -- self-ping ----------------------------------------------------------------------------
async def test_self_ping_detects_a_silent_drop(prosody: ProsodyServer, owner: Owner) -> None:
    room = new_room(prosody)
    ping = owner.link.selfping
    ping.interval = 0.5
    await join(owner.link._client, owner.log, room, "me")
    await owner.link.admin.configure_private(room)
    assert ping.watched == {room: "me"}
    assert await ping.ping(room, "me") is Outcome.JOINED
    await asyncio.sleep(1.5)  # pings answered: still joined, nothing reported
    assert not owner.events.of(RoomMembershipLost)
    forget_occupant(prosody, room, "me")
    lost = await owner.events.wait(RoomMembershipLost, timeout=10)
    assert lost.room == ChatKey(ME, room) and lost.account == ME
    assert ping.watched == {}
    assert await ping.ping(f"gone-{room}", "me") is Outcome.GONE  # no such room
    # rejoining watches the room again
    await join(owner.link._client, owner.log, room, "me")
    assert ping.watched == {room: "me"}
