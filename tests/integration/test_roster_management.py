"""Roster management, subscription requests, blocking and presence, through the
SessionManager against the real Prosody, with scripted peers checking their side."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest
from slixmpp.exceptions import IqError

from xmppterm.devserver import Account, ProsodyServer
from xmppterm.domain import events as ev
from xmppterm.domain import intents as it
from xmppterm.domain.ids import AccountId, ChatKey
from xmppterm.domain.roster import Show

from .identities import RecordingPeer, account_config, all_online, give_roster, manager_of

pytestmark = pytest.mark.integration
ME = AccountId("me")
QUIET = 1.0  # seconds in which something must NOT happen


def item_is(jid: str, **want: object) -> Callable[[ev.RosterItemChanged], bool]:
    def check(e: ev.RosterItemChanged) -> bool:
        return e.item.jid == jid and all(getattr(e.item, k) == v for k, v in want.items())
    return check


async def test_add_rename_remove_a_contact(prosody: ProsodyServer,
                                           account_factory: Callable[..., Account]) -> None:
    me, bob = account_factory(), account_factory("other.test")
    peer = await RecordingPeer(bob, prosody.ca_file).start(prosody)
    try:
        async with manager_of(prosody, [account_config(prosody, "me", me)], None) as (m, events):
            await all_online(events, ["me"])
            m.dispatch(it.AddContact(ME, bob.jid, "Bob"))
            await events.wait(ev.RosterItemChanged, item_is(bob.jid, name="Bob"))
            await peer.wait_for(lambda: peer.got("subscribe", me.jid))
            peer.send_presence(pto=me.jid, ptype="subscribed")  # the peer approves
            peer.send_presence(pto=me.jid, ptype="subscribe")  # and asks back: pre-approved
            await events.wait(ev.RosterItemChanged, item_is(bob.jid, subscription="both"))
            assert not events.of(ev.SubscriptionRequested)  # pre-approved: nobody asked
            await events.wait(ev.Notice, lambda e: e.text.startswith(f"{bob.jid} accepted"))
            await peer.wait_for(lambda: peer.got("available", me.jid))
            assert m.sessions[ME].roster[bob.jid].subscription == "both"

            m.dispatch(it.RenameContact(ME, bob.jid, "Robert [b]"))
            await events.wait(ev.RosterItemChanged, item_is(bob.jid, name="Robert [b]"))
            stored = {i.jid: i for i in await m.store.load_roster(ME)}
            assert stored[bob.jid].name == "Robert [b]"

            m.dispatch(it.RemoveContact(ME, bob.jid))
            await events.wait(ev.RosterItemChanged, lambda e: e.removed and e.item.jid == bob.jid)
            assert bob.jid not in m.sessions[ME].roster
            await peer.wait_for(lambda: peer.got("unsubscribed", me.jid))
            peers_view = peer.client_roster[me.jid]["subscription"]
            assert peers_view == "none"
    finally:
        await peer.stop()


async def test_a_refused_request_is_told(prosody: ProsodyServer,
                                         account_factory: Callable[..., Account]) -> None:
    me, bob = account_factory(), account_factory("other.test")
    peer = await RecordingPeer(bob, prosody.ca_file).start(prosody)
    try:
        async with manager_of(prosody, [account_config(prosody, "me", me)], None) as (m, events):
            await all_online(events, ["me"])
            m.dispatch(it.AddContact(ME, bob.jid))
            await events.wait(ev.RosterItemChanged, item_is(bob.jid, asked=True))
            await peer.wait_for(lambda: peer.got("subscribe", me.jid))
            peer.send_presence(pto=me.jid, ptype="unsubscribed")  # the peer refuses
            await events.wait(ev.Notice, lambda e: e.text.startswith(f"{bob.jid} refused"))
            assert m.sessions[ME].roster[bob.jid].subscription in ("none", "from")
            assert not any("accepted" in n.text for n in events.of(ev.Notice))
    finally:
        await peer.stop()


async def test_a_strangers_request_waits_and_reveals_nothing(
        prosody: ProsodyServer, account_factory: Callable[..., Account]) -> None:
    me, eve, mallory = account_factory(), account_factory(), account_factory("other.test")
    friend = await RecordingPeer(eve, prosody.ca_file).start(prosody)
    foe = await RecordingPeer(mallory, prosody.ca_file).start(prosody)
    try:
        async with manager_of(prosody, [account_config(prosody, "me", me)], None) as (m, events):
            await all_online(events, ["me"])
            friend.send_presence(pto=me.jid, ptype="subscribe", pstatus="hi, it's eve \x9b")
            foe.send_presence(pto=me.jid, ptype="subscribe")
            asked = await events.wait(ev.SubscriptionRequested, lambda e: e.jid == eve.jid)
            assert asked.text == "hi, it's eve \x9b"
            await events.wait(ev.SubscriptionRequested, lambda e: e.jid == mallory.jid)
            await asyncio.sleep(QUIET)
            for peer in (friend, foe):  # nothing shared before an answer
                assert not peer.got("available", me.jid) and not peer.got("subscribed", me.jid)

            m.dispatch(it.AnswerSubscription(ME, eve.jid, approve=True))
            await events.wait(ev.SubscriptionAnswered, lambda e: e.jid == eve.jid and e.approved)
            await friend.wait_for(lambda: friend.got("subscribed", me.jid))
            await friend.wait_for(lambda: friend.got("available", me.jid))
            await events.wait(ev.RosterItemChanged, item_is(eve.jid, subscription="from"))

            m.dispatch(it.AnswerSubscription(ME, mallory.jid, approve=False))
            await foe.wait_for(lambda: foe.got("unsubscribed", me.jid))
            await asyncio.sleep(QUIET)
            assert not foe.got("available", me.jid)
            assert foe.client_roster[me.jid]["subscription"] == "none"
    finally:
        await friend.stop()
        await foe.stop()


async def test_block_unblock_and_the_block_list(prosody: ProsodyServer,
                                               account_factory: Callable[..., Account]) -> None:
    me, bob = account_factory(), account_factory()
    peer = await RecordingPeer(bob, prosody.ca_file).start(prosody)
    try:
        async with manager_of(prosody, [account_config(prosody, "me", me)], None) as (m, events):
            await all_online(events, ["me"])
            await events.wait(ev.BlockListReceived, lambda e: not e.requested)  # at login

            def said(body: str) -> Callable[[ev.MessageReceived], bool]:
                return lambda e: e.message.body == body

            m.dispatch(it.Block(ME, bob.jid))
            await events.wait(ev.BlockListChanged, lambda e: e.blocked and e.jids == (bob.jid,))
            peer.send_message(mto=me.jid, mbody="can you hear me?", mtype="chat")
            await asyncio.sleep(QUIET)
            assert not [e for e in events.of(ev.MessageReceived) if said("can you hear me?")(e)]

            m.dispatch(it.ListBlocked(ME))
            listed = await events.wait(ev.BlockListReceived, lambda e: e.requested)
            assert listed.jids == (bob.jid,)

            m.dispatch(it.Unblock(ME, bob.jid))
            await events.wait(ev.BlockListChanged, lambda e: not e.blocked)
            peer.send_message(mto=me.jid, mbody="and now?", mtype="chat")
            got = await events.wait(ev.MessageReceived, said("and now?"))
            assert got.message.chat == ChatKey(ME, bob.jid)
            m.dispatch(it.ListBlocked(ME))
            await events.wait(ev.BlockListReceived, lambda e: e.requested and not e.jids)
    finally:
        await peer.stop()


async def forged_push(peer: RecordingPeer, to: str, payload: ET.Element, kind: str = "set") -> str:
    """Send an iq set (or get) from `peer` to `to`; the error condition it got back."""
    iq = peer.make_iq_set(payload, ito=to)
    iq["type"] = kind
    with pytest.raises(IqError) as refused:
        await iq.send(timeout=5)
    return str(refused.value.iq["error"]["condition"])


async def test_roster_and_block_pushes_from_another_account_change_nothing(
        prosody: ProsodyServer, account_factory: Callable[..., Account], tmp_path: Path) -> None:
    me, mallory, carol = account_factory(), account_factory(), account_factory()
    give_roster(prosody, me, mallory, carol)
    give_roster(prosody, mallory, me)
    peer = await RecordingPeer(mallory, prosody.ca_file).start(prosody)
    try:
        async with manager_of(prosody, [account_config(prosody, "me", me)], tmp_path) as (m,
                                                                                          events):
            await all_online(events, ["me"])
            await peer.wait_for(lambda: peer.got("available", me.jid))
            full = peer.full_jid_of(me.jid)
            roster = ET.Element("{jabber:iq:roster}query")
            ET.SubElement(roster, "{jabber:iq:roster}item",
                          {"jid": carol.jid, "subscription": "remove"})
            ET.SubElement(roster, "{jabber:iq:roster}item",
                          {"jid": "evil@other.test", "name": "Your bank"})
            assert await forged_push(peer, full, roster) == "service-unavailable"
            block = ET.Element("{urn:xmpp:blocking}unblock")
            assert await forged_push(peer, full, block) == "service-unavailable"
            query = ET.Element("{jabber:iq:roster}query")
            assert await forged_push(peer, full, query, "get") == "service-unavailable"
            await asyncio.sleep(QUIET)
            assert not events.of(ev.RosterItemChanged) and not events.of(ev.BlockListChanged)
            assert set(m.sessions[ME].roster) == {mallory.jid, carol.jid}
            assert {i.jid for i in await m.store.load_roster(ME)} == {mallory.jid, carol.jid}
    finally:
        await peer.stop()


async def test_presence_per_identity_and_kept_for_the_next_login(
        prosody: ProsodyServer, account_factory: Callable[..., Account]) -> None:
    me, bob = account_factory(), account_factory()
    give_roster(prosody, me, bob)
    give_roster(prosody, bob, me)
    peer = await RecordingPeer(bob, prosody.ca_file).start(prosody)
    try:
        async with manager_of(prosody, [account_config(prosody, "me", me)], None) as (m, events):
            await all_online(events, ["me"])
            m.dispatch(it.SetPresence(ME, Show.AWAY, "lunch"))
            await peer.wait_for(lambda: peer.got("away", me.jid))
            m.dispatch(it.Disconnect(ME))
            await peer.wait_for(lambda: peer.got("unavailable", me.jid))
            peer.presences.clear()
            m.dispatch(it.Connect(ME))
            await peer.wait_for(lambda: peer.got("away", me.jid))
            assert not peer.got("available", me.jid)  # the chosen presence came first
    finally:
        await peer.stop()
