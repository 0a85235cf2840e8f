"""Fail closed: in a chat where OMEMO is on, a message that cannot be encrypted is not
sent at all (checked in what the server stored), and the user is told why."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest

from xmppterm.devserver import Account, ProsodyServer
from xmppterm.domain import events as ev
from xmppterm.domain import intents as it
from xmppterm.domain.connection import ConnState
from xmppterm.domain.ids import ChatKey
from xmppterm.domain.messages import Encryption
from xmppterm.domain.omemo import (
    ChatSecurity,
    ChatSecurityChanged,
    DeviceTrust,
    NewOmemoDevice,
    SetChatOmemo,
    SetDeviceTrust,
)

from .omemo_peers import Identity, archived_bodies, identity
from .peers import Peer

pytestmark = pytest.mark.integration
OLD = "eu.siacs.conversations.axolotl"


def online(e: ev.ConnectionChanged) -> bool:
    return e.state is ConnState.ONLINE


async def refused(me: Identity, to: str, body: str) -> ev.SendRefused:
    me.manager.dispatch(it.SendMessage(me.account, ChatKey(me.account, to), body))
    return await me.events.wait(ev.SendRefused, lambda e: e.body == body, 20)


async def nothing_stored(server: ProsodyServer, *texts: str) -> None:
    await asyncio.sleep(0.5)  # Prosody writes its archive and offline store at once
    for text in texts:
        assert archived_bodies(server, text) == [], f"{text!r} reached the server"


async def test_a_contact_without_devices_gets_nothing(
        prosody: ProsodyServer, account_factory: Callable[..., Account], tmp_path: Path) -> None:
    alice, bob = account_factory(), account_factory()
    prosody.befriend(alice, bob)
    async with identity(prosody, alice, tmp_path / "a", "alice", omemo="always") as a:
        await a.events.wait(ev.ConnectionChanged, online, 20)
        no = await refused(a, bob.jid, "secret for a contact without OMEMO")
        assert "publishes no OMEMO device" in no.reason
        assert not [e for e in a.events.of(ev.MessageReceived)
                    if e.message.body == "secret for a contact without OMEMO"]
        await nothing_stored(prosody, "secret for a contact without OMEMO")


async def test_omemo_on_by_command_and_off_again(
        prosody: ProsodyServer, account_factory: Callable[..., Account], tmp_path: Path) -> None:
    alice, bob = account_factory(), account_factory()
    prosody.befriend(alice, bob)
    chat_of = None
    async with identity(prosody, alice, tmp_path / "a", "alice") as a:
        await a.events.wait(ev.ConnectionChanged, online, 20)
        chat_of = ChatKey(a.account, bob.jid)
        a.manager.dispatch(SetChatOmemo(a.account, chat_of, True))
        await a.events.wait(ChatSecurityChanged, lambda e: e.security is not ChatSecurity.PLAIN)
        await refused(a, bob.jid, "typed with omemo on")
        a.manager.dispatch(SetChatOmemo(a.account, chat_of, False))
        await a.events.wait(ChatSecurityChanged, lambda e: e.security is ChatSecurity.PLAIN)
        a.manager.dispatch(it.SendMessage(a.account, chat_of, "plaintext control"))
        sent = await a.events.wait(ev.MessageReceived,
                                   lambda e: e.message.body == "plaintext control")
        assert sent.message.encryption is Encryption.PLAIN
        await a.events.wait(ev.MessageDeliveryChanged)
    await nothing_stored(prosody, "typed with omemo on")
    assert archived_bodies(prosody, "plaintext control")  # the check does see plaintext


async def test_manual_trust_refuses_until_a_device_is_trusted(
        prosody: ProsodyServer, account_factory: Callable[..., Account], tmp_path: Path) -> None:
    alice, bob = account_factory(), account_factory()
    prosody.befriend(alice, bob)
    async with identity(prosody, bob, tmp_path / "b", "bob") as b, \
            identity(prosody, alice, tmp_path / "a", "alice", trust="manual") as a:
        await b.events.wait(ev.ConnectionChanged, online, 20)
        await a.events.wait(ev.ConnectionChanged, online, 20)
        bob_device = await a.events.wait(NewOmemoDevice, lambda e: e.device.jid == bob.jid, 20)
        no = await refused(a, bob.jid, "not yet: nobody is trusted")
        assert str(bob_device.device.device_id) in no.reason and "/trust" in no.reason
        await nothing_stored(prosody, "not yet: nobody is trusted")
        chat = ChatKey(a.account, bob.jid)
        a.manager.dispatch(SetDeviceTrust(a.account, chat, bob_device.device.fingerprint,
                                          DeviceTrust.VERIFIED, require_fingerprint=True))
        await a.events.wait(ev.Notice, lambda e: "is now verified" in e.text)
        await a.events.wait(ChatSecurityChanged,
                            lambda e: e.security is ChatSecurity.OMEMO_VERIFIED)
        a.manager.dispatch(it.SendMessage(a.account, chat, "now to a verified device"))
        sent = await a.events.wait(ev.MessageReceived,
                                   lambda e: e.message.body == "now to a verified device")
        assert sent.message.encryption is Encryption.OMEMO_TRUSTED
        got = await b.events.wait(ev.MessageReceived,
                                  lambda e: e.message.body == "now to a verified device", 20)
        assert got.message.encryption is Encryption.OMEMO_UNTRUSTED  # bob verified nothing


async def publish_device_list_without_bundle(peer: Peer, device_id: int) -> None:
    """A device list naming a device whose bundle does not exist."""
    peer.register_plugin("xep_0060")
    items = ET.Element(f"{{{OLD}}}list")
    ET.SubElement(items, f"{{{OLD}}}device", id=str(device_id))
    await peer.plugin["xep_0060"].publish(peer.boundjid.bare, f"{OLD}.devicelist",
                                          id="current", payload=items)


async def test_a_bundle_that_cannot_be_fetched_stops_the_send(
        prosody: ProsodyServer, account_factory: Callable[..., Account], tmp_path: Path) -> None:
    alice, bob = account_factory(), account_factory()
    prosody.befriend(alice, bob)
    bob_peer = await Peer(bob, prosody.ca_file).start(prosody)
    try:
        await publish_device_list_without_bundle(bob_peer, 4242)
        async with identity(prosody, alice, tmp_path / "a", "alice") as a:
            await a.events.wait(ev.ConnectionChanged, online, 20)
            no = await refused(a, bob.jid, "needs a bundle")
            assert "could not be fetched" in no.reason
            with pytest.raises(asyncio.TimeoutError):
                await bob_peer.next_message(timeout=1.0)
        await nothing_stored(prosody, "needs a bundle")
    finally:
        await bob_peer.stop()
