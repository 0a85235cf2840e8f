"""THE table from slixmpp events to domain events (poezio's `xmpp_event_handlers`).

Each slixmpp event that matters has one row here; its handler reads the stanza once
(with the pure readers in `stanzas.py`) and passes domain events to `emit`. Nothing
else in the program sees a stanza. Groupchat messages are not read yet: only the
`message` event is handled (slixmpp fires `groupchat_message` as well), and it skips
`type="groupchat"`.
"""

from __future__ import annotations

import logging
import uuid
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from ..domain import events as ev
from ..domain.ids import AccountId
from ..domain.messages import Delivery
from ..domain.ports import EventSink
from . import stanzas as st
from .client import FAILED_EVENT, READY_EVENT
from .errors import Failure, clean_token, failure_reason

log = logging.getLogger(__name__)
MAX_TRACKED = 4096  # ids of messages we sent, for receipts and errors

# (slixmpp event, Translator method): the whole mapping, in one place.
HANDLERS: tuple[tuple[str, str], ...] = (
    (READY_EVENT, "link_up"),
    (FAILED_EVENT, "link_failed"),
    ("connection_failed", "connection_failed"),
    ("disconnected", "disconnected"),
    ("stream_error", "stream_error"),
    ("message", "message"),
    ("message_error", "message_error"),
    ("carbon_received", "carbon_received"),
    ("carbon_sent", "carbon_sent"),
    ("receipt_received", "receipt_received"),
    ("roster_update", "roster_update"),
    ("presence_available", "presence"),
    ("presence_chat", "presence"),
    ("presence_away", "presence"),
    ("presence_xa", "presence"),
    ("presence_dnd", "presence"),
    ("presence_unavailable", "presence"),
)


class Translator:
    """Handlers for the rows of HANDLERS, with the little state translation needs:
    whether the link already reported its end, and which ids we sent to whom."""

    def __init__(self, ctx: st.Context, emit: EventSink, own_full: Callable[[], str],
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.ctx, self._emit, self._own_full, self._now = ctx, emit, own_full, now
        self.up = False
        self.ended = False  # LinkLost/LinkFailed was reported: later ends are echoes
        self.closing = False  # the user disconnected: report nothing more
        self._stream_error = ""
        self._sent: OrderedDict[str, str] = OrderedDict()

    @property
    def account(self) -> AccountId:
        return self.ctx.account

    def emit(self, event: ev.Event) -> None:
        if not self.closing:
            self._emit(event)

    def note_sent(self, message_id: str, to_bare: str) -> None:
        self._sent[message_id] = to_bare
        while len(self._sent) > MAX_TRACKED:
            self._sent.popitem(last=False)

    def _local_id(self) -> str:
        return uuid.uuid4().hex

    # -- the link ------------------------------------------------------------------------
    def link_up(self, _: Any = None) -> None:
        if not self.up and not self.ended:
            self.up = True
            self.emit(ev.LinkUp(self.account, self._own_full()))

    def _end(self, event: ev.LinkLost | ev.LinkFailed) -> None:
        if not self.ended:
            self.ended, self.up = True, False
            self.emit(event)

    def link_failed(self, failure: Failure) -> None:
        self._end(ev.LinkFailed(self.account, failure_reason(
            self.account, self.ctx.own, self.ctx.domain, failure)))

    def lost(self, reason: str) -> None:
        self._end(ev.LinkLost(self.account, reason))

    def connection_failed(self, error: Any) -> None:
        detail = getattr(error, "strerror", None) or str(error or "") or "no answer"
        if isinstance(error, TimeoutError) and not str(error):
            detail = "timed out"
        self.lost(f"Could not connect to {self.ctx.domain}: {detail}")

    def stream_error(self, error: Any) -> None:
        self._stream_error = clean_token(str(error["condition"]))

    def disconnected(self, reason: Any) -> None:
        why = self._stream_error or str(reason or "") or "closed"
        if isinstance(reason, BaseException):
            why = getattr(reason, "strerror", None) or type(reason).__name__
        self.lost(f"The connection to {self.ctx.domain} was lost ({why})")

    # -- messages ----------------------------------------------------------------------------
    def message(self, msg: Any) -> None:
        chat = st.incoming_chat(msg.xml, self.ctx, self._local_id(), self._now())
        if chat is not None:
            self.emit(ev.MessageReceived(self.account, chat))

    def _carbon(self, msg: Any, sent: bool) -> None:
        chat = st.carbon(msg.xml, self.ctx, self._local_id(), self._now(), sent)
        if chat is None:
            log.warning("dropped a carbon that did not come from our own account")
            return
        self.emit(ev.MessageReceived(self.account, chat))

    def carbon_received(self, msg: Any) -> None:
        self._carbon(msg, sent=False)

    def carbon_sent(self, msg: Any) -> None:
        self._carbon(msg, sent=True)

    def message_error(self, msg: Any) -> None:
        message_id, sender = msg.xml.get("id") or "", st.bare_of(msg.xml.get("from"))
        if sender and self._sent.get(message_id) == sender:
            del self._sent[message_id]
            self.emit(ev.MessageDeliveryChanged(self.account, self.ctx.chat(sender), message_id,
                                                Delivery.FAILED, st.error_text(msg.xml)))
        else:
            self.emit(ev.Notice(self.account, "An error message arrived that does not match "
                                "any message sent from here; it was ignored.", error=True))

    def receipt_received(self, msg: Any) -> None:
        receipt = msg.xml.find("{urn:xmpp:receipts}received")
        message_id = receipt.get("id") if receipt is not None else None
        sender = st.bare_of(msg.xml.get("from"))
        if message_id and sender and self._sent.get(message_id) == sender:
            del self._sent[message_id]
            self.emit(ev.MessageDeliveryChanged(self.account, self.ctx.chat(sender), message_id,
                                                Delivery.DELIVERED))

    # -- roster and presence -------------------------------------------------------------
    def roster_update(self, iq: Any) -> None:
        kind = iq.xml.get("type")
        if kind == "result":
            items = tuple(item for item, removed in st.roster_items(iq.xml) if not removed)
            if iq.xml.find(st.ROSTER_QUERY) is not None:
                self.emit(ev.RosterReceived(self.account, items))
        elif kind == "set" and st.roster_push_allowed(iq.xml, self.ctx):
            for item, removed in st.roster_items(iq.xml):
                self.emit(ev.RosterItemChanged(self.account, item, removed))
        elif kind == "set":
            log.warning("ignored a roster push that did not come from our server")

    def presence(self, stanza: Any) -> None:
        found = st.presence(stanza.xml, self._own_full())
        if found is not None:
            self.emit(ev.PresenceChanged(self.account, found))


def bind(client: Any, translator: Translator) -> None:
    """Register every row of HANDLERS on the slixmpp client."""
    for event, method in HANDLERS:
        client.add_event_handler(event, getattr(translator, method))
