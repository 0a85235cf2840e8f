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
    asked: bool = False  # our request to see their presence waits for their answer


SEES = ("to", "both")  # subscriptions with which we see the contact's presence


def subscription_news(old: RosterItem | None, new: RosterItem) -> str | None:
    """What a roster change tells the user about subscriptions (None: nothing new):
    a contact accepted or refused our request, or stopped sharing their presence."""
    if old is None:
        return None
    if old.subscription not in SEES and new.subscription in SEES:
        return f"{new.jid} accepted your request: you now see their presence."
    if old.asked and not new.asked and new.subscription not in SEES:
        return (f"{new.jid} refused your request to see their presence (or it was "
                "cancelled). /add asks again.")
    if old.subscription in SEES and new.subscription not in SEES:
        return f"{new.jid} no longer shares their presence with you."
    return None


@dataclass(frozen=True, slots=True)
class Presence:
    """The presence of one resource of a contact."""

    jid: str
    resource: str
    show: Show
    status: str = ""
    priority: int = 0
