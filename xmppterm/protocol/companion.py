"""The demo's companion: a small bot on the local demo server that answers what it is sent.

It is a peer for newcomers to talk to, not part of the client. It trusts only the
demo server's certificate authority and never runs against a real server.
"""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path

import slixmpp
from slixmpp.stanza import Message, Presence

GREETING = (
    "Hello! I am the demo companion on a private test server. Write to me and I answer.\n"
    "Try /help for the commands, F2 for the contact list, F1 for the keys."
)


class EchoCompanion(slixmpp.ClientXMPP):
    def __init__(self, jid: str, password: str, ca_file: Path, greet: str | None = None) -> None:
        super().__init__(jid, password, ssl_context=ssl.create_default_context(cafile=ca_file))
        self.greet = greet
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
        self.ready.set()
        if self.greet:
            self.send_message(mto=slixmpp.JID(self.greet), mbody=GREETING, mtype="chat")

    def handle_message(self, msg: Message) -> None:
        if msg["type"] not in ("chat", "normal") or not msg["body"]:
            return
        body = str(msg["body"])
        self.send_message(mto=msg["from"].bare, mbody=f"You said: {body}", mtype="chat")

    def handle_subscribe(self, pres: Presence) -> None:
        self.send_presence(pto=pres["from"].bare, ptype="subscribed")
