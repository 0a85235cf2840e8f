"""Helpers for group-chat tests through core (SessionManager) on an encrypted store
(SealedCodec over a fast test keyring), against the real Prosody."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from slixmpp import JID

from xmppterm.config import AccountConfig, Config, Settings
from xmppterm.core.manager import SessionManager
from xmppterm.devserver import Account, ProsodyServer
from xmppterm.domain import events as ev
from xmppterm.domain.ids import AccountId
from xmppterm.domain.rooms import RoomJoined
from xmppterm.store.crypto import SealedCodec
from xmppterm.store.keyring import KdfParams, create_keyring, keyring_exists, unlock_keyring
from xmppterm.store.store import Store

from .peers import Events, started
from .rooms import RoomPeer

PASSPHRASE = "room tests passphrase 7"
MUC_USER = "http://jabber.org/protocol/muc#user"


@asynccontextmanager
async def sealed_manager(accounts: Sequence[AccountConfig], data: Path
                         ) -> AsyncIterator[tuple[SessionManager, Events]]:
    """A started SessionManager on the encrypted store under `data` (made on first use,
    unlocked with the same passphrase after that: a restart)."""
    keyring = unlock_keyring(data, PASSPHRASE) if keyring_exists(data) else \
        create_keyring(data, PASSPHRASE, KdfParams.fast_for_tests())
    async with started(Config(None, Settings(), tuple(accounts)),
                       Store.open(data, SealedCodec(keyring))) as pair:
        yield pair


def data_dir(tmp: Path) -> Path:
    path = tmp / "data"
    path.mkdir(mode=0o700, exist_ok=True)
    return path


@asynccontextmanager
async def room_peer(server: ProsodyServer, acc: Account | None = None) -> AsyncIterator[RoomPeer]:
    peer = RoomPeer(acc or server.new_account(), server.ca_file)
    await peer.start(server)
    try:
        yield peer
    finally:
        await peer.stop()


async def joined(events: Events, account: AccountId, room: str, after: int = 0,
                 timeout: float = 20.0) -> RoomJoined:
    """The first RoomJoined of `account` in `room` among the events from index `after`."""
    def fresh(e: RoomJoined) -> bool:
        return e.account == account and e.room.jid == room and \
            any(x is e for x in events.items[after:])
    return await events.wait(RoomJoined, fresh, timeout)


async def notice(events: Events, account: AccountId, pred: Callable[[ev.Notice], bool],
                 timeout: float = 15.0) -> ev.Notice:
    return await events.wait(ev.Notice, lambda e: e.account == account and pred(e), timeout)


def status_codes(xml: ET.Element) -> set[str]:
    return {s.get("code", "") for s in xml.iter(f"{{{MUC_USER}}}status")}


def presences_of(peer: RoomPeer, room: str, nick: str, kind: str = "available") -> list[Any]:
    """The room presences `peer` got for occupant `nick` of `room`, of one type."""
    want = "" if kind == "available" else kind
    return [p for p in peer.room_presences
            if p.xml.get("from") == f"{room}/{nick}" and p.xml.get("type", "") == want]


async def disco_features(peer: RoomPeer, room: str) -> set[str]:
    info = await peer.plugin["xep_0030"].get_info(jid=JID(room), timeout=10)
    return set(info["disco_info"]["features"])


async def settle(seconds: float = 1.0) -> None:
    await asyncio.sleep(seconds)


def notices_of(events: Events, account: AccountId) -> list[ev.Notice]:
    return [e for e in events.of(ev.Notice) if e.account == account]


async def poll(pred: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait until `pred()` holds (checked every 50 ms)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not pred():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.05)
