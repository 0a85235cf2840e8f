"""The "requests" node of each identity in the sidebar: who asks to see its presence.

A request waits there, apart from the contacts, until the user approves or denies it
(or it is answered from another client). The Sidebar owns one `RequestNodes` and
gives it the identity's node; labels are sanitised `Text`, never markup.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.style import Style
from rich.text import Text
from textual.widgets.tree import TreeNode

from ...domain.ids import AccountId, ChatKey
from ...domain.sanitize import clean_field
from ..render import lookalike

NAME_LIMIT = 40
TEXT_LIMIT = 30


@dataclass(frozen=True, slots=True)
class RequestKey:
    """The data of a request's node: whose request, to which identity."""

    chat: ChatKey


class RequestNodes:
    """Request nodes per identity: one "requests" group node, one leaf per JID."""

    def __init__(self, style: Callable[[str], Style]) -> None:
        self._style = style
        self._groups: dict[AccountId, TreeNode[Any]] = {}
        self._nodes: dict[ChatKey, TreeNode[Any]] = {}
        self._texts: dict[ChatKey, str] = {}

    def add(self, parent: TreeNode[Any], chat: ChatKey, text: str) -> None:
        """Show the request (again: its text is updated)."""
        self._texts[chat] = text
        node = self._nodes.get(chat)
        if node is not None:
            node.set_label(self.label(chat))
            return
        group = self._groups.get(chat.account)
        if group is None:
            group = parent.add(Text(), data=None, expand=True)
            self._groups[chat.account] = group
        self._nodes[chat] = group.add_leaf(self.label(chat), data=RequestKey(chat))
        group.set_label(self._group_label(chat.account))

    def remove(self, chat: ChatKey) -> None:
        node = self._nodes.pop(chat, None)
        self._texts.pop(chat, None)
        if node is None:
            return
        node.remove()
        group = self._groups.get(chat.account)
        if group is None:
            return
        if self.jids(chat.account):
            group.set_label(self._group_label(chat.account))
        else:
            group.remove()
            del self._groups[chat.account]

    def jids(self, account: AccountId) -> list[str]:
        return sorted(chat.jid for chat in self._nodes if chat.account == account)

    def text(self, chat: ChatKey) -> str | None:
        return self._texts.get(chat)

    def relabel(self) -> None:
        for account in self._groups:
            self._groups[account].set_label(self._group_label(account))
        for chat, node in self._nodes.items():
            node.set_label(self.label(chat))

    def _group_label(self, account: AccountId) -> Text:
        return Text(f"requests ({len(self.jids(account))})", self._style("requests"))

    def label(self, chat: ChatKey) -> Text:
        label = Text("+ ", self._style("requests"))
        if lookalike(chat.jid):
            label.append("⚠", self._style("warning"))
        label.append(clean_field(chat.jid, NAME_LIMIT))
        text = self._texts.get(chat, "")
        if text:
            label.append(" " + clean_field(text, TEXT_LIMIT), self._style("status"))
        return label
