"""A room of 300 occupants, joined by an xmppterm identity through the SessionManager:
the occupant list is complete, it arrives in a few coalesced events (not one per
presence), and the asyncio loop keeps running meanwhile. The 300 occupants come from
one XEP-0114 component connection (muc_crowd.py), not 300 logins."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from xmppterm.devserver import ProsodyServer
from xmppterm.domain.ids import AccountId, ChatKey
from xmppterm.domain.rooms import JoinRoom, OccupantsChanged, RoomJoined

from .identities import account_config, all_online, manager_of
from .muc_crowd import Crowd, add_bots
from .rooms import new_room

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ME = AccountId("me")
CROWD = 300
MAX_ROOM_EVENTS = 10  # RoomJoined + OccupantsChanged for the whole join


class LoopProbe:
    """A task that sleeps a little in a loop and counts its turns (the loop is free)."""

    def __init__(self, step: float = 0.01) -> None:
        self.turns = 0
        self.step = step
        self.task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.step)
            self.turns += 1


@pytest.mark.timeout(180)
async def test_joining_a_room_of_300(prosody_factory: Callable[..., ProsodyServer]) -> None:
    server = prosody_factory(start=False)
    add_bots(server)
    server.start()
    crowd = await Crowd(server).start()
    room = new_room(server, "big")
    try:
        await crowd.fill(room, CROWD, timeout=120)
        acc = server.new_account()
        async with manager_of(server, [account_config(server, "me", acc)], None) as (m, events):
            await all_online(events, ["me"])
            probe = LoopProbe()
            start = probe.turns
            m.dispatch(JoinRoom(ME, room, "watcher"))
            joined = await events.wait(RoomJoined, lambda e: e.room == ChatKey(ME, room),
                                       timeout=60)
            nicks = {o.nick for o in joined.occupants}
            await asyncio.sleep(0.5)  # late stragglers would come as more events
            probe.task.cancel()
            room_events = [e for e in events.items if isinstance(e, RoomJoined | OccupantsChanged)
                           and e.room.jid == room]
            for changed in room_events:  # any that came after RoomJoined, coalesced
                if isinstance(changed, OccupantsChanged):
                    nicks |= {o.nick for o in changed.present}
            assert nicks == {f"bot{i}" for i in range(1, CROWD + 1)} | {"watcher"}
            assert len(room_events) <= MAX_ROOM_EVENTS, [type(e).__name__ for e in room_events]
            assert probe.turns > start  # the loop ran other tasks while 300 presences came
    finally:
        await crowd.stop()
