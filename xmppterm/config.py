"""Configuration: one TOML file, `[settings]` and `[accounts.<name>]` tables (DESIGN.md 8).

Every error names the file, the key and what to do. Secrets are not read here: a
`password_command` is kept as a command and run by core when it connects.

The route of an identity (THREATS.md, "Transport and TLS"), per account or as a
default in `[settings]`:
- `proxy = "socks5://IP:PORT"` (`socks5h://` means the same: names are always
  resolved by the proxy). The proxy must be an IP address or `localhost` (taken as
  127.0.0.1): looking up any other proxy name would be a DNS query from this machine.
- `tor = true`: through Tor, at socks5://127.0.0.1:9050 unless `proxy` gives another
  address (Tor Browser: 9150). The route is then TOR rather than PROXY.
- An account that sets `proxy` or `tor` itself ignores the `[settings]` default;
  `proxy = ""` or `tor = false` (without `proxy`) in an account means DIRECT.
- `proxy_username`/`proxy_password` (accounts only, both or neither): without them
  each identity gets random credentials of its own for the session, so that Tor
  (IsolateSOCKSAuth) keeps identities on separate circuits. Two accounts may not
  share a pair, and `[settings]` cannot hold one.
- A `.onion` JID domain or `host` without a proxy is refused.

Privacy, per account or as a default in `[settings]`: `receipts` (XEP-0184 answers) and
`chat_states` (XEP-0085) are "contacts" (default: only roster contacts who see our
presence, subscription from/both), "all" (strangers too) or "never".

OMEMO, per account or as a default in `[settings]`: `omemo` is "default" (encrypt chats
whose contact has OMEMO devices, and those turned on with /omemo on), "always" or
"never"; `trust` is "btbv" (blind trust before verification) or "manual".

TLS, per account only (a pin belongs to one server): `tls_pin = "sha256/BASE64"` or a
list of them (domain/pins.py) narrows trust to those server keys, on top of the
certificate check.
"""

from __future__ import annotations

import stat
import tomllib
from dataclasses import dataclass, field, replace
from ipaddress import ip_address
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit

from .domain.ids import AccountId, InvalidJid, parse_jid
from .domain.pins import PIN_FORM, InvalidPin, parse_pins

TlsMode = Literal["starttls", "direct"]
Route = Literal["DIRECT", "TOR", "PROXY"]
Privacy = Literal["contacts", "all", "never"]
PRIVACY_KEYS = ("receipts", "chat_states")
OmemoSetting = Literal["default", "always", "never"]
TrustSetting = Literal["btbv", "manual"]
OMEMO_MODES: tuple[OmemoSetting, ...] = ("default", "always", "never")
TRUST_MODES: tuple[TrustSetting, ...] = ("btbv", "manual")
OMEMO_KEYS = ("omemo", "trust")
ROUTE_KEYS = {"proxy", "tor"}
PROXY_AUTH_KEYS = ("proxy_username", "proxy_password")
ACCOUNT_KEYS = {
    "jid", "password", "password_command", "host", "port", "tls", "ca_file", "tls_pin",
    "allow_plain", "connect", "color", *ROUTE_KEYS, *PROXY_AUTH_KEYS, *PRIVACY_KEYS,
    *OMEMO_KEYS,
}
SETTINGS_KEYS = {"theme", "low_bandwidth", "passphrase_command", "insecure_fast_kdf", *ROUTE_KEYS,
                 *PRIVACY_KEYS, *OMEMO_KEYS}
TOR_SOCKS = ("127.0.0.1", 9050)
PROXY_EXAMPLE = 'Write it as proxy = "socks5://127.0.0.1:9050"'


class ConfigError(Exception):
    """A problem in the configuration, phrased for the user: file, key, fix."""

    def __init__(self, path: Path | None, key: str | None, problem: str, fix: str) -> None:
        where = str(path) if path else "configuration"
        if key:
            where += f", key `{key}`"
        super().__init__(f"{where}: {problem}. {fix}")
        self.path, self.key, self.problem, self.fix = path, key, problem, fix


@dataclass(frozen=True, slots=True)
class ProxyConfig:
    """A SOCKS5 proxy; `host` is an IP literal. No credentials: random per identity."""

    host: str
    port: int
    tor: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)


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
    tls_pins: tuple[str, ...] = ()  # canonical "sha256/BASE64": the server key must match one
    allow_plain: bool = False  # SASL PLAIN, only ever over verified TLS
    connect: bool = True
    color: str | None = None
    proxy: ProxyConfig | None = None
    receipts: Privacy = "contacts"  # whom we answer XEP-0184 receipt requests
    chat_states: Privacy = "contacts"  # whom we may send XEP-0085 chat states
    omemo: OmemoSetting = "default"  # which chats are encrypted with OMEMO
    trust: TrustSetting = "btbv"  # blind trust before verification, or manual

    @property
    def domain(self) -> str:
        return parse_jid(self.jid).domain

    @property
    def route(self) -> Route:
        if self.proxy is None:
            return "DIRECT"
        return "TOR" if self.proxy.tor else "PROXY"

    @property
    def plain_password_in_config(self) -> bool:
        return self.password is not None


