"""Run the client: open the store (behind its passphrase), start the session manager,
hand both to the UI."""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
import tomllib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import tomli_w

from .config import Config, ConfigError, parse_config
from .core.manager import SessionManager
from .core.secrets import run_secret_command
from .core.signup import SignUpService
from .domain.ids import AccountId
from .store.files import atomic_write, private_dir
from .store.keyring import KdfParams
from .store.logfile import setup_logging
from .store.store import Store
from .unlock import StoreGate, check_data_dir, kdf_is_weak

log = logging.getLogger(__name__)
ManagerHook = Callable[[SessionManager], Awaitable[None]]
ENDING_SIGNALS = (signal.SIGHUP, signal.SIGTERM)  # the terminal went away (an SSH link
# dropped, tmux killed), or we are asked to stop: quit as /quit does, not mid-write


class StartError(Exception):
    """Start-up cannot go on; the text says why and what to do."""


async def run_client(config: Config, data_dir: Path | None, *, low_bandwidth: bool = False,
                     theme: str = "default", config_path: Path | None = None,
                     status_text: str = "", passphrase_command: str | None = None,
                     manager_hook: ManagerHook | None = None) -> int:
    """Run the TUI until the user quits. `data_dir=None` keeps everything in memory."""
    from .ui.app import XmppTermApp

    store, gate = await open_store(config, data_dir, passphrase_command)
    labels = [status_text] if status_text else []
    if data_dir is None:
        labels.append("EPHEMERAL")
    elif kdf_is_weak(data_dir):
        labels.append("WEAK KDF")
    manager = SessionManager(config, store)
    if gate is not None:
        gate.manager = manager
    if manager_hook is not None:
        await manager_hook(manager)
    writer = ConfigWriter(config, config_path, manager)
    signup = SignUpService(lambda: read_raw_config(config_path), config_path)
    app = XmppTermApp(manager, theme=theme, low_bandwidth=low_bandwidth,
                      status_text=" ".join(labels), first_run=not config.accounts,
                      on_account_created=writer.add_account, gate=gate, signup=signup)
    loop = asyncio.get_running_loop()
    ending = on_ending_signals(loop, app.exit)
    try:
        await app.run_async()
    finally:
        for sig in ending:
            loop.remove_signal_handler(sig)
        await manager.shutdown()
        await store.close()
    return 0


def on_ending_signals(loop: asyncio.AbstractEventLoop, action: Callable[[], object]
                      ) -> list[int]:
    """Call `action` on SIGHUP and SIGTERM; the signals handled (none when the loop does
    not run in the main thread, where Python cannot take signals)."""
    if threading.current_thread() is not threading.main_thread():
        return []
    handled: list[int] = []
    for sig in ENDING_SIGNALS:
        try:
            loop.add_signal_handler(sig, action)
        except (ValueError, RuntimeError, NotImplementedError):
            continue
        handled.append(sig)
    return handled


async def open_store(config: Config, data_dir: Path | None, passphrase_command: str | None
                     ) -> tuple[Store, StoreGate | None]:
    """An in-memory store for `data_dir=None`; else a locked store and its gate, unlocked
    here already when a passphrase command is given."""
    if data_dir is None:
        setup_logging(None)
        return Store.open(None), None
    check_data_dir(data_dir)
    private_dir(data_dir)
    setup_logging(data_dir)
    params = KdfParams.fast_for_tests() if config.settings.insecure_fast_kdf else None
    store = Store.locked()
    gate = StoreGate(data_dir, store, params)
    command = passphrase_command or config.settings.passphrase_command
    if command:
        passphrase = await run_secret_command(command, "the passphrase command")
        problem = await gate.unlock(passphrase)
        if problem:
            raise StartError(problem)
    return store, gate


def read_raw_config(path: Path | None) -> dict[str, Any]:
    """The configuration file as TOML data ({} when there is none yet)."""
    if path is None or not path.exists():
        return {}
    return tomllib.loads(path.read_text(encoding="utf-8"))


class ConfigWriter:
    """Adds an account from the first-run form: validated, written 0600, then connected."""

    def __init__(self, config: Config, path: Path | None, manager: SessionManager) -> None:
        self.config, self.path, self.manager = config, path, manager

    async def add_account(self, table: dict[str, object]) -> str | None:
        if self.path is None:
            return "There is no configuration file to write to."
        name = str(table.pop("name", "") or "main")
        raw: dict[str, Any] = {}
        if self.path.exists():
            raw = tomllib.loads(self.path.read_text(encoding="utf-8"))
        accounts = raw.setdefault("accounts", {})
        if name in accounts:
            return f"An account named {name!r} exists already in {self.path}."
        password = table.pop("password", None)
        accounts[name] = {k: v for k, v in table.items() if v not in (None, "")}
        try:
            new = parse_config(raw, self.path)
        except ConfigError as exc:
            return str(exc)
        if password and not self.manager.store.is_locked:
            # The password goes into the encrypted store, never into the config file.
            await self.manager.store.save_credential(AccountId(name), str(password))
        elif password:
            return "The store is locked: the password cannot be kept. Unlock and try again."
        atomic_write(self.path, tomli_w.dumps(raw).encode("utf-8"))
        self.config = new
        await self.manager.add_account(new.account(AccountId(name)))
        return None
