"""Private messages through a room (XEP-0045 §7.5) end to end, through core
(SessionManager) against the real Prosody, with scripted slixmpp occupants."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from xmppterm.devserver import ProsodyServer
from xmppterm.domain import events as ev
from xmppterm.domain import intents as it
from xmppterm.domain.ids import AccountId, ChatKey
from xmppterm.domain.messages import Delivery, Direction, Encryption
from xmppterm.domain.omemo import SetChatOmemo
from xmppterm.domain.rooms import JoinRoom, Occupant, occupant_present

from .identities import account_config, all_online, manager_of
from .peers import Events
from .room_core import MUC_USER, joined, poll, room_peer, settle
from .rooms import RoomPeer, make_room, new_room

pytestmark = pytest.mark.integration
ME = AccountId("me")
ORIGIN = "{urn:xmpp:sid:0}origin-id"


def private_messages(events: Events, chat: ChatKey, body: str | None = None) -> list[Any]:
    return [e.message for e in events.of(ev.MessageReceived) if e.account == ME
            and e.message.chat == chat and (body is None or e.message.body == body)]


async def history_everywhere(mgr: Any, room: str) -> list[str]:
    """Every body kept in the room's chat (also a 1:1 with the room's bare JID: the same
    key) and in every other chat that is not a private one."""
    texts = [m.body for m in await mgr.store.history(ChatKey(ME, room))]
    for jid in mgr.sessions[ME].open_chats:
        if "/" not in jid:
            texts += [m.body for m in await mgr.store.history(ChatKey(ME, jid))]
    return texts


async def chat_at(peer: RoomPeer, sender: str, body: str, timeout: float = 10.0) -> Any:
    """The next type=chat message with `body` from `sender` that `peer` gets."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        msg = await asyncio.wait_for(peer.inbox.get(), max(0.05, deadline - loop.time()))
        if msg.xml.get("type") == "chat" and msg.xml.get("from") == sender and \
                msg["body"] == body:
            return msg


def send_pm(peer: RoomPeer, to: str, body: str, extra: ET.Element | None = None) -> None:
    msg = peer.make_message(mto=to, mbody=body, mtype="chat")
    if extra is not None:
        msg.xml.append(extra)
    msg.send()


async def test_private_messages_both_ways(prosody: ProsodyServer, tmp_path: Path) -> None:
    me_acc = prosody.new_account()
    async with room_peer(prosody) as owner, \
            manager_of(prosody, [account_config(prosody, "me", me_acc)], tmp_path) as (mgr, events):
        room = await make_room(owner, new_room(prosody), non_anonymous=True)
        await all_online(events, ["me"])
        mgr.dispatch(JoinRoom(ME, room, "mimi"))
        await joined(events, ME, room)
        pm = ChatKey.private(ME, room, "owner")

        # an occupant's private message: in the private chat only
        send_pm(owner, f"{room}/mimi", "private hello")
        await events.wait(ev.MessageReceived, lambda e: e.message.chat == pm)
        got = private_messages(events, pm, "private hello")
        assert len(got) == 1 and got[0].direction is Direction.INCOMING
        assert got[0].sender == f"{room}/owner" and got[0].encryption is Encryption.PLAIN
        assert not got[0].in_room  # not a room message (no room semantics)
        assert [m.body for m in await mgr.store.history(pm)] == ["private hello"]
        assert "private hello" not in await history_everywhere(mgr, room)
        assert f"{room}/owner" in mgr.sessions[ME].open_chats
        assert not any(e.message.chat == ChatKey(ME, room) and e.message.body == "private hello"
                       for e in events.of(ev.MessageReceived))

        # ours: type chat from room/mimi, the muc#user marker and the origin-id, no receipt
        # request, no chat state; SENT like a 1:1 message
        mgr.dispatch(it.SendMessage(ME, pm, "private reply"))
        arrived = await chat_at(owner, f"{room}/mimi", "private reply")
        sent = private_messages(events, pm, "private reply")
        assert len(sent) == 1 and sent[0].direction is Direction.OUTGOING
        assert arrived.xml.find(f"{{{MUC_USER}}}x") is not None
        origin = arrived.xml.find(ORIGIN)
        assert origin is not None and origin.get("id") == sent[0].id
        assert arrived.xml.find("{urn:xmpp:receipts}request") is None
        assert not [c for c in arrived.xml if c.tag.startswith(
            "{http://jabber.org/protocol/chatstates}")]
        await events.wait(ev.MessageDeliveryChanged, lambda e: e.chat == pm
                          and e.message_id == sent[0].id and e.delivery is Delivery.SENT)
        assert "private reply" not in await history_everywhere(mgr, room)

        # an OMEMO-encrypted private message: UNDECRYPTABLE with the reason, never the
        # fallback body
        encrypted = ET.Element("{urn:xmpp:omemo:2}encrypted")
        send_pm(owner, f"{room}/mimi", "fallback body", encrypted)
        shown = await events.wait(ev.MessageReceived, lambda e: e.message.chat == pm
                                  and e.message.encryption is Encryption.UNDECRYPTABLE)
        assert shown.message.body == "" and "not supported" in (shown.message.error or "")
        assert "fallback body" not in [m.body for m in await mgr.store.history(pm)]

        # never OMEMO, no corrections (a nick is not a person): refused, text back
        mgr.dispatch(SetChatOmemo(ME, pm, True))
        said = await events.wait(ev.Notice, lambda e: e.chat == pm and e.error)
        assert "not supported" in said.text and not mgr.sessions[ME].omemo.flag(pm.jid)
        mgr.dispatch(it.CorrectMessage(ME, pm, "private reply!"))
        refused = await events.wait(ev.SendRefused, lambda e: e.chat == pm)
        assert refused.body == "/correct private reply!"


