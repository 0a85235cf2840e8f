"""The encrypted store: nothing readable on disk, tampering fails loudly, passphrases."""

from __future__ import annotations

import base64
import json
import os
import sqlite3
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from xmppterm.domain.ids import AccountId, ChatKey
from xmppterm.domain.messages import ChatMessage, Delivery, Direction
from xmppterm.domain.roster import RosterItem
from xmppterm.store.codec import Codec, PlainCodec, RecordError
from xmppterm.store.crypto import SealedCodec
from xmppterm.store.keyring import (
    KEY_FILE,
    KdfParams,
    KeyFileError,
    Keyring,
    KeyringLocked,
    WrongPassphrase,
    change_passphrase,
    create_keyring,
    keyring_exists,
    read_kdf_params,
    unlock_keyring,
)
from xmppterm.store.store import DB_NAME, Store

PASS = "correct horse canary-pass-5b1e"
FAST = KdfParams.fast_for_tests()
WORK, HOME = AccountId("acct-canary-work-91c2"), AccountId("acct-canary-home-4d7e")
BOB = "canary-bob-3f8a@canary-host-77e1.example"
EVE = "canary-eve-0b9d@canary-host-77e1.example"
BODY = "secret canary body 8e2d ünïcode"
NICK = "Zoë Canary-Nick-c0ffee"
CANARIES = [PASS, WORK.name, HOME.name, BOB, EVE, BODY, NICK, "canary-msgid-a1", "canary-sid-b2",
            "canary-oid-c3", "canary-bob-3f8a", "canary-host-77e1"]


def msg(i: int, chat: ChatKey, **kw: object) -> ChatMessage:
    base = dict(id=f"canary-msgid-a{i}", chat=chat, direction=Direction.INCOMING,
                sender=chat.jid, body=f"{BODY} #{i}", timestamp=datetime(2026, 1, 1, tzinfo=UTC),
                stanza_id=f"canary-sid-b{i}", origin_id=f"canary-oid-c{i}")
    base.update(kw)
    return ChatMessage(**base)  # type: ignore[arg-type]


def open_sealed(data: Path, passphrase: str = PASS) -> tuple[Store, SealedCodec]:
    keyring = (unlock_keyring(data, passphrase) if keyring_exists(data)
               else create_keyring(data, passphrase, FAST))
    codec = SealedCodec(keyring)
    return Store.open(data, codec), codec


async def fill(store: Store) -> None:
    for i in range(1, 4):
        assert await store.add_message(msg(i, ChatKey(WORK, BOB)))
    await store.add_message(msg(9, ChatKey(WORK, EVE), direction=Direction.OUTGOING,
                                sender=WORK.name, delivery=Delivery.PENDING))
    await store.add_message(msg(5, ChatKey(HOME, BOB), body=f"{BODY} home"))
    await store.save_roster(WORK, (RosterItem(BOB, NICK, "both", ("canary-group",)),))
    await store.save_roster(HOME, (RosterItem(EVE, NICK, "to", ()),))
    await store.save_open_chats(WORK, [BOB, EVE])


@pytest.fixture
async def data(tmp_path: Path) -> Path:
    """A data dir holding a sealed store with two accounts, closed."""
    store, _ = open_sealed(tmp_path / "data")
    await fill(store)
    await store.close()
    return tmp_path / "data"


