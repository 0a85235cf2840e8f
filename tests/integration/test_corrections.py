"""Last message correction (XEP-0308) end to end against the real Prosody: who may
change which message, in 1:1 chats, in rooms and with OMEMO, and our own /correct."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from xmppterm.devserver import Account, ProsodyServer
from xmppterm.domain import events as ev
from xmppterm.domain import intents as it
from xmppterm.domain.ids import AccountId, ChatKey
from xmppterm.domain.messages import ChatMessage, Encryption
from xmppterm.domain.rooms import JoinRoom, RoomJoined

from .identities import account_config, all_online, manager_of
from .omemo_peers import OmemoPeer, identity
from .peers import Events, Peer
from .rooms import RoomPeer, make_room, new_room

pytestmark = pytest.mark.integration
ME = AccountId("me")
REPLACE = "{urn:xmpp:message-correct:0}replace"
ENCRYPTED = (Encryption.OMEMO_TRUSTED, Encryption.OMEMO_UNTRUSTED)


def say(peer: Any, to: str, body: str, message_id: str, replaces: str | None = None,
        kind: str = "chat") -> None:
    msg = peer.make_message(mto=to, mbody=body, mtype=kind)
    msg["id"] = message_id
    if replaces is not None:
        ET.SubElement(msg.xml, REPLACE, {"id": replaces})
    msg.send()


async def shown(events: Events, body: str, timeout: float = 15.0) -> ChatMessage:
    found = await events.wait(ev.MessageReceived, lambda e: e.message.body == body, timeout)
    return found.message


def with_id(events: Events, local: str) -> list[ChatMessage]:
    return [e.message for e in events.of(ev.MessageReceived) if e.message.id == local]


async def test_one_to_one(prosody: ProsodyServer) -> None:
    me_acc, alice_acc, mallory_acc = (prosody.new_account() for _ in range(3))
    prosody.befriend(me_acc, alice_acc)
    alice = await Peer(alice_acc, prosody.ca_file).start(prosody)
    mallory = await Peer(mallory_acc, prosody.ca_file).start(prosody)
    try:
        async with manager_of(prosody, [account_config(prosody, "me", me_acc)], None) \
                as (mgr, events):
            await all_online(events, ["me"])
            chat = ChatKey(ME, alice_acc.jid)
            say(alice, me_acc.jid, "teh original", "a-1")
            original = await shown(events, "teh original")
            say(alice, me_acc.jid, "the original", "a-2", replaces="a-1")
            fixed = await shown(events, "the original")
            assert fixed.id == original.id and fixed.edited and fixed.original_body == \
                "teh original"
            assert [m.body for m in with_id(events, original.id)] == ["teh original",
                                                                      "the original"]
            stored = await mgr.store.get_message(ME, original.id)
            assert stored is not None and stored.body == "the original"

            # another account names alice's message: nothing changes, a new marked message
            say(mallory, me_acc.jid, "rewritten by mallory", "m-1", replaces="a-1")
            foreign = await shown(events, "rewritten by mallory")
            assert foreign.id != original.id and foreign.replaces == "a-1"
            assert foreign.chat == ChatKey(ME, mallory_acc.jid)
            # even sent "into" alice's chat it is mallory's chat: alice's message stays
            say(alice, me_acc.jid, "alice again", "a-3")
            await shown(events, "alice again")
            stored = await mgr.store.get_message(ME, original.id)
            assert stored is not None and stored.body == "the original"
            assert [m.body for m in with_id(events, original.id)] == ["teh original",
                                                                      "the original"]
            history = [m.body for m in await mgr.store.history(chat)]
            assert history.count("the original") == 2  # the message, and the applied record
            opened = [m for m in await mgr.store.history(chat) if m.shown]
            assert [m.body for m in opened] == ["the original", "alice again"]

            # our own /correct: the peer gets a correction naming our message's id
            mgr.dispatch(it.SendMessage(ME, chat, "my tpyo"))
            mine = await shown(events, "my tpyo")
            first = await alice.next_message()
            while first["body"] != "my tpyo":
                first = await alice.next_message()
            mgr.dispatch(it.CorrectMessage(ME, chat, "my typo"))
            corrected = await shown(events, "my typo")
            assert corrected.id == mine.id and corrected.original_body == "my tpyo"
            got = await alice.next_message()
            replace = got.xml.find(REPLACE)
            assert got["body"] == "my typo" and replace is not None
            assert replace.get("id") == first["id"] and got["id"] != first["id"]

            # the last message is alice's now: nothing to correct, the text comes back
            say(alice, me_acc.jid, "her last word", "a-4")
            await shown(events, "her last word")
            mgr.dispatch(it.CorrectMessage(ME, chat, "not mine"))
            refused = await events.wait(ev.SendRefused, lambda e: e.chat == chat)
            assert refused.body == "/correct not mine" and "not yours" in refused.reason

            # while we edit a correction of one message, our phone sends a newer one:
            # the correction meant for the first is refused, nothing changes or leaves
            mgr.dispatch(it.SendMessage(ME, chat, "before the phone"))
            before = await shown(events, "before the phone")
            phone = await Peer(me_acc, prosody.ca_file, resource="phone").start(prosody)
            try:
                phone.send_message(mto=alice_acc.jid, mbody="from my phone", mtype="chat")
                await shown(events, "from my phone")
                mgr.dispatch(it.CorrectMessage(ME, chat, "before, fixed", before.id))
                late = await events.wait(ev.SendRefused,
                                         lambda e: e.body == "/correct before, fixed")
                assert "changed while you were editing" in late.reason
            finally:
                await phone.stop()
            stored = await mgr.store.get_message(ME, before.id)
            assert stored is not None and stored.body == "before the phone"
            got = [await alice.next_message() for _ in range(2)]
            assert {m["body"] for m in got} == {"before the phone", "from my phone"}
            with pytest.raises(TimeoutError):
                while True:  # nothing else with a body: no correction left
                    if (await alice.next_message(timeout=1.0))["body"]:
                        break
    finally:
        await alice.stop()
        await mallory.stop()


async def joined(events: Events, room: str, after: int = 0) -> RoomJoined:
    return await events.wait(RoomJoined, lambda e: e.room.jid == room and
                             any(x is e for x in events.items[after:]), 20)


async def test_rooms(prosody: ProsodyServer) -> None:
    me_acc = prosody.new_account()
    owner = await RoomPeer(prosody.new_account(), prosody.ca_file).start(prosody)
    eve = await RoomPeer(prosody.new_account(), prosody.ca_file).start(prosody)
    try:
        async with manager_of(prosody, [account_config(prosody, "me", me_acc)], None) \
                as (mgr, events):
            room = await make_room(owner, new_room(prosody), non_anonymous=False)
            await all_online(events, ["me"])
            mgr.dispatch(JoinRoom(ME, room, "mimi"))
            await joined(events, room)
            chat = ChatKey(ME, room)
            await eve.join(room, "eve")
            await events.wait(ev.Event, lambda e: "eve" in str(getattr(e, "present", "")))

            first = owner.say(room, "teh owner")
            original = await shown(events, "teh owner")
            assert original.sender == f"{room}/owner"  # anonymous: no real JIDs
            say(eve, room, "rewritten by eve", "e-1", replaces=first, kind="groupchat")
            foreign = await shown(events, "rewritten by eve")
            assert foreign.id != original.id and foreign.nick == "eve"
            say(owner, room, "the owner", "o-2", replaces=first, kind="groupchat")
            fixed = await shown(events, "the owner")
            assert fixed.id == original.id and fixed.original_body == "teh owner"
            stored = await mgr.store.get_message(ME, original.id)
            assert stored is not None and stored.body == "the owner"

            # the owner leaves, eve takes the nick: the new "owner" changes nothing, also
            # when it all happens faster than presences are gathered (protocol/muc/rooms.py)
            owner.leave(room, "owner")
            await asyncio.sleep(0.05)
            eve.leave(room, "eve")
            await eve.join(room, "owner")
            say(eve, room, "the nick is mine now", "e-2", replaces=first, kind="groupchat")
            impostor = await shown(events, "the nick is mine now")
            assert impostor.id != original.id and impostor.nick == "owner"
            stored = await mgr.store.get_message(ME, original.id)
            assert stored is not None and stored.body == "the owner"

            # our /correct in the room: the others get it with <replace>, we show it once
            mgr.dispatch(it.SendMessage(ME, chat, "hello al"))
            mine = await shown(events, "hello al")
            sent = await eve.next_groupchat(room, lambda m: m["body"] == "hello al")
            mgr.dispatch(it.CorrectMessage(ME, chat, "hello all"))
            again = await shown(events, "hello all")
            assert again.id == mine.id and again.edited
            got = await eve.next_groupchat(room, lambda m: m["body"] == "hello all")
            replace = got.xml.find(REPLACE)
            assert replace is not None and replace.get("id") == sent["id"]
            await asyncio.sleep(1.0)  # our reflection came back: nothing new is shown
            assert [e.message.id for e in events.of(ev.MessageReceived)
                    if e.message.body == "hello all"] == [mine.id]
            history = [m for m in await mgr.store.history(chat) if m.shown]
            assert [m.body for m in history].count("hello all") == 1
    finally:
        await owner.stop()
        await eve.stop()


@pytest.mark.slow
async def test_omemo(prosody: ProsodyServer, account_factory: Callable[..., Account],
                     tmp_path: Path) -> None:
    alice, bob = account_factory(), account_factory()
    prosody.befriend(alice, bob)
    bob2 = await OmemoPeer(bob, prosody.ca_file).start(prosody)
    try:
        async with identity(prosody, alice, tmp_path / "a", "alice") as a, \
                identity(prosody, bob, tmp_path / "b", "bob") as b:
            await all_online(a.events, ["alice"])
            await all_online(b.events, ["bob"])
            # a plaintext correction never replaces an encrypted message
            stanza = await bob2.encrypted(alice.jid, "secret tpyo")
            stanza["id"] = "enc-1"
            stanza.send()
            secret = await shown(a.events, "secret tpyo")
            assert secret.encryption in ENCRYPTED
            say(bob2, alice.jid, "plaintext rewrite", "plain-1", replaces="enc-1")
            plain = await shown(a.events, "plaintext rewrite")
            assert plain.id != secret.id and plain.encryption is Encryption.PLAIN
            stored = await a.manager.store.get_message(a.account, secret.id)
            assert stored is not None and stored.body == "secret tpyo" and not stored.edited

            # /correct in an OMEMO chat between two xmppterm identities (OMEMO 2: the
            # correction travels inside the encryption) changes the message on both sides
            chat = ChatKey(a.account, bob.jid)
            a.manager.dispatch(it.SendMessage(a.account, chat, "encrypted tpyo"))
            mine = await shown(a.events, "encrypted tpyo")
            theirs = await shown(b.events, "encrypted tpyo", 20)
            a.manager.dispatch(it.CorrectMessage(a.account, chat, "encrypted typo"))
            assert (await shown(a.events, "encrypted typo")).id == mine.id
            fixed = await shown(b.events, "encrypted typo", 20)
            assert fixed.id == theirs.id and fixed.encryption in ENCRYPTED and fixed.edited
    finally:
        await bob2.stop()
