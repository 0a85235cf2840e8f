"""Run the client: open the store, start the session manager, hand it to the UI."""

from __future__ import annotations

import logging
import tomllib
from pathlib import Path
from typing import Any

import tomli_w

from .config import Config, ConfigError, parse_config
from .core.manager import SessionManager
from .domain.ids import AccountId
from .store.files import atomic_write, private_dir
from .store.logfile import setup_logging
from .store.store import Store

log = logging.getLogger(__name__)


async def run_client(config: Config, data_dir: Path | None, *, low_bandwidth: bool = False,
                     theme: str = "default", config_path: Path | None = None,
                     status_text: str = "", manager_hook: Any = None) -> int:
    """Run the TUI until the user quits. `data_dir=None` keeps everything in memory."""
    from .ui.app import XmppTermApp

    if data_dir is not None:
        private_dir(data_dir)
    setup_logging(data_dir)
    store = Store.open(data_dir)
    manager = SessionManager(config, store)
    if manager_hook is not None:
        await manager_hook(manager)
    writer = ConfigWriter(config, config_path, manager)
    app = XmppTermApp(manager, theme=theme, low_bandwidth=low_bandwidth,
                      status_text=status_text, first_run=not config.accounts,
                      on_account_created=writer.add_account)
    try:
        await app.run_async()
    finally:
        await manager.shutdown()
        await store.close()
    return 0


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
        accounts[name] = {k: v for k, v in table.items() if v not in (None, "")}
        try:
            new = parse_config(raw, self.path)
        except ConfigError as exc:
            return str(exc)
        atomic_write(self.path, tomli_w.dumps(raw).encode("utf-8"))
        self.config = new
        await self.manager.add_account(new.account(AccountId(name)))
        return None
