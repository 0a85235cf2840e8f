"""The room topic: set where the room lets us, and a refusal told in the room (not an
anonymous "error arrived" line elsewhere)."""

from __future__ import annotations

import pytest

from xmppterm.devserver import ProsodyServer
from xmppterm.domain import events as ev
from xmppterm.domain.ids import AccountId, ChatKey
from xmppterm.domain.rooms import JoinRoom, RoomJoined, RoomSubjectChanged, SetSubject

from .identities import account_config, all_online, manager_of
from .rooms import RoomPeer, make_room, new_room

pytestmark = pytest.mark.integration
ME = AccountId("me")


async def test_topic_refused_then_allowed(prosody: ProsodyServer) -> None:
    owner = await RoomPeer(prosody.new_account(), prosody.ca_file).start(prosody)
    try:
        closed = await make_room(owner, new_room(prosody), extra={"muc#roomconfig_changesubject": False})
        open_ = await make_room(owner, new_room(prosody), extra={"muc#roomconfig_changesubject": True})
        async with manager_of(prosody, [account_config(prosody, "me", prosody.new_account())],
                              None) as (mgr, events):
            await all_online(events, ["me"])
            for room in (closed, open_):
                mgr.dispatch(JoinRoom(ME, room, "mimi"))
                await events.wait(RoomJoined, lambda e, r=room: e.room.jid == r, 20)

            mgr.dispatch(SetSubject(ME, ChatKey(ME, closed), "ours now"))
            refused = await events.wait(ev.Notice, lambda e: "refused to change the topic" in e.text)
            assert refused.error and refused.chat == ChatKey(ME, closed)
            assert not [e for e in events.of(ev.Notice) if "does not match" in e.text]
            assert not [e for e in events.of(RoomSubjectChanged) if e.subject == "ours now"]

            mgr.dispatch(SetSubject(ME, ChatKey(ME, open_), "plans for saturday"))
            changed = await events.wait(RoomSubjectChanged, lambda e: e.room.jid == open_)
            assert changed.subject == "plans for saturday" and changed.by == "mimi"
    finally:
        await owner.stop()
