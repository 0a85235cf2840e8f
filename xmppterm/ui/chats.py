"""Buffers, irssi style: buffer 1 is the status buffer, then one per open chat.

Pure state, no Textual: the app applies events here, then tells the widgets what
changed. Each buffer keeps its entries (bounded), its unread count and whether the
peer is a stranger (not in the identity's roster).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum

from ..domain.corrections import last_own
from ..domain.ids import ChatKey
from ..domain.messages import ChatMessage, Delivery, Direction
from .render import LogEntry, NoticeLine

MAX_ENTRIES = 2000
GAP = "Later messages are not loaded between the lines above and below."


class Change(Enum):
    """What adding a message did to its buffer."""

    APPENDED = "appended"
    REPLACED = "replaced"


@dataclass(slots=True)
class Buffer:
    key: ChatKey | None  # None: the status buffer
    entries: list[LogEntry] = field(default_factory=list)
    unread: int = 0
    stranger: bool = False
    partial: bool = False  # may lack the chat's newest messages (opened at a search result)

    @property
    def title(self) -> str:
        return "status" if self.key is None else self.key.jid

    def find(self, message_id: str) -> int | None:
        """Index of the message with this id (searched from the newest)."""
        for index in range(len(self.entries) - 1, -1, -1):
            entry = self.entries[index]
            if isinstance(entry, ChatMessage) and entry.id == message_id:
                return index
        return None

    def correctable(self) -> tuple[str, str] | None:
        """(id, body) of our message that /correct changes, if this buffer shows it: the
        chat's last message, ours and sent (core's rule, domain.corrections.last_own)."""
        if self.key is None or self.partial:
            return None
        mine, _ = last_own([e for e in self.entries if isinstance(e, ChatMessage)])
        return (mine.id, mine.body) if mine is not None else None

    def add(self, entry: LogEntry, limit: int) -> None:
        self.entries.append(entry)
        if len(self.entries) > limit:
            del self.entries[: len(self.entries) - limit]


class Chats:
    """The ordered buffers and which one is shown."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self.buffers: list[Buffer] = [Buffer(None)]
        self.index = 0

    @property
    def current(self) -> Buffer:
        return self.buffers[self.index]

    @property
    def status(self) -> Buffer:
        return self.buffers[0]

    def find(self, key: ChatKey | None) -> Buffer | None:
        for buffer in self.buffers:
            if buffer.key == key:
                return buffer
        return None

    def position(self, key: ChatKey | None) -> int | None:
        for index, buffer in enumerate(self.buffers):
            if buffer.key == key:
                return index
        return None

    def activity(self) -> list[int]:
        """1-based numbers of buffers with unread messages."""
        return [n for n, buffer in enumerate(self.buffers, 1) if buffer.unread]

    # -- opening and closing ---------------------------------------------------------------
    def ensure(self, key: ChatKey, stranger: bool = False) -> Buffer:
        buffer = self.find(key)
        if buffer is None:
            buffer = Buffer(key, stranger=stranger)
            self.buffers.append(buffer)
        return buffer

    def open(self, key: ChatKey, history: Iterable[ChatMessage], stranger: bool,
             focus: bool, at: str | None = None) -> Buffer:
        """A chat opened with its history: create or refill its buffer. With `at`, the
        history is a window around a search result, put before what the buffer had."""
        buffer = self.ensure(key, stranger)
        buffer.stranger = stranger
        history = list(history)
        known = {message.id for message in history}
        # Lines that arrived before the history (notices, a message racing the store) stay.
        kept = [e for e in buffer.entries if isinstance(e, NoticeLine) or e.id not in known]
        if at is not None and history:
            # Without messages of its own before, the buffer is the window only.
            buffer.partial |= not any(isinstance(e, ChatMessage) for e in buffer.entries)
            buffer.entries = self._around(buffer.entries, history, kept)
        else:
            buffer.entries = [*history, *kept][-self.max_entries:]
            buffer.partial = False
        if focus:
            self.select(self.buffers.index(buffer))
        return buffer

    def _around(self, old: list[LogEntry], window: list[ChatMessage],
                kept: list[LogEntry]) -> list[LogEntry]:
        """The window, then what the buffer had after it: from the window's last message
        on if the buffer has it, else its newest lines after a gap line."""
        last = Buffer(None, old).find(window[-1].id)
        if last is not None:
            known = {message.id for message in window}
            after = [e for e in old[last + 1:] if isinstance(e, NoticeLine) or e.id not in known]
            gap = []
        else:
            after = kept
            gap = [NoticeLine(GAP)] if any(isinstance(e, ChatMessage) for e in kept) else []
        room = max(0, self.max_entries - len(window) - len(gap))
        return [*window, *gap, *(after[len(after) - room:] if room else [])]

    def close(self, key: ChatKey) -> bool:
        """Remove a chat's buffer; True if it was the one shown (then the previous is)."""
        position = self.position(key)
        if position is None or position == 0:
            return False
        del self.buffers[position]
        was_current = position == self.index
        if position <= self.index:
            self.index = max(0, self.index - 1)
        return was_current

    # -- switching -------------------------------------------------------------------------
    def select(self, index: int) -> bool:
        """Show buffer `index` (0-based); False if there is none."""
        if not 0 <= index < len(self.buffers):
            return False
        self.index = index
        self.current.unread = 0
        return True

    def cycle(self, step: int) -> None:
        self.select((self.index + step) % len(self.buffers))

    # -- content ---------------------------------------------------------------------------
    def add_message(self, message: ChatMessage, stranger: bool) -> tuple[Buffer, Change]:
        """File a message in its chat (creating the buffer); count it unread if not shown."""
        buffer = self.ensure(message.chat, stranger)
        found = buffer.find(message.id)
        if found is not None:
            buffer.entries[found] = message
            return buffer, Change.REPLACED
        buffer.add(message, self.max_entries)
        buffer.partial = False  # a new message: the newest there is
        if buffer is not self.current and message.direction is Direction.INCOMING:
            buffer.unread += 1
        return buffer, Change.APPENDED

    def update_delivery(self, key: ChatKey, message_id: str, delivery: Delivery,
                        error: str | None = None) -> tuple[Buffer, ChatMessage] | None:
        buffer = self.find(key)
        found = None if buffer is None else buffer.find(message_id)
        if buffer is None or found is None:
            return None
        old = buffer.entries[found]
        assert isinstance(old, ChatMessage)
        new = old.with_delivery(delivery, error or None)
        buffer.entries[found] = new
        return buffer, new

    def add_notice(self, notice: NoticeLine, key: ChatKey | None = None) -> Buffer:
        """A notice in a chat's buffer if it is open, else in the status buffer."""
        buffer = self.find(key) or self.status
        buffer.add(notice, self.max_entries)
        return buffer
