"""The passphrase gate: unlocks (or creates) the encrypted store, and locks it again.

Wiring, like run.py: it knows the store, its key file and the session manager.
The KDF and the database open run off the event loop.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from .core.manager import SessionManager
from .domain.ids import AccountId
from .store.crypto import SealedCodec
from .store.keyring import (
    KdfParams,
    KeyFileError,
    Keyring,
    WrongPassphrase,
    create_keyring,
    keyring_exists,
    read_kdf_params,
    unlock_keyring,
)
from .store.store import DB_NAME, Store, open_database

WRONG = "Wrong passphrase: nothing was loaded. Try again."


class StoreWithoutKeys(Exception):
    """A data directory that holds a store but not its key file."""


def check_data_dir(data_dir: Path) -> None:
    if (data_dir / DB_NAME).exists() and not keyring_exists(data_dir):
        raise StoreWithoutKeys(
            f"{data_dir} holds a store ({DB_NAME}) but not its key file (keys.json): without "
            "it nothing there can be read. Restore keys.json, or use another --data-dir.")


def kdf_is_weak(data_dir: Path) -> bool:
    try:
        return read_kdf_params(data_dir).weak
    except KeyFileError:
        return False


class StoreGate:
    """Implements `domain.ports.Gate` for the UI."""

    def __init__(self, data_dir: Path, store: Store, params: KdfParams | None = None) -> None:
        self.data_dir, self.store, self.params = data_dir, store, params
        self.manager: SessionManager | None = None  # set once built; resumed after /lock
        self._keyring: Keyring | None = None
        self._active: list[AccountId] | None = None

    @property
    def new(self) -> bool:
        return not keyring_exists(self.data_dir)

    @property
    def locked(self) -> bool:
        return self.store.is_locked

    async def unlock(self, passphrase: str) -> str | None:
        try:
            keyring = await asyncio.to_thread(self._open_keyring, passphrase)
            db = await asyncio.to_thread(open_database, self.data_dir, SealedCodec(keyring))
        except WrongPassphrase:
            return WRONG
        except (KeyFileError, ValueError) as exc:
            return str(exc)
        self._keyring = keyring
        self.store.attach(db)
        if self.manager is not None and self._active is not None:
            active, self._active = self._active, None
            await self.manager.resume(active)
        return None

    def _open_keyring(self, passphrase: str) -> Keyring:
        if self.new:
            return create_keyring(self.data_dir, passphrase, self.params)
        return unlock_keyring(self.data_dir, passphrase)

    async def lock(self) -> None:
        if self.manager is not None:
            self._active = await self.manager.suspend()
        await self.store.detach()
        keyring, self._keyring = self._keyring, None
        if keyring is not None:
            keyring.lock()
