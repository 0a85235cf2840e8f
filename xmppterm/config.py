"""Configuration: one TOML file, `[settings]` and `[accounts.<name>]` tables (DESIGN.md 8).

Every error names the file, the key and what to do. Secrets are not read here: a
`password_command` is kept as a command and run by core when it connects.
"""

from __future__ import annotations

import stat
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .domain.ids import AccountId, InvalidJid, parse_jid

TlsMode = Literal["starttls", "direct"]
ACCOUNT_KEYS = {
    "jid", "password", "password_command", "host", "port", "tls", "ca_file",
    "allow_plain", "connect", "color",
}
SETTINGS_KEYS = {"theme", "low_bandwidth"}


class ConfigError(Exception):
    """A problem in the configuration, phrased for the user: file, key, fix."""

    def __init__(self, path: Path | None, key: str | None, problem: str, fix: str) -> None:
        where = str(path) if path else "configuration"
        if key:
            where += f", key `{key}`"
        super().__init__(f"{where}: {problem}. {fix}")
        self.path, self.key, self.problem, self.fix = path, key, problem, fix


@dataclass(frozen=True, slots=True)
class AccountConfig:
    id: AccountId
    jid: str  # bare JID, normalised
    password: str | None = field(default=None, repr=False)
    password_command: str | None = None
    host: str | None = None
    port: int | None = None
    tls: TlsMode = "starttls"
    ca_file: Path | None = None
    allow_plain: bool = False  # SASL PLAIN, only ever over verified TLS
    connect: bool = True
    color: str | None = None

    @property
    def domain(self) -> str:
        return parse_jid(self.jid).domain

    @property
    def plain_password_in_config(self) -> bool:
        return self.password is not None


@dataclass(frozen=True, slots=True)
class Settings:
    theme: str = "default"
    low_bandwidth: bool = False


@dataclass(frozen=True, slots=True)
class Config:
    path: Path | None
    settings: Settings
    accounts: tuple[AccountConfig, ...]

    def account(self, account: AccountId) -> AccountConfig:
        for acc in self.accounts:
            if acc.id == account:
                return acc
        raise KeyError(account)


def check_permissions(path: Path) -> None:
    """Refuse a config file that group or others can read or write."""
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            path, None, f"is readable or writable by group or others (mode {stat.S_IMODE(mode):o})",
            f"It may hold credentials: run `chmod 600 {path}` and start again",
        )


def load_config(path: Path) -> Config:
    """Read and validate the file; raises ConfigError (missing file included)."""
    if not path.exists():
        raise ConfigError(path, None, "does not exist", "Run `xmppterm` to create it, or `xmppterm demo`")
    check_permissions(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(path, None, f"is not valid TOML ({exc})", "Fix the syntax at that line") from None
    return parse_config(data, path)


def parse_config(data: dict[str, Any], path: Path | None = None) -> Config:
    unknown = set(data) - {"settings", "accounts"}
    if unknown:
        key = sorted(unknown)[0]
        raise ConfigError(path, key, "is not a known table", "Use [settings] or [accounts.NAME]")
    settings = _parse_settings(_table(data, "settings", path), path)
    accounts_raw = _table(data, "accounts", path)
    accounts = tuple(
        _parse_account(name, _table(accounts_raw, name, path, "accounts."), path)
        for name in accounts_raw
    )
    return Config(path, settings, accounts)


def _table(data: dict[str, Any], key: str, path: Path | None, prefix: str = "") -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(path, prefix + key, "must be a table", f"Write it as [{prefix}{key}]")
    return value


def _parse_settings(raw: dict[str, Any], path: Path | None) -> Settings:
    for key in raw:
        if key not in SETTINGS_KEYS:
            raise ConfigError(path, f"settings.{key}", "is not a known setting",
                              f"Known settings: {', '.join(sorted(SETTINGS_KEYS))}")
    theme = _typed(raw, "theme", str, path, "settings.", "default")
    low = _typed(raw, "low_bandwidth", bool, path, "settings.", False)
    return Settings(theme=theme, low_bandwidth=low)


def _typed(raw: dict[str, Any], key: str, kind: type[Any], path: Path | None,
           prefix: str, default: Any) -> Any:
    value = raw.get(key, default)
    if (value is not None and not isinstance(value, kind)) or (kind is int and isinstance(value, bool)):
        raise ConfigError(path, prefix + key, f"must be a {kind.__name__}",
                          f"Write e.g. {key} = {_example(kind)}")
    return value


def _example(kind: type[Any]) -> str:
    return {str: '"text"', int: "5222", bool: "true"}.get(kind, "...")


def _parse_account(name: str, raw: dict[str, Any], path: Path | None) -> AccountConfig:
    p = f"accounts.{name}."
    for key in raw:
        if key not in ACCOUNT_KEYS:
            raise ConfigError(path, p + key, "is not a known account key",
                              f"Known keys: {', '.join(sorted(ACCOUNT_KEYS))}")
    jid_text = _typed(raw, "jid", str, path, p, None)
    if not jid_text:
        raise ConfigError(path, p + "jid", "is missing", 'Add jid = "name@example.org"')
    try:
        jid = parse_jid(jid_text)
    except InvalidJid as exc:
        raise ConfigError(path, p + "jid", str(exc), 'Write it as jid = "name@example.org"') from None
    if not jid.local:
        raise ConfigError(path, p + "jid", "has no name part", 'Write it as jid = "name@example.org"')
    password = _typed(raw, "password", str, path, p, None)
    command = _typed(raw, "password_command", str, path, p, None)
    if password is not None and command is not None:
        raise ConfigError(path, p + "password", "is set together with password_command",
                          "Keep only password_command")
    return AccountConfig(
        id=AccountId(name), jid=jid.bare, password=password, password_command=command,
        host=_typed(raw, "host", str, path, p, None), port=_port(raw, path, p),
        tls=_tls(raw, path, p), ca_file=_ca_file(raw, path, p),
        allow_plain=_typed(raw, "allow_plain", bool, path, p, False),
        connect=_typed(raw, "connect", bool, path, p, True),
        color=_typed(raw, "color", str, path, p, None),
    )


def _port(raw: dict[str, Any], path: Path | None, p: str) -> int | None:
    port: int | None = _typed(raw, "port", int, path, p, None)
    if port is not None and not 0 < port < 65536:
        raise ConfigError(path, p + "port", f"{port} is not a TCP port", "Use a number from 1 to 65535")
    return port


def _tls(raw: dict[str, Any], path: Path | None, p: str) -> TlsMode:
    tls = _typed(raw, "tls", str, path, p, "starttls")
    if tls not in ("starttls", "direct"):
        raise ConfigError(path, p + "tls", f"{tls!r} is not a TLS mode",
                          'Use tls = "starttls" or tls = "direct"; TLS cannot be turned off')
    return "direct" if tls == "direct" else "starttls"


def _ca_file(raw: dict[str, Any], path: Path | None, p: str) -> Path | None:
    value = _typed(raw, "ca_file", str, path, p, None)
    if value is None:
        return None
    ca = Path(value).expanduser()
    if not ca.is_absolute() and path is not None:
        ca = path.parent / ca
    if not ca.is_file():
        raise ConfigError(path, p + "ca_file", f"{ca} is not a readable file",
                          "Point it at a PEM file with the CA or server certificate")
    return ca