def forms(text: str) -> list[bytes]:
    """The ways `text` could show up in a file: raw, JSON-escaped, UTF-16, base64, hex."""
    raw = text.encode("utf-8")
    out = [raw, json.dumps(text)[1:-1].encode("ascii"), text.encode("utf-16-le"),
           text.encode("utf-16-be"), raw.hex().encode(), raw.hex().upper().encode()]
    for k in range(3):  # base64 of the text at any alignment: the part only it decides
        for enc in (base64.b64encode, base64.urlsafe_b64encode):
            full = enc(b"\0" * k + raw)
            out.append(full[-(-8 * k // 6):(8 * (k + len(raw))) // 6])
    return out


def leaks(data_dir: Path) -> list[str]:
    found = []
    for path in sorted(p for p in data_dir.rglob("*") if p.is_file()):
        blob = path.read_bytes()
        found += [f"{path.name}: {c!r}" for c in CANARIES for f in forms(c) if f in blob]
    return found


@pytest.mark.parametrize("sealed", [True, False])
async def test_nothing_readable_on_disk(tmp_path: Path, sealed: bool) -> None:
    data = tmp_path / "data"
    store, _ = open_sealed(data) if sealed else (Store.open(data, PlainCodec()), None)
    await fill(store)
    names = {p.name for p in data.iterdir()}
    assert {DB_NAME, DB_NAME + "-wal"} <= names
    open_leaks = leaks(data)  # while open: the WAL holds the fresh pages
    await store.close()
    closed_leaks = leaks(data)
    if sealed:
        assert open_leaks == [] and closed_leaks == []
    else:  # the control: the same scan does find plaintext
        assert any(BODY in x for x in open_leaks) and any(NICK in x for x in closed_leaks)


async def test_everything_comes_back(data: Path) -> None:
    store, _ = open_sealed(data)
    assert await store.history(ChatKey(WORK, BOB)) == [msg(i, ChatKey(WORK, BOB))
                                                      for i in range(1, 4)]
    assert [m.body for m in await store.history(ChatKey(HOME, BOB))] == [f"{BODY} home"]
    assert [m.id for m in await store.pending(WORK)] == ["canary-msgid-a9"]
    assert (await store.load_roster(WORK))[0].name == NICK
    assert await store.open_chats(WORK) == [BOB, EVE]
    assert not await store.add_message(msg(7, ChatKey(WORK, BOB), origin_id="canary-oid-c2"))
    await store.close()


def sql(data: Path, query: str, *args: object) -> list[tuple[object, ...]]:
    db = sqlite3.connect(data / DB_NAME, isolation_level=None)
    try:
        return db.execute(query, args).fetchall()
    finally:
        db.close()


def flip(blob: bytes, pos: int) -> bytes:
    b = bytearray(blob)
    b[pos] ^= 0x01
    return bytes(b)


async def expect_record_error(data: Path, what: str, load: str = "history",
                              chat: ChatKey | None = None) -> None:
    chat = chat or ChatKey(WORK, BOB)
    store, _ = open_sealed(data)
    try:
        with pytest.raises(RecordError) as info:
            if load == "history":
                await store.history(chat)
            elif load == "pending":
                await store.pending(chat.account)
            else:
                await store.load_roster(chat.account)
        assert what in str(info.value)
        assert not any(c in str(info.value) for c in CANARIES)
    finally:
        await store.close()


def bob_rows(data: Path) -> list[tuple[int, bytes]]:
    rows = sql(data, "SELECT seq, value FROM messages ORDER BY seq")
    return [(int(s), bytes(v)) for s, v in rows[:3]]  # type: ignore[call-overload]


@pytest.mark.parametrize("pos", [0, 1, 12, 13, 30, -17, -1])
async def test_flipped_byte_in_a_message(data: Path, pos: int) -> None:
    seq, value = bob_rows(data)[1]
    sql(data, "UPDATE messages SET value=? WHERE seq=?", flip(value, pos), seq)
    await expect_record_error(data, "'messages'")


@pytest.mark.parametrize("value", [b"", b"\x01" + bytes(20), b"\x02" + bytes(60)])
async def test_truncated_or_unknown_record(data: Path, value: bytes) -> None:
    sql(data, "UPDATE messages SET value=? WHERE seq=?", value, bob_rows(data)[0][0])
    await expect_record_error(data, "'messages'")


async def test_swapped_messages(data: Path) -> None:
    (s1, v1), (s2, v2), _ = bob_rows(data)
    sql(data, "UPDATE messages SET value=? WHERE seq=?", v2, s1)
    sql(data, "UPDATE messages SET value=? WHERE seq=?", v1, s2)
    await expect_record_error(data, "'messages'")


async def test_message_moved_to_another_account(data: Path) -> None:
    store, codec = open_sealed(data)
    await store.close()
    home_acc = codec.index(HOME.name, "account", HOME.name)
    home_chat = codec.index(HOME.name, "chat", BOB)
    (work_id,) = sql(data, "SELECT msg_id FROM messages WHERE seq=2")[0]
    for msg_id in (work_id, codec.index(HOME.name, "msgid", "canary-msgid-a2")):
        sql(data, "INSERT INTO messages (account, chat, msg_id, pending, value)"
            " SELECT ?, ?, ?, pending, value FROM messages WHERE seq=2",
            home_acc, home_chat, msg_id)
        await expect_record_error(data, "'messages'", chat=ChatKey(HOME, BOB))
        sql(data, "DELETE FROM messages WHERE account=? AND seq>5", home_acc)


async def test_message_moved_to_another_chat(data: Path) -> None:
    store, codec = open_sealed(data)
    await store.close()
    sql(data, "UPDATE messages SET chat=? WHERE seq=2", codec.index(WORK.name, "chat", EVE))
    await expect_record_error(data, "another chat", chat=ChatKey(WORK, EVE))


async def test_forged_outbox_flag(data: Path) -> None:
    sql(data, "UPDATE messages SET pending=1 WHERE seq=1")
    await expect_record_error(data, "not pending", load="pending")


async def test_tampered_kv_records(data: Path) -> None:
    store, codec = open_sealed(data)
    await store.close()
    roster_key = codec.index(WORK.name, "kv", "roster")
    chats_key = codec.index(WORK.name, "kv", "open_chats")
    (roster,) = sql(data, "SELECT value FROM kv WHERE name=?", roster_key)[0]
    (chats,) = sql(data, "SELECT value FROM kv WHERE name=?", chats_key)[0]
    assert isinstance(roster, bytes) and isinstance(chats, bytes)
    sql(data, "UPDATE kv SET value=? WHERE name=?", flip(roster, 40), roster_key)
    await expect_record_error(data, "'kv'", load="roster")
    sql(data, "UPDATE kv SET value=? WHERE name=?", chats, roster_key)  # swapped
    await expect_record_error(data, "'kv'", load="roster")
    home_acc = codec.index(HOME.name, "account", HOME.name)
    sql(data, "UPDATE kv SET value=? WHERE account=? AND name=?", roster,
        home_acc, codec.index(HOME.name, "kv", "roster"))  # WORK's roster moved to HOME
    await expect_record_error(data, "'kv'", load="roster", chat=ChatKey(HOME, BOB))


async def test_wrong_passphrase_loads_nothing(data: Path) -> None:
    with pytest.raises(WrongPassphrase) as info:
        unlock_keyring(data, PASS + "x")
    assert "wrong passphrase" in str(info.value) and PASS not in str(info.value)
    store, _ = open_sealed(data)
    assert len(await store.history(ChatKey(WORK, BOB))) == 3
    await store.close()


async def test_change_passphrase_rewraps_only(data: Path) -> None:
    db_file = data / DB_NAME
    before = (db_file.read_bytes(), db_file.stat().st_mtime_ns, sql(data, "SELECT * FROM kv"))
    old_doc = json.loads((data / KEY_FILE).read_text())
    change_passphrase(data, PASS, "new canary-pass-2")
    assert (db_file.read_bytes(), db_file.stat().st_mtime_ns, sql(data, "SELECT * FROM kv")) \
        == before
    new_doc = json.loads((data / KEY_FILE).read_text())
    assert new_doc["kdf"]["salt"] != old_doc["kdf"]["salt"]
    assert read_kdf_params(data) == FAST  # kept, not silently changed
    with pytest.raises(WrongPassphrase):
        unlock_keyring(data, PASS)
    store, _ = open_sealed(data, "new canary-pass-2")
    assert [m.id for m in await store.history(ChatKey(WORK, BOB))] == [
        f"canary-msgid-a{i}" for i in (1, 2, 3)]
    assert (await store.load_roster(HOME))[0].jid == EVE
    await store.close()
    change_passphrase(data, "new canary-pass-2", PASS, KdfParams(128, 2, 1))
    assert read_kdf_params(data) == KdfParams(128, 2, 1)
    assert unlock_keyring(data, PASS).params == KdfParams(128, 2, 1)


def test_crash_while_changing_passphrase_keeps_the_old_file(
        data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(src: str, dst: str) -> None:
        raise OSError("simulated crash")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        change_passphrase(data, PASS, "other")
    monkeypatch.undo()
    unlock_keyring(data, PASS)
    assert sorted(p.name for p in data.iterdir() if "keys" in p.name) == [KEY_FILE]
    with pytest.raises(ValueError):
        change_passphrase(data, PASS, "")


def test_default_params_are_memory_hard_and_recorded(tmp_path: Path) -> None:
    assert KdfParams().memory_kib >= 64 * 1024 and not KdfParams().weak
    assert FAST.weak
    keyring = create_keyring(tmp_path, PASS)
    doc = json.loads((tmp_path / KEY_FILE).read_text())
    assert doc["kdf"]["name"] == "argon2id" and doc["kdf"]["memory_kib"] >= 64 * 1024
    assert read_kdf_params(tmp_path) == KdfParams() == keyring.params
    assert stat.S_IMODE(os.stat(tmp_path / KEY_FILE).st_mode) == 0o600
    with pytest.raises(KeyFileError, match="already exists"):
        create_keyring(tmp_path, "another", FAST)


def write_doc(path: Path, edit: str) -> None:
    doc = json.loads(path.read_text())
    exec(edit, {"doc": doc})  # noqa: S102 -- test-only edits of the key file
    path.write_text(json.dumps(doc))


@pytest.mark.parametrize("edit", [
    "doc['version'] = 2", "doc['version'] = True", "doc['format'] = 'other'",
    "del doc['wrap']", "doc['kdf']['name'] = 'scrypt'", "doc['kdf']['salt'] = 'AAAA'",
    "doc['kdf']['memory_kib'] = 2**40", "doc['kdf']['lanes'] = 0",
    "doc['kdf']['iterations'] = '3'", "doc['wrap']['key'] = '!!'", "doc['wrap'] = []",
    "doc.clear()", "doc['wrap']['key'] = doc['wrap']['key'][:-8]",
])
def test_corrupt_key_file(tmp_path: Path, edit: str) -> None:
    create_keyring(tmp_path, PASS, FAST)
    write_doc(tmp_path / KEY_FILE, edit)
    with pytest.raises(KeyFileError):
        unlock_keyring(tmp_path, PASS)


def test_truncated_or_missing_key_file(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="does not exist"):
        unlock_keyring(tmp_path, PASS)
    create_keyring(tmp_path, PASS, FAST)
    text = (tmp_path / KEY_FILE).read_bytes()
    (tmp_path / KEY_FILE).write_bytes(text[: len(text) // 2])
    with pytest.raises(KeyFileError, match="truncated"):
        unlock_keyring(tmp_path, PASS)
    with pytest.raises(ValueError):
        create_keyring(tmp_path / "b", "", FAST)
    with pytest.raises(ValueError, match="memory"):
        create_keyring(tmp_path / "b", PASS, KdfParams(memory_kib=4))
    assert not keyring_exists(tmp_path / "b")


def test_wrapped_params_cannot_be_edited(tmp_path: Path) -> None:
    create_keyring(tmp_path, PASS, KdfParams(64, 2, 1))
    write_doc(tmp_path / KEY_FILE, "doc['kdf']['iterations'] = 1")
    with pytest.raises(WrongPassphrase):
        unlock_keyring(tmp_path, PASS)


async def test_identities_are_not_linkable(data: Path) -> None:
    codec = SealedCodec(unlock_keyring(data, PASS))
    for table in ("chat", "msgid", "kv"):
        assert codec.index(WORK.name, table, BOB) != codec.index(HOME.name, table, BOB)
    assert codec.index(WORK.name, "chat", BOB) != codec.index(WORK.name, "msgid", BOB)
    assert len(codec.index(WORK.name, "chat", BOB)) >= 22  # 128 bits
    chats = sql(data, "SELECT DISTINCT account, chat FROM messages")
    assert len(chats) == 3 and len({c for _, c in chats}) == 3
    work, home = codec.index(WORK.name, "account", WORK.name), codec.index(HOME.name, "account",
                                                                          HOME.name)
    assert {a for a, _ in chats} == {work, home}


def test_records_are_padded_and_nonces_fresh() -> None:
    codec: Codec = SealedCodec(Keyring(bytearray(32), FAST))
    a, b = codec.seal("a", "t", "k", b"x"), codec.seal("a", "t", "k", b"x")
    assert a != b and a[1:13] != b[1:13]
    assert len(codec.seal("a", "t", "k", b"y" * 20)) == len(a)
    for size in (0, 30, 31, 32, 33, 500):
        assert codec.unseal("a", "t", "k", codec.seal("a", "t", "k", b"z" * size)) == b"z" * size
    with pytest.raises(RecordError):
        codec.unseal("a", "t2", "k", a)


def test_lock_drops_the_keys() -> None:
    master = bytearray(os.urandom(32))
    keyring = Keyring(master, FAST)
    codec = SealedCodec(keyring)
    blob = codec.seal("a", "t", "k", b"x")
    keyring.lock()
    assert keyring.locked and master == bytearray(32)
    with pytest.raises(KeyringLocked):
        codec.unseal("a", "t", "k", blob)
    with pytest.raises(KeyringLocked):
        codec.index("a", "t", "k")
