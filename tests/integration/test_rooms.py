"""Group chats (XEP-0045) end to end against the real Prosody: two xmppterm identities
and a scripted slixmpp owner in a room on conference.example.test."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from xmppterm.devserver import Account, ProsodyServer
from xmppterm.domain import events as ev
from xmppterm.domain import intents as it
from xmppterm.domain.ids import AccountId, ChatKey
from xmppterm.domain.messages import Delivery, Direction
from xmppterm.domain.rooms import (
    ChangeNick,
    InviteToRoom,
    JoinRoom,
    LeaveRoom,
    OccupantsChanged,
    RoomInvited,
    RoomJoined,
    RoomJoinFailed,
    RoomLeft,
    RoomSubjectChanged,
)

from .identities import account_config, all_online, manager_of
from .peers import Events
from .rooms import RoomPeer, make_room, new_room

pytestmark = pytest.mark.integration
ME, BEA = AccountId("me"), AccountId("bea")


@asynccontextmanager
async def owner_of(server: ProsodyServer, acc: Account | None = None
                   ) -> AsyncIterator[RoomPeer]:
    peer = await RoomPeer(acc or server.new_account(), server.ca_file).start(server)
    try:
        yield peer
    finally:
        await peer.stop()


def bodies(events: Events, account: AccountId, room: str, body: str) -> list[Any]:
    return [e for e in events.of(ev.MessageReceived) if e.account == account
            and e.message.chat.jid == room and e.message.body == body]


async def joined(events: Events, account: AccountId, room: str, after: int = 0,
                 timeout: float = 20.0) -> RoomJoined:
    def fresh(e: RoomJoined) -> bool:
        return e.account == account and e.room.jid == room and \
            any(x is e for x in events.items[after:])
    return await events.wait(RoomJoined, fresh, timeout)


async def settle(seconds: float = 1.0) -> None:
    await asyncio.sleep(seconds)


async def test_room_conversation(prosody: ProsodyServer) -> None:
    me_acc, bea_acc = prosody.new_account(), prosody.new_account()
    accounts = [account_config(prosody, "me", me_acc), account_config(prosody, "bea", bea_acc)]
    async with owner_of(prosody) as owner, manager_of(prosody, accounts, None) as (mgr, events):
        room = await make_room(owner, new_room(prosody), non_anonymous=True)
        await all_online(events, ["me", "bea"])
        mgr.dispatch(JoinRoom(ME, room, "mimi"))
        first = await joined(events, ME, room)
        assert first.nick == "mimi" and first.features.non_anonymous
        assert {o.nick: o.jid for o in first.occupants} == {"owner": owner.boundjid.bare,
                                                           "mimi": me_acc.jid}
        opened = [e for e in events.of(ev.ChatOpened) if e.chat.jid == room]
        assert opened and all(e.room and not e.stranger for e in opened)
        mgr.dispatch(JoinRoom(BEA, room, "bea"))
        await joined(events, BEA, room)
        await events.wait(OccupantsChanged, lambda e: e.account == ME and any(
            o.nick == "bea" and o.jid == bea_acc.jid for o in e.present))

        # ours: shown once, the reflection marks it DELIVERED; theirs: once, with nick
        mgr.dispatch(it.SendMessage(ME, ChatKey(ME, room), "hello room"))
        await events.wait(ev.MessageDeliveryChanged, lambda e: e.account == ME
                          and e.delivery is Delivery.DELIVERED, timeout=15)
        got = await owner.next_groupchat(room, lambda m: m["body"] == "hello room")
        assert got["from"].resource == "mimi"
        await events.wait(ev.MessageReceived, lambda e: e.account == BEA
                          and e.message.body == "hello room")
        owner.say(room, "hi all")
        await events.wait(ev.MessageReceived, lambda e: e.account == ME
                          and e.message.body == "hi all")
        await settle()
        mine = bodies(events, ME, room, "hello room")
        assert len(mine) == 1 and mine[0].message.direction is Direction.OUTGOING
        assert mine[0].message.nick == "mimi"
        at_bea = bodies(events, BEA, room, "hello room")
        assert len(at_bea) == 1 and at_bea[0].message.sender == me_acc.jid
        assert at_bea[0].message.nick == "mimi" and not at_bea[0].stranger
        theirs = bodies(events, ME, room, "hi all")
        assert len(theirs) == 1 and theirs[0].message.sender == owner.boundjid.bare
        stored = await mgr.store.history(ChatKey(ME, room))
        assert [m.body for m in stored].count("hello room") == 1
        assert next(m for m in stored if m.body == "hello room").stanza_id  # the room's

        # nick change, topic, part
        mgr.dispatch(ChangeNick(BEA, ChatKey(BEA, room), "beatrix"))
        for who in (ME, BEA):
            await events.wait(OccupantsChanged, lambda e, w=who: e.account == w  # type: ignore[misc]
                              and ("bea", "beatrix") in e.renamed)
        assert mgr.sessions[BEA].rooms.states[room].nick == "beatrix"
        assert mgr.sessions[BEA].rooms.saved[room]["nick"] == "beatrix"
        owner.plugin["xep_0045"].set_subject(room, "today: tests")
        topic = await events.wait(RoomSubjectChanged, lambda e: e.account == ME)
        assert topic.subject == "today: tests" and topic.by == "owner"
        mgr.dispatch(LeaveRoom(BEA, ChatKey(BEA, room)))
        await events.wait(RoomLeft, lambda e: e.account == BEA and not e.removed)
        await events.wait(OccupantsChanged, lambda e: e.account == ME
                          and any(nick == "beatrix" for nick, _ in e.gone))
        assert room not in mgr.sessions[BEA].rooms.saved


async def test_forged_groupchat_is_dropped(prosody: ProsodyServer) -> None:
    me_acc = prosody.new_account()
    async with owner_of(prosody) as owner, \
            manager_of(prosody, [account_config(prosody, "me", me_acc)], None) as (mgr, events):
        room = await make_room(owner, new_room(prosody), non_anonymous=True)
        await all_online(events, ["me"])
        mgr.dispatch(JoinRoom(ME, room, "mimi"))
        await joined(events, ME, room)
        await owner.wait_until_true(lambda: any(
            p["muc"]["nick"] == "mimi" and p["muc"]["jid"].full for p in owner.room_presences))
        full = next(p["muc"]["jid"].full for p in owner.room_presences
                    if p["muc"]["nick"] == "mimi")
        forged = owner.make_message(mto=full, mbody="forged groupchat", mtype="groupchat")
        forged.send()  # from the owner's own JID, not from the room
        pm = owner.make_message(mto=f"{room}/mimi", mbody="private hello", mtype="chat")
        pm.send()  # a private message through the room
        owner.say(room, "after the forgery")
        await events.wait(ev.MessageReceived, lambda e: e.message.body == "after the forgery")
        await settle()
        shown = [e.message for e in events.of(ev.MessageReceived)]
        assert "forged groupchat" not in [m.body for m in shown]
        # the private message is in its own chat (test_room_private.py), nowhere else
        assert [m.chat for m in shown if m.body == "private hello"] == \
            [ChatKey.private(ME, room, "owner")]
        for jid in mgr.sessions[ME].open_chats:
            texts = [m.body for m in await mgr.store.history(ChatKey(ME, jid))]
            assert "forged groupchat" not in texts
            assert "private hello" not in texts or "/" in jid


async def test_join_refusals_name_the_fix(prosody: ProsodyServer) -> None:
    me_acc = prosody.new_account()
    async with owner_of(prosody) as owner, \
            manager_of(prosody, [account_config(prosody, "me", me_acc)], None) as (mgr, events):
        secret = await make_room(owner, new_room(prosody), password="s3cret")
        members = await make_room(owner, new_room(prosody), members_only=True)
        await all_online(events, ["me"])
        mgr.dispatch(JoinRoom(ME, secret, "mimi", password="wrong"))
        failed = await events.wait(RoomJoinFailed, lambda e: e.room.jid == secret)
        assert "password" in failed.reason
        mgr.dispatch(JoinRoom(ME, members, "mimi"))
        failed = await events.wait(RoomJoinFailed, lambda e: e.room.jid == members)
        assert "members-only" in failed.reason and "invit" in failed.reason
        mgr.dispatch(JoinRoom(ME, secret, "owner", password="s3cret"))
        failed = await events.wait(RoomJoinFailed, lambda e: e.room.jid == secret
                                   and "nick" in e.reason)
        assert "/join" in failed.reason
        mgr.dispatch(JoinRoom(ME, secret, "mimi", password="s3cret"))
        await joined(events, ME, secret)
        assert set(mgr.sessions[ME].rooms.saved) == {secret}


async def test_kicked_is_removed_and_not_rejoined(prosody: ProsodyServer) -> None:
    me_acc = prosody.new_account()
    async with owner_of(prosody) as owner, \
            manager_of(prosody, [account_config(prosody, "me", me_acc)], None) as (mgr, events):
        room = await make_room(owner, new_room(prosody))
        await all_online(events, ["me"])
        mgr.dispatch(JoinRoom(ME, room, "mimi"))
        await joined(events, ME, room)
        await owner.kick(room, "mimi", "spam")
        left = await events.wait(RoomLeft, lambda e: e.room.jid == room)
        assert left.removed and "kicked" in left.reason and "spam" in left.reason
        assert room not in mgr.sessions[ME].rooms.saved
        mark = len(events.items)
        mgr.dispatch(it.Disconnect(ME))
        mgr.dispatch(it.Connect(ME))
        await all_online(events, ["me"])
        await settle(2.0)
        assert not [e for e in events.items[mark:] if isinstance(e, RoomJoined)]


async def wait_until(pred: Callable[[], bool], timeout: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not pred():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.05)


@pytest.mark.slow
async def test_away_restart_and_outbox(fresh_prosody: ProsodyServer, tmp_path: Path) -> None:
    server = fresh_prosody
    me_acc, owner_acc = server.new_account(), server.new_account()
    accounts = [account_config(server, "me", me_acc)]
    chat = ChatKey(ME, "")
    async with owner_of(server, owner_acc) as owner:
        room = await make_room(owner, new_room(server), persistent=True, non_anonymous=True)
        chat = ChatKey(ME, room)
        async with manager_of(server, accounts, tmp_path / "data") as (mgr, events):
            await all_online(events, ["me"])
            mgr.dispatch(JoinRoom(ME, room, "mimi"))
            await joined(events, ME, room)
            owner.say(room, "before")
            await events.wait(ev.MessageReceived, lambda e: e.message.body == "before")

            # away: what the room says comes from its archive; what we type waits
            mgr.dispatch(it.Disconnect(ME))
            await wait_until(lambda: not mgr.sessions[ME].rooms.states[room].joined or
                             mgr.sessions[ME].online_link is None)
            await settle(0.5)
            owner.say(room, "while away 1")
            owner.say(room, "while away 2")
            mgr.dispatch(it.SendMessage(ME, chat, "typed offline"))
            pending = await events.wait(ev.MessageReceived,
                                        lambda e: e.message.body == "typed offline")
            assert pending.message.delivery is Delivery.PENDING
            mark = len(events.items)
            mgr.dispatch(it.Connect(ME))
            await joined(events, ME, room, mark)
            await events.wait(ev.MessageDeliveryChanged, lambda e: e.delivery is
                              Delivery.DELIVERED and e.message_id == pending.message.id)
            await events.wait(ev.MessageReceived, lambda e: e.message.body == "while away 2")
            got = await owner.next_groupchat(room, lambda m: m["body"] == "typed offline")
            assert got["from"].resource == "mimi"
            await settle(1.5)
            for body in ("before", "while away 1", "while away 2", "typed offline"):
                assert len(bodies(events, ME, room, body)) == 1, body

            # the server dies and comes back: rejoined by itself
            mark = len(events.items)
            server.kill()
            server.start()
            await joined(events, ME, room, mark, timeout=60)
        await owner.stop()

    # a restart of xmppterm on the same store: rejoined, history shown once
    async with owner_of(server, owner_acc) as owner2:
        await owner2.join(room, "owner")
        owner2.say(room, "after restart")
        async with manager_of(server, accounts, tmp_path / "data") as (mgr, events):
            opened = await events.wait(ev.ChatOpened, lambda e: e.chat == chat)
            assert opened.room
            await joined(events, ME, room, timeout=30)
            await events.wait(ev.MessageReceived, lambda e: e.message.body == "after restart")
            await settle(1.5)
            history = [m.body for m in await mgr.store.history(chat)]
            for body in ("before", "while away 1", "while away 2", "typed offline",
                         "after restart"):
                assert history.count(body) == 1, (body, history)
            shown = [e.message.body for e in events.of(ev.MessageReceived)]
            assert shown.count("before") == 0 and shown.count("after restart") == 1


async def test_invitations_and_foreign_corrections(prosody: ProsodyServer) -> None:
    me_acc, bea_acc = prosody.new_account(), prosody.new_account()
    accounts = [account_config(prosody, "me", me_acc), account_config(prosody, "bea", bea_acc)]
    async with owner_of(prosody) as owner, owner_of(prosody) as eve, \
            manager_of(prosody, accounts, None) as (mgr, events):
        room = await make_room(owner, new_room(prosody))
        await all_online(events, ["me", "bea"])
        owner.plugin["xep_0249"].send_invitation(bea_acc.jid, room, reason="join us")
        invited = await events.wait(RoomInvited, lambda e: e.account == BEA)
        assert (invited.room, invited.inviter, invited.reason) == (
            room, owner.boundjid.bare, "join us")
        owner.plugin["xep_0045"].invite(room, bea_acc.jid, reason="again")  # mediated
        mgr.dispatch(JoinRoom(ME, room, "mimi"))
        await joined(events, ME, room)
        mgr.dispatch(InviteToRoom(ME, ChatKey(ME, room), owner.boundjid.bare, "hi"))
        await owner.wait_until_true(lambda: any(
            m["groupchat_invite"]["jid"] == room for m in owner.invites))
        await events.wait(RoomInvited, lambda e: e.account == BEA and e.again)
        told = [e for e in events.of(RoomInvited) if e.account == BEA and not e.again]
        assert len(told) == 1  # the mediated copy only updates it (to decline through the room)
        copies = [e for e in events.of(RoomInvited) if e.account == BEA and e.again]
        assert [(e.mediated, e.inviter) for e in copies] == [(True, owner.boundjid.bare)]

        # a correction (XEP-0308) from another occupant never changes the original
        await eve.join(room, "eve")
        original = owner.say(room, "the original")
        await events.wait(ev.MessageReceived, lambda e: e.message.body == "the original")
        fake = eve.make_message(mto=room, mbody="rewritten by eve", mtype="groupchat")
        ET.SubElement(fake.xml, "{urn:xmpp:message-correct:0}replace", {"id": original})
        fake.send()
        await events.wait(ev.MessageReceived, lambda e: e.message.body == "rewritten by eve")
        history = await mgr.store.history(ChatKey(ME, room))
        first = next(m for m in history if m.body == "the original")
        assert first.nick == "owner" and [m.body for m in history].count("the original") == 1
        assert next(m for m in history if m.body == "rewritten by eve").nick == "eve"
