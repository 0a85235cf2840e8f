"""Prosody 0.12's on-disk formats, as far as the dev server writes them.

Lua literals for the generated config, and accounts written straight into the
internal storage (`data_path/<host>/accounts/<user>.dat`, the format
mod_auth_internal_hashed reads on every login). Writing the file takes ~3 ms
against ~45 ms for `prosodyctl register`, and keeps passwords off command lines.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

SCRAM_ITERATIONS = 4096
#: Prosody's `password_hash` setting -> the hashlib name
SCRAM_HASHES = {"SHA-1": "sha1", "SHA-256": "sha256"}


@dataclass(frozen=True)
class Account:
    """An account on the dev server: its bare JID and password."""

    jid: str
    password: str = field(repr=False)

    @property
    def localpart(self) -> str:
        return self.jid.partition("@")[0]

    @property
    def host(self) -> str:
        return self.jid.partition("@")[2]


def lua_str(value: str | Path) -> str:
    """A Lua string literal for `value`."""
    text = str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{text}"'


def lua_list(values: Sequence[str | int]) -> str:
    """A Lua array of strings and integers."""
    return "{ " + ", ".join(str(v) if isinstance(v, int) else lua_str(v) for v in values) + " }"


def lua_record(record: dict[str, str | int]) -> str:
    """A datamanager `.dat` file body for a flat table."""
    lines = [f"\t[{lua_str(k)}] = {v if isinstance(v, int) else lua_str(v)};"
             for k, v in record.items()]
    return "return {\n" + "\n".join(lines) + "\n};\n"


def encode_path_part(text: str) -> str:
    """Prosody's datamanager encoding: every byte but ASCII letters and digits becomes %xx."""
    return "".join(chr(b) if chr(b).isalnum() and b < 128 else f"%{b:02x}"
                   for b in text.encode())


def scram_record(password: str, scram_hash: str = "SHA-1",
                 iterations: int = SCRAM_ITERATIONS) -> dict[str, str | int]:
    """The fields mod_auth_internal_hashed stores for `password` (RFC 5802 keys, hex)."""
    name = SCRAM_HASHES[scram_hash]
    salt = secrets.token_hex(16)
    salted = hashlib.pbkdf2_hmac(name, password.encode(), salt.encode(), iterations)
    client_key = hmac.digest(salted, b"Client Key", name)
    return {
        "stored_key": hashlib.new(name, client_key).hexdigest(),
        "server_key": hmac.digest(salted, b"Server Key", name).hex(),
        "salt": salt,
        "iteration_count": iterations,
    }


def write_account(data_path: Path, localpart: str, host: str, password: str,
                  scram_hash: str = "SHA-1") -> Account:
    """Create `localpart@host` in internal storage; FileExistsError if it exists.

    The localpart must already be in its nodeprep form (lower case, no '@' or '/').
    """
    if not localpart or localpart != localpart.lower() or set(localpart) & set("@/ "):
        raise ValueError(f"not a plain lower-case localpart: {localpart!r}")
    store = data_path / encode_path_part(host) / "accounts"
    store.mkdir(mode=0o700, parents=True, exist_ok=True)
    target = store / f"{encode_path_part(localpart)}.dat"
    if target.exists():
        raise FileExistsError(f"account {localpart}@{host} already exists")
    scratch = target.with_name(target.name + "~")
    fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(lua_record(scram_record(password, scram_hash)))
    os.replace(scratch, target)
    return Account(jid=f"{localpart}@{host}", password=password)


def write_roster(data_path: Path, owner: Account, contacts: Sequence[tuple[str, str]],
                 subscription: str = "both") -> None:
    """Give `owner` a roster of (bare JID, name) contacts with `subscription`.

    Prosody 0.12 keeps a roster as `data_path/<host>/roster/<user>.dat`; the `[false]`
    entry is its metadata. Write it while the owner is offline (the server caches
    the rosters of online users).
    """
    entries = ["\t[false] = { [\"version\"] = 1; [\"pending\"] = {}; };"]
    for jid, name in contacts:
        entries.append(f"\t[{lua_str(jid)}] = {{ [\"groups\"] = {{}}; "
                       f"[\"subscription\"] = {lua_str(subscription)}; "
                       f"[\"name\"] = {lua_str(name)}; }};")
    store = data_path / encode_path_part(owner.host) / "roster"
    store.mkdir(mode=0o700, parents=True, exist_ok=True)
    target = store / f"{encode_path_part(owner.localpart)}.dat"
    scratch = target.with_name(target.name + "~")
    fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write("return {\n" + "\n".join(entries) + "\n};\n")
    os.replace(scratch, target)
