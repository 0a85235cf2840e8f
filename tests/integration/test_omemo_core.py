"""OMEMO end to end: two xmppterm identities (SessionManager on encrypted stores) and a
second device of each (a scripted slixmpp-omemo client), on the real Prosody."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from slixmpp.jid import JID

from xmppterm.devserver import Account, ProsodyServer
from xmppterm.domain import events as ev
from xmppterm.domain import intents as it
from xmppterm.domain.connection import ConnState
from xmppterm.domain.ids import ChatKey
from xmppterm.domain.messages import Direction, Encryption
from xmppterm.domain.omemo import (
    ChatSecurity,
    ChatSecurityChanged,
    NewOmemoDevice,
    OmemoDevices,
    RemoveOwnDevice,
    ShowOmemo,
)
from xmppterm.protocol.omemo import wire

from .omemo_peers import Identity, OmemoPeer, archived_bodies, identity
from .peers import Events

pytestmark = pytest.mark.integration
ENCRYPTED = (Encryption.OMEMO_TRUSTED, Encryption.OMEMO_UNTRUSTED)


def online(e: ev.ConnectionChanged) -> bool:
    return e.state is ConnState.ONLINE


async def received(events: Events, body: str, timeout: float = 15.0) -> ev.MessageReceived:
    return await events.wait(ev.MessageReceived, lambda e: e.message.body == body, timeout)


async def send(me: Identity, to: str, body: str) -> ev.MessageReceived:
    chat = ChatKey(me.account, to)
    me.manager.dispatch(it.SendMessage(me.account, chat, body))
    return await me.events.wait(ev.MessageReceived, lambda e: e.message.body == body, 20)


@pytest.mark.slow
async def test_messages_decrypt_on_every_device_of_both_sides(
        prosody: ProsodyServer, account_factory: Callable[..., Account], tmp_path: Path) -> None:
    alice, bob = account_factory(), account_factory()
    prosody.befriend(alice, bob)
    alice2 = await OmemoPeer(alice, prosody.ca_file, "phone").start(prosody)
    bob2 = await OmemoPeer(bob, prosody.ca_file, "phone").start(prosody)
    try:
        async with identity(prosody, alice, tmp_path / "a", "alice") as a, \
                identity(prosody, bob, tmp_path / "b", "bob") as b:
            await a.events.wait(ev.ConnectionChanged, online, 20)
            await b.events.wait(ev.ConnectionChanged, online, 20)
            sent = await send(a, bob.jid, "from alice's xmppterm")
            assert sent.message.encryption in ENCRYPTED
            got = await received(b.events, "from alice's xmppterm")
            assert got.message.encryption is Encryption.OMEMO_UNTRUSTED  # not verified yet
            to_phone = await bob2.next_decrypted()  # bob2 announces OMEMO 2: it got OMEMO 2
            assert (to_phone.body, to_phone.namespace) == ("from alice's xmppterm", wire.TWO)
            mine = await alice2.next_decrypted()  # the carbon, encrypted for our other device
            assert (mine.body, mine.sender) == ("from alice's xmppterm", alice.jid)

            await send(b, alice.jid, "bob answers")
            assert (await received(a.events, "bob answers")).message.encryption in ENCRYPTED
            assert (await alice2.next_decrypted()).body == "bob answers"
            assert (await bob2.next_decrypted()).body == "bob answers"  # bob's own carbon

            await alice2.send_encrypted(bob.jid, "alice from her phone")
            from_phone = await received(b.events, "alice from her phone")
            assert from_phone.message.encryption in ENCRYPTED
            carbon = await received(a.events, "alice from her phone")  # our own, elsewhere
            assert carbon.message.direction is Direction.OUTGOING
            assert carbon.message.encryption in ENCRYPTED
            await bob2.send_encrypted(alice.jid, "bob from his phone")
            assert (await received(a.events, "bob from his phone")).message.encryption in ENCRYPTED
            carbon = await received(b.events, "bob from his phone")
            assert carbon.message.direction is Direction.OUTGOING
        for text in ("from alice's xmppterm", "bob answers", "alice from her phone"):
            assert archived_bodies(prosody, text) == []  # the server never saw plaintext
    finally:
        await alice2.stop()
        await bob2.stop()


@pytest.mark.slow
async def test_a_restart_of_either_side_keeps_the_sessions(
        prosody: ProsodyServer, account_factory: Callable[..., Account], tmp_path: Path) -> None:
    alice, bob = account_factory(), account_factory()
    prosody.befriend(alice, bob)
    async with identity(prosody, bob, tmp_path / "b", "bob") as b:
        await b.events.wait(ev.ConnectionChanged, online, 20)
        for round_ in range(2):  # the second time alice's store is reopened
            async with identity(prosody, alice, tmp_path / "a", "alice") as a:
                await a.events.wait(ev.ConnectionChanged, online, 20)
                await send(a, bob.jid, f"round {round_} from alice")
                got = await received(b.events, f"round {round_} from alice")
                assert got.message.encryption in ENCRYPTED
                await send(b, alice.jid, f"round {round_} from bob")
                got = await received(a.events, f"round {round_} from bob")
                assert got.message.encryption in ENCRYPTED
                assert not [e for e in a.events.of(ev.MessageReceived)
                            if e.message.encryption is Encryption.UNDECRYPTABLE]
        devices = [e for e in b.events.of(ev.Event) if type(e).__name__ == "NewOmemoDevice"]
        assert len(devices) == 1  # alice came back as the same device, not a new one
    async with identity(prosody, alice, tmp_path / "a", "alice") as a, \
            identity(prosody, bob, tmp_path / "b", "bob") as b:  # bob restarted too
        await a.events.wait(ev.ConnectionChanged, online, 20)
        await b.events.wait(ev.ConnectionChanged, online, 20)
        await send(b, alice.jid, "after bob's restart")
        got = await received(a.events, "after bob's restart")
        assert got.message.encryption in ENCRYPTED
        security = await a.events.wait(ChatSecurityChanged, lambda e: e.chat.jid == bob.jid)
        assert security.security is ChatSecurity.OMEMO_UNVERIFIED


async def test_a_message_typed_offline_is_encrypted_when_it_leaves(
        prosody: ProsodyServer, account_factory: Callable[..., Account], tmp_path: Path) -> None:
    alice, bob = account_factory(), account_factory()
    prosody.befriend(alice, bob)
    async with identity(prosody, bob, tmp_path / "b", "bob") as b, \
            identity(prosody, alice, tmp_path / "a", "alice") as a:
        await b.events.wait(ev.ConnectionChanged, online, 20)
        await a.events.wait(ev.ConnectionChanged, online, 20)
        await send(a, bob.jid, "first, online")
        await received(b.events, "first, online")
        a.manager.dispatch(it.Disconnect(a.account))
        await a.events.wait(ev.ConnectionChanged, lambda e: e.state is ConnState.OFFLINE)
        pending = await send(a, bob.jid, "typed while offline")
        assert pending.message.encryption is Encryption.OMEMO_UNTRUSTED  # to be sealed
        a.manager.dispatch(it.Connect(a.account))
        got = await received(b.events, "typed while offline", 30)
        assert got.message.encryption in ENCRYPTED
    assert archived_bodies(prosody, "typed while offline") == []


async def test_a_stale_own_device_can_be_removed(
        prosody: ProsodyServer, account_factory: Callable[..., Account], tmp_path: Path) -> None:
    alice = account_factory()
    old_phone = await OmemoPeer(alice, prosody.ca_file, "old-phone").start(prosody)
    stale = await old_phone.device_id()
    await old_phone.stop()
    async with identity(prosody, alice, tmp_path / "a", "alice") as a:
        await a.events.wait(ev.ConnectionChanged, online, 20)
        await a.events.wait(NewOmemoDevice, lambda e: e.device.device_id == stale, 20)
        a.manager.dispatch(RemoveOwnDevice(a.account, stale))
        done = await a.events.wait(ev.Notice, lambda e: "removed" in e.text, 20)
        assert str(stale) in done.text and not done.error
        a.manager.dispatch(ShowOmemo(a.account, None, "devices"))
        shown = await a.events.wait(OmemoDevices, timeout=20)
        assert [d.device_id for d in shown.own if d.active and d.device_id == stale] == []
        assert [d for d in shown.own if d.current]
    checker = await OmemoPeer(alice, prosody.ca_file, "checker").start(prosody)
    try:  # what the server now publishes: the new device, not the stale one
        manager = await checker.omemo.get_session_manager()
        await checker.omemo.refresh_device_lists({JID(alice.jid)}, force_download=True)
        listed = {d.device_id for d in await manager.get_device_information(alice.jid)
                  if any(active for _, active in d.active)}
        assert stale not in listed
    finally:
        await checker.stop()


async def test_plaintext_in_an_omemo_chat_is_flagged(
        prosody: ProsodyServer, account_factory: Callable[..., Account], tmp_path: Path) -> None:
    alice, bob = account_factory(), account_factory()
    prosody.befriend(alice, bob)
    bob2 = await OmemoPeer(bob, prosody.ca_file).start(prosody)
    try:
        async with identity(prosody, alice, tmp_path / "a", "alice") as a:
            await a.events.wait(ev.ConnectionChanged, online, 20)
            await bob2.send_encrypted(alice.jid, "encrypted hello")
            assert (await received(a.events, "encrypted hello")).message.encryption in ENCRYPTED
            bob2.send_message(mto=alice.jid, mbody="now in plaintext", mtype="chat")
            plain = await received(a.events, "now in plaintext")
            assert plain.message.encryption is Encryption.PLAIN
            notice = await a.events.wait(ev.Notice, lambda e: "NOT encrypted" in e.text)
            assert notice.error and notice.chat == ChatKey(a.account, bob.jid)
    finally:
        await bob2.stop()


async def test_a_stranger_can_fetch_our_keys(
        prosody: ProsodyServer, account_factory: Callable[..., Account], tmp_path: Path) -> None:
    """Bundles and device lists are open: no presence subscription is needed."""
    alice, carol = account_factory(), account_factory("other.test")
    carol2 = await OmemoPeer(carol, prosody.ca_file).start(prosody)
    try:
        async with identity(prosody, alice, tmp_path / "a", "alice") as a:
            await a.events.wait(ev.ConnectionChanged, online, 20)
            await carol2.send_encrypted(alice.jid, "hello from a stranger")
            got = await received(a.events, "hello from a stranger")
            assert got.stranger and got.message.encryption in ENCRYPTED
            await send(a, carol.jid, "hello stranger")
            assert (await carol2.next_decrypted()).body == "hello stranger"
    finally:
        await carol2.stop()


async def test_no_plaintext_in_the_logs_at_any_level(
        prosody: ProsodyServer, account_factory: Callable[..., Account], tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    alice, bob = account_factory(), account_factory()
    prosody.befriend(alice, bob)
    bob2 = await OmemoPeer(bob, prosody.ca_file).start(prosody)
    try:
        async with identity(prosody, alice, tmp_path / "a", "alice") as a:
            logging.getLogger().setLevel(logging.DEBUG)  # open_store set its own level
            await a.events.wait(ev.ConnectionChanged, online, 20)
            await bob2.send_encrypted(alice.jid, "log canary 51d2 incoming")
            await received(a.events, "log canary 51d2 incoming")
            await send(a, bob.jid, "log canary 8e0f outgoing")
            assert (await bob2.next_decrypted()).body == "log canary 8e0f outgoing"
    finally:
        await bob2.stop()
    assert caplog.records  # the capture works at DEBUG
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "log canary" not in logged
    assert not [r for r in caplog.records if r.name.split(".")[0] in ("omemo", "slixmpp_omemo")
                and r.levelno < logging.WARNING]
    assert (tmp_path / "a" / "xmppterm.log").exists()
    assert b"log canary" not in (tmp_path / "a" / "xmppterm.log").read_bytes()


@pytest.mark.slow
async def test_a_server_that_refuses_our_keys_leaves_omemo_off_not_crashed(
        prosody_factory: Callable[..., ProsodyServer], tmp_path: Path) -> None:
    """No PEP at all (the bookmarks and vCard modules would load it again): every
    request for our device list and every publish is refused."""
    server = prosody_factory(start=False)
    for module in ("pep", "bookmarks", "vcard4", "vcard_legacy"):
        server.modules.remove(module)
    server.start()
    alice, bob = server.new_account(), server.new_account()
    server.befriend(alice, bob)
    async with identity(server, alice, tmp_path / "a", "alice", omemo="always") as a:
        await a.events.wait(ev.ConnectionChanged, online, 20)
        off = await a.events.wait(ev.Notice, lambda e: "OMEMO is off" in e.text, 30)
        assert off.error
        chat = ChatKey(a.account, bob.jid)
        a.manager.dispatch(it.SendMessage(a.account, chat, "must not leave"))
        no = await a.events.wait(ev.SendRefused, timeout=20)
        assert "OMEMO is not running" in no.reason
        assert a.manager.sessions[a.account].state is ConnState.ONLINE
    assert archived_bodies(server, "must not leave") == []
