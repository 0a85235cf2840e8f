"""One room's occupant table and the coalescing of presence bursts: pure, no I/O.

After the join, presences change the table at once but are reported in bursts: the
changes since the last report, folded so that one OccupantsChanged says the net effect
(an occupant who came and went within a burst is simply gone; a rename followed by a
leave is the old nick gone). A nick that went and came again (perhaps someone else
now) stays in `gone` and is in `present`: the presence was broken, which decides
whether a correction from that nick counts (core/corrections.py). Core applies `gone`,
then `renamed`, then `present`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from ...domain.ids import ChatKey
from ...domain.rooms import Occupant, OccupantsChanged


@dataclass(slots=True)
class Burst:
    present: dict[str, Occupant] = field(default_factory=dict)
    gone: dict[str, str] = field(default_factory=dict)  # nick -> why
    renamed: list[tuple[str, str]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.present or self.gone or self.renamed)

    def came(self, occupant: Occupant) -> None:
        self.present[occupant.nick] = occupant  # a leave before it stays told

    def left(self, nick: str, why: str = "") -> None:
        self.present.pop(nick, None)
        for old, new in list(self.renamed):
            if new == nick:  # renamed within this burst, then left: the old nick is gone
                self.renamed.remove((old, new))
                nick = old
        self.gone[nick] = why

    def rename(self, old: str, new: str) -> None:
        occupant = self.present.pop(old, None)
        chained = [(o, n) for o, n in self.renamed if n == old]
        if chained:  # a -> old earlier in this burst: one a -> new
            self.renamed.remove(chained[0])
            old = chained[0][0]
        self.renamed.append((old, new))
        if occupant is not None:
            self.present[new] = replace(occupant, nick=new)

    def event(self, room: ChatKey) -> OccupantsChanged:
        return OccupantsChanged(room.account, room, tuple(self.present.values()),
                                tuple(self.gone.items()), tuple(self.renamed))


@dataclass(slots=True)
class Table:
    """The occupants of one room, by nick, and what changed since the last report."""

    occupants: dict[str, Occupant] = field(default_factory=dict)
    burst: Burst = field(default_factory=Burst)

    def came(self, occupant: Occupant, report: bool) -> None:
        self.occupants[occupant.nick] = occupant
        if report:
            self.burst.came(occupant)

    def left(self, nick: str, why: str, report: bool) -> None:
        self.occupants.pop(nick, None)
        if report:
            self.burst.left(nick, why)

    def rename(self, old: str, new: str, report: bool) -> None:
        found = self.occupants.pop(old, None)
        if found is not None:
            self.occupants[new] = replace(found, nick=new)
        if report:
            self.burst.rename(old, new)

    def take(self, room: ChatKey) -> OccupantsChanged | None:
        """The report of the burst so far (None when nothing changed); starts a new one."""
        if not self.burst:
            return None
        event = self.burst.event(room)
        self.burst = Burst()
        return event
