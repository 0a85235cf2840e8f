"""The key file: one passphrase unlocks a random master key; HKDF derives the rest.

`keys.json` (0600, written atomically) holds the KDF name and Argon2id parameters,
a random salt, and the 32-byte master key wrapped with AES-256-GCM under the key that
Argon2id derives from the passphrase. The associated data names the file format,
its version and the KDF parameters, so none of them can be changed unnoticed.
Changing the passphrase re-wraps the same master key: no record is rewritten.

The passphrase is NFC-normalised and UTF-8 encoded, so the same words typed on
another system open the same file. The KDF is slow on purpose (about 64 MiB and a
fifth of a second by default): call `create_keyring`, `unlock_keyring` and
`change_passphrase` off the event loop.

Python cannot promise that secrets leave memory: `bytes` and `str` (the passphrase,
the key Argon2id returns, derived keys inside `cryptography` objects) are immutable
and may be copied by the runtime. The master key is kept in a `bytearray` and
overwritten on `Keyring.lock()`; everything else is dropped and left to the collector.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import struct
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .files import atomic_write

KEY_FILE = "keys.json"
FORMAT = "xmppterm-keys"
VERSION = 1
KDF_NAME = "argon2id"
WRAP_ALG = "aes-256-gcm"
KEY_LEN, SALT_LEN, NONCE_LEN = 32, 16, 12
HKDF_LABEL = b"xmppterm-store-v1"
MAX_MEMORY_KIB, MAX_ITERATIONS, MAX_LANES = 4 * 1024 * 1024, 64, 64


class KeyFileError(Exception):
    """The key file is missing, unreadable, truncated, or of an unknown version."""


class WrongPassphrase(Exception):
    """The passphrase does not open the key file; nothing was unlocked."""

    def __init__(self) -> None:
        super().__init__("wrong passphrase: the key file did not open, nothing was loaded")


class KeyringLocked(Exception):
    """The keyring was locked: its keys are gone until it is unlocked again."""


def lp(*parts: bytes) -> bytes:
    """Length-prefixed concatenation: no two different part lists give the same bytes."""
    return b"".join(struct.pack(">I", len(p)) + p for p in parts)


@dataclass(frozen=True, slots=True)
class KdfParams:
    """Argon2id cost. The defaults follow RFC 9106 (second recommended option).

    Smaller parameters are for tests only and must be asked for by name
    (`fast_for_tests()`); whatever is used is written in the key file and shown by
    `read_kdf_params`, and `weak` tells a caller to warn about it.
    """

    memory_kib: int = 64 * 1024
    iterations: int = 3
    lanes: int = 4

    @classmethod
    def fast_for_tests(cls) -> KdfParams:
        """Tiny, insecure parameters so tests do not spend seconds in the KDF."""
        return cls(memory_kib=64, iterations=1, lanes=1)

    @property
    def weak(self) -> bool:
        default = KdfParams()
        return self.memory_kib < default.memory_kib or self.iterations < default.iterations

    def check(self) -> None:
        """ValueError unless the parameters are within what Argon2id and this file allow."""
        if not 1 <= self.lanes <= MAX_LANES:
            raise ValueError(f"Argon2id lanes must be 1..{MAX_LANES}")
        if not 8 * self.lanes <= self.memory_kib <= MAX_MEMORY_KIB:
            raise ValueError(f"Argon2id memory must be {8 * self.lanes}..{MAX_MEMORY_KIB} KiB")
        if not 1 <= self.iterations <= MAX_ITERATIONS:
            raise ValueError(f"Argon2id iterations must be 1..{MAX_ITERATIONS}")

    def derive(self, passphrase: str, salt: bytes) -> bytes:
        """The key-encryption key: slow, memory-hard, deterministic for (passphrase, salt)."""
        kdf = Argon2id(salt=salt, length=KEY_LEN, iterations=self.iterations,
                       lanes=self.lanes, memory_cost=self.memory_kib)
        return kdf.derive(_passphrase_bytes(passphrase))


@dataclass(frozen=True, slots=True)
class AccountKeys:
    """One account's keys: `index` for HMAC lookup keys, `aead` for sealing records."""

    index: bytes
    aead: AESGCM


class Keyring:
    """An unlocked master key. Derives per-account keys (HKDF-SHA256) and caches them."""

    def __init__(self, master: bytearray, params: KdfParams) -> None:
        self._master: bytearray | None = master
        self._cache: dict[str, AccountKeys] = {}
        self._lock = threading.Lock()
        self.params = params

    @property
    def locked(self) -> bool:
        return self._master is None

    def account_keys(self, account: str) -> AccountKeys:
        with self._lock:
            keys = self._cache.get(account)
            if keys is None:
                keys = AccountKeys(self._derive(account, b"index"),
                                   AESGCM(self._derive(account, b"seal")))
                self._cache[account] = keys
            return keys

    def _derive(self, account: str, purpose: bytes) -> bytes:
        if self._master is None:
            raise KeyringLocked("the store is locked: unlock it with the passphrase")
        info = lp(HKDF_LABEL, purpose, account.encode("utf-8"))
        hkdf = HKDF(algorithm=hashes.SHA256(), length=KEY_LEN, salt=None, info=info)
        return hkdf.derive(bytes(self._master))

    def lock(self) -> None:
        """Overwrite the master key and drop every derived key (best effort, see module doc)."""
        with self._lock:
            if self._master is not None:
                self._master[:] = bytes(len(self._master))
            self._master = None
            self._cache.clear()

    def _wrapped(self, passphrase: str, params: KdfParams) -> bytes:
        """The key file that opens this master key with `passphrase`."""
        if self._master is None:
            raise KeyringLocked("the store is locked: unlock it with the passphrase")
        return _wrap(bytes(self._master), passphrase, params)


