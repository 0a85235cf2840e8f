"""Shared helpers for group-chat (XEP-0045) integration tests against the real Prosody
(component `conference.<host>` with muc_mam): a scripted slixmpp peer that can own and
configure a room, join, talk and moderate, so that every room test (rooms, OMEMO in
rooms, administration) builds its rooms the same way.

    owner = await RoomPeer(acc, server.ca_file).start(server)
    room = await make_room(owner, new_room(server), members_only=True, members=[b.jid])
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from slixmpp import JID

from xmppterm.devserver import Account, ProsodyServer

from .peers import Peer

ROOMCONFIG = "http://jabber.org/protocol/muc#roomconfig"


def new_room(server: ProsodyServer, prefix: str = "room") -> str:
    """A fresh, unused room JID on the server's MUC service."""
    return f"{prefix}{secrets.token_hex(5)}@{server.conference_domain}"


class RoomPeer(Peer):
    """A scripted peer that speaks MUC (slixmpp's xep_0045) and records what rooms send:
    `groupchat` every type=groupchat message (with body or subject), `room_presences`
    every MUC presence, `invites` the direct (XEP-0249) and mediated invitations."""

    def __init__(self, acc: Account, ca: Path, resource: str = "peer") -> None:
        super().__init__(acc, ca, resource)
        for plugin in ("xep_0004", "xep_0045", "xep_0249", "xep_0313"):
            self.register_plugin(plugin)
        self.groupchat: asyncio.Queue[Any] = asyncio.Queue()
        self.room_presences: list[Any] = []
        self.invites: list[Any] = []
        self._changed = asyncio.Event()
        self.add_event_handler("groupchat_message", self._record_message)
        self.add_event_handler("groupchat_subject", self._record_message)
        self.add_event_handler("groupchat_presence", self._record_presence)
        self.add_event_handler("groupchat_direct_invite", self._record_invite)
        self.add_event_handler("groupchat_invite", self._record_invite)

    def _record_message(self, msg: Any) -> None:
        self.groupchat.put_nowait(msg)

    def _record_presence(self, pres: Any) -> None:
        self.room_presences.append(pres)
        self._changed.set()

    def _record_invite(self, msg: Any) -> None:
        self.invites.append(msg)
        self._changed.set()

    async def wait_until_true(self, pred: Any, timeout: float = 10.0) -> None:
        async def loop() -> None:
            while not pred():
                self._changed.clear()
                await self._changed.wait()
        await asyncio.wait_for(loop(), timeout)

    async def join(self, room: str, nick: str, password: str | None = None,
                   timeout: float = 15.0) -> Any:
        """Join `room` as `nick` with no history; returns slixmpp's join result."""
        muc: Any = self.plugin["xep_0045"]
        return await muc.join_muc_wait(JID(room), nick, password=password, maxstanzas=0,
                                       timeout=timeout)

    def leave(self, room: str, nick: str) -> None:
        self.plugin["xep_0045"].leave_muc(JID(room), nick)

    def say(self, room: str, body: str, message_id: str | None = None) -> str:
        """Send a groupchat message (with origin-id = id); returns the id."""
        message_id = message_id or secrets.token_hex(8)
        msg = self.make_message(mto=room, mbody=body, mtype="groupchat")
        msg["id"] = message_id
        msg["origin_id"]["id"] = message_id
        msg.send()
        return message_id

    async def next_groupchat(self, room: str, pred: Any = None, timeout: float = 10.0) -> Any:
        """The next groupchat message from `room` that satisfies `pred` (others skipped)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            msg = await asyncio.wait_for(self.groupchat.get(), max(0.05, deadline - loop.time()))
            if msg["from"].bare == room and (pred is None or pred(msg)):
                return msg

    async def configure(self, room: str, values: dict[str, Any]) -> None:
        """Submit the owner configuration form with `values` (fields left out unchanged)."""
        form: Any = self.plugin["xep_0004"].make_form(ftype="submit")
        form.add_field(var="FORM_TYPE", ftype="hidden", value=ROOMCONFIG)
        for var, value in values.items():
            form.add_field(var=var, value=value)
        await self.plugin["xep_0045"].set_room_config(JID(room), form, timeout=10)

    async def set_affiliation(self, room: str, jid: str, affiliation: str) -> None:
        await self.plugin["xep_0045"].set_affiliation(JID(room), affiliation, jid=JID(jid),
                                                      timeout=10)

    async def kick(self, room: str, nick: str, reason: str = "") -> None:
        await self.plugin["xep_0045"].set_role(JID(room), nick, "none", reason=reason,
                                               timeout=10)


async def make_room(owner: RoomPeer, room: str, nick: str = "owner", *,
                    members_only: bool = False, non_anonymous: bool = True,
                    persistent: bool = True, archived: bool = True, password: str = "",
                    public: bool = False, members: Iterable[str] = (),
                    extra: dict[str, Any] | None = None) -> str:
    """Create `room` with `owner` in it as `nick` and configure it through the owner form
    (XEP-0045 §10.1): which unlocks it. `members` (bare JIDs) get affiliation member.
    Returns the room JID; the owner stays in the room."""
    await owner.join(room, nick)
    values: dict[str, Any] = {
        "muc#roomconfig_persistentroom": persistent,
        "muc#roomconfig_membersonly": members_only,
        "muc#roomconfig_whois": "anyone" if non_anonymous else "moderators",
        "muc#roomconfig_publicroom": public,
        "muc#roomconfig_enablearchiving": archived,
        "muc#roomconfig_roomsecret": password,
        **(extra or {}),
    }
    await owner.configure(room, values)
    for jid in members:
        await owner.set_affiliation(room, jid, "member")
    return room
