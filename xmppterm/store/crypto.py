"""The encrypting codec: HMAC lookup keys and AES-256-GCM records bound to their place.

- `index`: HMAC-SHA256 under the account's index key over (table, key), the first
  128 bits in URL-safe base64. Two identities get unrelated values for the same JID.
- `seal`: `version (1 byte) | nonce (12 random bytes) | AES-256-GCM ciphertext+tag`,
  with the account's seal key. The associated data is (format, version, account,
  table, indexed key), so a flipped byte, two swapped records, or a record moved to
  another account or table fails to open instead of showing the wrong data.
- The plaintext is padded (ISO/IEC 7816-4, 0x80 then zeros) to a multiple of
  `PAD_BLOCK` bytes, so the file shows the size of a record only roughly.

Errors name the table, never a key or any content.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag

from .codec import RecordError
from .keyring import Keyring, lp

RECORD_VERSION = 1
RECORD_LABEL = b"xmppterm-record"
NONCE_LEN, TAG_LEN = 12, 16
INDEX_BYTES = 16
PAD_BLOCK = 32
_HEADER = bytes([RECORD_VERSION])


class SealedCodec:
    """`Codec` for the encrypted store. Holds no keys itself: they live in the keyring,
    so `Keyring.lock()` makes every later call fail (`KeyringLocked`)."""

    def __init__(self, keyring: Keyring) -> None:
        self._keyring = keyring

    def index(self, account: str, table: str, key: str) -> str:
        mac = hmac.new(self._keyring.account_keys(account).index,
                       lp(table.encode("utf-8"), key.encode("utf-8")), hashlib.sha256)
        return base64.urlsafe_b64encode(mac.digest()[:INDEX_BYTES]).rstrip(b"=").decode("ascii")

    def seal(self, account: str, table: str, key: str, value: bytes) -> bytes:
        aead = self._keyring.account_keys(account).aead
        nonce = os.urandom(NONCE_LEN)
        sealed = aead.encrypt(nonce, _pad(value), _aad(account, table, key))
        return _HEADER + nonce + sealed

    def unseal(self, account: str, table: str, key: str, blob: bytes) -> bytes:
        aead = self._keyring.account_keys(account).aead
        blob = bytes(blob)
        if len(blob) < 1 + NONCE_LEN + TAG_LEN:
            raise _broken(table, "it is too short (truncated)")
        if blob[0] != RECORD_VERSION:
            raise _broken(table, f"its format version {blob[0]} is unknown")
        nonce, sealed = blob[1:1 + NONCE_LEN], blob[1 + NONCE_LEN:]
        try:
            padded = aead.decrypt(nonce, sealed, _aad(account, table, key))
        except InvalidTag:
            raise _broken(table, "it was altered, moved from its place, "
                                 "or sealed under another key") from None
        return _unpad(padded, table)


def _aad(account: str, table: str, key: str) -> bytes:
    return lp(RECORD_LABEL, _HEADER, account.encode("utf-8"), table.encode("utf-8"),
              key.encode("utf-8"))


def _pad(value: bytes) -> bytes:
    fill = PAD_BLOCK - (len(value) + 1) % PAD_BLOCK
    return value + b"\x80" + bytes(fill % PAD_BLOCK)


def _unpad(padded: bytes, table: str) -> bytes:
    end = padded.rfind(b"\x80")
    if end < 0 or padded[end + 1:].strip(b"\x00"):
        raise _broken(table, "its padding is invalid")
    return padded[:end]


def _broken(table: str, why: str) -> RecordError:
    return RecordError(f"a stored record in table {table!r} cannot be read: {why}")
