"""Legacy OMEMO (eu.siacs.conversations.axolotl) from xmppterm: the second devices here
are legacy-only scripted clients (what Conversations, Dino, Gajim and Profanity run), so
xmppterm has to encrypt in the old namespace for them and in OMEMO 2 for the rest."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from xmppterm.devserver import Account, ProsodyServer
from xmppterm.domain import events as ev
from xmppterm.domain import intents as it
from xmppterm.domain.connection import ConnState
from xmppterm.domain.ids import ChatKey
from xmppterm.domain.messages import Direction, Encryption
from xmppterm.protocol.omemo import wire

from .omemo_peers import Decrypted, Identity, OmemoPeer, archived_bodies, identity
from .peers import Events

pytestmark = pytest.mark.integration
ENCRYPTED = (Encryption.OMEMO_TRUSTED, Encryption.OMEMO_UNTRUSTED)


def online(e: ev.ConnectionChanged) -> bool:
    return e.state is ConnState.ONLINE


async def received(events: Events, body: str, timeout: float = 15.0) -> ev.MessageReceived:
    got = await events.wait(ev.MessageReceived, lambda e: e.message.body == body, timeout)
    assert got.message.encryption in ENCRYPTED
    return got


async def send(me: Identity, to: str, body: str) -> None:
    me.manager.dispatch(it.SendMessage(me.account, ChatKey(me.account, to), body))
    sent = await me.events.wait(ev.MessageReceived, lambda e: e.message.body == body, 20)
    assert sent.message.encryption in ENCRYPTED


def keyed_for(stanza: Any, namespace: str, device_id: int) -> bool:
    """Whether the stanza's `namespace` element carries a key for `device_id`."""
    element = stanza.xml.find(f"{{{namespace}}}encrypted")
    return element is not None and any(key.get("rid") == str(device_id)
                                       for key in element.iter(f"{{{namespace}}}key"))


async def legacy_got(device: OmemoPeer, body: str, sender: str) -> Decrypted:
    """`device` (legacy-only) decrypted `body` from a legacy element keyed for it alone."""
    got = await device.next_decrypted()
    assert (got.body, got.sender, got.namespace) == (body, sender, wire.OLD)
    own = await device.device_id()
    assert keyed_for(got.stanza, wire.OLD, own)
    assert not keyed_for(got.stanza, wire.TWO, own)
    return got


@pytest.mark.slow
async def test_legacy_only_second_devices_on_both_sides_and_a_restart(
        prosody: ProsodyServer, account_factory: Callable[..., Account], tmp_path: Path) -> None:
    alice, bob = account_factory(), account_factory()
    prosody.befriend(alice, bob)
    alice2 = await OmemoPeer(alice, prosody.ca_file, "conversations", legacy_only=True).start(prosody)
    bob2 = await OmemoPeer(bob, prosody.ca_file, "dino", legacy_only=True).start(prosody)
    try:
        async with identity(prosody, bob, tmp_path / "b", "bob") as b:
            await b.events.wait(ev.ConnectionChanged, online, 20)
            for round_ in ("first", "restarted"):  # alice's store and manager reopened
                async with identity(prosody, alice, tmp_path / "a", "alice") as a:
                    await a.events.wait(ev.ConnectionChanged, online, 20)
                    text = f"{round_}: alice's xmppterm to bob"
                    await send(a, bob.jid, text)
                    await received(b.events, text)
                    await legacy_got(bob2, text, alice.jid)
                    await legacy_got(alice2, text, alice.jid)  # the carbon of our own

                    text = f"{round_}: bob's xmppterm to alice"
                    await send(b, alice.jid, text)
                    await received(a.events, text)
                    await legacy_got(alice2, text, bob.jid)
                    await legacy_got(bob2, text, bob.jid)

                    text = f"{round_}: alice's phone to bob"
                    await alice2.send_encrypted(bob.jid, text)
                    await received(b.events, text)
                    mine = await received(a.events, text)
                    assert mine.message.direction is Direction.OUTGOING
                    await legacy_got(bob2, text, alice.jid)

                    text = f"{round_}: bob's phone to alice"
                    await bob2.send_encrypted(alice.jid, text)
                    await received(a.events, text)
                    assert (await received(b.events, text)).message.direction is Direction.OUTGOING
                    await legacy_got(alice2, text, bob.jid)
                    assert not [e for e in a.events.of(ev.MessageReceived)
                                if e.message.encryption is Encryption.UNDECRYPTABLE]
            assert not [e for e in b.events.of(ev.MessageReceived)
                        if e.message.encryption is Encryption.UNDECRYPTABLE]
    finally:
        await alice2.stop()
        await bob2.stop()
    assert archived_bodies(prosody, "alice's xmppterm to bob") == []
    assert archived_bodies(prosody, "bob's xmppterm to alice") == []


async def test_one_message_reaches_an_omemo2_and_a_legacy_device_each_in_its_own(
        prosody: ProsodyServer, account_factory: Callable[..., Account], tmp_path: Path) -> None:
    alice, bob = account_factory(), account_factory()
    prosody.befriend(alice, bob)
    modern = await OmemoPeer(bob, prosody.ca_file, "modern").start(prosody)
    legacy = await OmemoPeer(bob, prosody.ca_file, "legacy", legacy_only=True).start(prosody)
    try:
        published = await modern.omemo.get_session_manager()  # what the server lists
        old_list = await published._download_device_list(wire.OLD, bob.jid)
        new_list = await published._download_device_list(wire.TWO, bob.jid)
        assert {await modern.device_id(), await legacy.device_id()} <= set(old_list)
        assert set(new_list) == {await modern.device_id()}  # legacy announces no OMEMO 2
        async with identity(prosody, alice, tmp_path / "a", "alice") as a:
            await a.events.wait(ev.ConnectionChanged, online, 20)
            await send(a, bob.jid, "one message, two versions")
            new = await modern.next_decrypted()
            assert (new.body, new.namespace) == ("one message, two versions", wire.TWO)
            assert keyed_for(new.stanza, wire.TWO, await modern.device_id())
            assert not keyed_for(new.stanza, wire.OLD, await modern.device_id())
            old = await legacy_got(legacy, "one message, two versions", alice.jid)
            assert old.stanza["id"] == new.stanza["id"]  # the very same stanza

            await legacy.send_encrypted(alice.jid, "the legacy device answers")
            await received(a.events, "the legacy device answers")
            assert (await modern.next_decrypted()).body == "the legacy device answers"
    finally:
        await modern.stop()
        await legacy.stop()

