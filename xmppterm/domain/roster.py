"""Roster and presence as plain data."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Show(Enum):
    """Presence availability, ordered from most to least available."""

    CHAT = "chat"
    AVAILABLE = "available"
    AWAY = "away"
    XA = "xa"
    DND = "dnd"
    OFFLINE = "offline"

    @staticmethod
    def parse(value: str | None, available: bool = True) -> Show:
        if not available:
            return Show.OFFLINE
        if not value:
            return Show.AVAILABLE
        try:
            return Show(value)
        except ValueError:
            return Show.AVAILABLE


@dataclass(frozen=True, slots=True)
class RosterItem:
    """One contact. `name` is remote (roster server) text: sanitise before drawing."""

    jid: str
    name: str = ""
    subscription: str = "none"
    groups: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Presence:
    """The presence of one resource of a contact."""

    jid: str
    resource: str
    show: Show
    status: str = ""
    priority: int = 0
