"""SQLite tables of records; every key and value passes through the codec.

WAL mode and one transaction per write: after `kill -9` at any moment the file
opens consistent. Not thread-safe on its own: `Store` runs it on one worker thread.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

from ..domain.ids import AccountId, ChatKey
from ..domain.messages import ChatMessage, Delivery
from ..domain.search import Needle
from .codec import Codec, PlainCodec, RecordError
from .serial import message_from_bytes, message_to_bytes

SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    account TEXT NOT NULL, chat TEXT NOT NULL, msg_id TEXT NOT NULL,
    pending INTEGER NOT NULL DEFAULT 0, value BLOB NOT NULL,
    UNIQUE (account, msg_id));
CREATE INDEX IF NOT EXISTS messages_by_chat ON messages (account, chat, seq);
CREATE INDEX IF NOT EXISTS messages_pending ON messages (account, pending) WHERE pending = 1;
CREATE TABLE IF NOT EXISTS seen (account TEXT NOT NULL, ref TEXT NOT NULL,
    PRIMARY KEY (account, ref)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS kv (account TEXT NOT NULL, name TEXT NOT NULL, value BLOB NOT NULL,
    PRIMARY KEY (account, name)) WITHOUT ROWID;
"""
SEARCH_BATCH = 256  # sealed rows read and decrypted at a time by `search`
NEWEST_OF_ACCOUNT = ("SELECT seq, msg_id, value FROM messages WHERE account=? AND seq < ?"
                     " ORDER BY seq DESC LIMIT ?")
NEWEST_OF_CHAT = ("SELECT seq, msg_id, value FROM messages WHERE account=? AND chat=?"
                  " AND seq < ? ORDER BY seq DESC LIMIT ?")


