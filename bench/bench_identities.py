"""Benchmark of many connected identities (not a test: prints figures, asserts nothing).

    python bench/bench_identities.py [--counts 1,5,20] [--idle 10] [--messages 20]

Starts a private Prosody (xmppterm.devserver) and, for each count, a fresh Python process
that runs one SessionManager with that many identities (in-memory store) against it:
connect them all (TLS, SCRAM, roster, SM, carbons, archive catch-up), stay idle, then
have each identity send `--messages` messages to the next one. Prints, per count: the
time to bring every identity online, the CPU time of connecting, of idling and per
message (this process only, not the server's), and the resident memory (RSS) before and
after, with the cost per identity.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from xmppterm.config import AccountConfig, Config, Settings
from xmppterm.core.manager import SessionManager
from xmppterm.devserver import ProsodyServer
from xmppterm.domain import events as ev
from xmppterm.domain import intents as it
from xmppterm.domain.connection import ConnState
from xmppterm.domain.ids import AccountId, ChatKey
from xmppterm.domain.messages import Delivery
from xmppterm.store.store import Store


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Counts:
    def __init__(self) -> None:
        self.online: set[AccountId] = set()
        self.delivered = 0
        self.changed = asyncio.Event()

    def __call__(self, event: ev.Event) -> None:
        if isinstance(event, ev.ConnectionChanged) and event.state is ConnState.ONLINE:
            self.online.add(event.account)
        elif isinstance(event, ev.MessageDeliveryChanged) and event.delivery is Delivery.SENT:
            self.delivered += 1
        self.changed.set()

    async def until(self, done: object, timeout: float = 120.0) -> None:
        async def wait() -> None:
            while not done():  # type: ignore[operator]
                self.changed.clear()
                await self.changed.wait()
        await asyncio.wait_for(wait(), timeout)


async def child(spec: dict[str, object]) -> dict[str, float]:
    accounts = tuple(
        AccountConfig(id=AccountId(f"id{i}"), jid=jid, password=password, host="127.0.0.1",
                      port=int(str(spec["port"])), ca_file=Path(str(spec["ca"])))
        for i, (jid, password) in enumerate(spec["accounts"]))  # type: ignore[arg-type]
    store = Store.open(None)
    manager = SessionManager(Config(None, Settings(), accounts), store)
    counts = Counts()
    manager.subscribe(counts)
    base, cpu0, wall0 = rss_mib(), time.process_time(), time.perf_counter()
    await manager.start()
    await counts.until(lambda: len(counts.online) == len(accounts))
    wall1, cpu1 = time.perf_counter(), time.process_time()
    await asyncio.sleep(float(str(spec["idle"])))
    cpu2, online_rss = time.process_time(), rss_mib()
    per = int(str(spec["messages"]))
    for i, acc in enumerate(accounts):
        target = accounts[(i + 1) % len(accounts)].jid
        for n in range(per):
            manager.dispatch(it.SendMessage(acc.id, ChatKey(acc.id, target), f"bench {n}"))
    await counts.until(lambda: counts.delivered >= per * len(accounts))
    cpu3 = time.process_time()
    await manager.shutdown()
    await store.close()
    return {"connect_s": wall1 - wall0, "connect_cpu": cpu1 - cpu0, "idle_cpu": cpu2 - cpu1,
            "msg_cpu_ms": (cpu3 - cpu2) * 1000 / max(1, per * len(accounts)),
            "rss_base": base, "rss_online": online_rss}


def run_count(server: ProsodyServer, accounts: list[tuple[str, str]], args: argparse.Namespace
              ) -> dict[str, float]:
    spec = {"port": server.c2s_port, "ca": str(server.ca_file), "accounts": accounts,
            "idle": args.idle, "messages": args.messages}
    out = subprocess.run([sys.executable, __file__, "--child"], input=json.dumps(spec),
                         capture_output=True, text=True, check=True, timeout=600)
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--counts", default="1,5,20")
    parser.add_argument("--idle", type=float, default=10.0)
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(child(json.loads(sys.stdin.read())))))
        return
    counts = [int(c) for c in args.counts.split(",")]
    with tempfile.TemporaryDirectory() as tmp, ProsodyServer(Path(tmp)) as server:
        accounts = [(a.jid, a.password) for a in (server.new_account() for _ in range(max(counts)))]
        print(f"{'ids':>4} {'online in':>10} {'CPU connect':>12} {f'CPU idle {args.idle:.0f}s':>12} "
              f"{'CPU/msg':>8} {'RSS before':>11} {'RSS online':>11} {'marginal/id':>12}")
        first: tuple[int, float] | None = None
        for n in counts:
            r = run_count(server, accounts[:n], args)
            marginal = "-"
            if first is not None and n > first[0]:
                marginal = f"{(r['rss_online'] - first[1]) * 1024 / (n - first[0]):.0f}KiB"
            first = first or (n, r["rss_online"])
            print(f"{n:>4} {r['connect_s']:>9.2f}s {r['connect_cpu']:>11.2f}s "
                  f"{r['idle_cpu']:>11.3f}s {r['msg_cpu_ms']:>6.2f}ms "
                  f"{r['rss_base']:>8.1f}MiB {r['rss_online']:>8.1f}MiB {marginal:>12}")
        print("RSS before: after importing core, before slixmpp is loaded (about 10 MiB of it "
              "comes with the first identity); marginal/id: against the first row.")


if __name__ == "__main__":
    main()
