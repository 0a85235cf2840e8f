"""`xmppterm register`: create an account in-band, in the terminal, then add the identity.

Wiring, like run.py and admin.py. The sign-up runs on the new identity's route
(`core.signup`: `[settings]` defaults apply; `--tor`, `--proxy` or `--direct` choose);
the server's form is asked field by field, sanitised; a strong password is offered.
The password is kept (`--keep-password`) in the encrypted store (default), in the
config file (flagged in the status line), or printed once and kept nowhere.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from .config import ConfigError, parse_config
from .core.signup import SignUpService
from .domain.ids import AccountId
from .domain.registration import (
    LIST_KINDS,
    MULTI_KINDS,
    FormField,
    RegistrationFailed,
    RouteChoice,
    SignUpDone,
    SignUpRequest,
    SignUpSession,
    field_lines,
    form_lines,
    generate_password,
    preset,
    read_pin,
)
from .run import StartError, open_store, read_raw_config
from .store.files import atomic_write
from .unlock import StoreWithoutKeys

KEEP_CHOICES = ("store", "config", "print")
ATTEMPTS = 5
Ask = Callable[[str], str]


@dataclass
class Console:
    """The terminal, replaceable in tests."""

    ask: Ask = input
    ask_secret: Ask = getpass.getpass
    lines: list[str] = field(default_factory=list)
    echo: bool = True

    def say(self, text: str = "") -> None:
        self.lines.append(text)
        if self.echo:
            print(text)

    def fail(self, text: str) -> int:
        self.lines.append(text)
        if self.echo:
            print(f"xmppterm: {text}", file=sys.stderr)
        return 2


def request_from_args(args: argparse.Namespace, ask: Ask) -> SignUpRequest | str:
    if args.direct and (args.tor or args.proxy):
        return "--direct cannot go with --tor or --proxy."
    route: RouteChoice = ("direct" if args.direct else "tor" if args.tor
                          else "proxy" if args.proxy else "default")
    pin, problem = read_pin(args.tls_pin or "")
    if problem:
        return problem
    server = args.server or ask("Server (e.g. example.org): ").strip()
    return SignUpRequest(domain=server.lower(), name=args.name, route=route,
                         proxy=args.proxy or "", host=args.host or "", port=args.port,
                         tls="direct" if args.direct_tls else "starttls",
                         ca_file=str(args.ca_file) if args.ca_file else "", tls_pin=pin)


def register_command(args: argparse.Namespace, config_path: Path, data_dir: Path | None,
                     console: Console | None = None) -> int:
    console = console or Console()
    try:
        return asyncio.run(sign_up(args, config_path, data_dir, console))
    except (EOFError, KeyboardInterrupt):
        console.say()
        return console.fail("cancelled; if the account was created, it was not saved.")


async def sign_up(args: argparse.Namespace, config_path: Path, data_dir: Path | None,
                  console: Console) -> int:
    request = request_from_args(args, console.ask)
    if isinstance(request, str):
        return console.fail(request)
    try:
        raw = read_raw_config(config_path)
    except (OSError, ValueError) as exc:
        return console.fail(f"{config_path} cannot be read: {exc}")
    try:
        session = await SignUpService(lambda: raw, config_path).begin(request)
    except RegistrationFailed as exc:
        return console.fail(str(exc))
    try:
        for text in session.route:
            console.say(text)
        done = await answer(session, console)
    finally:
        await session.close()
    if done is None:
        return 1
    console.say(f"Account created: {done.jid}")
    return await keep(done, args, config_path, data_dir, console)


async def answer(session: SignUpSession, console: Console) -> SignUpDone | None:
    """Ask the form's fields and submit, again after a refusal that allows it."""
    console.say()
    for text in form_lines(session.form):
        console.say(text)
    answers: dict[str, str] = {}
    for _ in range(ATTEMPTS):
        for fld in session.form.inputs:
            answers[fld.var] = ask_field(fld, console, answers.get(fld.var, ""))
        try:
            return await session.submit(answers)
        except RegistrationFailed as exc:
            console.fail(str(exc))
            if not exc.retry:
                return None
            console.say("Answer again (Enter keeps your answer).")
    return None


