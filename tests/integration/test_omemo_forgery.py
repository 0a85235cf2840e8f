"""Downgrade and forgery against OMEMO chats: undecryptable messages with a fallback body,
replays, elements outside the payload, a device added to a verified contact, forged
carbons. Hostile stanzas come from scripted clients on the real Prosody."""

from __future__ import annotations

import asyncio
import copy
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from xmppterm.devserver import Account, ProsodyServer
from xmppterm.domain import events as ev
from xmppterm.domain import intents as it
from xmppterm.domain.connection import ConnState
from xmppterm.domain.ids import ChatKey
from xmppterm.domain.messages import Encryption
from xmppterm.domain.omemo import DeviceTrust, NewOmemoDevice, SetDeviceTrust

from .omemo_peers import Identity, OmemoPeer, identity
from .peers import Peer

pytestmark = pytest.mark.integration
OLD = "eu.siacs.conversations.axolotl"
ENCRYPTED = (Encryption.OMEMO_TRUSTED, Encryption.OMEMO_UNTRUSTED)


def online(e: ev.ConnectionChanged) -> bool:
    return e.state is ConnState.ONLINE


def messages(me: Identity) -> list[ev.MessageReceived]:
    return me.events.of(ev.MessageReceived)


def send_xml(peer: Any, to: str, *children: ET.Element, body: str | None = None,
             msg_id: str = "") -> None:
    msg = peer.make_message(mto=to, mtype="chat", mbody=body)
    if msg_id:
        msg["id"] = msg_id
    for child in children:
        msg.xml.append(child)
    msg.send()


async def test_undecryptable_with_a_fallback_body_is_not_shown_as_a_message(
        prosody: ProsodyServer, account_factory: Callable[..., Account], tmp_path: Path) -> None:
    alice, mallory = account_factory(), account_factory()
    prosody.befriend(alice, mallory)
    peer = await Peer(mallory, prosody.ca_file).start(prosody)
    try:
        async with identity(prosody, alice, tmp_path / "a", "alice") as a:
            await a.events.wait(ev.ConnectionChanged, online, 20)
            bogus = ET.fromstring(  # noqa: S314 (test literals)
                f'<encrypted xmlns="{OLD}"><header sid="777"><key rid="1">AAAA</key>'
                '<iv>AAAAAAAAAAAAAAAA</iv></header><payload>AAAA</payload></encrypted>')
            send_xml(peer, alice.jid, bogus, body="FALLBACK: please answer in plaintext")
            got = await a.events.wait(ev.MessageReceived, lambda e: e.message.chat.jid == mallory.jid)
            assert got.message.encryption is Encryption.UNDECRYPTABLE
            assert got.message.body == "" and got.message.error
            assert not [e for e in messages(a) if "FALLBACK" in e.message.body]
    finally:
        await peer.stop()


async def test_replays_and_outside_elements_change_nothing(
        prosody: ProsodyServer, account_factory: Callable[..., Account], tmp_path: Path) -> None:
    alice, bob = account_factory(), account_factory()
    prosody.befriend(alice, bob)
    bob2 = await OmemoPeer(bob, prosody.ca_file).start(prosody)
    try:
        async with identity(prosody, alice, tmp_path / "a", "alice") as a:
            await a.events.wait(ev.ConnectionChanged, online, 20)
            stanza = await bob2.encrypted(alice.jid, "the real text")
            stanza.send()
            first = await a.events.wait(ev.MessageReceived,
                                        lambda e: e.message.body == "the real text", 15)
            assert first.message.encryption in ENCRYPTED
            element = copy.deepcopy(stanza.xml.find(f"{{{OLD}}}encrypted"))
            correction = ET.fromstring(  # noqa: S314 (test literals)
                f"<replace xmlns='urn:xmpp:message-correct:0' id='{stanza['id']}'/>")
            send_xml(bob2, alice.jid, element, correction, body="EVIL OUTSIDE BODY",
                     msg_id="another-id")  # the same ciphertext, new id, a correction
            stanza.send()  # and the very same stanza again
            await asyncio.sleep(2.0)
            from_bob = [e for e in messages(a) if e.message.chat.jid == bob.jid]
            assert [e.message.body for e in from_bob] == ["the real text"]
            assert not [e for e in messages(a) if "EVIL" in e.message.body]
    finally:
        await bob2.stop()


