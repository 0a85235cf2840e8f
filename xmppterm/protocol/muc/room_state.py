"""The state protocol keeps of one room (`rooms.RoomOps` owns them), and the small
glue that turns a stanza matcher into a row of translate.ROOM_HANDLERS."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ...domain.rooms import RoomFeatures
from .occupants import Table


@dataclass(eq=False)
class Room:
    jid: str
    nick: str
    password: str
    table: Table = field(default_factory=Table)
    joined: bool = False  # RoomJoined was reported
    subject: str = ""
    created: bool = False
    features: RoomFeatures = field(default_factory=RoomFeatures)
    outcome: asyncio.Future[str | None] | None = None  # None: our presence came; str: why not
    subject_seen: asyncio.Future[None] | None = None
    pending_nick: str | None = None
    timer: asyncio.TimerHandle | None = None


def raiser(client: Any, event: str) -> Callable[[Any], None]:
    """A matcher's callback that raises `event` (a row of translate.ROOM_HANDLERS)."""
    return lambda stanza: client.event(event, stanza)
