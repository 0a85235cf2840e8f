"""Benchmark of the encrypted store (not a test: prints figures, asserts nothing).

    python bench/bench_store.py [--dir PATH] [--writes 1000] [--chat 10000]

Prints: unlock time with the default Argon2id parameters; the cost of writing one
message (one committed transaction each, synchronous=FULL) sealed and plain, and the
codec's share of it; the time to load the last 500 messages of a 10,000-message chat.
`--dir` puts the databases on the disk you care about (default: a temporary dir).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from xmppterm.domain.ids import AccountId, ChatKey
from xmppterm.domain.messages import ChatMessage, Direction
from xmppterm.store.codec import Codec, PlainCodec
from xmppterm.store.crypto import SealedCodec
from xmppterm.store.database import Database
from xmppterm.store.keyring import KdfParams, create_keyring, unlock_keyring
from xmppterm.store.serial import message_to_bytes

PASS = "bench passphrase"  # noqa: S105 -- a throwaway key file in a temp dir
CHAT = ChatKey(AccountId("bench"), "peer@bench.example")


def message(i: int) -> ChatMessage:
    return ChatMessage(id=f"m{i}", chat=CHAT, direction=Direction.INCOMING, sender=CHAT.jid,
                       body=f"message {i}: " + "lorem ipsum " * 12,
                       timestamp=datetime(2026, 1, 1, tzinfo=UTC), stanza_id=f"s{i}")


def timed(fn: Callable[[], object], repeat: int = 1) -> float:
    """Median seconds of `repeat` runs of `fn`."""
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def bench_unlock(base: Path) -> SealedCodec:
    params = KdfParams()
    create_keyring(base, PASS, params)
    secs = timed(lambda: unlock_keyring(base, PASS), repeat=5)
    print(f"unlock, default Argon2id ({params.memory_kib // 1024} MiB, "
          f"t={params.iterations}, p={params.lanes}): {secs * 1000:.0f} ms (median of 5)")
    return SealedCodec(unlock_keyring(base, PASS))


def bench_writes(base: Path, codec: Codec, name: str, n: int) -> float:
    db = Database(_fresh(base / f"writes-{name}.db"), codec)
    per = timed(lambda: [db.add_message(message(i)) for i in range(n)]) / n
    db.close()
    print(f"write one message, {name}: {per * 1e6:.0f} µs (each its own fsynced commit)")
    return per


def bench_codec(codec: Codec, name: str, n: int = 20000) -> None:
    raw = message_to_bytes(message(0))
    seal = timed(lambda: [codec.seal("bench", "messages", codec.index("bench", "msgid", f"m{i}"),
                                     raw) for i in range(n)]) / n
    print(f"  codec alone, {name}: index + seal {seal * 1e6:.1f} µs per message")


def bench_history(base: Path, codec: Codec, name: str, total: int) -> None:
    path = _fresh(base / f"history-{name}.db")
    db = Database(path, codec)
    db.db.execute("PRAGMA synchronous=OFF")  # bench only: fill fast, then measure reads
    for i in range(total):
        db.add_message(message(i))
    db.close()
    db = Database(path, codec)
    secs = timed(lambda: db.history(CHAT, limit=500), repeat=5)
    loaded = len(db.history(CHAT, limit=500))
    db.close()
    print(f"last {loaded} of a {total}-message chat, {name}: {secs * 1000:.1f} ms (median of 5)")


def _fresh(path: Path) -> Path:
    path.unlink(missing_ok=True)
    path.touch(mode=0o600)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, help="where to put the databases")
    parser.add_argument("--writes", type=int, default=1000)
    parser.add_argument("--chat", type=int, default=10000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        base = Path(tmp)
        sealed = bench_unlock(base)
        plain = PlainCodec()
        for name, codec in (("sealed", sealed), ("plain", plain)):
            bench_writes(base, codec, name, args.writes)
        for name, codec in (("sealed", sealed), ("plain", plain)):
            bench_codec(codec, name)
        for name, codec in (("sealed", sealed), ("plain", plain)):
            bench_history(base, codec, name, args.chat)


if __name__ == "__main__":
    main()