def key_path(data_dir: Path) -> Path:
    return data_dir / KEY_FILE


def keyring_exists(data_dir: Path) -> bool:
    return key_path(data_dir).exists()


def create_keyring(data_dir: Path, passphrase: str,
                   params: KdfParams | None = None) -> Keyring:
    """Make a new random master key and write `keys.json`; never replaces an existing one."""
    params = params or KdfParams()
    params.check()
    _check_new(passphrase)
    path = key_path(data_dir)
    if path.exists():
        raise KeyFileError(f"{path} already exists: unlock it instead of creating a new one")
    keyring = Keyring(bytearray(os.urandom(KEY_LEN)), params)
    atomic_write(path, keyring._wrapped(passphrase, params))
    return keyring


def unlock_keyring(data_dir: Path, passphrase: str) -> Keyring:
    """Open `keys.json`: `WrongPassphrase` for a bad passphrase, `KeyFileError` for a bad file."""
    params, salt, nonce, wrapped = _parse(_read(key_path(data_dir)))
    kek = params.derive(passphrase, salt)
    try:
        master = AESGCM(kek).decrypt(nonce, wrapped, _wrap_aad(params, salt))
    except InvalidTag:
        raise WrongPassphrase() from None
    return Keyring(bytearray(master), params)


def change_passphrase(data_dir: Path, old: str, new: str,
                      params: KdfParams | None = None) -> None:
    """Re-wrap the master key under `new` (fresh salt; `params` or the file's own).

    Atomic: a crash leaves the old file (opens with `old`) or the new one (with `new`).
    """
    _check_new(new)
    keyring = unlock_keyring(data_dir, old)
    try:
        params = params or keyring.params
        params.check()
        atomic_write(key_path(data_dir), keyring._wrapped(new, params))
    finally:
        keyring.lock()


def read_kdf_params(data_dir: Path) -> KdfParams:
    """The KDF parameters recorded in the key file, without unlocking it."""
    return _parse(_read(key_path(data_dir)))[0]


def _passphrase_bytes(passphrase: str) -> bytes:
    return unicodedata.normalize("NFC", passphrase).encode("utf-8")


def _check_new(passphrase: str) -> None:
    if not passphrase:
        raise ValueError("the passphrase must not be empty")


def _wrap_aad(params: KdfParams, salt: bytes) -> bytes:
    return lp(FORMAT.encode(), str(VERSION).encode(), KDF_NAME.encode(),
              struct.pack(">III", params.memory_kib, params.iterations, params.lanes), salt)


def _wrap(master: bytes, passphrase: str, params: KdfParams) -> bytes:
    salt, nonce = os.urandom(SALT_LEN), os.urandom(NONCE_LEN)
    kek = params.derive(passphrase, salt)
    wrapped = AESGCM(kek).encrypt(nonce, master, _wrap_aad(params, salt))
    doc = {
        "format": FORMAT, "version": VERSION,
        "kdf": {"name": KDF_NAME, "memory_kib": params.memory_kib,
                "iterations": params.iterations, "lanes": params.lanes, "salt": _b64(salt)},
        "wrap": {"alg": WRAP_ALG, "nonce": _b64(nonce), "key": _b64(wrapped)},
    }
    return (json.dumps(doc, indent=1) + "\n").encode("ascii")


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_bytes())
    except FileNotFoundError:
        raise KeyFileError(f"{path} does not exist: there is no keyring to unlock") from None
    except (OSError, ValueError) as exc:
        raise KeyFileError(f"{path} is unreadable or not JSON (truncated?): "
                           f"{type(exc).__name__}") from None


def _parse(doc: Any) -> tuple[KdfParams, bytes, bytes, bytes]:
    """Check the structure of the key file; every problem is a `KeyFileError`."""
    try:
        if doc["format"] != FORMAT:
            raise KeyFileError("not an xmppterm key file")
        if doc["version"] != VERSION or type(doc["version"]) is not int:
            raise KeyFileError(f"key file version {str(doc['version'])[:12]!r} is unknown "
                               f"(this xmppterm reads version {VERSION})")
        kdf, wrap = doc["kdf"], doc["wrap"]
        if kdf["name"] != KDF_NAME or wrap["alg"] != WRAP_ALG:
            raise KeyFileError("key file names an unknown KDF or key wrapping")
        params = KdfParams(_int(kdf["memory_kib"]), _int(kdf["iterations"]), _int(kdf["lanes"]))
        salt, nonce, key = _unb64(kdf["salt"]), _unb64(wrap["nonce"]), _unb64(wrap["key"])
        params.check()
    except (KeyError, TypeError) as exc:
        raise KeyFileError(f"key file is incomplete or malformed ({type(exc).__name__})") from None
    except ValueError as exc:
        raise KeyFileError(f"key file has unusable KDF parameters: {exc}") from None
    if len(salt) != SALT_LEN or len(nonce) != NONCE_LEN or len(key) != KEY_LEN + 16:
        raise KeyFileError("key file has a salt, nonce or wrapped key of the wrong length")
    return params, salt, nonce, key


def _int(value: Any) -> int:
    if type(value) is not int:
        raise TypeError("not an integer")
    return value


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: Any) -> bytes:
    if not isinstance(text, str):
        raise TypeError("not a string")
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (ValueError, binascii.Error):
        raise TypeError("not base64") from None