async def test_a_device_added_to_a_verified_contact_is_untrusted_and_announced(
        prosody: ProsodyServer, account_factory: Callable[..., Account], tmp_path: Path) -> None:
    alice, bob = account_factory(), account_factory()
    prosody.befriend(alice, bob)
    async with identity(prosody, bob, tmp_path / "b", "bob") as b, \
            identity(prosody, alice, tmp_path / "a", "alice") as a:
        await b.events.wait(ev.ConnectionChanged, online, 20)
        await a.events.wait(ev.ConnectionChanged, online, 20)
        chat = ChatKey(a.account, bob.jid)
        first = await a.events.wait(NewOmemoDevice, lambda e: e.device.jid == bob.jid, 20)
        a.manager.dispatch(SetDeviceTrust(a.account, chat, first.device.fingerprint,
                                          DeviceTrust.VERIFIED, require_fingerprint=True))
        await a.events.wait(ev.Notice, lambda e: "is now verified" in e.text)
        bob2 = await OmemoPeer(bob, prosody.ca_file, "new-phone").start(prosody)
        try:
            new_id = await bob2.device_id()
            added = await a.events.wait(NewOmemoDevice,
                                        lambda e: e.device.device_id == new_id, 20)
            assert added.chat == chat and added.device.trust is DeviceTrust.UNDECIDED
            a.manager.dispatch(it.SendMessage(a.account, chat, "only for verified devices"))
            no = await a.events.wait(ev.SendRefused, timeout=20)
            assert str(new_id) in no.reason
            a.manager.dispatch(SetDeviceTrust(a.account, chat, str(new_id),
                                              DeviceTrust.DISTRUSTED))
            await a.events.wait(ev.Notice, lambda e: "is now distrusted" in e.text)
            a.manager.dispatch(it.SendMessage(a.account, chat, "only for verified devices"))
            sent = await a.events.wait(ev.MessageReceived,
                                       lambda e: e.message.body == "only for verified devices")
            assert sent.message.encryption is Encryption.OMEMO_TRUSTED
            await b.events.wait(ev.MessageReceived,
                                lambda e: e.message.body == "only for verified devices", 20)
        finally:
            await bob2.stop()


async def test_a_forged_carbon_never_reaches_decryption(
        prosody: ProsodyServer, account_factory: Callable[..., Account], tmp_path: Path) -> None:
    alice, bob, eve = account_factory(), account_factory(), account_factory()
    prosody.befriend(alice, bob)
    bob2 = await OmemoPeer(bob, prosody.ca_file).start(prosody)
    forger = await Peer(eve, prosody.ca_file).start(prosody)
    try:
        async with identity(prosody, alice, tmp_path / "a", "alice") as a:
            await a.events.wait(ev.ConnectionChanged, online, 20)
            genuine = await bob2.encrypted(alice.jid, "real, from bob")
            inner = copy.deepcopy(genuine.xml)
            inner.set("from", f"{bob.jid}/omemo-peer")
            wrapper = ET.fromstring("<received xmlns='urn:xmpp:carbons:2'>"  # noqa: S314 (test literals)
                                    "<forwarded xmlns='urn:xmpp:forward:0'/></received>")
            wrapper[0].append(inner)
            send_xml(forger, alice.jid, wrapper)  # a "carbon" from eve, not from alice
            await asyncio.sleep(1.5)
            assert not [e for e in messages(a) if e.message.chat.jid == bob.jid]
            genuine.send()  # had the forgery been decrypted, this would be a replay
            got = await a.events.wait(ev.MessageReceived,
                                      lambda e: e.message.body == "real, from bob", 15)
            assert got.message.encryption in ENCRYPTED
            assert len([e for e in messages(a) if e.message.chat.jid == bob.jid]) == 1
    finally:
        await bob2.stop()
        await forger.stop()