async def test_not_a_private_message(prosody: ProsodyServer) -> None:
    """From an account that is not a room (its full JID, with or without the muc#user
    marker): what it was before (a 1:1 message, or dropped), never a private chat."""
    me_acc, stranger_acc = prosody.new_account(), prosody.new_account()
    async with room_peer(prosody, stranger_acc) as stranger, \
            manager_of(prosody, [account_config(prosody, "me", me_acc)], None) as (mgr, events):
        await all_online(events, ["me"])
        send_pm(stranger, me_acc.jid, "marked", ET.Element(f"{{{MUC_USER}}}x"))
        send_pm(stranger, me_acc.jid, "looks private")
        plain = await events.wait(ev.MessageReceived, lambda e: e.message.body == "looks private")
        assert plain.message.chat == ChatKey(ME, stranger_acc.jid)  # a 1:1, as before
        await settle(1.0)
        assert not [e for e in events.of(ev.MessageReceived) if e.message.chat.is_private]
        assert not [e for e in events.of(ev.MessageReceived) if e.message.body == "marked"]
        assert all("/" not in jid for jid in mgr.sessions[ME].open_chats)


async def test_nick_continuity_and_refusals(prosody: ProsodyServer) -> None:
    me_acc = prosody.new_account()
    async with room_peer(prosody) as owner, room_peer(prosody) as zed, \
            manager_of(prosody, [account_config(prosody, "me", me_acc)], None) as (mgr, events):
        room = await make_room(owner, new_room(prosody), non_anonymous=True)
        await all_online(events, ["me"])
        mgr.dispatch(JoinRoom(ME, room, "mimi"))
        await joined(events, ME, room)
        await zed.join(room, "zed")
        session = mgr.sessions[ME]
        await poll(lambda: "zed" in session.rooms.states[room].occupants)
        pm = ChatKey.private(ME, room, "zed")
        mgr.dispatch(it.OpenChat(ME, pm, focus=True))
        await events.wait(ev.ChatOpened, lambda e: e.chat == pm)

        zed.leave(room, "zed")
        left = await events.wait(ev.Notice, lambda e: e.chat == pm and "left" in e.text)
        assert "zed" in left.text
        mgr.dispatch(it.SendMessage(ME, pm, "are you there"))
        refused = await events.wait(ev.SendRefused, lambda e: e.chat == pm)
        assert refused.body == "are you there" and "not in" in refused.reason
        assert not [m for m in await mgr.store.history(pm) if m.body == "are you there"]

        await zed.join(room, "zed")
        back = await events.wait(ev.Notice, lambda e: e.chat == pm and "back" in e.text)
        assert "someone else" in back.text

        # the room answers with an error (the nick left before its presence reached us):
        # FAILED with the reason
        ghost = ChatKey.private(ME, room, "ghost")
        state = session.rooms.states[room]
        session.rooms.states[room] = occupant_present(state, Occupant("ghost"))
        mgr.dispatch(it.SendMessage(ME, ghost, "to nobody"))
        failed = await events.wait(ev.MessageDeliveryChanged, lambda e: e.chat == ghost
                                   and e.delivery is Delivery.FAILED, timeout=15)
        assert "item-not-found" in (failed.error or "")
        stored = [m for m in await mgr.store.history(ghost) if m.body == "to nobody"]
        assert len(stored) == 1 and stored[0].delivery is Delivery.FAILED


