"""OMEMO in group chats against the real Prosody (its MUC service with muc_mam): xmppterm
identities (SessionManager on encrypted stores, joining through core) and scripted
slixmpp-omemo occupants, in a members-only, non-anonymous, persistent, archived room."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from xmppterm.devserver import Account, ProsodyServer
from xmppterm.domain import events as ev
from xmppterm.domain import intents as it
from xmppterm.domain.connection import ConnState
from xmppterm.domain.ids import ChatKey
from xmppterm.domain.messages import Delivery, Direction, Encryption
from xmppterm.domain.omemo import (
    ChatSecurity,
    ChatSecurityChanged,
    DeviceTrust,
    OmemoDevices,
    SetChatOmemo,
    SetDeviceTrust,
    ShowOmemo,
)
from xmppterm.domain.rooms import JoinRoom, RoomFeaturesChanged, RoomJoined
from xmppterm.protocol.omemo.port import OmemoRefused

from .omemo_peers import Identity, archived_bodies, identity
from .room_omemo_peers import RoomOmemoPeer
from .rooms import RoomPeer, make_room, new_room

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ENCRYPTED = (Encryption.OMEMO_TRUSTED, Encryption.OMEMO_UNTRUSTED)


def online(e: ev.ConnectionChanged) -> bool:
    return e.state is ConnState.ONLINE


async def join(me: Identity, room: str, nick: str, owner: RoomPeer | None = None) -> None:
    await me.events.wait(ev.ConnectionChanged, online, 20)
    me.manager.dispatch(JoinRoom(me.account, room, nick))
    await me.events.wait(RoomJoined, lambda e: e.room.jid == room, 20)
    if owner is not None:
        muc: Any = owner.plugin["xep_0045"]
        await owner.wait_until_true(lambda: nick in (muc.get_roster(room) or ()), 15)


async def keys_known(me: Identity, *jids: str) -> None:
    """Until xmppterm has fetched the key bundles of `jids`' devices (peers that just
    started publish them a moment later; under load that moment can be long)."""
    link: Any = me.manager.sessions[me.account].online_link
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    for jid in jids:
        while not (await link.omemo.devices(jid))[1]:
            assert loop.time() < deadline, f"the keys of {jid} were never fetched"
            link.omemo.plugin.forget_fetch(jid)
            await link.omemo.has_devices(jid)
            await asyncio.sleep(0.3)


def in_room(me: Identity, room: str, body: str) -> list[ev.MessageReceived]:
    return [e for e in me.events.of(ev.MessageReceived)
            if e.message.chat.jid == room and e.message.body == body]


async def say(me: Identity, room: str, body: str) -> ev.MessageReceived:
    me.manager.dispatch(it.SendMessage(me.account, ChatKey(me.account, room), body))
    try:
        return await me.events.wait(ev.MessageReceived, lambda e: e.message.body == body
                                    and e.message.direction is Direction.OUTGOING, 20)
    except TimeoutError:
        refused = [e.reason for e in me.events.of(ev.SendRefused) if e.body == body]
        said = [e.text for e in me.events.of(ev.Notice)]
        raise AssertionError(f"not sent: {refused} {said}") from None


async def delivered(me: Identity, message_id: str) -> None:
    await me.events.wait(ev.MessageDeliveryChanged, lambda e: e.message_id == message_id
                         and e.delivery is Delivery.DELIVERED, 20)


def no_undecryptable(me: Identity, room: str) -> None:
    assert not [e for e in me.events.of(ev.MessageReceived) if e.message.chat.jid == room
                and e.message.encryption is Encryption.UNDECRYPTABLE]


async def test_every_member_reads_the_room_and_nothing_plain_is_stored(
        prosody: ProsodyServer, account_factory: Callable[..., Account], tmp_path: Path) -> None:
    alice, bob, carol = account_factory(), account_factory(), account_factory()
    bob_peer = await RoomOmemoPeer(bob, prosody.ca_file).start(prosody)
    carol_peer = await RoomOmemoPeer(carol, prosody.ca_file, legacy_only=True).start(prosody)
    room = await make_room(bob_peer, new_room(prosody, "omemo"), "bob", members_only=True,
                           members=[alice.jid, carol.jid])
    await carol_peer.join(room, "carol")
    try:
        async with identity(prosody, alice, tmp_path / "a", "alice") as me:
            await join(me, room, "alice", bob_peer)
            on = await me.events.wait(ChatSecurityChanged, lambda e: e.chat.jid == room, 20)
            assert on.security is not ChatSecurity.PLAIN  # on by default: a private room
            await keys_known(me, bob.jid, carol.jid)
            secret = f"for the members only {secrets.token_hex(4)}"
            sent = await say(me, room, secret)
            assert sent.message.encryption in ENCRYPTED and sent.message.nick == "alice"
            on_bob = await bob_peer.next_encrypted(room)
            assert await bob_peer.decrypt_groupchat(on_bob) == (secret, alice.jid)
            assert secret not in str(on_bob)
            on_carol = await carol_peer.next_encrypted(room)  # legacy OMEMO only
            assert await carol_peer.decrypt_groupchat(on_carol) == (secret, alice.jid)
            await delivered(me, sent.message.id)  # the reflection: once, marked delivered
            assert len(in_room(me, room, secret)) == 1

            answer = f"bob answers {secrets.token_hex(4)}"
            await bob_peer.say_encrypted(room, answer, [alice.jid, carol.jid])
            got = await me.events.wait(ev.MessageReceived,
                                       lambda e: e.message.body == answer, 20)
            assert got.message.chat == ChatKey(me.account, room)
            assert (got.message.nick, got.message.sender) == ("bob", bob.jid)
            assert got.message.encryption is Encryption.OMEMO_UNTRUSTED
            assert got.message.direction is Direction.INCOMING and got.message.stanza_id
            assert await carol_peer.decrypt_groupchat(await carol_peer.next_encrypted(room)) \
                == (answer, bob.jid)
            await asyncio.sleep(0.5)
            no_undecryptable(me, room)
            assert not archived_bodies(prosody, secret)
            assert not archived_bodies(prosody, answer)
            await members_devices_are_shown_and_verified(me, room, bob.jid, carol.jid)
    finally:
        await bob_peer.stop()
        await carol_peer.stop()


async def members_devices_are_shown_and_verified(me: Identity, room: str, *members: str) -> None:
    """/fingerprint in the room lists every member's devices; /verify acts on the right
    member's device by its fingerprint alone."""
    chat = ChatKey(me.account, room)
    me.manager.dispatch(ShowOmemo(me.account, chat, "fingerprint"))
    shown = await me.events.wait(OmemoDevices, lambda e: e.chat == chat, 20)
    assert {d.jid for d in shown.contact} == set(members)
    target = next(d for d in shown.contact if d.jid == members[-1])
    me.manager.dispatch(SetDeviceTrust(me.account, chat, target.fingerprint, DeviceTrust.VERIFIED,
                                       require_fingerprint=True))
    await me.events.wait(ev.Notice, lambda e: "is now verified" in e.text
                         and members[-1] in e.text, 20)
    me.manager.dispatch(ShowOmemo(me.account, chat, "fingerprint"))
    again = await me.events.wait(OmemoDevices, lambda e: e is not shown and e.chat == chat, 20)
    trust = {(d.jid, d.device_id): d.trust for d in again.contact}
    assert trust[(target.jid, target.device_id)] is DeviceTrust.VERIFIED
    assert all(t is not DeviceTrust.VERIFIED for (jid, _), t in trust.items() if jid != target.jid)


