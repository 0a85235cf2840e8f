"""The demo's companion: a small bot on the local demo server that answers what it is sent.

It is a peer for newcomers to talk to, not part of the client. It trusts only the
demo server's certificate authority and never runs against a real server.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import xml.etree.ElementTree as ET
from pathlib import Path

import slixmpp
from slixmpp.exceptions import IqError, IqTimeout
from slixmpp.stanza import Message, Presence

GREETING = (
    "Hello! I am the demo companion on a private test server. Write to me and I answer.\n"
    "I also sit in a group chat: /join {room}\n"
    "Try /help for the commands, F2 for the contact list, F1 for the keys."
)
NICK = "echo"
MUC = "http://jabber.org/protocol/muc"


class EchoCompanion(slixmpp.ClientXMPP):
    def __init__(self, jid: str, password: str, ca_file: Path, greet: str | None = None,
                 room: str | None = None) -> None:
        super().__init__(jid, password, ssl_context=ssl.create_default_context(cafile=ca_file))
        self.greet, self.room = greet, room
        self.ready = asyncio.Event()
        self.register_plugin("xep_0030")
        self.register_plugin("xep_0199")
        self.register_plugin("xep_0184")  # answers receipts: the demo shows ✓✓ delivered
        self.add_event_handler("session_start", self.handle_session_start)
        self.add_event_handler("message", self.handle_message)
        self.add_event_handler("presence_subscribe", self.handle_subscribe)

    async def handle_session_start(self, _event: object) -> None:
        self.send_presence(pstatus="I echo what you send")
        await self.get_roster()
        if self.room:
            await self.open_room(self.room)
        self.ready.set()
        if self.greet:
            self.send_message(mto=slixmpp.JID(self.greet), mtype="chat",
                              mbody=GREETING.format(room=self.room or "ROOM@SERVICE"))

    async def open_room(self, room: str) -> None:
        """Join (creating it) the demo room and accept the default configuration."""
        joined = asyncio.get_running_loop().create_future()

        def presence(pres: Presence) -> None:
            if pres["from"].bare == room and pres["from"].resource == NICK and not joined.done():
                joined.set_result(None)

        self.add_event_handler("presence", presence)
        join = self.make_presence(pto=slixmpp.JID(f"{room}/{NICK}"))
        x = ET.SubElement(join.xml, f"{{{MUC}}}x")
        ET.SubElement(x, f"{{{MUC}}}history", maxstanzas="0")
        join.send()
        await asyncio.wait_for(joined, 15)
        self.del_event_handler("presence", presence)
        iq = self.make_iq_set(ito=slixmpp.JID(room))
        query = ET.SubElement(iq.xml, f"{{{MUC}#owner}}query")
        ET.SubElement(query, "{jabber:x:data}x", type="submit")
        with contextlib.suppress(IqError, IqTimeout):  # a room that exists already says so
            await iq.send()  # type: ignore[no-untyped-call]  # an instant room (XEP-0045 10.1.2)

    def handle_groupchat(self, msg: Message) -> None:
        nick, body = msg["from"].resource, str(msg["body"])
        if msg["from"].bare != self.room or nick in ("", NICK) or not body:
            return
        if msg.xml.find("{urn:xmpp:delay}delay") is not None:
            return  # history, not someone talking now
        self.send_message(mto=slixmpp.JID(self.room), mtype="groupchat",
                          mbody=f"{nick}: you said {body}")

    def handle_message(self, msg: Message) -> None:
        if msg["type"] == "groupchat":
            self.handle_groupchat(msg)
            return
        if msg["type"] not in ("chat", "normal") or not msg["body"]:
            return
        body = str(msg["body"])
        self.send_message(mto=msg["from"].bare, mbody=f"You said: {body}", mtype="chat")

    def handle_subscribe(self, pres: Presence) -> None:
        self.send_presence(pto=pres["from"].bare, ptype="subscribed")
