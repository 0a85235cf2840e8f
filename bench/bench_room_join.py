"""Benchmark of joining a big room (not a test: prints figures, asserts nothing).

    python bench/bench_room_join.py [--occupants 300] [--no-ui]

Starts a private Prosody (xmppterm.devserver) with a component `bots.example.test`, and
fills a room with `--occupants` occupants through that one XEP-0114 connection
(tests/integration/muc_crowd.py). Then a fresh Python process runs one SessionManager
(in-memory store) and, unless --no-ui, the Textual app headless (`run_test`) on it, and
joins the room. Prints: the time from the join to RoomJoined, to a complete occupant
list, and (with the app) until the app has drawn it; the CPU time of this process for
the join and for the drawing; how many room events carried the occupants.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.integration.muc_crowd import Crowd, add_bots
from xmppterm.config import AccountConfig, Config, Settings
from xmppterm.core.manager import SessionManager
from xmppterm.devserver import ProsodyServer
from xmppterm.domain import events as ev
from xmppterm.domain.connection import ConnState
from xmppterm.domain.ids import AccountId
from xmppterm.domain.rooms import JoinRoom, OccupantsChanged, RoomJoined
from xmppterm.store.store import Store

ME = AccountId("me")


class Watch:
    """Counts what the join brings: nicks seen, room events, the moment of RoomJoined."""

    def __init__(self, room: str) -> None:
        self.room, self.nicks, self.room_events = room, set[str](), 0
        self.online = asyncio.Event()
        self.joined_at: float | None = None
        self.changed = asyncio.Event()

    def __call__(self, event: ev.Event) -> None:
        if isinstance(event, ev.ConnectionChanged) and event.state is ConnState.ONLINE:
            self.online.set()
        elif isinstance(event, RoomJoined | OccupantsChanged) and event.room.jid == self.room:
            self.room_events += 1
            present = event.occupants if isinstance(event, RoomJoined) else event.present
            self.nicks |= {o.nick for o in present}
            if isinstance(event, RoomJoined):
                self.joined_at = time.perf_counter()
        self.changed.set()

    async def until(self, done: Any, timeout: float = 120.0) -> None:
        async def wait() -> None:
            while not done():
                self.changed.clear()
                await self.changed.wait()
        await asyncio.wait_for(wait(), timeout)


async def child(spec: dict[str, Any]) -> dict[str, float]:
    account = AccountConfig(id=ME, jid=spec["jid"], password=spec["password"],
                            host="127.0.0.1", port=int(spec["port"]), ca_file=Path(spec["ca"]))
    store = Store.open(None)
    manager = SessionManager(Config(None, Settings(), (account,)), store)
    watch = Watch(spec["room"])
    manager.subscribe(watch)
    want = int(spec["occupants"]) + 1
    if not spec["ui"]:
        await manager.start()
        result = await join(manager, watch, spec["room"], want)
    else:
        from xmppterm.ui.app import XmppTermApp

        app = XmppTermApp(manager)
        async with app.run_test(size=(160, 45)) as pilot:
            result = await join(manager, watch, spec["room"], want)
            cpu0, wall0 = time.process_time(), time.perf_counter()
            await pilot.pause()  # every message the events posted handled, a frame drawn
            result |= {"render_s": time.perf_counter() - wall0 + result["complete_s"]
                       - result["joined_s"], "render_cpu": time.process_time() - cpu0}
    await manager.shutdown()
    await store.close()
    return result


async def join(manager: SessionManager, watch: Watch, room: str, want: int) -> dict[str, float]:
    if manager.sessions[ME].state is not ConnState.ONLINE:
        await asyncio.wait_for(watch.online.wait(), 60)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    manager.dispatch(JoinRoom(ME, room, "watcher"))
    await watch.until(lambda: watch.joined_at is not None)
    await watch.until(lambda: len(watch.nicks) >= want)
    wall1, cpu1 = time.perf_counter(), time.process_time()
    assert watch.joined_at is not None
    return {"joined_s": watch.joined_at - wall0, "complete_s": wall1 - wall0,
            "join_cpu": cpu1 - cpu0, "events": watch.room_events, "nicks": len(watch.nicks)}


async def fill(server: ProsodyServer, room: str, count: int) -> Crowd:
    crowd = await Crowd(server).start()
    await crowd.fill(room, count, timeout=300)
    return crowd


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--occupants", type=int, default=300)
    parser.add_argument("--no-ui", action="store_true", help="core only, no Textual app")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(child(json.loads(sys.stdin.read())))))
        return
    with tempfile.TemporaryDirectory() as tmp:
        server = ProsodyServer(Path(tmp))
        add_bots(server)
        with server:
            asyncio.run(run(server, args))


async def run(server: ProsodyServer, args: argparse.Namespace) -> None:
    room = f"bench@{server.conference_domain}"
    start = time.perf_counter()
    crowd = await fill(server, room, args.occupants)
    print(f"{args.occupants} occupants in {room} after {time.perf_counter() - start:.1f}s "
          "(one component connection)")
    acc = server.new_account()
    spec = {"port": server.c2s_port, "ca": str(server.ca_file), "jid": acc.jid,
            "password": acc.password, "room": room, "occupants": args.occupants,
            "ui": not args.no_ui}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--child", stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    out, _ = await asyncio.wait_for(proc.communicate(json.dumps(spec).encode()), 600)
    await crowd.stop()
    r = json.loads(out.decode().strip().splitlines()[-1])
    print(f"RoomJoined after     {r['joined_s']:8.3f}s")
    print(f"all {r['nicks']} nicks after  {r['complete_s']:8.3f}s  (CPU {r['join_cpu']:.3f}s, "
          f"{r['events']} room events)")
    if "render_s" in r:
        print(f"drawn by the app after {r['render_s']:6.3f}s  (CPU {r['render_cpu']:.3f}s "
              "to handle the events and draw)")


if __name__ == "__main__":
    main()
