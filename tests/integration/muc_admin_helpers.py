"""Helpers for the room administration tests: a raw XEP-0045 join that works with any
slixmpp client (a scripted peer, or the client inside a ProtocolLink), and ways to make
the dev server forget an occupant silently (for self-ping)."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from typing import Any

from xmppterm.devserver import ProsodyServer

from .rooms import new_room

__all__ = ["PresenceLog", "codes", "error_condition", "forget_occupant", "item_of", "join",
           "new_room"]

MUC = "http://jabber.org/protocol/muc"
MUC_USER = "http://jabber.org/protocol/muc#user"


def codes(xml: ET.Element) -> set[str]:
    return {s.get("code", "") for s in xml.iter(f"{{{MUC_USER}}}status")}


def item_of(xml: ET.Element) -> dict[str, str]:
    item = xml.find(f"{{{MUC_USER}}}x/{{{MUC_USER}}}item")
    return dict(item.attrib) if item is not None else {}


def error_condition(xml: ET.Element) -> str:
    error = xml.find("{jabber:client}error")
    for child in error if error is not None else ():
        if child.tag.startswith("{urn:ietf:params:xml:ns:xmpp-stanzas}"):
            return child.tag.rpartition("}")[2]
    return ""


class PresenceLog:
    """Every presence a client receives from rooms, with waiting."""

    def __init__(self, client: Any) -> None:
        self.items: list[ET.Element] = []
        self._changed = asyncio.Event()
        client.add_event_handler("presence", self._got)

    def _got(self, pres: Any) -> None:
        self.items.append(pres.xml)
        self._changed.set()

    async def wait(self, pred: Any, timeout: float = 10.0, since: int = 0) -> ET.Element:
        async def find() -> ET.Element:
            seen = since
            while True:
                for xml in self.items[seen:]:
                    if pred(xml):
                        return xml
                seen = len(self.items)
                self._changed.clear()
                await self._changed.wait()
        return await asyncio.wait_for(find(), timeout)


async def join(client: Any, log: PresenceLog, room: str, nick: str) -> ET.Element:
    """Send a join presence; returns our self-presence (code 110) or the error presence."""
    start = len(log.items)
    pres = client.make_presence(pto=f"{room}/{nick}")
    pres.xml.append(ET.Element(f"{{{MUC}}}x"))
    pres.send()

    def mine(xml: ET.Element) -> bool:
        return xml.get("from", "").split("/")[0] == room and (
            xml.get("type") == "error" or "110" in codes(xml))

    return await log.wait(mine, since=start)


def forget_occupant(server: ProsodyServer, room: str, nick: str) -> None:
    """Make the room drop `nick` without telling anyone (as after a MUC restart that lost
    its occupant table): its occupant record and real-JID index go, silently."""
    lua = (f'local r = prosody.hosts["{server.conference_domain}"].modules.muc'
           f'.get_room_from_jid("{room}"); '
           f'local o = r._occupants["{room}/{nick}"]; '
           'if o then for j in o:each_session() do r._jid_nick[j] = nil end end; '
           f'r._occupants["{room}/{nick}"] = nil; print("forgot")')
    out = server.shell(">" + lua)
    assert "forgot" in out, out
