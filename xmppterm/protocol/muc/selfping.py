"""XEP-0410 MUC self-ping: find out that we silently dropped out of a room.

A room can lose us without a word (its server restarted, a stanza was lost, the room
was destroyed and made again): we would sit in a dead room forever. After `interval`
seconds in which the room sent nothing, we ping our own occupant JID; the answer
(XEP-0410 §3.1) says:

- a result, `service-unavailable` or `feature-not-implemented`: still joined;
- `item-not-found`: joined but renamed by another client of ours, if the room
  exists; when a disco#info to the room also says item-not-found, the room is gone;
- `remote-server-not-found` / `remote-server-timeout`, or no answer: unknown, ask
  again later;
- any other error (`not-acceptable`…): we are no longer in the room.

Then `RoomMembershipLost` is reported (core rejoins) and the room is no longer watched.
Rooms are watched from our own presence in them (status 110) and dropped when we
leave: nothing else has to call `watch`.
"""

from __future__ import annotations

import asyncio
import logging
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from enum import Enum
from typing import Any

from slixmpp.exceptions import IqError, IqTimeout

from ...domain.ids import ChatKey
from ...domain.rooms import SELF_PRESENCE, RoomMembershipLost

log = logging.getLogger(__name__)
PING = "urn:xmpp:ping"
MUC_USER = "http://jabber.org/protocol/muc#user"
DISCO_INFO = "http://jabber.org/protocol/disco#info"
SILENCE = 15 * 60.0  # seconds without anything from a room before we ping it
PING_TIMEOUT = 30.0
STILL_JOINED = frozenset({"service-unavailable", "feature-not-implemented"})
UNKNOWN = frozenset({"remote-server-not-found", "remote-server-timeout"})


class Outcome(Enum):
    JOINED = "joined"
    GONE = "gone"
    UNKNOWN = "unknown"


@dataclass(slots=True)
class _Watch:
    nick: str
    last: float  # loop time of the room's latest stanza to us
    task: asyncio.Task[None] | None = None


def _self_presence(xml: ET.Element) -> bool:
    return any(status.get("code") == SELF_PRESENCE
               for status in xml.findall(f"{{{MUC_USER}}}x/{{{MUC_USER}}}status"))


class SelfPing:
    """Watches the rooms we are in; reports `RoomMembershipLost` for one we left unawares."""

    def __init__(self, client: Any, report: Any, interval: float = SILENCE,
                 timeout: float = PING_TIMEOUT) -> None:
        """`report` is the link's translator: `account` and `emit(event)`."""
        self._client, self._report = client, report
        self.interval, self.timeout = interval, timeout
        self._rooms: dict[str, _Watch] = {}
        client.add_event_handler("presence", self._presence)
        client.add_event_handler("message", self._message)
        # A new session (not a resumed one) is in no room: forget the old session's.
        client.add_event_handler("session_start", lambda _: self.close())

    @property
    def watched(self) -> dict[str, str]:
        """Room bare JID → our nick there, for each room watched."""
        return {room: w.nick for room, w in self._rooms.items()}

    def watch(self, room: str, nick: str) -> None:
        now = asyncio.get_running_loop().time()
        current = self._rooms.get(room)
        if current is not None:
            current.nick, current.last = nick, now
            return
        watch = _Watch(nick, now)
        self._rooms[room] = watch
        watch.task = asyncio.ensure_future(self._run(room))

    def unwatch(self, room: str) -> None:
        watch = self._rooms.pop(room, None)
        if watch is not None and watch.task is not None:
            watch.task.cancel()

    def close(self) -> None:
        for room in list(self._rooms):
            self.unwatch(room)

    # -- room traffic ----------------------------------------------------------------------
    def _seen(self, room: str) -> None:
        watch = self._rooms.get(room)
        if watch is not None:
            watch.last = asyncio.get_running_loop().time()

    def _message(self, msg: Any) -> None:
        self._seen(msg["from"].bare)

    def _presence(self, pres: Any) -> None:
        sender = pres["from"]
        if sender.resource and _self_presence(pres.xml):
            if pres["type"] == "unavailable":
                self.unwatch(sender.bare)  # left, removed, or renamed (a new 110 follows)
            elif pres["type"] != "error":
                self.watch(sender.bare, sender.resource)
            return
        self._seen(sender.bare)

    # -- pinging ---------------------------------------------------------------------------
    async def _run(self, room: str) -> None:
        loop = asyncio.get_running_loop()
        while (watch := self._rooms.get(room)) is not None:
            wait = watch.last + self.interval - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
                continue
            outcome = await self.ping(room, watch.nick)
            if self._rooms.get(room) is not watch:
                return  # left or rejoined while the ping was out
            if outcome is Outcome.GONE:
                del self._rooms[room]
                log.info("self-ping: no longer in a room; reporting it")
                self._report.emit(RoomMembershipLost(
                    self._report.account, ChatKey(self._report.account, room),
                    "the room no longer knew us"))
                return
            watch.last = loop.time()

    async def ping(self, room: str, nick: str) -> Outcome:
        """One self-ping of `room/nick`, interpreted as XEP-0410 says."""
        iq = self._client.make_iq_get(ito=f"{room}/{nick}")
        iq.append(ET.Element(f"{{{PING}}}ping"))
        try:
            await iq.send(timeout=self.timeout)
            return Outcome.JOINED
        except (IqTimeout, TimeoutError):
            return Outcome.UNKNOWN
        except IqError as exc:
            condition = str(exc.iq["error"]["condition"] or "")
        if condition in STILL_JOINED:
            return Outcome.JOINED
        if condition in UNKNOWN:
            return Outcome.UNKNOWN
        if condition == "item-not-found":
            return await self._room_exists(room)
        return Outcome.GONE

    async def _room_exists(self, room: str) -> Outcome:
        """After item-not-found: renamed elsewhere (the room exists), or the room is gone."""
        iq = self._client.make_iq_get(ito=room)
        iq.append(ET.Element(f"{{{DISCO_INFO}}}query"))
        try:
            await iq.send(timeout=self.timeout)
            return Outcome.JOINED
        except (IqTimeout, TimeoutError):
            return Outcome.UNKNOWN
        except IqError as exc:
            gone = exc.iq["error"]["condition"] == "item-not-found"
            return Outcome.GONE if gone else Outcome.UNKNOWN
