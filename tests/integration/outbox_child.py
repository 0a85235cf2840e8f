"""Run by test_nothing_lost.py in a subprocess, to be killed with SIGKILL.

Reads a JSON spec on stdin: data dir, account, server, recipient and bodies. Starts a
SessionManager on a plain store in the data dir with the identity NOT connecting, queues
the messages (they go to the outbox, pending), prints QUEUED and waits for its end.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from xmppterm.config import AccountConfig, Config, Settings
from xmppterm.core.manager import SessionManager
from xmppterm.domain import events as ev
from xmppterm.domain import intents as it
from xmppterm.domain.ids import AccountId, ChatKey
from xmppterm.domain.messages import Delivery
from xmppterm.store.store import Store


async def main(spec: dict[str, object]) -> None:
    account = AccountConfig(id=AccountId(str(spec["account"])), jid=str(spec["jid"]),
                            password=str(spec["password"]), host="127.0.0.1",
                            port=int(str(spec["port"])), ca_file=Path(str(spec["ca"])),
                            connect=False)
    store = Store.open(Path(str(spec["data"])))
    manager = SessionManager(Config(None, Settings(), (account,)), store)
    bodies = [str(b) for b in spec["bodies"]]  # type: ignore[attr-defined]
    queued: set[str] = set()
    done = asyncio.Event()

    def sink(event: ev.Event) -> None:
        if isinstance(event, ev.MessageReceived) and event.message.delivery is Delivery.PENDING:
            queued.add(event.message.body)  # emitted after the store committed it
            if queued >= set(bodies):
                done.set()

    manager.subscribe(sink)
    await manager.start()
    chat = ChatKey(account.id, str(spec["to"]))
    for body in bodies:
        manager.dispatch(it.SendMessage(account.id, chat, body))
    await asyncio.wait_for(done.wait(), 30)
    print("QUEUED", flush=True)
    await asyncio.sleep(3600)  # until SIGKILL


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.stdin.readline())))
