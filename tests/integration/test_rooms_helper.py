"""The shared room helper (rooms.py) makes a configured room on the real Prosody."""

from __future__ import annotations

import pytest

from xmppterm.devserver import ProsodyServer

from .rooms import RoomPeer, make_room, new_room

pytestmark = pytest.mark.integration


async def test_make_room_configures_it(prosody: ProsodyServer) -> None:
    owner = await RoomPeer(prosody.new_account(), prosody.ca_file).start(prosody)
    try:
        room = await make_room(owner, new_room(prosody), members_only=True, persistent=True)
        info = await owner.plugin["xep_0030"].get_info(jid=room, timeout=10)
        features = set(info["disco_info"]["features"])
        assert {"muc_membersonly", "muc_persistent", "muc_nonanonymous",
                "urn:xmpp:mam:2"} <= features
    finally:
        await owner.stop()
