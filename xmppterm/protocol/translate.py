"""THE table from slixmpp events to domain events (poezio's `xmpp_event_handlers`).

Each slixmpp event that matters has one row here; its handler reads the stanza once
(with the pure readers in `stanzas.py`) and passes domain events to `emit`. Nothing
else in the program sees a stanza. Group chats have their rows in ROOM_HANDLERS,
bound to the link's `protocol.muc.rooms.RoomOps`: the `message` row skips
`type="groupchat"` and the 1:1-looking messages that belong to rooms (private messages
through a room, protocol/muc/private.py; invitations), and the `presence` row skips room
presences.
"""

from __future__ import annotations

import logging
import uuid
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..domain import events as ev
from ..domain.chatstates import ChatStateChanged
from ..domain.ids import AccountId
from ..domain.messages import Delivery
from ..domain.ports import EventSink
from . import mam
from . import roster_stanzas as rs
from . import stanzas as st
from .client import FAILED_EVENT, READY_EVENT
from .contacts import BLOCK_PUSH_EVENT
from .errors import Failure, clean_token, failure_reason
from .muc import rooms as muc
from .muc.stanzas import X_USER, is_room_private

if TYPE_CHECKING:
    from .muc.rooms import RoomOps
    from .omemo.receive import Intake as EncryptedIntake

log = logging.getLogger(__name__)
MAX_TRACKED = 4096  # ids of messages we sent, for receipts and errors

# (slixmpp event, Translator method): the whole mapping, in one place.
HANDLERS: tuple[tuple[str, str], ...] = (
    (READY_EVENT, "link_up"),
    ("session_resumed", "link_up"),  # XEP-0198: the same stream again, nothing lost
    (FAILED_EVENT, "link_failed"),
    ("connection_failed", "connection_failed"),
    ("disconnected", "disconnected"),
    ("stream_error", "stream_error"),
    ("message", "message"),
    ("message_error", "message_error"),
    ("carbon_received", "carbon_received"),
    ("carbon_sent", "carbon_sent"),
    ("receipt_received", "receipt_received"),
    ("stanza_acked", "stanza_acked"),
    ("sm_failed", "sm_failed"),
    ("session_end", "session_end"),
    (mam.ARCHIVED_EVENT, "archived"),
    ("roster_update", "roster_update"),
    ("presence_available", "presence"),
    ("presence_chat", "presence"),
    ("presence_away", "presence"),
    ("presence_xa", "presence"),
    ("presence_dnd", "presence"),
    ("presence_unavailable", "presence"),
    ("presence_subscribe", "subscription_request"),
    (BLOCK_PUSH_EVENT, "block_push"),
    ("chatstate", "chat_state"),  # XEP-0085, also without a body
)

