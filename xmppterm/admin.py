"""`xmppterm passphrase` and `xmppterm wipe`: what is done to the store outside the TUI."""

from __future__ import annotations

import getpass
import os
import secrets
import sys
from collections.abc import Callable
from pathlib import Path

from .domain.ids import AccountId
from .store.crypto import SealedCodec
from .store.keyring import (
    KeyFileError,
    WrongPassphrase,
    change_passphrase,
    key_path,
    keyring_exists,
    unlock_keyring,
)
from .store.logfile import LOG_NAME
from .store.store import DB_NAME, open_database

Ask = Callable[[str], str]


def _fail(text: str) -> int:
    print(f"xmppterm: {text}", file=sys.stderr)
    return 2


def passphrase_command(data_dir: Path, ask: Ask = getpass.getpass) -> int:
    """Change the passphrase: the key file is re-wrapped, no record is rewritten."""
    if not keyring_exists(data_dir):
        return _fail(f"{data_dir} has no encrypted store yet: start xmppterm once to make one.")
    old = ask("Current passphrase: ")
    new = ask("New passphrase: ")
    if len(new) < 8:
        return _fail("use at least 8 characters; nothing was changed.")
    if ask("New passphrase again: ") != new:
        return _fail("the two new passphrases differ; nothing was changed.")
    try:
        change_passphrase(data_dir, old, new)
    except WrongPassphrase:
        return _fail("wrong passphrase; nothing was changed.")
    except KeyFileError as exc:
        return _fail(str(exc))
    print("Passphrase changed.")
    return 0


def wipe_command(data_dir: Path, account: str | None, ask: Ask = input,
                 ask_secret: Ask = getpass.getpass) -> int:
    """Destroy everything (or one identity's records) after a typed confirmation."""
    target = f"the identity {account!r}" if account else f"everything in {data_dir}"
    word = account or "everything"
    print(f"This destroys {target}: history, contacts, keys, outbox. It cannot be undone.")
    if ask(f"Type {word!r} to go on: ").strip() != word:
        print("Nothing was wiped.")
        return 1
    if account is None:
        _wipe_all(data_dir)
        print(f"Wiped {data_dir}.")
        return 0
    try:
        keyring = unlock_keyring(data_dir, ask_secret("Passphrase: "))
    except (WrongPassphrase, KeyFileError) as exc:
        return _fail(f"{exc}; nothing was wiped.")
    db = open_database(data_dir, SealedCodec(keyring))
    try:
        rows = db.wipe_account(AccountId(account))
    finally:
        db.close()
        keyring.lock()
    print(f"Wiped {rows} records of {account!r}.")
    return 0


def _wipe_all(data_dir: Path) -> None:
    """Overwrite the key file first (without it no record can be opened), then remove all."""
    keys = key_path(data_dir)
    if keys.exists():
        _overwrite(keys)
    for name in (DB_NAME, f"{DB_NAME}-wal", f"{DB_NAME}-shm", LOG_NAME, keys.name):
        path = data_dir / name
        if path.exists():
            _overwrite(path)
            path.unlink()


def _overwrite(path: Path) -> None:
    size = path.stat().st_size
    with open(path, "r+b") as fh:
        fh.write(secrets.token_bytes(size))
        fh.flush()
        os.fsync(fh.fileno())
