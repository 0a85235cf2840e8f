"""Helpers for tests with several identities in one SessionManager against the real
Prosody, and scripted peers that record the presences they get."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from xmppterm.config import AccountConfig, Config, Settings
from xmppterm.core.manager import SessionManager
from xmppterm.devserver import Account, ProsodyServer
from xmppterm.devserver.storage import write_roster
from xmppterm.domain import events as ev
from xmppterm.domain.connection import ConnState
from xmppterm.domain.ids import AccountId
from xmppterm.store.store import Store

from .peers import Events, Peer, started


def account_config(server: ProsodyServer, name: str, acc: Account, **extra: Any) -> AccountConfig:
    return AccountConfig(id=AccountId(name), jid=acc.jid, password=acc.password,
                         host="127.0.0.1", port=server.c2s_port, ca_file=server.ca_file, **extra)


@asynccontextmanager
async def manager_of(server: ProsodyServer, accounts: Sequence[AccountConfig], data: Path | None
                     ) -> AsyncIterator[tuple[SessionManager, Events]]:
    """A started SessionManager with these identities, and every event it emits."""
    async with started(Config(None, Settings(), tuple(accounts)), Store.open(data)) as pair:
        yield pair


async def all_online(events: Events, names: Sequence[str], timeout: float = 20.0) -> None:
    for name in names:
        await events.wait(ev.ConnectionChanged, lambda e, n=name: (  # type: ignore[misc]
            e.account == AccountId(n) and e.state is ConnState.ONLINE), timeout=timeout)


def give_roster(server: ProsodyServer, owner: Account, *contacts: Account) -> None:
    """`owner` has `contacts` in its roster, subscription both (owner offline)."""
    write_roster(server.data_path, owner, [(c.jid, c.localpart) for c in contacts])


class RecordingPeer(Peer):
    """A peer that answers nothing by itself and records the presences it receives."""

    def __init__(self, acc: Account, ca: Path, resource: str = "peer") -> None:
        super().__init__(acc, ca, resource)
        self.auto_authorize = None
        self.auto_subscribe = False
        self.presences: list[tuple[str, str]] = []  # (type, from full JID)
        self._seen = asyncio.Event()
        self.add_event_handler("presence", self._record)

    def _record(self, pres: Any) -> None:
        self.presences.append((str(pres["type"]), str(pres["from"])))
        self._seen.set()

    def got(self, kind: str, sender: str) -> bool:
        """A presence of `kind` ('available', 'subscribed'...) from `sender` (bare JID)."""
        return any(t == kind and f.split("/")[0] == sender for t, f in self.presences)

    async def wait_for(self, pred: Callable[[], bool], timeout: float = 10.0) -> None:
        async def loop() -> None:
            while not pred():
                self._seen.clear()
                await self._seen.wait()
        await asyncio.wait_for(loop(), timeout)

    def full_jid_of(self, bare: str) -> str:
        for kind, sender in reversed(self.presences):
            if kind == "available" and sender.split("/")[0] == bare and "/" in sender:
                return sender
        raise LookupError(bare)