async def test_encrypted_room_refuses_plaintext_private_messages(prosody: ProsodyServer) -> None:
    me_acc = prosody.new_account()
    async with room_peer(prosody) as owner, \
            manager_of(prosody, [account_config(prosody, "me", me_acc)], None) as (mgr, events):
        room = await make_room(owner, new_room(prosody), non_anonymous=True,
                               members_only=True, members=[me_acc.jid])
        await all_online(events, ["me"])
        mgr.dispatch(JoinRoom(ME, room, "mimi"))
        await joined(events, ME, room)
        session = mgr.sessions[ME]
        mgr.dispatch(SetChatOmemo(ME, ChatKey(ME, room), True))
        await poll(lambda: session.room_omemo.enabled(room), timeout=15)
        pm = ChatKey.private(ME, room, "owner")
        mgr.dispatch(it.SendMessage(ME, pm, "secret plans"))
        refused = await events.wait(ev.SendRefused, lambda e: e.chat == pm)
        assert refused.body == "secret plans" and "OMEMO" in refused.reason
        assert f"/msg {owner.boundjid.bare}" in refused.reason  # the real JID instead
        await settle(1.0)
        assert not [m for m in await mgr.store.history(pm) if m.body == "secret plans"]
        while not owner.inbox.empty():
            msg = owner.inbox.get_nowait()
            assert msg["body"] != "secret plans"


async def test_written_while_out_leaves_after_the_rejoin(prosody: ProsodyServer,
                                                         tmp_path: Path) -> None:
    """Pending private messages wait for the room: after the next join they leave to a
    nick that is there, and are FAILED (with the reason) for one that is not. The
    private chat comes back after a restart, with its history."""
    me_acc = prosody.new_account()
    config = account_config(prosody, "me", me_acc)
    async with room_peer(prosody) as owner, room_peer(prosody) as zed:
        room = await make_room(owner, new_room(prosody), non_anonymous=True)
        await zed.join(room, "zed")
        pm, to_zed = ChatKey.private(ME, room, "owner"), ChatKey.private(ME, room, "zed")
        async with manager_of(prosody, [config], tmp_path) as (mgr, events):
            await all_online(events, ["me"])
            mgr.dispatch(JoinRoom(ME, room, "mimi"))
            await joined(events, ME, room)
            session = mgr.sessions[ME]
            await poll(lambda: "zed" in session.rooms.states[room].occupants)
            mgr.dispatch(it.Disconnect(ME))
            await events.wait(ev.ConnectionChanged, lambda e: e.state.name == "OFFLINE")
            zed.leave(room, "zed")
            mgr.dispatch(it.SendMessage(ME, pm, "while away"))
            mgr.dispatch(it.SendMessage(ME, to_zed, "to zed later"))
            for chat, body in ((pm, "while away"), (to_zed, "to zed later")):
                waiting = await events.wait(ev.MessageReceived, lambda e, c=chat, b=body:
                                            e.message.chat == c and e.message.body == b)
                assert waiting.message.delivery is Delivery.PENDING
            after = len(events.items)
            mgr.dispatch(it.Connect(ME))
            await joined(events, ME, room, after)
            arrived = await chat_at(owner, f"{room}/mimi", "while away", timeout=15)
            assert arrived.xml.find(f"{{{MUC_USER}}}x") is not None
            failed = await events.wait(ev.MessageDeliveryChanged, lambda e: e.chat == to_zed
                                       and e.delivery is Delivery.FAILED, timeout=15)
            assert "not in" in (failed.error or "")
        async with manager_of(prosody, [config], tmp_path) as (mgr, events):
            opened = await events.wait(ev.ChatOpened, lambda e: e.chat == pm)
            assert [m.body for m in opened.history] == ["while away"]
            assert not opened.room and not opened.stranger


async def test_own_archive_never_puts_a_private_message_in_the_rooms_chat(
        prosody: ProsodyServer) -> None:
    """Our server archives private messages (from room/nick). Read back by a device that
    does not know the room (a fresh store): dropped, never a 1:1 chat with the room's
    bare JID, while the 1:1 message after it is read as usual."""
    me_acc = prosody.new_account()
    config = account_config(prosody, "me", me_acc)
    async with room_peer(prosody) as owner:
        room = await make_room(owner, new_room(prosody), non_anonymous=True)
        async with manager_of(prosody, [config], None) as (mgr, events):
            await all_online(events, ["me"])
            mgr.dispatch(JoinRoom(ME, room, "mimi"))
            await joined(events, ME, room)
            send_pm(owner, f"{room}/mimi", "archived private")
            await events.wait(ev.MessageReceived, lambda e: e.message.body == "archived private")
            owner.send_message(mto=me_acc.jid, mbody="plain after it", mtype="chat")
            await events.wait(ev.MessageReceived, lambda e: e.message.body == "plain after it")
        async with manager_of(prosody, [config], None) as (mgr, events):
            await all_online(events, ["me"])
            later = await events.wait(ev.MessageReceived,
                                      lambda e: e.message.body == "plain after it", timeout=20)
            assert later.message.chat == ChatKey(ME, owner.boundjid.bare)
            await settle(0.5)
            assert not [e for e in events.of(ev.MessageReceived)
                        if e.message.body == "archived private"]
            assert room not in mgr.sessions[ME].open_chats
            assert not await mgr.store.history(ChatKey(ME, room))
