"""Chat states (XEP-0085) against the real Prosody: sent to contacts the setting allows,
never to strangers by default, read from contacts; groupchat-typed ones ignored."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from collections.abc import Callable

import pytest
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

from xmppterm.config import AccountConfig
from xmppterm.devserver import Account, ProsodyServer
from xmppterm.domain.chatstates import ChatState, ChatStateChanged
from xmppterm.domain.ids import AccountId, ChatKey
from xmppterm.protocol.link import ProtocolLink

from .peers import Events, Peer

pytestmark = pytest.mark.integration
ME = AccountId("me")
NS = "http://jabber.org/protocol/chatstates"
QUIET = 1.0


def watching(peer: Peer) -> list[ET.Element]:
    got: list[ET.Element] = []
    peer.register_handler(Callback("states", MatchXPath("{jabber:client}message"),
                                   lambda stanza: got.append(stanza.xml)))
    return got


def states_in(got: list[ET.Element]) -> list[str]:
    return [child.tag.split("}")[1] for xml in got for child in xml if child.tag.startswith(f"{{{NS}}}")]


async def test_chat_states_to_contacts_not_strangers_and_from_contacts(
        prosody: ProsodyServer, account_factory: Callable[..., Account]) -> None:
    me, bob, carol = account_factory(), account_factory(), account_factory()
    prosody.befriend(me, bob)
    events = Events()
    config = AccountConfig(id=ME, jid=me.jid, host="127.0.0.1", port=prosody.c2s_port,
                           ca_file=prosody.ca_file)
    link = ProtocolLink(config, me.password, events)
    await link.connect()
    bob_peer = await Peer(bob, prosody.ca_file).start(prosody)
    carol_peer = await Peer(carol, prosody.ca_file).start(prosody)
    to_bob, to_carol = watching(bob_peer), watching(carol_peer)
    try:
        assert link.send_chat_state(bob.jid, "composing")
        for _ in range(100):
            if to_bob:
                break
            await asyncio.sleep(0.05)
        [stanza] = to_bob
        assert states_in(to_bob) == ["composing"]
        assert stanza.find("{jabber:client}body") is None
        assert stanza.find("{urn:xmpp:hints}no-store") is not None

        assert not link.send_chat_state(carol.jid, "composing")  # a stranger: not told
        await asyncio.sleep(QUIET)
        assert to_carol == []

        bob_peer.send_raw(f"<message to='{me.jid}' type='groupchat'><composing xmlns='{NS}'/></message>")
        bob_peer.send_raw(f"<message to='{me.jid}' type='chat'><composing xmlns='{NS}'/></message>")
        found = await events.wait(ChatStateChanged)
        assert found.chat == ChatKey(ME, bob.jid) and found.state is ChatState.COMPOSING
        await asyncio.sleep(0.3)
        assert len(events.of(ChatStateChanged)) == 1
    finally:
        await bob_peer.stop()
        await carol_peer.stop()
        await link.disconnect()