# (slixmpp event, RoomOps method): the group-chat rows (protocol/muc/rooms.py).
ROOM_HANDLERS: tuple[tuple[str, str], ...] = (
    (muc.PRESENCE_EVENT, "presence"),  # a presence with <x muc#user>
    ("presence_error", "presence_error"),  # a refused join or nick change
    (muc.GROUPCHAT_EVENT, "message"),  # type groupchat: messages, subjects, status codes
    (muc.INVITE_EVENT, "invite_received"),  # XEP-0249 direct, XEP-0045 mediated
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
        self._unacked: OrderedDict[str, str] = OrderedDict()  # XEP-0198: id -> peer
        self._server_has: OrderedDict[str, None] = OrderedDict()  # ids the server acked
        self.queries: dict[str, int] = {}  # our open archive queries: id -> results so far
        self.refused_results = 0  # archive results ignored (forged, late, not ours)
        # OMEMO (protocol/omemo/receive.py): offered each message first; True = taken.
        self.omemo: EncryptedIntake | None = None
        # Group chats (protocol/muc/rooms.py): room messages, archives, presences.
        self.rooms: RoomOps | None = None

    @property
    def account(self) -> AccountId:
        return self.ctx.account

    def emit(self, event: ev.Event) -> None:
        if not self.closing:
            self._emit(event)

    def note_sent(self, message_id: str, to_bare: str, acked: bool = False) -> None:
        """Remember a message we send; with `acked`, SENT is reported on the server's
        stream-management ack (XEP-0198) instead of on writing it."""
        for table in (self._sent, self._unacked) if acked else (self._sent,):
            table[message_id] = to_bare
            while len(table) > MAX_TRACKED:
                table.popitem(last=False)

    def unacked(self, message_id: str) -> bool:
        """The message is in this stream's unacked queue (resent on resumption)."""
        return message_id in self._unacked

    def handed_over(self, message_id: str) -> bool:
        """Unacked (above), or acked by the server while its SENT is still on the way to
        core (a flush after a resumption can come first): not to be sent again."""
        return message_id in self._unacked or message_id in self._server_has

    @property
    def awaiting_acks(self) -> int:
        return len(self._unacked)

    def reopen(self) -> None:
        """Another attempt on the same client (stream resumption): report it afresh."""
        self.up = self.ended = False
        self._stream_error = ""

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
        if msg.xml.get("type") == "groupchat":
            return  # a ROOM_HANDLERS row reads it (and offers it to OMEMO)
        if self.rooms is not None and self.rooms.claims(msg.xml):
            return
        if self.omemo is not None and self.omemo.live(msg.xml):
            return
        chat = st.incoming_chat(msg.xml, self.ctx, self._local_id(), self._now())
        if chat is not None:
            self.emit(ev.MessageReceived(self.account, chat))

    def _carbon(self, msg: Any, sent: bool) -> None:
        inner = st.carbon_inner(msg.xml, self.ctx, sent)  # None: forged, dropped below
        if inner is not None and is_room_private(inner[0]):
            log.info("dropped a carbon of a private message through a room (carbons of "
                     "private messages are not shown)")
            return
        if inner is not None and self.omemo is not None and \
                self.omemo.carbon(inner[0], inner[1].bare, sent):
            return
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
        if self.rooms is not None and (self.rooms.private.refused(msg.xml)
                                       or self.rooms.refused(msg.xml)):
            return  # a room's answer to a private message or to a subject change
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

    # -- stream management (XEP-0198) and the archive (XEP-0313) ----------------------------
    def _acked(self, message_id: str) -> None:
        peer = self._unacked.pop(message_id, None)
        if peer is not None:
            self._server_has[message_id] = None
            while len(self._server_has) > MAX_TRACKED:
                self._server_has.popitem(last=False)
            self.emit(ev.MessageDeliveryChanged(self.account, self.ctx.chat(peer), message_id,
                                                Delivery.SENT))

    def stanza_acked(self, stanza: Any) -> None:
        """The server acked a stanza: one of our messages is now SENT."""
        if stanza.xml.tag == f"{st.CLIENT}message":
            self._acked(stanza.xml.get("id") or "")

    def sm_failed(self, _: Any = None) -> None:
        """The server refused stream management. In an established session the messages
        were written as without it: SENT. In a resumption attempt the old stream is gone:
        they stay pending (in the store) and core sends them again."""
        if self.up:
            for message_id in list(self._unacked):
                self._acked(message_id)
        self._unacked.clear()

    def session_end(self, _: Any = None) -> None:
        self._unacked.clear()  # that stream is over: its unacked messages stay pending

    def archived(self, msg: Any) -> None:
        """A `<result>` of an archive query: only ours, while open (mam.open_result).
        Results of our queries to a room's archive are the rooms' to read."""
        if self.rooms is not None and self.rooms.archived(msg.xml):
            return
        result, why = mam.open_result(msg.xml, self.ctx.own, self.queries)
        if result is None:
            self.refused_results += 1
            log.warning("ignored an archive result: %s", why)
            return
        self.queries[result.get("queryid", "")] += 1
        if self.rooms is not None and self.rooms.private.archived(result, self._now()):
            return  # a private message through a room (protocol/muc/private.py)
        if self.omemo is not None and self.omemo.archived(result):
            return
        try:
            chat = mam.archived_chat(result, self.ctx, self._local_id(), self._now())
        except Exception as exc:  # a poison message is skipped, never retried in a loop
            log.warning("skipped an archived message that could not be read (%s)",
                        type(exc).__name__)
            return
        if chat is not None:
            self.emit(ev.MessageReceived(self.account, chat))

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
        if stanza.xml.find(X_USER) is not None:
            return  # a room occupant's: a ROOM_HANDLERS row reads it
        found = st.presence(stanza.xml, self._own_full())
        if found is not None:
            self.emit(ev.PresenceChanged(self.account, found))

    def subscription_request(self, stanza: Any) -> None:
        found = rs.subscription_request(stanza.xml, self.ctx.own)
        if found is not None:
            self.emit(ev.SubscriptionRequested(self.account, *found))

    def chat_state(self, msg: Any) -> None:
        if self.rooms is not None and self.rooms.claims(msg.xml, report=False):
            return  # an occupant's, through a room: not a contact's chat
        found = st.chat_state(msg.xml, self.ctx)
        if found is not None:
            self.emit(ChatStateChanged(self.account, self.ctx.chat(found[0]), found[1]))

    def block_push(self, iq: Any) -> None:
        found = rs.block_push(iq.xml, self.ctx.own)
        if found is not None:
            self.emit(ev.BlockListChanged(self.account, found[1], found[0]))


def bind(client: Any, translator: Translator) -> None:
    """Register every row of HANDLERS on the slixmpp client."""
    for event, method in HANDLERS:
        client.add_event_handler(event, getattr(translator, method))


def bind_rooms(client: Any, rooms: RoomOps) -> None:
    """Register every row of ROOM_HANDLERS on the slixmpp client."""
    for event, method in ROOM_HANDLERS:
        client.add_event_handler(event, getattr(rooms, method))
