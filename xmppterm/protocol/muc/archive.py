"""A room's archive (XEP-0313 queries sent to the room's bare JID), read after each join
from the newest room stanza-id core keeps for that room (first join: the newest page).

The paging is our own archive's (protocol/mam.py). Who may answer (THREATS.md, "MAM
results"): a `<result>` counts only with the id of one of OUR open queries to a room,
and only from that room's bare JID exactly: an occupant (room/nick) or anyone else
who sends a result is ignored. The result's `id` is the room's stanza-id, which the
store uses to drop what it already has (live and archive never show twice).
"""

from __future__ import annotations

import logging
import secrets
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import datetime
from typing import Any

from slixmpp.exceptions import IqError, IqTimeout

from ...domain.rooms import RoomArchivePage
from .. import mam
from .. import stanzas as st

log = logging.getLogger(__name__)
QUERY_TIMEOUT = 60.0
Deliver = Callable[[str, ET.Element, str | None, datetime | None], None]


class RoomArchive:
    def __init__(self, client: Any, translator: Any, known: Callable[[str], bool],
                 deliver: Deliver, new_id: Callable[[], str] = lambda: secrets.token_hex(12)
                 ) -> None:
        self._client, self._tr, self._known, self._deliver = client, translator, known, deliver
        self.new_id = new_id
        self.queries: dict[str, str] = {}  # our open query id -> the room asked
        self.counts: dict[str, int] = {}
        self.refused = 0

    def take(self, message: ET.Element) -> bool:
        """True when `message` carries a result of one of our room queries (read here,
        or refused when it did not come from that room); False: not a room query's."""
        results = message.findall(mam.RESULT)
        room = self.queries.get(results[0].get("queryid", "")) if len(results) == 1 else None
        if room is None:
            return False
        if message.get("from") != room:
            self.refused += 1
            log.warning("ignored a room archive result that did not come from the room")
            return True
        result = results[0]
        self.counts[result.get("queryid", "")] += 1
        omemo = self._tr.omemo
        if omemo is not None and omemo.room_archived(result, room):
            return True
        forwarded = result.find(st.FORWARDED)
        inner = forwarded.find(f"{st.CLIENT}message") if forwarded is not None else None
        if inner is None:
            return True
        delay = forwarded.find(st.DELAY) if forwarded is not None else None
        stamp = st.parse_stamp(delay.get("stamp")) if delay is not None else None
        result_id = result.get("id")
        try:
            self._deliver(room, inner, result_id if result_id and len(result_id) <= st.MAX_ID
                          else None, stamp)
        except Exception as exc:  # a poison message is skipped, never retried in a loop
            log.warning("skipped a room archive message that could not be read (%s)",
                        type(exc).__name__)
        return True

    async def run(self, room: str, after: str | None) -> None:
        """Every page after `after` (None: the newest page), up to mam.MAX_PAGES."""
        cursor: mam.Cursor | None = mam.first_cursor(after)
        chat = self._tr.ctx.chat(room)
        while cursor is not None:
            if not self._known(room):
                return  # left meanwhile
            try:
                fin, received = await self._page(room, cursor)
            except IqError as exc:
                if str(exc.iq["error"]["condition"]) == "item-not-found" and cursor.after:
                    log.info("the room archive no longer holds our marker: its newest page")
                    cursor = mam.Cursor(newest=True, gap=True)
                    continue
                self._tr.emit(RoomArchivePage(self._tr.account, chat, None, True, True))
                return
            except IqTimeout:
                self._tr.emit(RoomArchivePage(self._tr.account, chat, None, True, True))
                return
            step = mam.after_page(cursor, fin, received)
            self._tr.emit(RoomArchivePage(self._tr.account, chat, step.marker,
                                          done=step.cursor is None))
            cursor = step.cursor

    async def _page(self, room: str, cursor: mam.Cursor) -> tuple[mam.Fin, int]:
        query_id = self.new_id()
        iq = self._client.make_iq_set(mam.query_element(query_id, cursor), ito=room)
        counted: list[int] = []

        def close(_: Any) -> None:  # the moment the answer arrives, before any later stanza
            self.queries.pop(query_id, None)
            counted.append(self.counts.pop(query_id, 0))

        self.queries[query_id], self.counts[query_id] = room, 0
        try:
            result = await iq.send(timeout=QUERY_TIMEOUT, callback=close)
        finally:
            self.queries.pop(query_id, None)
            self.counts.pop(query_id, None)
        return mam.parse_fin(result.xml), sum(counted)
