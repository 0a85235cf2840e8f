"""A private, throwaway Prosody for the test suite and `xmppterm demo`.

Everything lives under one base directory: the generated Lua config, the
per-run CA and certificate, data, log and pid file. The server listens on
127.0.0.1 only, on free ports chosen once (so `restart()` comes back on the
same ports and data), with s2s disabled: the virtual hosts reach each other
inside the one process.
"""

from __future__ import annotations

import secrets
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from xmppterm.devserver.certs import CertFiles, make_certs
from xmppterm.devserver.storage import (
    SCRAM_HASHES,
    Account,
    lua_list,
    lua_str,
    write_account,
    write_roster,
)
from xmppterm.transport.loopback import free_tcp_port, port_open

PROSODY = "/usr/bin/prosody"
MODULE_DIR = Path("/usr/lib/prosody/modules")
TEST_MODULE_DIR = Path(__file__).parent  # our own test-only modules (mod_xt_*.lua)
LOOPBACK = "127.0.0.1"
DEFAULT_HOSTS: tuple[str, ...] = ("example.test", "other.test")
WANTED_MODULES: tuple[str, ...] = (
    "roster", "saslauth", "tls", "disco", "carbons", "pep", "private", "blocklist",
    "vcard4", "vcard_legacy", "ping", "register", "mam", "csi_simple", "smacks",
    "bookmarks", "offline", "admin_shell",
)
LOG_TAIL_LINES = 30
# Log lines that mean Prosody runs but lacks a port (it does not exit on those).
STARTUP_FAILURES: tuple[str, ...] = ("Failed to open server port", "Error binding encrypted port")


class ProsodyError(RuntimeError):
    """The server would not start, stop, or accept an account."""


def available_modules(module_dir: Path = MODULE_DIR) -> set[str]:
    """Names of the Prosody modules installed (`mod_x.lua` or `mod_x/`)."""
    if not module_dir.is_dir():
        return set()
    return {p.name.removeprefix("mod_").removesuffix(".lua")
            for p in module_dir.iterdir() if p.name.startswith("mod_")}