@dataclass(frozen=True, slots=True)
class Settings:
    theme: str = "default"
    low_bandwidth: bool = False
    proxy: ProxyConfig | None = None  # the default route of accounts
    passphrase_command: str | None = None  # prints the store passphrase (scripted use)
    insecure_fast_kdf: bool = False  # tests only: a cheap Argon2id; shown as WEAK KDF
    receipts: Privacy = "contacts"  # the default of accounts
    chat_states: Privacy = "contacts"
    omemo: OmemoSetting = "default"
    trust: TrustSetting = "btbv"


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
        _parse_account(name, _table(accounts_raw, name, path, "accounts."), path, settings)
        for name in accounts_raw
    )
    _check_shared_credentials(accounts, path)
    return Config(path, settings, accounts)


def _table(data: dict[str, Any], key: str, path: Path | None, prefix: str = "") -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(path, prefix + key, "must be a table", f"Write it as [{prefix}{key}]")
    return value


def _parse_settings(raw: dict[str, Any], path: Path | None) -> Settings:
    for key in raw:
        if key in PROXY_AUTH_KEYS:
            raise ConfigError(path, f"settings.{key}", "would give every identity the same "
                              "SOCKS credentials, so Tor could put them on the same circuits",
                              "Set it per account, or leave it out for random credentials")
        if key == "tls_pin":
            raise ConfigError(path, "settings.tls_pin", "cannot be a default: a pin belongs to "
                              "one server", "Set it in the [accounts.NAME] of that server")
        if key not in SETTINGS_KEYS:
            raise ConfigError(path, f"settings.{key}", "is not a known setting",
                              f"Known settings: {', '.join(sorted(SETTINGS_KEYS))}")
    theme = _typed(raw, "theme", str, path, "settings.", "default")
    low = _typed(raw, "low_bandwidth", bool, path, "settings.", False)
    _, proxy = _route(raw, path, "settings.")
    return Settings(theme=theme, low_bandwidth=low, proxy=proxy,
                    passphrase_command=_typed(raw, "passphrase_command", str, path, "settings.", None),
                    insecure_fast_kdf=_typed(raw, "insecure_fast_kdf", bool, path, "settings.", False),
                    receipts=_privacy(raw, "receipts", path, "settings.", "contacts"),
                    chat_states=_privacy(raw, "chat_states", path, "settings.", "contacts"),
                    omemo=_one_of(raw, "omemo", OMEMO_MODES, path, "settings.", "default"),
                    trust=_one_of(raw, "trust", TRUST_MODES, path, "settings.", "btbv"))


ChoiceT = TypeVar("ChoiceT", bound=str)


def _one_of(raw: dict[str, Any], key: str, choices: tuple[ChoiceT, ...], path: Path | None,
            prefix: str, default: ChoiceT) -> ChoiceT:
    value = _typed(raw, key, str, path, prefix, default)
    for choice in choices:
        if value == choice:
            return choice
    listed = " or ".join(f'"{c}"' for c in choices)
    raise ConfigError(path, prefix + key, f"{value!r} is not a choice", f"Use {key} = {listed}")


def _privacy(raw: dict[str, Any], key: str, path: Path | None, prefix: str,
             default: Privacy) -> Privacy:
    value = _typed(raw, key, str, path, prefix, default)
    for choice in ("contacts", "all", "never"):
        if value == choice:
            return choice
    raise ConfigError(path, prefix + key, f"{value!r} is not a choice",
                      f'Use {key} = "contacts" (roster contacts only), "all" or "never"')


def _typed(raw: dict[str, Any], key: str, kind: type[Any], path: Path | None,
           prefix: str, default: Any) -> Any:
    value = raw.get(key, default)
    if (value is not None and not isinstance(value, kind)) or (kind is int and isinstance(value, bool)):
        raise ConfigError(path, prefix + key, f"must be a {kind.__name__}",
                          f"Write e.g. {key} = {_example(kind)}")
    return value


def _example(kind: type[Any]) -> str:
    return {str: '"text"', int: "5222", bool: "true"}.get(kind, "...")


