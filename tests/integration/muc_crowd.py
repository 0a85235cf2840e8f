"""A crowd for big-room tests and benchmarks: one XEP-0114 component connection to the
dev server that puts many occupants (user1..userN@bots.<host>) into a room, cheaply.

`add_bots(server)` must run before the server starts (it adds the component to the
config); `Crowd(server).fill(room, n)` then joins n occupants and waits for each one's
self-presence.
"""

from __future__ import annotations

import asyncio
import secrets
import xml.etree.ElementTree as ET
from typing import Any

from slixmpp import ComponentXMPP

from xmppterm.devserver import ProsodyServer
from xmppterm.devserver.storage import lua_list, lua_str
from xmppterm.transport.loopback import free_tcp_port

MUC = "http://jabber.org/protocol/muc"
MUC_USER = "http://jabber.org/protocol/muc#user"
MUC_OWNER = "http://jabber.org/protocol/muc#owner"
LOOPBACK = "127.0.0.1"


def add_bots(server: ProsodyServer) -> tuple[str, str, int]:
    """Add a component `bots.<host>` (secret, loopback port) to a server not yet
    started; returns (domain, secret, port)."""
    domain, secret, port = f"bots.{server.host}", secrets.token_hex(16), free_tcp_port(LOOPBACK)
    server.extra_config += [
        f"component_ports = {lua_list([port])}",
        f"component_interfaces = {lua_list([LOOPBACK])}",
        f"Component {lua_str(domain)}",
        f"\tcomponent_secret = {lua_str(secret)}",
    ]
    server.bots = (domain, secret, port)  # type: ignore[attr-defined]
    return domain, secret, port


class Crowd(ComponentXMPP):  # type: ignore[misc]
    """The component; each bot is `user<i>@<domain>/bot` with nick `bot<i>`."""

    def __init__(self, server: ProsodyServer) -> None:
        domain, secret, port = server.bots  # type: ignore[attr-defined]
        super().__init__(domain, secret, LOOPBACK, port)
        self.joined: set[str] = set()
        self.created: set[str] = set()  # rooms a bot created (as an instant room)
        self._unlocked: dict[str, Any] = {}  # room -> the answer to its instant-room form
        self._changed = asyncio.Event()
        self.add_event_handler("presence", self._presence)

    def _presence(self, pres: Any) -> None:
        codes = {s.get("code") for s in pres.xml.iter(f"{{{MUC_USER}}}status")}
        if "110" in codes and pres["type"] != "unavailable":
            self.joined.add(str(pres["to"].bare))
            if "201" in codes:  # bot1 made the room: accept the defaults (instant room)
                self.created.add(str(pres["from"].bare))
                iq = self.make_iq_set(ito=pres["from"].bare, ifrom=pres["to"])
                query = ET.SubElement(iq.xml, f"{{{MUC_OWNER}}}query")
                ET.SubElement(query, "{jabber:x:data}x", {"type": "submit"})
                self._unlocked[str(pres["from"].bare)] = iq.send(timeout=30)
            self._changed.set()

    async def start(self) -> Crowd:
        self.connect()
        await self.wait_until("session_start", 15)
        return self

    def bot(self, i: int) -> str:
        return f"user{i}@{self.boundjid.bare}/bot"

    async def fill(self, room: str, count: int, timeout: float = 60.0) -> None:
        """Join `count` bots to `room` and wait until the room confirmed each (a room
        that does not exist is made by bot1, as an instant room, before the others)."""
        self._join(room, 1)
        await self._until(1, timeout)
        unlocked = self._unlocked.pop(room, None)
        if unlocked is not None:  # a new room is locked until its form is answered
            await unlocked
        for i in range(2, count + 1):
            self._join(room, i)
            if i % 50 == 0:
                await asyncio.sleep(0)  # let the socket drain
        await self._until(count, timeout)

    def _join(self, room: str, i: int) -> None:
        pres = self.make_presence(pfrom=self.bot(i), pto=f"{room}/bot{i}")
        pres.xml.append(ET.Element(f"{{{MUC}}}x"))
        pres.send()

    async def _until(self, count: int, timeout: float) -> None:
        async def wait() -> None:
            while len(self.joined) < count:
                self._changed.clear()
                await self._changed.wait()
        await asyncio.wait_for(wait(), timeout)

    async def stop(self) -> None:
        await self.disconnect(wait=1.0)
