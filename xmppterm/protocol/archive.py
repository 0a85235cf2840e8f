"""The catch-up with our own server archive (XEP-0313) after each (re)connect.

Pages are read one at a time, forward from the marker core keeps in the store (mam.py
says how). Each result goes through the translator's `archived` row, which accepts it only
for one of the queries open here, and becomes a MessageReceived like a live message; the
store drops what it already has by stanza-id and origin-id. After each page an
ArchivePage event carries the new marker, so that a crash or a lost link mid-way costs at
most a page fetched twice, never a message skipped.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from typing import Any

from slixmpp.exceptions import IqError, IqTimeout
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

from ..domain import events as ev
from . import mam
from . import stanzas as st
from .translate import Translator

log = logging.getLogger(__name__)
QUERY_TIMEOUT = 60.0


def new_query_id() -> str:
    return secrets.token_hex(12)  # unguessable: one more reason a forged result fails


class ArchiveSync:
    def __init__(self, client: Any, translator: Translator,
                 new_id: Callable[[], str] = new_query_id) -> None:
        self._client, self._translator, self.new_id = client, translator, new_id
        client.register_handler(Callback(
            "xt MAM result", MatchXPath(f"{st.CLIENT}message/{mam.RESULT}"),
            lambda msg: client.event(mam.ARCHIVED_EVENT, msg)))

    async def run(self, marker: str | None) -> None:
        """Read every page after `marker` (mam.first_cursor), up to mam.MAX_PAGES."""
        cursor: mam.Cursor | None = mam.first_cursor(marker)
        while cursor is not None:
            try:
                fin, received = await self._page(cursor)
            except IqError as exc:
                cursor = self._after_error(cursor, exc)
                continue
            except IqTimeout:
                self._done(cursor, None, failed=True)
                return
            step = mam.after_page(cursor, fin, received)
            if step.cursor is None:
                self._done(cursor, step.marker, received=received, truncated=step.truncated)
            else:
                self._emit(ev.ArchivePage(self._translator.account, step.marker))
            cursor = step.cursor

    async def _page(self, cursor: mam.Cursor) -> tuple[mam.Fin, int]:
        query_id = self.new_id()
        queries = self._translator.queries
        iq = self._client.make_iq_set(mam.query_element(query_id, cursor))
        counted: list[int] = []

        def close(_: Any) -> None:  # the moment the answer arrives, before any later stanza
            counted.append(queries.pop(query_id, 0))

        queries[query_id] = 0
        try:
            result = await iq.send(timeout=QUERY_TIMEOUT, callback=close)
        finally:
            queries.pop(query_id, None)
        return mam.parse_fin(result.xml), sum(counted)

    def _after_error(self, cursor: mam.Cursor, exc: IqError) -> mam.Cursor | None:
        condition = str(exc.iq["error"]["condition"])
        if condition == "item-not-found" and cursor.after and not cursor.gap:
            log.info("the archive no longer holds our marker: reading its newest page")
            return mam.Cursor(newest=True, pages=cursor.pages, fetched=cursor.fetched, gap=True)
        log.info("archive query refused (%s): no catch-up", condition)
        self._done(cursor, None, failed=True)
        return None

    def _done(self, cursor: mam.Cursor, marker: str | None, *, received: int = 0,
              truncated: bool = False, failed: bool = False) -> None:
        self._emit(ev.ArchivePage(self._translator.account, marker, done=True,
                                  fetched=cursor.fetched + received, truncated=truncated,
                                  failed=failed, gap=cursor.gap))

    def _emit(self, event: ev.Event) -> None:
        self._translator.emit(event)