async def test_an_absent_member_reads_the_archive_and_a_restart_keeps_the_history(
        prosody: ProsodyServer, account_factory: Callable[..., Account], tmp_path: Path) -> None:
    alice, erin, bob = account_factory(), account_factory(), account_factory()
    bob_peer = await RoomOmemoPeer(bob, prosody.ca_file).start(prosody)
    room = await make_room(bob_peer, new_room(prosody, "archive"), "bob", members_only=True,
                           members=[alice.jid, erin.jid])
    data = tmp_path / "e"
    try:
        async with identity(prosody, erin, data, "erin") as e:  # publishes erin's devices
            await e.events.wait(ev.ConnectionChanged, online, 20)
            await bob_peer.wait_for_devices(erin.jid)
        async with identity(prosody, alice, tmp_path / "a", "alice") as a:
            await join(a, room, "alice", bob_peer)
            await keys_known(a, bob.jid, erin.jid)  # erin is away: her keys come from her server
            away = f"while erin was away {secrets.token_hex(4)}"
            await delivered(a, (await say(a, room, away)).message.id)  # erin is a member
            from_bob = f"bob too {secrets.token_hex(4)}"
            await bob_peer.say_encrypted(room, from_bob, [alice.jid, erin.jid])
            await a.events.wait(ev.MessageReceived, lambda x: x.message.body == from_bob, 20)

            async with identity(prosody, erin, data, "erin") as e:
                await join(e, room, "erin")
                got = await e.events.wait(ev.MessageReceived,
                                          lambda x: x.message.body == away, 30)
                assert (got.message.nick, got.message.sender) == ("alice", alice.jid)
                assert got.message.encryption in ENCRYPTED and got.message.stanza_id
                await e.events.wait(ev.MessageReceived, lambda x: x.message.body == from_bob, 20)
                no_undecryptable(e, room)

            async with identity(prosody, erin, data, "erin") as e:  # a restart
                opened = await e.events.wait(ev.ChatOpened, lambda x: x.chat.jid == room, 20)
                bodies = [m.body for m in opened.history]
                assert away in bodies and from_bob in bodies  # from the store
                assert all(m.encryption is not Encryption.UNDECRYPTABLE for m in opened.history)
                await join(e, room, "erin")
                await keys_known(e, alice.jid, bob.jid)
                back = f"erin is back {secrets.token_hex(4)}"
                await say(e, room, back)
                assert (await a.events.wait(ev.MessageReceived,
                                            lambda x: x.message.body == back, 20)
                        ).message.encryption in ENCRYPTED
                again = f"alice again {secrets.token_hex(4)}"
                await say(a, room, again)
                await e.events.wait(ev.MessageReceived, lambda x: x.message.body == again, 20)
                await asyncio.sleep(1.0)  # the archive catch-up brought nothing twice
                assert len(in_room(e, room, away)) == 0  # shown from the history only
                no_undecryptable(e, room)
            for text in (away, from_bob, back, again):
                assert not archived_bodies(prosody, text)
    finally:
        await bob_peer.stop()


