"""Sidebar: identities, each with its contacts and, apart, its strangers.

Attributes down: the app calls the `set_*` methods; messages up: `ChatSelected` and
`IdentitySelected`. Every label is a sanitised `Text` (a `str` label would be parsed
as markup by Tree). Presence floods are coalesced: a changed contact is marked and
its one label is redrawn on the next tick.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from ...domain.connection import ConnState
from ...domain.ids import AccountId, ChatKey
from ...domain.ports import AccountInfo
from ...domain.roster import RosterItem
from ...domain.sanitize import clean_field
from ..contacts import PRESENCE_CLASS, PRESENCE_GLYPHS, Contacts
from ..identity_colours import IDENTITY_COLOURS, colour_slot, override_style
from ..render import lookalike
from .requests import RequestKey, RequestNodes
from .room_nodes import RoomNodes

NodeData = AccountId | ChatKey | RequestKey | None
FLUSH_DELAY = 0.05
NAME_LIMIT = 40
COMPONENTS = (
    *(f"identity-{n}" for n in range(1, IDENTITY_COLOURS + 1)),
    "available", "away", "dnd", "offline", "unread", "warning", "status", "strangers",
    "requests", "rooms", "highlight", "blocked",
    "state-online", "state-offline", "state-failed",
)
STATE_CLASS = {
    ConnState.ONLINE: "state-online", ConnState.FAILED: "state-failed",
}


@dataclass(slots=True)
class _Identity:
    info: AccountInfo
    colour: int
    node: TreeNode[NodeData]
    contacts: Contacts  # owned by the app: the sidebar only reads it
    shown: dict[str, RosterItem] = field(default_factory=dict)
    keys: list[tuple[str, str]] = field(default_factory=list)  # sort keys of contact nodes
    contact_nodes: dict[str, TreeNode[NodeData]] = field(default_factory=dict)
    strangers: TreeNode[NodeData] | None = None
    stranger_nodes: dict[str, TreeNode[NodeData]] = field(default_factory=dict)
    blocked: frozenset[str] = frozenset()  # the server's block list (XEP-0191)

    def blocks(self, jid: str) -> bool:
        """The block list covers `jid`: the bare JID itself or its whole domain."""
        return jid in self.blocked or jid.rpartition("@")[2] in self.blocked


def sort_key(item: RosterItem) -> tuple[str, str]:
    return ((item.name or item.jid).casefold(), item.jid)


class Sidebar(Tree[NodeData]):
    """A tree of identities > contacts (+ strangers), with presence and unread counts."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        *Tree.COMPONENT_CLASSES, *(f"sidebar--{name}" for name in COMPONENTS)
    }

    class ChatSelected(Message):
        def __init__(self, chat: ChatKey) -> None:
            super().__init__()
            self.chat = chat

    class IdentitySelected(Message):
        def __init__(self, account: AccountId) -> None:
            super().__init__()
            self.account = account

    class RequestSelected(Message):
        def __init__(self, chat: ChatKey) -> None:
            super().__init__()
            self.chat = chat

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(Text("identities"), id=id, classes=classes)
        self.show_root = False
        self.guide_depth = 2
        self._identities: dict[AccountId, _Identity] = {}
        self._unread: dict[ChatKey, int] = {}
        self._dirty: set[ChatKey] = set()
        self._flush_pending = False
        self._style_cache: dict[str, Style] = {}
        self.requests = RequestNodes(self._style)  # subscription requests, per identity
        self.rooms = RoomNodes(self._style)  # group chats, per identity

    # -- styles ----------------------------------------------------------------------------
    def _style(self, name: str) -> Style:
        # Our own cache: Widget.refresh() empties Textual's, and the tree refreshes per node.
        style = self._style_cache.get(name)
        if style is None:
            style = self.get_component_rich_style(f"sidebar--{name}", partial=True,
                                                  default=Style.null())
            self._style_cache[name] = style
        return style

    def on_mount(self) -> None:
        # A theme change restyles component classes with a bare refresh(); labels carry
        # their styles, so watch the theme to rebuild them.
        self.watch(self.app, "theme", self._theme_changed, init=False)

    def _theme_changed(self) -> None:
        self.call_after_refresh(self._restyle)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._restyle()

    def _restyle(self) -> None:
        """Relabel only if a component style really changed (focus changes land here too)."""
        old, self._style_cache = self._style_cache, {}
        if self.is_mounted and any(self._style(name) != style for name, style in old.items()):
            self.relabel_all()

    # -- identities ------------------------------------------------------------------------
    def set_accounts(self, accounts: list[AccountInfo],
                     contacts: Mapping[AccountId, Contacts]) -> None:
        for info in accounts:
            known = self._identities.get(info.id)
            if known is not None:
                known.info = info
                known.node.set_label(self._identity_label(known))
                continue
            node = self.root.add(Text(info.id.name), data=info.id, expand=True)
            colour = colour_slot(info.color, len(self._identities))
            ident = _Identity(info, colour, node, contacts.get(info.id) or Contacts())
            self._identities[info.id] = ident
            node.set_label(self._identity_label(ident))

    def set_state(self, account: AccountId, state: ConnState) -> None:
        ident = self._identities.get(account)
        if ident is not None:
            ident.info = replace(ident.info, state=state)
            ident.node.set_label(self._identity_label(ident))

    def _identity_label(self, ident: _Identity) -> Text:
        info = ident.info
        style = self._style(f"identity-{ident.colour}")
        style += override_style(info.color)  # `color` of its table, over the theme's slot
        state_style = self._style(STATE_CLASS.get(info.state, "state-offline"))
        route = clean_field((info.route or "DIRECT").upper(), 8)
        # route and state before the JID: a narrow sidebar cuts the end of the line
        return Text.assemble((clean_field(info.id.name, NAME_LIMIT), style), " ",
                             (route, state_style), " ", (info.state.value, state_style), " ",
                             (clean_field(info.jid, NAME_LIMIT), style))

    # -- roster ----------------------------------------------------------------------------
    def set_roster(self, account: AccountId) -> None:
        """Redraw an identity's contacts from its model (one pass: Tree only flags a rebuild)."""
        ident = self._identities.get(account)
        if ident is None:
            return
        for node in ident.contact_nodes.values():
            node.remove()
        ident.contact_nodes.clear()
        ident.shown = dict(ident.contacts.items)
        for jid in ident.shown:
            self._drop_stranger(ident, jid)  # now a contact
        ordered = sorted(ident.shown.values(), key=sort_key)
        ident.keys = [sort_key(item) for item in ordered]
        before = ident.node.children[0] if ident.node.children else None  # strangers, requests
        for item in ordered:
            key = ChatKey(account, item.jid)
            label = self._contact_label(ident, item)
            if before is None:
                node = ident.node.add_leaf(label, data=key)
            else:
                node = ident.node.add_leaf(label, data=key, before=before)
            ident.contact_nodes[item.jid] = node

    def update_item(self, account: AccountId, item: RosterItem, removed: bool) -> None:
        """One contact was added, changed or removed (the model is already updated)."""
        ident = self._identities.get(account)
        if ident is None:
            return
        old = ident.shown.pop(item.jid, None)
        if old is not None:
            index = bisect_left(ident.keys, sort_key(old))
            del ident.keys[index]
            ident.contact_nodes.pop(item.jid).remove()
        if removed:
            return
        ident.shown[item.jid] = item
        self._drop_stranger(ident, item.jid)
        index = bisect_left(ident.keys, sort_key(item))
        ident.keys.insert(index, sort_key(item))
        node = ident.node.add_leaf(self._contact_label(ident, item),
                                   data=ChatKey(account, item.jid), before=index)
        ident.contact_nodes[item.jid] = node

    def presence_changed(self, chat: ChatKey) -> None:
        """A contact's presence changed: redraw its label soon (floods coalesce)."""
        self._mark(chat)

    # -- chats -----------------------------------------------------------------------------
    def set_unread(self, chat: ChatKey, count: int) -> None:
        if self._unread.get(chat, 0) != count:
            self._unread[chat] = count
            self._mark(chat)

    def add_stranger(self, chat: ChatKey) -> None:
        ident = self._identities.get(chat.account)
        if ident is None or chat.jid in ident.contact_nodes or chat.jid in ident.stranger_nodes:
            return
        if ident.strangers is None:
            ident.strangers = ident.node.add(Text("strangers", self._style("strangers")),
                                             data=None, expand=True)
        node = ident.strangers.add_leaf(self._stranger_label(chat), data=chat)
        ident.stranger_nodes[chat.jid] = node

    def add_room(self, chat: ChatKey) -> None:
        """A group chat of the identity: under its "rooms" node (not a stranger)."""
        ident = self._identities.get(chat.account)
        if ident is not None:
            self._drop_stranger(ident, chat.jid)
            self.rooms.add(ident.node, chat, self._unread.get(chat, 0))

    def remove_room(self, chat: ChatKey) -> None:
        self.rooms.remove(chat)

    def set_highlights(self, chat: ChatKey, count: int) -> None:
        """Messages in a room that name you, apart from the unread count."""
        if self.rooms.set_highlights(chat, count):
            self._mark(chat)

    def room_changed(self, chat: ChatKey, out: bool) -> None:
        if self.rooms.set_out(chat, out):
            self._mark(chat)

    def remove_stranger(self, chat: ChatKey) -> None:
        ident = self._identities.get(chat.account)
        if ident is not None:
            self._drop_stranger(ident, chat.jid)

    def is_stranger_node(self, chat: ChatKey) -> bool:
        ident = self._identities.get(chat.account)
        return ident is not None and chat.jid in ident.stranger_nodes

    def is_contact_node(self, chat: ChatKey) -> bool:
        ident = self._identities.get(chat.account)
        return ident is not None and chat.jid in ident.contact_nodes

    def reveal(self, chat: ChatKey | None) -> None:
        """Put the cursor on the chat's node (or on the first line if it has none)."""
        ident = self._identities.get(chat.account) if chat is not None else None
        node = None
        if ident is not None and chat is not None:
            node = (ident.contact_nodes.get(chat.jid) or ident.stranger_nodes.get(chat.jid)
                    or self.rooms.node(chat))
        if node is not None:
            self.move_cursor(node)
        elif self.cursor_line < 0:
            self.cursor_line = 0

    def label_of(self, chat: ChatKey) -> str:
        """The plain text of a chat's label ('' if it has no node)."""
        ident = self._identities.get(chat.account)
        if ident is None:
            return ""
        node = (ident.contact_nodes.get(chat.jid) or ident.stranger_nodes.get(chat.jid)
                or self.rooms.node(chat))
        return str(node.label) if node is not None else ""

    def _drop_stranger(self, ident: _Identity, jid: str) -> None:
        node = ident.stranger_nodes.pop(jid, None)
        if node is not None:
            node.remove()
        if ident.strangers is not None and not ident.stranger_nodes:
            ident.strangers.remove()
            ident.strangers = None

    # -- labels ----------------------------------------------------------------------------
    def _mark(self, chat: ChatKey) -> None:
        self._dirty.add(chat)
        if not self._flush_pending:
            self._flush_pending = True
            self.set_timer(FLUSH_DELAY, self._flush_labels)

    def _flush_labels(self) -> None:
        self._flush_pending = False
        dirty, self._dirty = self._dirty, set()
        for chat in dirty:
            self._relabel(chat)

    def _relabel(self, chat: ChatKey) -> None:
        ident = self._identities.get(chat.account)
        if ident is None:
            return
        if chat in self.rooms:
            self.rooms.relabel(chat, self._unread.get(chat, 0))
            return
        node = ident.contact_nodes.get(chat.jid)
        item = ident.shown.get(chat.jid)
        if node is not None and item is not None:
            node.set_label(self._contact_label(ident, item))
        elif (node := ident.stranger_nodes.get(chat.jid)) is not None:
            node.set_label(self._stranger_label(chat))

    def relabel_all(self) -> None:
        for ident in self._identities.values():
            ident.node.set_label(self._identity_label(ident))
            for jid in [*ident.contact_nodes, *ident.stranger_nodes]:
                self._relabel(ChatKey(ident.info.id, jid))
        self.requests.relabel()
        for chat in self.rooms.chats():
            self.rooms.relabel(chat, self._unread.get(chat, 0))

    def set_blocked(self, account: AccountId, jids: frozenset[str]) -> None:
        """The identity's block list changed: mark the contacts and strangers it covers."""
        ident = self._identities.get(account)
        if ident is None or ident.blocked == jids:
            return
        before = {jid for jid in [*ident.contact_nodes, *ident.stranger_nodes] if ident.blocks(jid)}
        ident.blocked = jids
        after = {jid for jid in [*ident.contact_nodes, *ident.stranger_nodes] if ident.blocks(jid)}
        for jid in before ^ after:
            self._mark(ChatKey(account, jid))

    def blocked(self, account: AccountId) -> frozenset[str]:
        ident = self._identities.get(account)
        return ident.blocked if ident is not None else frozenset()

    def add_request(self, chat: ChatKey, text: str) -> None:
        """Someone asks to see this identity's presence: under its "requests" node."""
        ident = self._identities.get(chat.account)
        if ident is not None:
            self.requests.add(ident.node, chat, text)

    def _contact_label(self, ident: _Identity, item: RosterItem) -> Text:
        best = ident.contacts.best(item.jid)
        show = ident.contacts.show(item.jid)
        label = Text(PRESENCE_GLYPHS[show] + " ", self._style(PRESENCE_CLASS[show]))
        if ident.blocks(item.jid):
            label.append("⊘blocked ", self._style("blocked"))
        if lookalike(item.jid) or (item.name and lookalike(item.name)):
            label.append("⚠", self._style("warning"))
        label.append(clean_field(item.name or item.jid, NAME_LIMIT))
        self._append_unread(label, ChatKey(ident.info.id, item.jid))
        if best is not None and best.status:
            label.append(" " + clean_field(best.status, NAME_LIMIT), self._style("status"))
        return label

    def _stranger_label(self, chat: ChatKey) -> Text:
        # a private chat through a room (room/nick) is marked apart from a stranger
        label = Text("PM " if chat.is_private else "? ", self._style("strangers"))
        ident = self._identities.get(chat.account)
        if ident is not None and ident.blocks(chat.jid):
            label.append("⊘blocked ", self._style("blocked"))
        if lookalike(chat.jid):
            label.append("⚠", self._style("warning"))
        label.append(clean_field(chat.jid, NAME_LIMIT))
        self._append_unread(label, chat)
        return label

    def _append_unread(self, label: Text, chat: ChatKey) -> None:
        unread = self._unread.get(chat, 0)
        if unread:
            label.append(f" [{unread}]", self._style("unread"))

    # -- selection -------------------------------------------------------------------------
    def on_tree_node_selected(self, event: Tree.NodeSelected[NodeData]) -> None:
        event.stop()
        data = event.node.data
        if isinstance(data, ChatKey):
            self.post_message(self.ChatSelected(data))
        elif isinstance(data, AccountId):
            self.post_message(self.IdentitySelected(data))
        elif isinstance(data, RequestKey):
            self.post_message(self.RequestSelected(data.chat))
