"""ChatLog: the one widget that draws messages and notices (DESIGN.md, "Cheap on the wire").

Built on Textual's Line API: each entry is rendered to strips once per width and kept
in a flat line table; `render_line` only crops a cached strip. Appending extends the
table, sets the virtual size and, if the reader was at the end, scrolls there at once
(`immediate`), so a new message costs one refresh, painted in one frame; `RichLog`
paints two. A later output layer (terminal scrolling instead of repainting) hooks here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual.events import Resize
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ...domain.messages import ChatMessage, Delivery
from ..render import LogEntry, entry_id, render_entry
from ..room_render import NICK_COMPONENTS, RoomLook

MAX_ENTRIES = 2000  # as many as a buffer keeps (ui/chats.py)
TRIM_BATCH = 200
COMPONENTS = (
    "time", "self", "peer", "body", "notice", "error", "warning", "pending", "sent",
    "delivered", "plain", "omemo-trusted", "omemo-untrusted", "undecryptable", "gutter",
    "found", *NICK_COMPONENTS,
)
FOUND_ABOVE = 3  # a search result is shown this many lines below the top, when it can be


class ChatLog(ScrollView, can_focus=True):
    """A scrolling log of `LogEntry`s (messages and notices) for the buffer shown."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {f"chatlog--{name}" for name in COMPONENTS}
    DEFAULT_CSS = """
    ChatLog { overflow-x: hidden; overflow-y: auto; }
    """

    def __init__(self, *, max_entries: int = MAX_ENTRIES, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.max_entries = max_entries
        self._entries: list[LogEntry] = []
        self._counts: list[int] = []  # lines of each entry at the current width
        self._lines: list[Strip] = []
        self._render_width = 0
        self._styles: dict[str, Style] | None = None
        self._found: str | None = None  # the message id of a search result, marked
        self._reveal_later = False  # show() came before the first size: scroll on resize
        self._look: RoomLook | None = None  # the room shown (nicks to mark), if it is one

    # -- public API ------------------------------------------------------------------------
    @property
    def entries(self) -> list[LogEntry]:
        return list(self._entries)

    @property
    def lines(self) -> list[str]:
        """The rendered lines as plain text (for tests and screen readers)."""
        return [strip.text for strip in self._lines]

    @property
    def found(self) -> str | None:
        """The id of the message marked as the search result shown, if any."""
        return self._found

    @property
    def look(self) -> RoomLook | None:
        return self._look

    def set_look(self, look: RoomLook | None) -> None:
        """The room shown changed what its lines show (a new look-alike nick, our new
        nick): redraw, in one refresh. Nothing happens if nothing changed."""
        if look == self._look:
            return
        self._look = look
        at_end = self._at_end()
        self._rebuild()
        if at_end:
            self._scroll_to_end()
        self.refresh()

    def show(self, entries: Iterable[LogEntry], found: str | None = None,
             look: RoomLook | None = None) -> None:
        """Replace everything (another buffer is shown) and scroll to its end; or, with
        `found` (a search result's message id), scroll to that message and mark it.
        `look`: what the room shown tells about nicks (None for a 1:1 chat)."""
        self._entries = list(entries)
        self._found = found
        self._look = look
        self._rebuild()
        self._reveal_later = found is not None and not self._render_width
        if not self._scroll_to_found():
            self._scroll_to_end()
        self.refresh()

    def line_of(self, message_id: str) -> int | None:
        """The first line of the message `message_id` in the log, if it is shown."""
        for index, entry in enumerate(self._entries):
            if entry_id(entry) == message_id:
                return sum(self._counts[:index])
        return None

    def _scroll_to_found(self) -> bool:
        line = self.line_of(self._found) if self._found is not None else None
        if line is None:
            return False
        self.scroll_to(y=max(0, line - FOUND_ABOVE), animate=False, immediate=True, force=True)
        return True

    def append(self, entry: LogEntry) -> None:
        """Add one entry at the end: one refresh, follows the end only if the reader was there."""
        at_end, offset, start = self._at_end(), self.scroll_offset.y, len(self._lines)
        self._entries.append(entry)
        strips = self._render_entry(entry) if self._render_width else []
        self._counts.append(len(strips))
        self._lines.extend(strips)
        self._set_virtual_size()
        if at_end:
            self._scroll_to_end()
        if self.scroll_offset.y == offset and strips:
            # Not scrolled (the log is not full yet, or the reader looks further up):
            # only the new lines may be visible. A scroll has refreshed everything.
            self.refresh_lines(start, len(strips))
        if len(self._entries) > self.max_entries + TRIM_BATCH:
            self._trim()

    def _trim(self) -> None:
        """Drop the oldest entries (in batches, so that appends stay cheap)."""
        drop = len(self._entries) - self.max_entries
        lines = sum(self._counts[:drop])
        del self._entries[:drop], self._counts[:drop], self._lines[:lines]
        at_end, offset = self._at_end(), self.scroll_offset.y
        self._set_virtual_size()
        if at_end:
            self._scroll_to_end()
        else:
            self.scroll_to(y=max(0, offset - lines), animate=False, immediate=True, force=True)
        self.refresh()

    def update_delivery(self, message_id: str, delivery: Delivery,
                        error: str | None = None) -> bool:
        """Redraw one of our messages with its new delivery state; False if it is not shown."""
        for index in range(len(self._entries) - 1, -1, -1):
            entry = self._entries[index]
            if isinstance(entry, ChatMessage) and entry.id == message_id:
                self.replace_entry(index, entry.with_delivery(delivery, error))
                return True
        return False

    def replace(self, message: ChatMessage) -> bool:
        """Redraw the message with the same id as `message`; False if it is not shown."""
        for index in range(len(self._entries) - 1, -1, -1):
            entry = self._entries[index]
            if isinstance(entry, ChatMessage) and entry.id == message.id:
                self.replace_entry(index, message)
                return True
        return False

    def replace_entry(self, index: int, entry: LogEntry) -> None:
        """Re-render only entry `index`; lines below move only if its height changed."""
        self._entries[index] = entry
        if not self._render_width:
            return
        start = sum(self._counts[:index])
        old = self._counts[index]
        strips = self._render_entry(entry)
        self._lines[start:start + old] = strips
        self._counts[index] = len(strips)
        if len(strips) == old:
            self.refresh_lines(start, old)
            return
        at_end = self._at_end()
        self._set_virtual_size()
        if at_end:
            self._scroll_to_end()
        self.refresh()

    # -- rendering -------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        index = self.scroll_offset.y + y
        if index >= len(self._lines):
            return Strip.blank(width, self.rich_style)
        return self._lines[index].crop_extend(0, width, None).apply_style(self.rich_style)

    def on_resize(self, event: Resize) -> None:
        width = self.scrollable_content_region.width
        if width and width != self._render_width:
            at_end = self._at_end()
            self._rebuild()
            if self._reveal_later:
                self._reveal_later = False
                self._scroll_to_found()
            elif at_end:
                self._scroll_to_end()
            self.refresh()  # the resize may have painted the old strips already

    def on_mount(self) -> None:
        # A theme change restyles component classes with a bare refresh(), which would
        # keep drawing our cached strips: watch the theme ourselves.
        self.watch(self.app, "theme", self._theme_changed, init=False)

    def _theme_changed(self) -> None:
        self.call_after_refresh(self._restyle)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._restyle()

    def _restyle(self) -> None:
        """Re-render only if a component style really changed: focus changes land in
        notify_style_update too and must not redraw thousands of lines."""
        old, self._styles = self._styles, None
        if self._render_width and self.is_mounted and self._entry_styles() != old:
            at_end = self._at_end()
            self._rebuild()
            if at_end:
                self._scroll_to_end()
            self.refresh()

    def _entry_styles(self) -> dict[str, Style]:
        if self._styles is None:
            self._styles = {
                name: self.get_component_rich_style(f"chatlog--{name}", partial=True,
                                                    default=Style.null())
                for name in COMPONENTS
            }
        return self._styles

    def _render_entry(self, entry: LogEntry) -> list[Strip]:
        console = self.app.console
        strips = []
        for text in render_entry(entry, self._render_width, self._entry_styles(), self._look):
            segments = [seg for seg in text.render(console) if seg.text != "\n"]
            strips.append(Strip(segments or [Segment("")]))
        if self._found is not None and entry_id(entry) == self._found:
            mark = self._entry_styles()["found"]
            strips = [strip.extend_cell_length(self._render_width, mark).apply_style(mark)
                      for strip in strips]
        return strips

    def _rebuild(self) -> None:
        self._render_width = self.scrollable_content_region.width
        self._lines = []
        self._counts = []
        if self._render_width:
            for entry in self._entries:
                strips = self._render_entry(entry)
                self._counts.append(len(strips))
                self._lines.extend(strips)
        else:
            self._counts = [0] * len(self._entries)
        self._set_virtual_size()

    def _set_virtual_size(self) -> None:
        """Set the scrollable size without a layout pass.

        Assigning `virtual_size` asks the screen for a layout; the reflow then updates
        the scrollbar in a message of its own, which paints a second frame. Updating
        the scrollbar here, before the frame, keeps one frame per change; a layout
        still happens when a scrollbar appears or goes (`show_vertical_scrollbar`).
        """
        size = Size(self._render_width, len(self._lines))
        if size == self.virtual_size:
            return
        self.set_reactive(ScrollView.virtual_size, size)
        if self.is_mounted and self.container_size:
            self._scroll_update(size)

    def _at_end(self) -> bool:
        return self.scroll_offset.y >= self.max_scroll_y

    def _scroll_to_end(self) -> None:
        self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True, force=True)
