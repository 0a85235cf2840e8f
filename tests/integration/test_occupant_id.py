"""XEP-0421 occupant-ids in rooms against the real Prosody (0.12's mod_muc adds them,
announces urn:xmpp:occupant-id:0 on every room and replaces those clients send): a
correction in an anonymous room is decided by the room's id, so the writer may correct
after a nick change and a rejoin, a newcomer with the nick may not, and a forged id
proves nothing. A second identity that joins later reads it all from the room's archive
and comes to the same result."""

from __future__ import annotations

import asyncio
import secrets
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from xmppterm.devserver import ProsodyServer
from xmppterm.domain import events as ev
from xmppterm.domain.ids import AccountId, ChatKey
from xmppterm.domain.messages import ChatMessage
from xmppterm.domain.rooms import JoinRoom, OccupantsChanged, RoomJoined

from .identities import account_config, all_online, manager_of
from .peers import Events
from .rooms import RoomPeer, make_room, new_room

pytestmark = pytest.mark.integration
ME, LATE = AccountId("me"), AccountId("late")
OID = "urn:xmpp:occupant-id:0"


def say(peer: Any, room: str, body: str, replaces: str | None = None,
        forged_id: str | None = None) -> str:
    msg = peer.make_message(mto=room, mbody=body, mtype="groupchat")
    msg["id"] = message_id = secrets.token_hex(8)
    if replaces is not None:
        ET.SubElement(msg.xml, "{urn:xmpp:message-correct:0}replace", {"id": replaces})
    if forged_id is not None:  # the room must replace it with the sender's own
        ET.SubElement(msg.xml, f"{{{OID}}}occupant-id", {"id": forged_id})
    msg.send()
    return message_id


async def shown(events: Events, account: AccountId, body: str) -> ChatMessage:
    found = await events.wait(ev.MessageReceived, lambda e: e.account == account
                              and e.message.body == body, 15)
    return found.message


async def renamed(events: Events, old: str, new: str) -> None:
    await events.wait(OccupantsChanged, lambda e: (old, new) in e.renamed, 15)


async def archived(mgr: Any, chat: ChatKey, last: str) -> list[ChatMessage]:
    """The shown messages of `chat` once the archive's `last` body was read (applied or not)."""
    for _ in range(300):
        history = await mgr.store.history(chat)
        if any(m.body == last for m in history):
            return [m for m in history if m.shown]
        await asyncio.sleep(0.1)
    raise AssertionError(f"the room archive did not bring {last!r}")


async def test_the_room_occupant_id_decides_corrections(prosody: ProsodyServer) -> None:
    owner = await RoomPeer(prosody.new_account(), prosody.ca_file).start(prosody)
    eve = await RoomPeer(prosody.new_account(), prosody.ca_file).start(prosody)
    configs = [account_config(prosody, "me", prosody.new_account()),
               account_config(prosody, "late", prosody.new_account())]
    try:
        async with manager_of(prosody, configs, None) as (mgr, events):
            room = await make_room(owner, new_room(prosody), non_anonymous=False)
            await all_online(events, ["me", "late"])
            mgr.dispatch(JoinRoom(ME, room, "mimi"))
            joined = await events.wait(RoomJoined, lambda e: e.account == ME, 20)
            assert joined.features.occupant_id  # Prosody 0.12 announces XEP-0421
            owner_id = {o.nick: o for o in joined.occupants}["owner"].occupant_id
            assert owner_id
            await eve.join(room, "eve")
            came = await events.wait(OccupantsChanged, lambda e: any(
                o.nick == "eve" for o in e.present), 15)
            eve_id = next(o for o in came.present if o.nick == "eve").occupant_id
            assert eve_id and eve_id != owner_id

            first = say(owner, room, "teh plan", forged_id="forged-by-owner")
            original = await shown(events, ME, "teh plan")
            assert original.occupant_id == owner_id  # the room's, not the forged one
            # eve forges the owner's id on her correction: the room puts hers instead
            say(eve, room, "eve's plan", replaces=first, forged_id=owner_id)
            forged = await shown(events, ME, "eve's plan")
            assert forged.id != original.id and forged.occupant_id == eve_id

            # a nick change keeps the id: the correction applies (anonymous room: no JID)
            owner.make_presence(pto=f"{room}/boss").send()
            await renamed(events, "owner", "boss")
            say(owner, room, "the plan", replaces=first)
            fixed = await shown(events, ME, "the plan")
            assert fixed.id == original.id and fixed.original_body == "teh plan"

            # the holder leaves, eve takes the nick: a different id, nothing changes
            owner.leave(room, "boss")
            await asyncio.sleep(0.05)
            eve.leave(room, "eve")
            await eve.join(room, "boss")
            say(eve, room, "the nick is mine now", replaces=first)
            impostor = await shown(events, ME, "the nick is mine now")
            assert impostor.id != original.id and impostor.occupant_id == eve_id

            # the writer rejoins (a new presence): the id is the same, it applies
            eve.leave(room, "boss")
            await owner.join(room, "owner")
            say(owner, room, "the final plan", replaces=first)
            final = await shown(events, ME, "the final plan")
            assert final.id == original.id
            stored = await mgr.store.get_message(ME, original.id)
            assert stored is not None and stored.body == "the final plan"
            assert stored.occupant_id == owner_id

            # joined later: everything comes from the room's archive, with the room's ids
            mgr.dispatch(JoinRoom(LATE, room, "late"))
            late = await archived(mgr, ChatKey(LATE, room), "the final plan")
            bodies = {m.body: m for m in late}
            assert bodies["the final plan"].occupant_id == owner_id  # the corrected original
            assert bodies["the final plan"].original_body == "teh plan"
            assert bodies["eve's plan"].occupant_id == eve_id
            assert bodies["the nick is mine now"].occupant_id == eve_id
            assert "teh plan" not in bodies and "the plan" not in bodies
    finally:
        await owner.stop()
        await eve.stop()