class Database:
    def __init__(self, path: Path | None, codec: Codec | None = None) -> None:
        self.codec: Codec = codec or PlainCodec()
        target = str(path) if path is not None else ":memory:"
        self.db = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
        if path is not None:
            path.chmod(0o600)
            self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute("PRAGMA secure_delete=ON")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    def _acc(self, account: AccountId) -> str:
        return self.codec.index(account.name, "account", account.name)

    def _idx(self, account: AccountId, table: str, key: str) -> str:
        return self.codec.index(account.name, table, key)

    def _refs(self, msg: ChatMessage) -> list[str]:
        refs = [f"o:{msg.origin_id}"] if msg.origin_id else []
        if msg.stanza_id:
            refs.append(f"s:{msg.stanza_id}")
        return [self._idx(msg.chat.account, "ref", f"{msg.chat.jid}\0{r}") for r in refs]

    def add_message(self, msg: ChatMessage, also: tuple[str, bytes] | None = None) -> bool:
        """Store a new message; False (and nothing written) if it is already known.
        `also` is a kv record (name, value) written in the same transaction when the
        message is new: one commit, one fsync."""
        acc, refs = self._acc(msg.chat.account), self._refs(msg)
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            for ref in refs:
                if self.db.execute("SELECT 1 FROM seen WHERE account=? AND ref=?",
                                   (acc, ref)).fetchone():
                    return False
            cur = self.db.execute(
                "INSERT OR IGNORE INTO messages (account, chat, msg_id, pending, value)"
                " VALUES (?, ?, ?, ?, ?)",
                (acc, self._idx(msg.chat.account, "chat", msg.chat.jid),
                 self._idx(msg.chat.account, "msgid", msg.id), _pending(msg), self._seal(msg)))
            if cur.rowcount == 0:
                return False
            self.db.executemany("INSERT OR IGNORE INTO seen (account, ref) VALUES (?, ?)",
                                [(acc, ref) for ref in refs])
            if also is not None:
                self._put(msg.chat.account, *also)
        return True

    def update_message(self, msg: ChatMessage) -> None:
        """Rewrite a stored message (its delivery state, ids) in place."""
        acc = self._acc(msg.chat.account)
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.execute(
                "UPDATE messages SET pending=?, value=? WHERE account=? AND msg_id=?",
                (_pending(msg), self._seal(msg), acc,
                 self._idx(msg.chat.account, "msgid", msg.id)))
            self.db.executemany("INSERT OR IGNORE INTO seen (account, ref) VALUES (?, ?)",
                                [(acc, ref) for ref in self._refs(msg)])

    def _seal(self, msg: ChatMessage) -> bytes:
        key = self._idx(msg.chat.account, "msgid", msg.id)
        return self.codec.seal(msg.chat.account.name, "messages", key, message_to_bytes(msg))

    def _load(self, account: AccountId, rows: list[tuple[str, bytes]]) -> list[ChatMessage]:
        out = []
        for msg_id_h, blob in rows:
            plain = self.codec.unseal(account.name, "messages", msg_id_h, blob)
            out.append(message_from_bytes(account, plain))
        return out

    def history(self, chat: ChatKey, limit: int = 500) -> list[ChatMessage]:
        """The last `limit` messages of a chat, oldest first."""
        rows = self.db.execute(
            "SELECT msg_id, value FROM (SELECT seq, msg_id, value FROM messages"
            " WHERE account=? AND chat=? ORDER BY seq DESC LIMIT ?) ORDER BY seq",
            (self._acc(chat.account), self._idx(chat.account, "chat", chat.jid), limit),
        ).fetchall()
        return _only(self._load(chat.account, rows), lambda m: m.chat == chat, "another chat")

    def search(self, account: AccountId, text: str, chat: ChatKey | None = None,
               limit: int = 200) -> list[ChatMessage]:
        """The messages of `chat` (or of every chat of `account`) whose body contains
        `text`, ignoring case and compatibility forms, newest first, at most `limit`.
        Records are sealed, so each is decrypted and matched here, in batches."""
        needle, found = Needle(text), []
        if not needle or limit <= 0:
            return []
        for msg in self._newest_first(account, chat):
            if needle.in_text(msg.body):
                found.append(msg)
                if len(found) >= limit:
                    break
        return found

    def _newest_first(self, account: AccountId, chat: ChatKey | None) -> Iterator[ChatMessage]:
        query, args = NEWEST_OF_ACCOUNT, [self._acc(account)]
        if chat is not None:
            query, args = NEWEST_OF_CHAT, [*args, self._idx(account, "chat", chat.jid)]
        before = 2**63 - 1  # above every seq
        while True:
            rows = self.db.execute(query, (*args, before, SEARCH_BATCH)).fetchall()
            if not rows:
                return
            before = rows[-1][0]
            msgs = self._load(account, [(msg_id, value) for _, msg_id, value in rows])
            if chat is not None:
                _only(msgs, lambda m: m.chat == chat, "another chat")
            yield from msgs

    def history_around(self, chat: ChatKey, msg_id: str, before: int = 100,
                       after: int = 300) -> list[ChatMessage]:
        """Up to `before` messages of `chat` before the message `msg_id`, that message, and
        up to `after` after it, oldest first; [] if the chat has no such message."""
        acc, chat_h = self._acc(chat.account), self._idx(chat.account, "chat", chat.jid)
        row = self.db.execute(
            "SELECT seq FROM messages WHERE account=? AND chat=? AND msg_id=?",
            (acc, chat_h, self._idx(chat.account, "msgid", msg_id))).fetchone()
        if row is None:
            return []
        older = self.db.execute(
            "SELECT msg_id, value FROM (SELECT seq, msg_id, value FROM messages WHERE account=?"
            " AND chat=? AND seq < ? ORDER BY seq DESC LIMIT ?) ORDER BY seq",
            (acc, chat_h, row[0], max(0, before))).fetchall()
        newer = self.db.execute(
            "SELECT msg_id, value FROM messages WHERE account=? AND chat=? AND seq >= ?"
            " ORDER BY seq LIMIT ?", (acc, chat_h, row[0], max(0, after) + 1)).fetchall()
        return _only(self._load(chat.account, older + newer), lambda m: m.chat == chat,
                     "another chat")

    def get_message(self, account: AccountId, msg_id: str) -> ChatMessage | None:
        key = self._idx(account, "msgid", msg_id)
        rows = self.db.execute("SELECT msg_id, value FROM messages WHERE account=? AND msg_id=?",
                               (self._acc(account), key)).fetchall()
        found = self._load(account, rows)
        return found[0] if found else None

    def pending(self, account: AccountId) -> list[ChatMessage]:
        """The outbox: our messages not yet handed to the server, oldest first."""
        rows = self.db.execute(
            "SELECT msg_id, value FROM messages WHERE account=? AND pending=1 ORDER BY seq",
            (self._acc(account),)).fetchall()
        return _only(self._load(account, rows), lambda m: m.delivery is Delivery.PENDING,
                     "a message that is not pending")

    def wipe_account(self, account: AccountId) -> int:
        """Delete every record of `account` (secure_delete overwrites the freed pages) and
        truncate the write-ahead log, which may still hold copies. Returns rows deleted."""
        acc = self._acc(account)
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            count = sum(self.db.execute(statement, (acc,)).rowcount for statement in (
                "DELETE FROM messages WHERE account=?", "DELETE FROM seen WHERE account=?",
                "DELETE FROM kv WHERE account=?"))
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return count

    def get(self, account: AccountId, name: str) -> bytes | None:
        row = self.db.execute("SELECT value FROM kv WHERE account=? AND name=?",
                              (self._acc(account), self._idx(account, "kv", name))).fetchone()
        if row is None:
            return None
        return self.codec.unseal(account.name, "kv", self._idx(account, "kv", name), row[0])

    def put(self, account: AccountId, name: str, value: bytes) -> None:
        with self.db:
            self._put(account, name, value)

    def _put(self, account: AccountId, name: str, value: bytes) -> None:
        key = self._idx(account, "kv", name)
        self.db.execute("INSERT OR REPLACE INTO kv (account, name, value) VALUES (?, ?, ?)",
                        (self._acc(account), key, self.codec.seal(account.name, "kv", key, value)))

    def delete(self, account: AccountId, name: str) -> None:
        with self.db:
            self.db.execute("DELETE FROM kv WHERE account=? AND name=?",
                            (self._acc(account), self._idx(account, "kv", name)))

    def seen(self, account: AccountId, ref: str) -> bool:
        """Whether `ref` (e.g. the digest of an OMEMO ciphertext) was marked seen."""
        row = self.db.execute("SELECT 1 FROM seen WHERE account=? AND ref=?",
                              (self._acc(account), self._idx(account, "ref", ref))).fetchone()
        return row is not None

    def mark_seen(self, account: AccountId, ref: str) -> None:
        with self.db:
            self.db.execute("INSERT OR IGNORE INTO seen (account, ref) VALUES (?, ?)",
                            (self._acc(account), self._idx(account, "ref", ref)))

def _pending(msg: ChatMessage) -> int:
    return 1 if msg.delivery is Delivery.PENDING else 0


def _only(msgs: list[ChatMessage], belongs: Callable[[ChatMessage], bool],
          what: str) -> list[ChatMessage]:
    """Check what the sealed record says against the plain columns that selected it
    (`chat`, `pending` are not covered by the codec's associated data): a row moved
    to another chat or marked pending from outside fails instead of showing there."""
    if not all(belongs(m) for m in msgs):
        raise RecordError(f"a stored record in table 'messages' was moved: it is {what}")
    return msgs
