"""Getting a password or passphrase without keeping it anywhere it could leak."""

from __future__ import annotations

import asyncio

from ..config import AccountConfig


class PasswordUnavailable(Exception):
    pass


async def run_secret_command(command: str, what: str, timeout: float = 120.0) -> str:
    """The first line printed by `command`. Errors name `what` and never include what the
    command printed."""
    proc = await asyncio.create_subprocess_shell(
        command, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        raise PasswordUnavailable(f"{what} did not finish in {timeout:.0f} s") from None
    line = out.decode("utf-8", "replace").split("\n", 1)[0].rstrip("\r")
    if proc.returncode != 0 or not line:
        raise PasswordUnavailable(
            f"{what} failed (exit {proc.returncode},"
            f" {'no output' if not line else 'output ignored'}): run it by hand to check")
    return line


async def resolve_password(account: AccountConfig, stored: str | None = None,
                           timeout: float = 120.0) -> str:
    """The password from the config, the first line printed by `password_command`, or the
    one kept in the encrypted store (`stored`)."""
    if account.password is not None:
        return account.password
    if not account.password_command:
        if stored is not None:
            return stored
        raise PasswordUnavailable(
            f"[accounts.{account.id}] has neither password_command nor password, and no "
            "password is stored for it: add password_command to the account")
    return await run_secret_command(account.password_command,
                                    f"password_command of [accounts.{account.id}]", timeout)
