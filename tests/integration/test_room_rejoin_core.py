"""Rooms joined again by core (SessionManager, encrypted store) against the real Prosody:
after a restart from the bookmarks and the saved rooms (once each), and after self-ping
(XEP-0410) found that the room forgot us."""

from __future__ import annotations

from pathlib import Path

import pytest

from xmppterm.devserver import ProsodyServer
from xmppterm.domain import events as ev
from xmppterm.domain import intents as it
from xmppterm.domain.ids import AccountId, ChatKey
from xmppterm.domain.messages import Delivery
from xmppterm.domain.rooms import (
    BookmarksReceived,
    JoinRoom,
    RoomJoined,
    RoomMembershipLost,
    SetBookmark,
)

from .identities import account_config, all_online
from .muc_admin_helpers import forget_occupant
from .room_core import (
    data_dir,
    joined,
    notice,
    poll,
    presences_of,
    room_peer,
    sealed_manager,
    settle,
)
from .rooms import make_room, new_room

pytestmark = pytest.mark.integration
ME = AccountId("me")


async def test_restart_rejoins_bookmarked_and_saved_rooms_once(prosody: ProsodyServer,
                                                               tmp_path: Path) -> None:
    me_acc = prosody.new_account()
    accounts, data = [account_config(prosody, "me", me_acc)], data_dir(tmp_path)
    async with room_peer(prosody) as owner:
        both = await make_room(owner, new_room(prosody))  # joined and bookmarked
        marked = await make_room(owner, new_room(prosody))  # only bookmarked
        async with sealed_manager(accounts, data) as (mgr, events):
            await all_online(events, ["me"])
            # the login's reading of the bookmarks is over (else it may join `marked` now)
            await events.wait(BookmarksReceived, lambda e: e.bookmarks == ())
            mgr.dispatch(JoinRoom(ME, both, "mimi"))
            await joined(events, ME, both)
            mgr.dispatch(SetBookmark(ME, both, autojoin=True, nick="mimi"))
            mgr.dispatch(SetBookmark(ME, marked, autojoin=True, nick="mimo"))
            for room in (both, marked):
                told = await notice(events, ME, lambda e, r=room: (  # type: ignore[misc]
                    e.text.startswith(f"Bookmarked {r} ")))
                assert "joined at every login" in told.text and not told.error
            assert set(mgr.sessions[ME].rooms.saved) == {both}
        await owner.wait_until_true(lambda: bool(presences_of(owner, both, "mimi",
                                                              "unavailable")))
        seen = {both: len(presences_of(owner, both, "mimi")),
                marked: len(presences_of(owner, marked, "mimo"))}
        assert seen[marked] == 0

        # a new manager on the same (encrypted) store, the server still up
        async with sealed_manager(accounts, data) as (mgr, events):
            first, second = await joined(events, ME, both), await joined(events, ME, marked)
            assert (first.nick, second.nick) == ("mimi", "mimo")
            await settle(2.0)  # a second join would have come by now
            for room, nick in ((both, "mimi"), (marked, "mimo")):
                assert len([e for e in events.of(RoomJoined) if e.room.jid == room]) == 1
                assert len(presences_of(owner, room, nick)) == seen[room] + 1, room
            assert [o.nick for o in first.occupants].count("mimi") == 1
            assert set(mgr.sessions[ME].rooms.saved) == {both, marked}
            opened = [e for e in events.of(ev.ChatOpened) if e.chat.jid == marked]
            assert opened and all(e.room and not e.focus for e in opened)


async def test_self_ping_rejoins_a_room_that_forgot_us(prosody: ProsodyServer,
                                                       tmp_path: Path) -> None:
    me_acc = prosody.new_account()
    async with room_peer(prosody) as owner, \
            sealed_manager([account_config(prosody, "me", me_acc)], data_dir(tmp_path)) \
            as (mgr, events):
        room = await make_room(owner, new_room(prosody))
        chat = ChatKey(ME, room)
        await all_online(events, ["me"])
        link = mgr.sessions[ME].online_link
        assert link is not None
        link.selfping.interval = 0.5  # type: ignore[attr-defined]  # before the join
        mgr.dispatch(JoinRoom(ME, room, "mimi"))
        await joined(events, ME, room)
        await settle(1.5)  # pings answered meanwhile: nothing is lost
        assert not events.of(RoomMembershipLost)
        joins = len(presences_of(owner, room, "mimi"))
        mark = len(events.items)

        forget_occupant(prosody, room, "mimi")
        lost = await events.wait(RoomMembershipLost, timeout=10)
        assert lost.room == chat
        again = await joined(events, ME, room, mark)
        assert [o.nick for o in again.occupants].count("mimi") == 1
        await poll(lambda: len(presences_of(owner, room, "mimi")) == joins + 1)  # a real join

        mgr.dispatch(it.SendMessage(ME, chat, "after the rejoin"))
        got = await owner.next_groupchat(room, lambda m: m["body"] == "after the rejoin")
        assert got["from"].resource == "mimi"
        sent = await events.wait(ev.MessageReceived, lambda e: e.message.body ==
                                 "after the rejoin")
        await events.wait(ev.MessageDeliveryChanged, lambda e: e.message_id ==
                          sent.message.id and e.delivery is Delivery.DELIVERED)
        await settle(1.0)  # and the room is watched again: no second loss
        assert len(events.of(RoomMembershipLost)) == 1
        assert len([e for e in events.items[mark:] if isinstance(e, RoomJoined)]) == 1


async def test_two_joins_at_once_send_one_join_presence(prosody: ProsodyServer,
                                                       tmp_path: Path) -> None:
    """/join typed twice quickly (or a bookmark and a saved room at login): one join."""
    accounts = [account_config(prosody, "me", prosody.new_account())]
    async with room_peer(prosody) as owner:
        room = await make_room(owner, new_room(prosody))
        async with sealed_manager(accounts, data_dir(tmp_path)) as (mgr, events):
            await all_online(events, ["me"])
            port = mgr.sessions[ME].online_link.rooms  # type: ignore[union-attr]
            port.join(room, "mimi")  # twice before the first has sent anything
            port.join(room, "mimi")
            await poll(lambda: bool(presences_of(owner, room, "mimi")))
            await settle(2.0)  # a second join would have come by now
            assert len(presences_of(owner, room, "mimi")) == 1
