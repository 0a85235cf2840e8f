"""What the UI knows of one identity's roster and presences (pure, no Textual)."""

from __future__ import annotations

from collections.abc import Iterable

from ..domain.roster import Presence, RosterItem, Show

SHOW_ORDER = list(Show)
PRESENCE_GLYPHS: dict[Show, str] = {
    Show.CHAT: "●",
    Show.AVAILABLE: "●",
    Show.AWAY: "◐",
    Show.XA: "◐",
    Show.DND: "⊘",
    Show.OFFLINE: "○",
}
PRESENCE_CLASS: dict[Show, str] = {
    Show.CHAT: "available",
    Show.AVAILABLE: "available",
    Show.AWAY: "away",
    Show.XA: "away",
    Show.DND: "dnd",
    Show.OFFLINE: "offline",
}


class Contacts:
    """Roster items and the presence of each resource, per bare JID."""

    def __init__(self) -> None:
        self.items: dict[str, RosterItem] = {}
        self._resources: dict[str, dict[str, Presence]] = {}
        self._sorted: list[str] | None = None

    def set_roster(self, items: Iterable[RosterItem]) -> None:
        self.items = {item.jid: item for item in items}
        self._sorted = None

    def update(self, item: RosterItem, removed: bool = False) -> None:
        if removed:
            self.items.pop(item.jid, None)
        else:
            self.items[item.jid] = item
        self._sorted = None

    def set_presence(self, presence: Presence) -> None:
        resources = self._resources.setdefault(presence.jid, {})
        if presence.show is Show.OFFLINE:
            resources.pop(presence.resource, None)
        else:
            resources[presence.resource] = presence

    def best(self, jid: str) -> Presence | None:
        """The most available resource (then the highest priority), or None if offline."""
        resources = self._resources.get(jid)
        if not resources:
            return None
        return min(resources.values(),
                   key=lambda p: (SHOW_ORDER.index(p.show), -p.priority, p.resource))

    def show(self, jid: str) -> Show:
        best = self.best(jid)
        return Show.OFFLINE if best is None else best.show

    def jids(self) -> list[str]:
        """Roster JIDs, sorted (cached until the roster changes): for completion."""
        if self._sorted is None:
            self._sorted = sorted(self.items)
        return self._sorted

    def __contains__(self, jid: object) -> bool:
        return jid in self.items