def _parse_account(name: str, raw: dict[str, Any], path: Path | None,
                   settings: Settings = Settings()) -> AccountConfig:
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
    host = _typed(raw, "host", str, path, p, None)
    return AccountConfig(
        id=AccountId(name), jid=jid.bare, password=password, password_command=command,
        host=host, port=_port(raw, path, p),
        tls=_tls(raw, path, p), ca_file=_ca_file(raw, path, p), tls_pins=_tls_pins(raw, path, p),
        allow_plain=_typed(raw, "allow_plain", bool, path, p, False),
        connect=_typed(raw, "connect", bool, path, p, True),
        color=_typed(raw, "color", str, path, p, None),
        proxy=_account_proxy(raw, path, p, settings, (jid.domain, host)),
        receipts=_privacy(raw, "receipts", path, p, settings.receipts),
        chat_states=_privacy(raw, "chat_states", path, p, settings.chat_states),
        omemo=_one_of(raw, "omemo", OMEMO_MODES, path, p, settings.omemo),
        trust=_one_of(raw, "trust", TRUST_MODES, path, p, settings.trust),
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


def _tls_pins(raw: dict[str, Any], path: Path | None, p: str) -> tuple[str, ...]:
    if "tls_pin" not in raw:
        return ()
    try:
        return parse_pins(raw["tls_pin"])
    except InvalidPin as exc:
        raise ConfigError(path, p + "tls_pin", str(exc), f"Write it as {PIN_FORM}") from None


# -- the route --------------------------------------------------------------------------
def _route(raw: dict[str, Any], path: Path | None, p: str) -> tuple[bool, ProxyConfig | None]:
    """(whether this table chooses a route itself, the proxy it chose)."""
    url: str | None = _typed(raw, "proxy", str, path, p, None)
    tor: bool | None = _typed(raw, "tor", bool, path, p, None)
    if url is None and tor is None:
        return False, None
    if url == "":
        if tor:
            raise ConfigError(path, p + "tor", 'is true while proxy = "" asks for no proxy',
                              "Remove one of the two")
        return True, None
    if url is None:
        return True, ProxyConfig(*TOR_SOCKS, tor=True) if tor else None
    host, port = _proxy_address(url, path, p + "proxy")
    return True, ProxyConfig(host, port, tor=bool(tor))


def _proxy_address(url: str, path: Path | None, key: str) -> tuple[str, int]:
    """socks5://IP:PORT as (IP, PORT); never resolves a name."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ConfigError(path, key, f"{url!r} is not a proxy address", PROXY_EXAMPLE) from None
    if parts.scheme.lower() not in ("socks5", "socks5h"):
        raise ConfigError(path, key, f"{url!r} is not a SOCKS5 proxy (only socks5:// "
                          "and socks5h:// are supported)", PROXY_EXAMPLE)
    if parts.username is not None or parts.password is not None:
        raise ConfigError(path, key, "holds credentials", "Use proxy_username and proxy_password")
    if parts.path not in ("", "/") or parts.query or parts.fragment or port is None:
        raise ConfigError(path, key, f"{url!r} is not of the form socks5://IP:PORT", PROXY_EXAMPLE)
    host = parts.hostname or ""
    if host == "localhost":
        return "127.0.0.1", port
    try:
        return str(ip_address(host)), port
    except ValueError:
        raise ConfigError(path, key, f"{host!r} is not an IP address, and looking it up would be "
                          "a DNS query from this machine", "Write the proxy's IP address, e.g. "
                          "socks5://127.0.0.1:9050") from None


def _account_proxy(raw: dict[str, Any], path: Path | None, p: str, settings: Settings,
                   names: tuple[str, str | None]) -> ProxyConfig | None:
    chosen, proxy = _route(raw, path, p)
    if not chosen:
        proxy = settings.proxy
    user, password = (_typed(raw, key, str, path, p, None) for key in PROXY_AUTH_KEYS)
    if user is not None or password is not None:
        key = p + ("proxy_username" if user is not None else "proxy_password")
        if proxy is None:
            raise ConfigError(path, key, "is set but this account uses no proxy",
                              "Set proxy or tor = true, or remove it")
        if user is None or password is None:
            raise ConfigError(path, key, "is set without its partner (SOCKS5 needs both)",
                              "Set both proxy_username and proxy_password, or neither")
        if not all(0 < len(v.encode()) < 256 for v in (user, password)):
            raise ConfigError(path, key, "and its partner must be 1 to 255 bytes long",
                              "Shorten it, or leave both out for random credentials")
        proxy = replace(proxy, username=user, password=password)
    onion = [n for n in names if n and n.lower().rstrip(".").endswith(".onion")]
    if proxy is None and onion:
        raise ConfigError(path, p + ("host" if onion[0] == names[1] else "jid"),
                          f"{onion[0]} is an onion address, which only Tor can reach",
                          "Set tor = true in this account")
    return proxy


def _check_shared_credentials(accounts: tuple[AccountConfig, ...], path: Path | None) -> None:
    seen: dict[tuple[str, int, str, str], AccountId] = {}
    for acc in accounts:
        proxy = acc.proxy
        if proxy is None or proxy.username is None or proxy.password is None:
            continue
        key = (proxy.host, proxy.port, proxy.username, proxy.password)
        if key in seen:
            raise ConfigError(path, f"accounts.{acc.id}.proxy_username", "is the same as in "
                              f"[accounts.{seen[key]}], so both identities could share circuits",
                              "Give each account its own, or leave both out for random ones")
        seen[key] = acc.id