def ask_field(fld: FormField, console: Console, before: str = "") -> str:
    console.say()
    console.say(fld.title + (" (required)" if fld.required else ""))
    for text in field_lines(fld):
        console.say("  " + text)
    if fld.var == "password":
        return ask_password(console, before)
    if fld.private:
        return console.ask_secret("  > ") or before
    if fld.kind in MULTI_KINDS and fld.kind not in LIST_KINDS:
        values = []
        while value := console.ask("  (empty line: done) > ").strip():
            values.append(value)
        return "\n".join(values) or before
    default = before or preset(fld)
    return console.ask(f"  [{default}] > " if default else "  > ").strip() or default


def ask_password(console: Console, before: str = "") -> str:
    for _ in range(ATTEMPTS):
        typed = console.ask_secret("  Password (Enter: a strong generated one): ")
        if not typed:
            if before:
                return before
            console.say("  A generated password (24 random characters) will be used.")
            return generate_password()
        if console.ask_secret("  The same again: ") == typed:
            return typed
        console.say("  The two differ; type it again.")
    return before or generate_password()


# -- keeping the identity ------------------------------------------------------------------
def write_account(path: Path, table: dict[str, object]) -> str | None:
    """Add `[accounts.NAME]` (table["name"]) to the file: validated, written 0600."""
    table = dict(table)
    name = str(table.pop("name"))
    raw: dict[str, Any] = read_raw_config(path)
    accounts = raw.setdefault("accounts", {})
    if name in accounts:
        return f"An account named {name!r} exists already in {path}."
    accounts[name] = {k: v for k, v in table.items() if v is not None}
    try:
        parse_config(raw, path)
    except ConfigError as exc:
        return str(exc)
    atomic_write(path, tomli_w.dumps(raw).encode("utf-8"))
    return None


async def keep(done: SignUpDone, args: argparse.Namespace, config_path: Path,
               data_dir: Path | None, console: Console) -> int:
    table = dict(done.table)
    password, where = str(table.pop("password")), str(args.keep_password)
    if where == "config":
        table["password"] = password
    elif where == "store":
        problem = await store_password(AccountId(str(table["name"])), password, args,
                                       config_path, data_dir, console)
        if problem:
            console.fail(problem)
            return lost(done, console)
    problem = write_account(config_path, table)
    if problem:
        console.fail(problem)
        return lost(done, console)
    if where == "print":
        console.say(f"Password (shown once, kept nowhere): {password}")
        console.say(f"Add password_command to [accounts.{table['name']}] in {config_path}.")
    console.say(f"Identity {table['name']} added to {config_path}.")
    return 0


def lost(done: SignUpDone, console: Console) -> int:
    console.say(f"The account {done.jid} exists, but was not saved. Its password, shown "
                f"once: {done.password}")
    return 1


async def store_password(account: AccountId, password: str, args: argparse.Namespace,
                         config_path: Path, data_dir: Path | None, console: Console
                         ) -> str | None:
    """Keep the password in the encrypted store (asks for its passphrase); a problem, or None."""
    if data_dir is None:
        return "--ephemeral keeps nothing: use --keep-password config or print."
    try:
        config = parse_config(read_raw_config(config_path), config_path)
        store, gate = await open_store(config, data_dir, args.passphrase_command)
    except (ConfigError, StartError, StoreWithoutKeys, OSError, ValueError) as exc:
        return str(exc)
    try:
        if gate is not None and gate.locked:
            problem = await unlock(gate, console)
            if problem:
                return problem
        await store.save_credential(account, password)
    finally:
        await store.close()
    return None


async def unlock(gate: Any, console: Console) -> str | None:
    passphrase = console.ask_secret("Passphrase of the store: ")
    if gate.new and console.ask_secret("A new store: the same passphrase again: ") != passphrase:
        return "The two passphrases differ."
    if gate.new and len(passphrase) < 8:
        return "Use at least 8 characters for the passphrase."
    problem: str | None = await gate.unlock(passphrase)
    return problem
