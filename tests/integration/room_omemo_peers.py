"""Helpers for OMEMO-in-rooms tests: a scripted peer that is both a MUC occupant
(rooms.RoomPeer, slixmpp's xep_0045) and an OMEMO device (omemo_peers.OmemoPeer), and
a room directory for driving xmppterm's protocol layer before core joins rooms."""

from __future__ import annotations

import asyncio
import secrets
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from copy import copy
from pathlib import Path
from typing import Any

import twomemo.etree
from slixmpp.jid import JID
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

from xmppterm.devserver import Account, ProsodyServer
from xmppterm.protocol.omemo import sce, wire

from .omemo_peers import OmemoPeer
from .rooms import RoomPeer

MUC = "http://jabber.org/protocol/muc"
MAM = "urn:xmpp:mam:2"


class RoomOmemoPeer(OmemoPeer, RoomPeer):
    """A scripted OMEMO device of `acc` that joins rooms (blind trust, memory storage)."""

    def __init__(self, acc: Account, ca: Path, resource: str = "omemo-room",
                 legacy_only: bool = False) -> None:
        super().__init__(acc, ca, resource, legacy_only)

    async def start(self, server: ProsodyServer) -> RoomOmemoPeer:
        await super().start(server)
        return self

    def real_jid(self, room: str, nick: str) -> str:
        jid = self.plugin["xep_0045"].get_jid_property(JID(room), nick, "jid")
        assert jid, f"{room} does not show the real JID of {nick}"
        return str(JID(jid).bare)

    async def say_encrypted(self, room: str, body: str, members: Iterable[str],
                            replaces: str | None = None) -> str:
        """An OMEMO (legacy: slixmpp-omemo has no SCE) groupchat message for `members`;
        with `replaces`, a correction named outside the encryption, as legacy clients do."""
        msg = self.make_message(mto=room, mtype="groupchat", mbody=body)
        msg["id"] = secrets.token_hex(8)
        for jid in members:
            await self.wait_for_devices(jid, namespace=wire.OLD)
        stanza, errors = await self.omemo.encrypt_message(msg, {JID(j) for j in members})
        assert stanza is not None and not errors
        stanza["origin_id"]["id"] = msg["id"]
        if replaces is not None:
            ET.SubElement(stanza.xml, sce.REPLACE, id=replaces)
        stanza.send()
        return str(msg["id"])

    async def decrypt_groupchat(self, stanza: Any) -> tuple[str | None, str]:
        """(body, the writer's real JID) of an encrypted groupchat message; OMEMO 2 read
        with xmppterm's SCE reader (the room must be the envelope's `to`)."""
        body, sender, _ = await self.read_groupchat(stanza)
        return body, sender

    async def read_groupchat(self, stanza: Any) -> tuple[str | None, str, str | None]:
        """`decrypt_groupchat` and the id a `<replace>` inside the OMEMO 2 envelope names
        (None for legacy OMEMO, which has no envelope)."""
        room, nick = stanza["from"].bare, stanza["from"].resource
        sender = self.real_jid(room, nick)
        element = stanza.xml.find(f"{{{wire.TWO}}}encrypted")
        if element is None or self.omemo.legacy_only:
            legacy = copy(stanza)
            for two in legacy.xml.findall(f"{{{wire.TWO}}}encrypted"):
                legacy.xml.remove(two)
            decrypted, _ = await self.omemo.decrypt_message(legacy)
            return decrypted["body"] or None, sender, None
        manager = await self.omemo.get_session_manager()
        plaintext, _, _ = await manager.decrypt(twomemo.etree.parse_message(element, sender))
        if plaintext is None:
            return None, sender, None
        body, replaces = sce.read_envelope(plaintext, sender, room)
        return body, sender, replaces

    async def next_encrypted(self, room: str, timeout: float = 15.0) -> Any:
        """The next groupchat message from `room` that carries OMEMO."""
        return await self.next_groupchat(
            room, lambda m: bool(wire.encrypted_elements(m.xml)), timeout)


class Directory:
    """room_intake.RoomDirectory from a table the test fills."""

    def __init__(self) -> None:
        self.rooms: dict[str, dict[str, str]] = {}

    def joined(self, room: str) -> bool:
        return room in self.rooms

    def real_jid(self, room: str, nick: str) -> str | None:
        return self.rooms.get(room, {}).get(nick)


def join_raw(client: Any, room: str, nick: str) -> None:
    """Join `room` from a client without xep_0045 (no history)."""
    presence = client.make_presence(pto=f"{room}/{nick}")
    x = ET.SubElement(presence.xml, f"{{{MUC}}}x")
    ET.SubElement(x, f"{{{MUC}}}history", maxstanzas="0")
    presence.send()


async def query_room_archive(client: Any, room: str, take: Any) -> int:
    """Read `room`'s whole archive (one page), handing each <result> to `take`; returns
    how many results came."""
    queryid = secrets.token_hex(6)
    results: list[ET.Element] = []

    def found(msg: Any) -> None:
        result = msg.xml.find(f"{{{MAM}}}result")
        if result is not None and result.get("queryid") == queryid and \
                msg["from"].bare == room:
            results.append(result)
            take(result)

    name = f"test room MAM {queryid}"
    client.register_handler(Callback(name, MatchXPath(f"{{jabber:client}}message/{{{MAM}}}result"),
                                     found))
    try:
        iq = client.make_iq_set(ito=room)
        ET.SubElement(iq.xml, f"{{{MAM}}}query", queryid=queryid)
        await iq.send(timeout=15)
        await asyncio.sleep(0.2)  # results come before the iq result; let handlers run
    finally:
        client.remove_handler(name)
    return len(results)
