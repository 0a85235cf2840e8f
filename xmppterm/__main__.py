"""Entry point: parse the command line and wire the layers together."""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
from pathlib import Path

from .cli import build_parser
from .config import Config, ConfigError, Settings, load_config
from .paths import default_config_path, default_data_dir


def harden_process() -> None:
    """No core dumps: they would hold keys and plaintext."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def main(argv: list[str] | None = None) -> int:
    harden_process()
    args = build_parser().parse_args(argv)
    if args.command == "demo":
        from .demo import run_demo

        return run_demo(keep=args.keep, low_bandwidth=args.low_bandwidth, theme=args.theme)
    data_dir = args.data_dir or default_data_dir()
    if args.command in ("passphrase", "wipe"):
        from .admin import passphrase_command, wipe_command

        if args.command == "passphrase":
            return passphrase_command(data_dir)
        return wipe_command(data_dir, args.account)
    if args.command == "register":
        from .register import register_command

        config_path = args.config or default_config_path()
        return register_command(args, config_path, None if args.ephemeral else data_dir)
    return _run(args, data_dir)


def _run(args: argparse.Namespace, data_dir: Path) -> int:
    from .core.secrets import PasswordUnavailable
    from .run import StartError, run_client
    from .unlock import StoreWithoutKeys

    config_path = args.config or default_config_path()
    if _newcomer(config_path, data_dir, args.ephemeral):
        from .ui.welcome import WelcomeApp

        choice = WelcomeApp().run()
        if choice is None:
            return 0
        if choice == "demo":
            from .demo import run_demo

            return run_demo(low_bandwidth=args.low_bandwidth, theme=args.theme)
    try:
        config = _load_or_empty(config_path)
        return asyncio.run(run_client(
            config, None if args.ephemeral else data_dir,
            low_bandwidth=args.low_bandwidth or config.settings.low_bandwidth,
            theme=args.theme or config.settings.theme, config_path=config_path,
            passphrase_command=args.passphrase_command))
    except (ConfigError, StartError, StoreWithoutKeys, PasswordUnavailable) as exc:
        print(f"xmppterm: {exc}", file=sys.stderr)
        return 2


def _newcomer(config_path: Path, data_dir: Path, ephemeral: bool) -> bool:
    """No config and no store yet, on a terminal: offer the demo before the first account."""
    from .store.keyring import keyring_exists

    fresh = not config_path.exists() and not keyring_exists(data_dir)
    return fresh and not ephemeral and sys.stdin.isatty() and sys.stdout.isatty()


def _load_or_empty(path: Path) -> Config:
    if path.exists():
        return load_config(path)
    return Config(path, Settings(), ())


if __name__ == "__main__":
    sys.exit(main())
