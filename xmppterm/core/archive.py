"""One identity's catch-up with its server archive (XEP-0313), as core sees it.

After each LinkUp the link reads the archive after the marker kept in the store; every
result arrives as a MessageReceived that the store deduplicates (stanza-id, origin-id).
The marker moves after each page, once the page's messages are stored (events come in
order), and, once a catch-up has completed, with each live message that carries our
archive's stanza-id: the archive and the live stream then agree up to it.
"""

from __future__ import annotations

import logging

from ..domain import events as ev
from ..domain.ids import AccountId
from ..domain.messages import ChatMessage
from ..domain.ports import EventSink
from ..store.store import Store
from .link import Link

log = logging.getLogger(__name__)


class ArchiveTracker:
    def __init__(self, account: AccountId, store: Store, emit: EventSink) -> None:
        self.account, self._store, self._emit = account, store, emit
        self.synced = False  # a catch-up completed on the current session

    def link_changed(self) -> None:
        """A session began or ended: live messages no longer move the marker."""
        self.synced = False

    async def catch_up(self, link: Link) -> None:
        marker = await self._store.archive_marker(self.account)
        await link.catch_up(marker)

    async def page(self, event: ev.ArchivePage) -> None:
        if event.marker is not None:
            await self._store.save_archive_marker(self.account, event.marker)
        if not event.done:
            return
        self.synced = not (event.failed or event.truncated)
        if event.gap:
            self._notice("The server's archive no longer holds the last message seen here: "
                         "messages from that time may be missing.")
        if event.truncated:
            self._notice(f"Caught up with {event.fetched} messages from the server's archive; "
                         "the rest follows at the next connection.")
        log.info("archive catch-up done: %d results%s", event.fetched,
                 " (failed)" if event.failed else "")  # no account name: logs name no one

    def live_marker(self, msg: ChatMessage) -> str | None:
        """Where a live message moves the marker: after a completed catch-up, to its
        archive id (stored with the message, in one commit); else nowhere."""
        return msg.stanza_id if self.synced and msg.stanza_id else None

    def _notice(self, text: str) -> None:
        self._emit(ev.Notice(self.account, text))
