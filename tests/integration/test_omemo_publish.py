"""Servers that refuse XEP-0060 publish-options (some ejabberd and Openfire set-ups):
OMEMO still publishes our device list and bundle, without them (protocol/omemo/publish.py).
The refusing server is the real Prosody with a small test module of ours."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest
from slixmpp.exceptions import IqError
from slixmpp.jid import JID
from slixmpp_omemo.xep_0384 import _make_options_form

from xmppterm.devserver import ProsodyServer
from xmppterm.devserver.prosody import TEST_MODULE_DIR
from xmppterm.devserver.storage import lua_str
from xmppterm.domain import events as ev
from xmppterm.domain import intents as it
from xmppterm.domain.connection import ConnState
from xmppterm.domain.ids import ChatKey
from xmppterm.domain.messages import Encryption
from xmppterm.protocol.omemo.publish import refused_options

from .omemo_peers import OmemoPeer, identity

pytestmark = pytest.mark.integration
ENCRYPTED = (Encryption.OMEMO_TRUSTED, Encryption.OMEMO_UNTRUSTED)
PUBSUB = "http://jabber.org/protocol/pubsub"


def online(e: ev.ConnectionChanged) -> bool:
    return e.state is ConnState.ONLINE


@pytest.mark.parametrize("refusal", ["precondition-not-met", "feature-not-implemented"])
async def test_a_server_that_refuses_publish_options_still_gets_our_keys(
        prosody_factory: Callable[..., ProsodyServer], tmp_path: Path, refusal: str) -> None:
    """Some servers refuse XEP-0060 publish-options; our device list and bundle are then
    published without them and the nodes configured open: a stranger (no roster entry,
    so only an open node lets it read) fetches them and encrypts to us."""
    server = prosody_factory(start=False)
    server.plugin_paths.append(TEST_MODULE_DIR)
    server.modules.append("xt_refuse_publish_options")
    server.extra_config.append(f"xt_refuse_publish_options = {lua_str(refusal)}")
    server.start()
    alice, carol = server.new_account(), server.new_account()
    async with identity(server, alice, tmp_path / "a", "alice", omemo="always") as a:
        await a.events.wait(ev.ConnectionChanged, online, 20)
        carol2 = await OmemoPeer(carol, server.ca_file).start(server)
        try:
            options = _make_options_form(f"{PUBSUB}#publish-options", {"pubsub#access_model": "open"})
            with pytest.raises(IqError) as no:  # the server really refuses them
                await carol2.plugin["xep_0060"].publish(
                    JID(carol.jid), "urn:xmppterm:test", "x", ET.Element("{urn:xmppterm:test}x"),
                    options=options)
            assert refused_options(no.value) == refusal
            await carol2.send_encrypted(alice.jid, "to a server without publish options")
            got = await a.events.wait(
                ev.MessageReceived, lambda e: e.message.body == "to a server without publish options", 15)
            assert got.message.encryption in ENCRYPTED
            a.manager.dispatch(it.SendMessage(a.account, ChatKey(a.account, carol.jid), "and back"))
            assert (await carol2.next_decrypted()).body == "and back"
        finally:
            await carol2.stop()
        assert not [e for e in a.events.of(ev.Notice) if "OMEMO is off" in e.text]
