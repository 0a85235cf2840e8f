"""The demo's companion: it answers in its chat and in the demo room."""

from __future__ import annotations

import asyncio

import pytest

from xmppterm.devserver import ProsodyServer
from xmppterm.protocol.companion import EchoCompanion

from .rooms import RoomPeer

pytestmark = pytest.mark.integration


async def test_the_companion_opens_its_room_and_answers_there(prosody: ProsodyServer) -> None:
    echo = prosody.new_account()
    room = f"lobby{echo.localpart}@{prosody.conference_domain}"
    companion = EchoCompanion(echo.jid, echo.password, prosody.ca_file, room=room)
    companion.connect(host="127.0.0.1", port=prosody.c2s_port)
    await asyncio.wait_for(companion.ready.wait(), 20)
    peer = await RoomPeer(prosody.new_account(), prosody.ca_file).start(prosody)
    try:
        await peer.join(room, "newcomer")  # the room was unlocked by the companion
        peer.send_message(mto=room, mtype="groupchat", mbody="hi all")
        for _ in range(20):
            msg = await asyncio.wait_for(peer.groupchat.get(), 10)
            if msg["from"].resource == "echo":
                break
        assert str(msg["body"]) == "newcomer: you said hi all"
        await asyncio.sleep(0.5)  # its own answer is not answered again (no loop)
        later = [m for m in list(peer.groupchat._queue)  # type: ignore[attr-defined]
                 if m["from"].resource == "echo"]
        assert later == []
    finally:
        await peer.stop()
        await companion.disconnect()
