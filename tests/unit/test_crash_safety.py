"""`kill -9` in the middle of writes leaves the sealed store consistent and complete.

A child process writes messages (and roster updates) through the real `Store` with
`SealedCodec`, printing each message id after its write has committed. The test
kills it with SIGKILL at a random moment, reopens the store and checks: SQLite's
integrity check passes, every row decrypts, and the messages are exactly ids
0..n where n is the last reported id, or the one after it (committed, killed
before it could print).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from xmppterm.domain.ids import AccountId, ChatKey
from xmppterm.store.crypto import SealedCodec
from xmppterm.store.database import Database
from xmppterm.store.keyring import unlock_keyring
from xmppterm.store.serial import roster_from_bytes
from xmppterm.store.store import DB_NAME

ROOT = Path(__file__).resolve().parents[2]
PASS = "crash canary passphrase"
CHAT = ChatKey(AccountId("crash"), "peer@crash.example")
ROUNDS = 5

CHILD = r"""
import asyncio, os, sys
from datetime import UTC, datetime
from pathlib import Path
from xmppterm.domain.ids import AccountId, ChatKey
from xmppterm.domain.messages import ChatMessage, Direction
from xmppterm.domain.roster import RosterItem
from xmppterm.store.crypto import SealedCodec
from xmppterm.store.keyring import KdfParams, create_keyring, keyring_exists, unlock_keyring
from xmppterm.store.store import Store

async def main(data: Path, start: int) -> None:
    pw = os.environ["XMPPTERM_TEST_PASS"]
    kr = (unlock_keyring(data, pw) if keyring_exists(data)
          else create_keyring(data, pw, KdfParams.fast_for_tests()))
    store = Store.open(data, SealedCodec(kr))
    account = AccountId("crash")
    chat = ChatKey(account, "peer@crash.example")
    i = start
    while True:
        body = f"message {i} " + "x" * (i * 37 % 3000)
        await store.add_message(ChatMessage(
            id=f"c{i}", chat=chat, direction=Direction.INCOMING, sender=chat.jid, body=body,
            timestamp=datetime.now(UTC), stanza_id=f"s{i}"))
        os.write(1, f"{i}\n".encode())
        if i % 3 == 0:
            items = tuple(RosterItem(f"c{j}@crash.example", f"n{i}", "both", ())
                          for j in range(i % 50))
            await store.save_roster(account, items)
        i += 1

asyncio.run(main(Path(sys.argv[1]), int(sys.argv[2])))
"""


def run_and_kill(data: Path, start: int, rng: random.Random) -> list[int]:
    """Run the child from id `start`, SIGKILL it mid-writes; the ids it reported."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), XMPPTERM_TEST_PASS=PASS)
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(data), str(start)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert proc.stdout is not None
    wanted, deadline = rng.randint(3, 60), time.monotonic() + 30
    reported: list[int] = []
    while len(reported) < wanted:
        line = proc.stdout.readline()
        assert line, f"child died: {proc.communicate()[1].decode()[-2000:]}"
        assert time.monotonic() < deadline, "child too slow"
        reported.append(int(line))
    time.sleep(rng.uniform(0, 0.02))
    os.kill(proc.pid, signal.SIGKILL)
    out, _ = proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    reported += [int(x) for x in out.decode().split("\n")[:-1]]  # complete lines only
    assert reported == list(range(start, start + len(reported)))
    return reported


def check_store(data: Path) -> list[int]:
    """Reopen, check integrity, decrypt every row; the stored ids in order."""
    db = Database(data / DB_NAME, SealedCodec(unlock_keyring(data, PASS)))
    try:
        assert db.db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        (rows,) = db.db.execute("SELECT count(*) FROM messages").fetchone()
        history = db.history(CHAT, limit=10**6)  # raises RecordError on any bad row
        assert len(history) == rows
        for m in history:
            assert m.body.startswith(f"message {m.id[1:]} ")
        roster = db.get(CHAT.account, "roster")
        assert roster is not None and roster_from_bytes(roster) is not None
        return [int(m.id[1:]) for m in history]
    finally:
        db.close()


def test_kill_9_mid_writes_keeps_every_committed_message(tmp_path: Path) -> None:
    seed = random.SystemRandom().randrange(2**32)
    rng = random.Random(seed)
    data, start = tmp_path / "data", 0
    for round_no in range(ROUNDS):
        reported = run_and_kill(data, start, rng)
        stored = check_store(data)
        last = reported[-1]
        note = f"seed {seed}, round {round_no}"
        assert stored in (list(range(last + 1)), list(range(last + 2))), note
        start = stored[-1] + 1