async def test_omemo_is_refused_where_the_room_hides_real_jids(
        prosody: ProsodyServer, account_factory: Callable[..., Account], tmp_path: Path) -> None:
    alice, bob = account_factory(), account_factory()
    bob_peer = await RoomOmemoPeer(bob, prosody.ca_file).start(prosody)
    hidden = await make_room(bob_peer, new_room(prosody, "semi"), "bob", members_only=True,
                             non_anonymous=False, members=[alice.jid])
    room = await make_room(bob_peer, new_room(prosody, "turns"), "bob", members_only=True,
                           members=[alice.jid])
    try:
        async with identity(prosody, alice, tmp_path / "a", "alice") as me:
            await join(me, hidden, "alice", bob_peer)
            chat = ChatKey(me.account, hidden)
            me.manager.dispatch(SetChatOmemo(me.account, chat, True))
            refused = await me.events.wait(ev.Notice, lambda e: e.chat == chat and e.error, 15)
            assert "semi-anonymous" in refused.text and "stays off" in refused.text
            assert not me.manager.sessions[me.account].room_omemo.enabled(hidden)

            await join(me, room, "alice", bob_peer)
            secret = f"private words {secrets.token_hex(4)}"
            await delivered(me, (await say(me, room, secret)).message.id)
            await bob_peer.configure(room, {"muc#roomconfig_whois": "moderators"})  # 173
            await me.events.wait(RoomFeaturesChanged, lambda e: e.room.jid == room
                                 and not e.features.non_anonymous, 20)
            await me.events.wait(ev.Notice, lambda e: e.chat is not None
                                 and e.chat.jid == room and e.error
                                 and "semi-anonymous" in e.text, 15)
            later = f"must not leave {secrets.token_hex(4)}"
            me.manager.dispatch(it.SendMessage(me.account, ChatKey(me.account, room), later))
            why = await me.events.wait(ev.SendRefused, lambda e: e.body == later, 15)
            assert "no longer shows" in why.reason and "nothing is sent" in why.reason
            await asyncio.sleep(1.0)
            assert not [m for m in list(bob_peer.groupchat._queue)  # type: ignore[attr-defined]
                        if later in str(m)]
            assert not archived_bodies(prosody, later) and not archived_bodies(prosody, secret)
    finally:
        await bob_peer.stop()


async def test_a_member_without_omemo_stops_the_send_naming_them(
        prosody: ProsodyServer, account_factory: Callable[..., Account], tmp_path: Path) -> None:
    alice, bob, dave = account_factory(), account_factory(), account_factory()
    bob_peer = await RoomOmemoPeer(bob, prosody.ca_file).start(prosody)
    room = await make_room(bob_peer, new_room(prosody, "nokeys"), "bob", members_only=True,
                           members=[alice.jid, dave.jid])
    try:
        async with identity(prosody, alice, tmp_path / "a", "alice") as me:
            await join(me, room, "alice", bob_peer)
            await keys_known(me, bob.jid)  # bob can read: only dave is to blame
            link: Any = me.manager.sessions[me.account].online_link
            with pytest.raises(OmemoRefused) as refused:  # the protocol level
                await link.omemo.seal_group(room, frozenset({bob.jid, dave.jid}), "no", "x1")
            assert dave.jid in refused.value.reason and bob.jid not in refused.value.reason
            assert "publishes no OMEMO device" in refused.value.reason
            text = f"not for dave {secrets.token_hex(4)}"  # through core: dave is a member
            me.manager.dispatch(it.SendMessage(me.account, ChatKey(me.account, room), text))
            why = await me.events.wait(ev.SendRefused, lambda e: e.body == text, 20)
            assert dave.jid in why.reason and "Nothing was sent" in why.reason
            await asyncio.sleep(0.5)
            assert not [m for m in list(bob_peer.groupchat._queue)  # type: ignore[attr-defined]
                        if text in str(m)]
    finally:
        await bob_peer.stop()
