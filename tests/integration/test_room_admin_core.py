"""Room administration through core (SessionManager, encrypted store) against the real
Prosody: CreateRoom, Moderate, ShowRoomConfig / SetRoomConfig, and declining a mediated
invitation. The protocol side of each is in test_room_admin_protocol.py."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from slixmpp import JID

from xmppterm.devserver import ProsodyServer
from xmppterm.domain.ids import AccountId, ChatKey
from xmppterm.domain.rooms import (
    Affiliation,
    AnswerInvite,
    CreateRoom,
    JoinRoom,
    ListAffiliation,
    Moderate,
    ModerationAction,
    OccupantsChanged,
    RoomConfigShown,
    RoomFeaturesChanged,
    RoomInvited,
    RoomListing,
    SetRoomConfig,
    ShowRoomConfig,
)

from .identities import account_config, all_online
from .room_core import (
    data_dir,
    disco_features,
    joined,
    notice,
    notices_of,
    poll,
    presences_of,
    room_peer,
    sealed_manager,
    settle,
    status_codes,
)
from .rooms import RoomPeer, make_room, new_room

pytestmark = pytest.mark.integration
ME, BEA = AccountId("me"), AccountId("bea")
PRIVATE = {"muc_membersonly", "muc_nonanonymous", "muc_persistent", "muc_hidden",
           "urn:xmpp:mam:2"}
MUC_USER = "http://jabber.org/protocol/muc#user"


def invited_to(peer: RoomPeer, room: str) -> list[Any]:
    """The invitations (direct or mediated) `peer` got to `room`."""
    return [m for m in peer.invites if room in (m["groupchat_invite"]["jid"], m["from"].bare)]


async def test_create_room_is_private_with_members_invited(prosody: ProsodyServer,
                                                           tmp_path: Path) -> None:
    me_acc, bea_acc = prosody.new_account(), prosody.new_account()
    accounts = [account_config(prosody, "me", me_acc)]
    async with room_peer(prosody, bea_acc) as bea, \
            sealed_manager(accounts, data_dir(tmp_path)) as (mgr, events):
        await all_online(events, ["me"])
        room = new_room(prosody)
        chat = ChatKey(ME, room)
        mgr.dispatch(CreateRoom(ME, room, "boss", (bea_acc.jid,)))
        first = await joined(events, ME, room)
        assert first.created and first.nick == "boss"
        assert [(o.nick, o.affiliation) for o in first.occupants] == [("boss", Affiliation.OWNER)]
        done = await notice(events, ME, lambda e: e.chat == chat and "Created" in e.text)
        assert not done.error and bea_acc.jid in done.text
        for prop in ("members-only", "non-anonymous", "persistent", "not listed", "archived"):
            assert prop in done.text
        assert not [e for e in notices_of(events, ME) if e.error], "something was missing"

        features = await disco_features(bea, room)
        assert features >= PRIVATE, features
        assert not features & {"muc_public", "muc_open", "muc_semianonymous", "muc_temporary"}
        # core re-read the room after its configuration changed (status 104/172)
        await events.wait(RoomFeaturesChanged, lambda e: e.room == chat
                          and e.features.members_only and e.features.non_anonymous
                          and e.features.archived and not e.features.public)
        assert mgr.sessions[ME].rooms.states[room].features.omemo_possible

        await bea.wait_until_true(lambda: bool(invited_to(bea, room)))
        invite = invited_to(bea, room)[0]
        assert me_acc.jid in (invite["from"].bare, invite["groupchat_invite"]["jid"],
                              invite["muc"]["invite"]["from"].bare)
        own, *_ = await bea.join(room, "bea")  # a member may enter the members-only room
        assert own["muc"]["affiliation"] == "member"
        mgr.dispatch(ListAffiliation(ME, chat, Affiliation.MEMBER))
        listing = await events.wait(RoomListing, lambda e: e.room == chat)
        assert listing.lines == (bea_acc.jid,)
        assert set(mgr.sessions[ME].rooms.saved) == {room}


async def test_create_room_that_exists_and_is_not_ours(prosody: ProsodyServer,
                                                       tmp_path: Path) -> None:
    me_acc, stranger = prosody.new_account(), prosody.new_account()
    async with room_peer(prosody) as owner, \
            sealed_manager([account_config(prosody, "me", me_acc)], data_dir(tmp_path)) \
            as (mgr, events):
        room = await make_room(owner, new_room(prosody), non_anonymous=False, archived=False)
        before = await disco_features(owner, room)
        await all_online(events, ["me"])
        chat = ChatKey(ME, room)
        mgr.dispatch(CreateRoom(ME, room, "mimi", (stranger.jid,)))
        refused = await notice(events, ME, lambda e: e.chat == chat and e.error)
        assert "already exists and you are not its owner" in refused.text
        await settle(0.5)
        assert not [e for e in notices_of(events, ME) if "Created" in e.text
                    or "Configured" in e.text]
        assert await disco_features(owner, room) == before  # nothing changed
        assert "muc_open" in before and "muc_semianonymous" in before
        members = await owner.plugin["xep_0045"].get_affiliation_list(room, "member",
                                                                      timeout=10)
        assert members == []


async def test_moderation_through_core(prosody: ProsodyServer, tmp_path: Path) -> None:
    me_acc, bea_acc = prosody.new_account(), prosody.new_account()
    alice_acc, bob_acc = prosody.new_account(), prosody.new_account()
    accounts = [account_config(prosody, "me", me_acc), account_config(prosody, "bea", bea_acc)]
    async with room_peer(prosody, alice_acc) as alice, room_peer(prosody, bob_acc) as bob, \
            sealed_manager(accounts, data_dir(tmp_path)) as (mgr, events):
        await all_online(events, ["me", "bea"])
        room = new_room(prosody)
        chat, at_bea = ChatKey(ME, room), ChatKey(BEA, room)
        mgr.dispatch(CreateRoom(ME, room, "boss", (bea_acc.jid, alice_acc.jid, bob_acc.jid)))
        await notice(events, ME, lambda e: e.chat == chat and "Created" in e.text)
        mgr.dispatch(JoinRoom(BEA, room, "bea"))
        await joined(events, BEA, room)
        await alice.join(room, "alice")
        await bob.join(room, "bob")
        for who in (ME, BEA):  # both see alice (with her real JID) and bob
            for nick in ("alice", "bob"):
                await events.wait(OccupantsChanged, lambda e, w=who, n=nick: (  # type: ignore[misc]
                    e.account == w and any(o.nick == n and o.jid for o in e.present)))

        # a member (participant) may not moderate: a clear notice, nothing happens
        mgr.dispatch(Moderate(BEA, at_bea, ModerationAction.KICK, "bob", "bye"))
        refused = await notice(events, BEA, lambda e: e.chat == at_bea and e.error)
        assert "not a moderator" in refused.text
        mgr.dispatch(Moderate(BEA, at_bea, ModerationAction.BAN, "alice"))
        refused = await notice(events, BEA, lambda e: e.chat == at_bea and e.error
                               and "admin or owner" in e.text)
        assert "you may not do that" in refused.text
        mgr.dispatch(Moderate(ME, chat, ModerationAction.BAN, "ghost"))
        ghost = await notice(events, ME, lambda e: e.chat == chat and e.error)
        assert "nobody here is called ghost" in ghost.text
        assert not presences_of(bob, room, "bob", "unavailable")
        assert not presences_of(alice, room, "alice", "unavailable")

        # kick by nick
        mgr.dispatch(Moderate(ME, chat, ModerationAction.KICK, "bob", "cool off"))
        await bob.wait_until_true(lambda: bool(presences_of(bob, room, "bob", "unavailable")))
        kicked = presences_of(bob, room, "bob", "unavailable")[0]
        assert "307" in status_codes(kicked.xml)
        assert (await notice(events, ME, lambda e: e.text == "bob kicked.")).chat == chat
        gone = await events.wait(OccupantsChanged, lambda e: e.account == ME
                                 and any(n == "bob" for n, _ in e.gone))
        assert "kicked" in dict(gone.gone)["bob"]

        # ban by nick: the affiliation goes to the nick's real JID
        mgr.dispatch(Moderate(ME, chat, ModerationAction.BAN, "alice", "spam"))
        await alice.wait_until_true(
            lambda: bool(presences_of(alice, room, "alice", "unavailable")))
        assert "301" in status_codes(presences_of(alice, room, "alice", "unavailable")[0].xml)
        banned = await notice(events, ME, lambda e: "banned" in e.text)
        assert banned.text == f"alice ({alice_acc.jid}) banned." and not banned.error
        mgr.dispatch(ListAffiliation(ME, chat, Affiliation.OUTCAST))
        listing = await events.wait(RoomListing, lambda e: e.room == chat)
        assert listing.lines == (alice_acc.jid,)
        assert room in mgr.sessions[BEA].rooms.saved  # the refusals left bea in the room


async def test_room_config_shown_and_changed(prosody: ProsodyServer, tmp_path: Path) -> None:
    me_acc, bea_acc = prosody.new_account(), prosody.new_account()
    accounts = [account_config(prosody, "me", me_acc), account_config(prosody, "bea", bea_acc)]
    async with sealed_manager(accounts, data_dir(tmp_path)) as (mgr, events):
        await all_online(events, ["me", "bea"])
        room = new_room(prosody)
        chat = ChatKey(ME, room)
        mgr.dispatch(CreateRoom(ME, room, "boss", (bea_acc.jid,)))
        await notice(events, ME, lambda e: e.chat == chat and "Created" in e.text)

        mgr.dispatch(ShowRoomConfig(ME, chat))
        shown = await events.wait(RoomConfigShown, lambda e: e.room == chat)
        values = {var: value for var, _label, _kind, value in shown.fields}
        assert values["muc#roomconfig_membersonly"] == "1"
        assert values["muc#roomconfig_whois"] == "anyone"
        assert values["muc#roomconfig_persistentroom"] == "1"
        assert values["muc#roomconfig_publicroom"] == "0"

        mgr.dispatch(SetRoomConfig(ME, chat, (("muc#roomconfig_roomname", "Plans [b]"),)))
        changed = await notice(events, ME, lambda e: e.chat == chat and "settings" in e.text)
        assert changed.text == "Room settings changed: muc#roomconfig_roomname." \
            and not changed.error
        mark = len(events.items)
        mgr.dispatch(ShowRoomConfig(ME, chat))
        again = await events.wait(RoomConfigShown, lambda e: any(x is e for x in
                                                                 events.items[mark:]))
        values = {var: value for var, _label, _kind, value in again.fields}
        assert values["muc#roomconfig_roomname"] == "Plans [b]"
        assert values["muc#roomconfig_membersonly"] == "1"  # untouched
        await events.wait(RoomFeaturesChanged, lambda e: e.room == chat
                          and e.features.name == "Plans [b]")

        # a field the form lacks: refused before anything is sent, naming it
        mgr.dispatch(SetRoomConfig(ME, chat, (("muc#roomconfig_nonsense", "1"),)))
        bad = await notice(events, ME, lambda e: e.chat == chat and e.error)
        assert "no setting 'muc#roomconfig_nonsense'" in bad.text
        # a member who is not an owner may not read the form
        mgr.dispatch(JoinRoom(BEA, room, "bea"))
        await joined(events, BEA, room)
        mgr.dispatch(ShowRoomConfig(BEA, ChatKey(BEA, room)))
        refused = await notice(events, BEA, lambda e: e.chat == ChatKey(BEA, room) and e.error)
        assert "you are not an owner here" in refused.text
        assert not [e for e in events.of(RoomConfigShown) if e.account == BEA]


def declines(got: list[Any], room: str) -> list[ET.Element]:
    """The mediated declines (XEP-0045 §7.8.2) among messages `got` through `room`."""
    return [decline for msg in got if msg["from"].bare == room
            for decline in msg.xml.findall(f"{{{MUC_USER}}}x/{{{MUC_USER}}}decline")]


async def test_decline_mediated_through_the_room_direct_forgotten(
        prosody: ProsodyServer, tmp_path: Path) -> None:
    me_acc = prosody.new_account()
    async with room_peer(prosody) as owner, \
            sealed_manager([account_config(prosody, "me", me_acc)], data_dir(tmp_path)) \
            as (mgr, events):
        mediated_room = await make_room(owner, new_room(prosody))
        direct_room = await make_room(owner, new_room(prosody))
        got: list[Any] = []
        owner.add_event_handler("message", got.append)
        await all_online(events, ["me"])
        owner.plugin["xep_0045"].invite(mediated_room, me_acc.jid, reason="come")
        invited = await events.wait(RoomInvited, lambda e: e.room == mediated_room)
        assert invited.mediated and invited.inviter == owner.boundjid.bare
        mgr.dispatch(AnswerInvite(ME, mediated_room, False, inviter=invited.inviter,
                                  mediated=True))
        await poll(lambda: bool(declines(got, mediated_room)))
        decline = declines(got, mediated_room)[0]
        assert decline.get("from", "").partition("/")[0] == me_acc.jid
        told = await notice(events, ME, lambda e: "Declined" in e.text)
        assert mediated_room in told.text and not told.error

        owner.plugin["xep_0249"].send_invitation(JID(me_acc.jid), JID(direct_room),
                                                 reason="or here")
        direct = await events.wait(RoomInvited, lambda e: e.room == direct_room)
        assert not direct.mediated and direct.inviter == owner.boundjid.bare
        mgr.dispatch(AnswerInvite(ME, direct_room, False, inviter=direct.inviter))
        await settle(1.0)  # XEP-0249 has no decline: nothing reaches the room or inviter
        assert not declines(got, direct_room)
        assert len(declines(got, mediated_room)) == 1
        assert not mgr.sessions[ME].rooms.is_room(direct_room)
        assert not mgr.sessions[ME].rooms.is_room(mediated_room)
