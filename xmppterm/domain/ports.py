"""Small interfaces through which layers reach each other without importing upward."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from .connection import ConnState
from .events import Event
from .ids import AccountId
from .intents import Intent

EventSink = Callable[[Event], None]


@dataclass(frozen=True, slots=True)
class AccountInfo:
    """What the UI may know of an identity: no secrets, no connection objects."""

    id: AccountId
    jid: str
    color: str | None = None
    route: str = "DIRECT"  # DIRECT, TOR or PROXY
    plain_password: bool = False  # the password sits in the config file: flag it
    state: ConnState = ConnState.OFFLINE


class Backend(Protocol):
    """What the UI drives: core.SessionManager implements it; UI tests use a fake."""

    def accounts(self) -> list[AccountInfo]: ...

    def subscribe(self, sink: EventSink) -> None: ...

    async def start(self) -> None:
        """Called once by the UI after it subscribed: load state, connect identities."""

    def dispatch(self, intent: Intent) -> None: ...

    async def shutdown(self) -> None: ...


class Gate(Protocol):
    """The passphrase in front of the encrypted store; the UI asks, the wiring unlocks."""

    @property
    def new(self) -> bool:
        """No key file yet: the passphrase is being chosen (ask twice)."""

    @property
    def locked(self) -> bool: ...

    async def unlock(self, passphrase: str) -> str | None:
        """Unlock (or create) the store; an error text for the user, or None."""

    async def lock(self) -> None:
        """Go offline, close the store and drop the keys."""