class ProsodyServer:
    """One Prosody process with its own config, certificate, data and ports."""

    def __init__(self, base_dir: Path, hosts: Sequence[str] = DEFAULT_HOSTS, *,
                 allow_registration: bool = False, with_upload: bool = False,
                 scram_hash: str = "SHA-1", prosody_bin: str = PROSODY,
                 start_timeout: float = 10.0) -> None:
        if not hosts or scram_hash not in SCRAM_HASHES:
            raise ValueError(f"need hosts and a scram_hash in {list(SCRAM_HASHES)}")
        self.base_dir = base_dir.resolve()
        self.hosts: tuple[str, ...] = tuple(hosts)
        self.host = self.hosts[0]
        self.conference_domain = f"conference.{self.host}"
        self.upload_domain: str | None = f"upload.{self.host}" if with_upload else None
        self.allow_registration = allow_registration
        self.scram_hash = scram_hash
        self.prosody_bin = prosody_bin
        self.prosodyctl_bin = str(Path(prosody_bin).with_name("prosodyctl"))
        self.start_timeout = start_timeout
        self.c2s_port = free_tcp_port(LOOPBACK)
        self.direct_tls_port = free_tcp_port(LOOPBACK)
        self.http_port: int | None = free_tcp_port(LOOPBACK) if with_upload else None
        self.config_path = self.base_dir / "prosody.cfg.lua"
        self.data_path = self.base_dir / "data"
        self.log_path = self.base_dir / "prosody.log"
        self.console_path = self.base_dir / "console.log"
        self.pid_path = self.base_dir / "prosody.pid"
        self.modules = [m for m in WANTED_MODULES if m in available_modules()]
        self.plugin_paths: list[Path] = []  # more module directories (TEST_MODULE_DIR)
        self.extra_config: list[str] = []  # more global Lua lines, written as they are
        self._process: subprocess.Popen[bytes] | None = None
        self._log_offset = 0
        self.base_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.data_path.mkdir(mode=0o700, exist_ok=True)
        self.certs: CertFiles = make_certs(self.base_dir / "certs", self.cert_names())
        self.config_path.write_text(self.render_config())

    @property
    def ca_file(self) -> Path:
        return self.certs.ca_file

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process and self.running else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def cert_names(self) -> list[str]:
        """Every name the server certificate must carry."""
        names = ["localhost", *self.hosts, self.conference_domain]
        return names + ([self.upload_domain] if self.upload_domain else [])

    def render_config(self) -> str:
        """The whole Prosody config file (Lua)."""
        return "\n".join([*self._global_lines(), *self._host_lines()]) + "\n"

    def _global_lines(self) -> list[str]:
        ssl = (f"{{ certificate = {lua_str(self.certs.cert_file)}, "
               f"key = {lua_str(self.certs.key_file)} }}")
        http = [self.http_port] if self.http_port else []
        return [
            "-- Generated by xmppterm.devserver: a throwaway server, loopback only.",
            "run_as_root = true",
            f"pidfile = {lua_str(self.pid_path)}",
            f"data_path = {lua_str(self.data_path)}",
            "log = { { levels = { min = \"info\" }, to = \"file\", "
            f"filename = {lua_str(self.log_path)} }} }}",
            f"interfaces = {lua_list([LOOPBACK])}",
            f"local_interfaces = {lua_list([LOOPBACK])}",
            f"c2s_ports = {lua_list([self.c2s_port])}",
            f"c2s_direct_tls_ports = {lua_list([self.direct_tls_port])}",
            "s2s_ports = { }",
            f"http_ports = {lua_list(http)}",
            f"http_interfaces = {lua_list([LOOPBACK])}",
            "https_ports = { }",
            "c2s_require_encryption = true",
            "allow_unencrypted_plain_auth = false",
            'authentication = "internal_hashed"',
            f"password_hash = {lua_str(self.scram_hash)}",
            'storage = "internal"',
            f"allow_registration = {'true' if self.allow_registration else 'false'}",
            f"ssl = {ssl}",
            f"c2s_direct_tls_ssl = {ssl}",
            f"modules_enabled = {lua_list(self.modules)}",
            f"modules_disabled = {lua_list(['s2s'])}",
            *self._extra_lines(),
        ]

    def _extra_lines(self) -> list[str]:
        paths = [str(d) for d in self.plugin_paths]
        return ([f"plugin_paths = {lua_list(paths)}"] if paths else []) + self.extra_config

    def _host_lines(self) -> list[str]:
        lines = [f"VirtualHost {lua_str(h)}" for h in self.hosts]
        muc_modules = ["muc_mam"] if "muc_mam" in available_modules() else []
        lines += [f"Component {lua_str(self.conference_domain)} \"muc\"",
                  f"\tmodules_enabled = {lua_list(muc_modules)}",
                  "\trestrict_room_creation = false"]
        if self.upload_domain:
            lines += [f"Component {lua_str(self.upload_domain)} \"http_file_share\"",
                      f"\thttp_external_url = {lua_str(f'http://{LOOPBACK}:{self.http_port}/')}"]
        return lines

    # --- process lifecycle -------------------------------------------------

    def start(self) -> None:
        """Start Prosody and wait until it has bound and opened all its ports."""
        if self.running:
            raise ProsodyError(f"Prosody is already running (pid {self.pid})")
        self.config_path.write_text(self.render_config())
        self._log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with self.console_path.open("ab") as console:
            self._process = subprocess.Popen(
                [self.prosody_bin, "--config", str(self.config_path), "-F"],
                stdin=subprocess.DEVNULL, stdout=console, stderr=subprocess.STDOUT,
                cwd=self.base_dir)
        try:
            self._wait_ready()
        except BaseException:
            self.kill()
            raise

    def _services(self) -> dict[str, int]:
        """Each listening service Prosody must activate, with its port."""
        wanted = {"c2s": self.c2s_port, "c2s_direct_tls": self.direct_tls_port}
        return wanted | ({"http": self.http_port} if self.http_port else {})

    def _startup_log(self) -> str:
        """What Prosody logged since the latest `start()`."""
        if not self.log_path.exists():
            return ""
        with self.log_path.open("rb") as log:
            log.seek(self._log_offset)
            return log.read().decode(errors="replace")

    def _check_startup(self) -> bool:
        """True once every service is bound and answers; raise if startup failed."""
        code = self._process.poll() if self._process else None
        if code is not None:
            raise ProsodyError(f"Prosody exited with code {code} while starting\n"
                               + self.log_tail())
        log = self._startup_log()
        if any(marker in log for marker in STARTUP_FAILURES):
            raise ProsodyError("Prosody could not open its ports\n" + self.log_tail())
        return all(f"Activated service '{name}' on [{LOOPBACK}]:{port}" in log
                   and port_open(LOOPBACK, port, timeout=0.2)
                   for name, port in self._services().items())

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        while not self._check_startup():
            if time.monotonic() > deadline:
                raise ProsodyError(f"Prosody was not ready within {self.start_timeout} s\n"
                                   + self.log_tail())
            time.sleep(0.05)

    def stop(self, timeout: float = 5.0) -> None:
        """SIGTERM, wait up to `timeout` seconds, then SIGKILL. Safe to call when stopped."""
        process = self._process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        """SIGKILL without warning (a crash, for tests that lose the server mid-way)."""
        process = self._process
        if process is None or process.poll() is not None:
            return
        process.kill()
        process.wait()

    def restart(self) -> None:
        """Stop if running, then start again on the same ports with the same data."""
        self.stop()
        self.start()

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        """The last lines of the Prosody log and of its console output."""
        parts = []
        for path in (self.log_path, self.console_path):
            if path.exists():
                text = path.read_text(errors="replace").splitlines()[-lines:]
                parts.append(f"--- {path.name} ---\n" + "\n".join(text))
        return "\n".join(parts) or "(no log output)"

    def shell(self, command: str, timeout: float = 10.0) -> str:
        """Run one admin shell command on the running server, e.g. "c2s:closeall('a@b')".

        Uses `prosodyctl shell` (mod_admin_shell, socket `data/prosody.sock`), ~60 ms.
        """
        result = subprocess.run(
            [self.prosodyctl_bin, "--config", str(self.config_path), "shell", command],
            capture_output=True, text=True, timeout=timeout, check=False, cwd=self.base_dir)
        if result.returncode != 0:
            raise ProsodyError(f"prosodyctl shell {command!r} failed: "
                               f"{(result.stdout + result.stderr).strip()}")
        return result.stdout

    def __enter__(self) -> ProsodyServer:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # --- accounts ----------------------------------------------------------

    def create_user(self, localpart: str, host: str | None = None,
                    password: str | None = None) -> Account:
        """Create `localpart@host` (default: the first host) with `password` (default: random).

        Writes Prosody's internal account store directly, so it works whether the
        server runs or not. The localpart must be lower case.
        """
        host = host or self.host
        if host not in self.hosts:
            raise ProsodyError(f"{host} is not a virtual host of this server ({self.hosts})")
        try:
            return write_account(self.data_path, localpart, host,
                                 password or secrets.token_urlsafe(24), self.scram_hash)
        except (ValueError, FileExistsError) as exc:
            raise ProsodyError(str(exc)) from exc

    def new_account(self, host: str | None = None, prefix: str = "u") -> Account:
        """A fresh account with a random localpart and a random strong password."""
        return self.create_user(f"{prefix}{secrets.token_hex(6)}", host)

    def befriend(self, a: Account, b: Account, name_a: str = "", name_b: str = "") -> None:
        """Make `a` and `b` mutual contacts (subscription both), each named as given.
        Both must be offline when this is called; their rosters are replaced."""
        write_roster(self.data_path, a, [(b.jid, name_b or b.localpart)])
        write_roster(self.data_path, b, [(a.jid, name_a or a.localpart)])
