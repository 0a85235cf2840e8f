"""History search end to end below the UI: SessionManager over a real sealed Store on
disk. Messages go in through the core (offline, so they wait in the outbox), the store
is closed and unlocked again, then searched and opened at a result. No server needed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from xmppterm.config import AccountConfig, Config, Settings
from xmppterm.core.manager import SessionManager
from xmppterm.domain import events as ev
from xmppterm.domain import intents as it
from xmppterm.domain.ids import AccountId, ChatKey
from xmppterm.store.crypto import SealedCodec
from xmppterm.store.keyring import KdfParams, create_keyring, keyring_exists, unlock_keyring
from xmppterm.store.store import DB_NAME, Store

from .peers import Events, started

ME, OTHER = AccountId("me"), AccountId("other")
PASS = "search e2e passphrase"
BOB, EVE = ChatKey(ME, "bob@example.org"), ChatKey(ME, "eve@example.org")


def config() -> Config:
    accounts = tuple(AccountConfig(id=acc, jid=f"{acc.name}@example.org", password="pw",
                                   connect=False) for acc in (ME, OTHER))
    return Config(None, Settings(), accounts)


@asynccontextmanager
async def running(data: Path) -> AsyncIterator[tuple[SessionManager, Events]]:
    keyring = (unlock_keyring(data, PASS) if keyring_exists(data)
               else create_keyring(data, PASS, KdfParams.fast_for_tests()))
    async with started(config(), Store.open(data, SealedCodec(keyring))) as pair:
        yield pair


async def test_search_and_open_at_a_result(tmp_path: Path) -> None:
    async with running(tmp_path) as (manager, events):
        for n in range(30):
            chat = BOB if n % 3 else EVE
            word = "Rendezvous" if n in (4, 20, 27) else "chat"
            manager.dispatch(it.SendMessage(ME, chat, f"{word} number {n}"))
            await events.wait(ev.MessageReceived, lambda e, n=n: e.message.body.endswith(f" {n}"))
        manager.dispatch(it.SendMessage(OTHER, ChatKey(OTHER, "bob@example.org"),
                                        "rendezvous elsewhere"))
        await events.wait(ev.MessageReceived, lambda e: e.account == OTHER)
    assert (tmp_path / DB_NAME).exists()
    for path in tmp_path.iterdir():  # the database, its log, the key file: nothing readable
        assert b"endezvous" not in path.read_bytes()

    async with running(tmp_path) as (manager, events):
        manager.dispatch(it.SearchHistory(ME, "RENDEZVOUS", None))
        found = await events.wait(ev.SearchResults)
        assert [m.body for m in found.results] == [
            "Rendezvous number 27", "Rendezvous number 20", "Rendezvous number 4"]
        assert not found.truncated and found.chat is None
        manager.dispatch(it.SearchHistory(ME, "rendezvous", BOB))
        in_bob = await events.wait(ev.SearchResults, lambda e: e.chat == BOB)
        assert [m.body for m in in_bob.results] == ["Rendezvous number 20", "Rendezvous number 4"]

        target = in_bob.results[-1]
        manager.dispatch(it.OpenChat(ME, BOB, at=target.id))
        opened = await events.wait(ev.ChatOpened, lambda e: e.at is not None)
        assert opened.at == target.id and opened.chat == BOB
        bodies = [m.body for m in opened.history]
        assert bodies[:3] == ["chat number 1", "chat number 2", "Rendezvous number 4"]
        assert bodies[-1] == "chat number 29"
