"""The "rooms" node of each identity in the sidebar: its group chats.

A room's leaf reads `# !1 [3] room@service`: `#` marks a room (contacts have a presence
glyph), `!1` messages that name you, `[3]` unread messages, `(out)` when you are not
in it; the counts come first, as the sidebar is narrow and a room's address long.
The Sidebar owns one `RoomNodes`; labels are sanitised `Text`, never markup. A label
is redrawn only when one of these changes, never for a join or a leave.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.style import Style
from rich.text import Text
from textual.widgets.tree import TreeNode

from ...domain.ids import AccountId, ChatKey
from ...domain.sanitize import clean_field
from ..render import lookalike

NAME_LIMIT = 40
ROOM_MARK = "# "


class RoomNodes:
    """Room leaves per identity, under one "rooms" group node."""

    def __init__(self, style: Callable[[str], Style]) -> None:
        self._style = style
        self._groups: dict[AccountId, TreeNode[Any]] = {}
        self._nodes: dict[ChatKey, TreeNode[Any]] = {}
        self._highlights: dict[ChatKey, int] = {}
        self._out: set[ChatKey] = set()

    def __contains__(self, chat: object) -> bool:
        return chat in self._nodes

    def node(self, chat: ChatKey) -> TreeNode[Any] | None:
        return self._nodes.get(chat)

    def add(self, parent: TreeNode[Any], chat: ChatKey, unread: int) -> None:
        if chat in self._nodes:
            return
        group = self._groups.get(chat.account)
        if group is None:
            group = parent.add(Text("rooms", self._style("rooms")), data=None, expand=True)
            self._groups[chat.account] = group
        self._nodes[chat] = group.add_leaf(self.label(chat, unread), data=chat)

    def remove(self, chat: ChatKey) -> None:
        node = self._nodes.pop(chat, None)
        self._highlights.pop(chat, None)
        self._out.discard(chat)
        if node is None:
            return
        node.remove()
        group = self._groups.get(chat.account)
        if group is not None and not any(c.account == chat.account for c in self._nodes):
            group.remove()
            del self._groups[chat.account]

    def set_highlights(self, chat: ChatKey, count: int) -> bool:
        """True if the label must be redrawn."""
        if self._highlights.get(chat, 0) == count:
            return False
        self._highlights[chat] = count
        return chat in self._nodes

    def set_out(self, chat: ChatKey, out: bool) -> bool:
        """We are in the room, or not (any more): True if the label must be redrawn."""
        if (chat in self._out) == out:
            return False
        if out:
            self._out.add(chat)
        else:
            self._out.discard(chat)
        return chat in self._nodes

    def relabel(self, chat: ChatKey, unread: int) -> None:
        node = self._nodes.get(chat)
        if node is not None:
            node.set_label(self.label(chat, unread))

    def chats(self) -> list[ChatKey]:
        return list(self._nodes)

    def label(self, chat: ChatKey, unread: int) -> Text:
        label = Text(ROOM_MARK, self._style("rooms"))
        # the counts first: a room's address is long and the sidebar narrow
        highlights = self._highlights.get(chat, 0)
        if highlights:
            label.append(f"!{highlights} ", self._style("highlight"))
        if unread:
            label.append(f"[{unread}] ", self._style("unread"))
        if chat in self._out:
            label.append("(out) ", self._style("offline"))
        if lookalike(chat.jid):
            label.append("⚠", self._style("warning"))
        label.append(clean_field(chat.jid, NAME_LIMIT))
        return label
