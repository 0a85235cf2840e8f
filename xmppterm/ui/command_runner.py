"""Composer lines to intents: what each slash command does (no Textual here).

The app implements `CommandHost`; this module decides, the host acts. Tested with
a fake host, without a terminal.
"""

from __future__ import annotations

from typing import Protocol

from ..domain.commands import NO_IDENTITY, Command, ParseError, PlainText, help_lines, parse
from ..domain.ids import AccountId, ChatKey, InvalidJid
from ..domain.intents import CorrectMessage, Intent, SearchHistory, SendMessage, ShowRoute
from ..domain.sanitize import clean_field
from .identity_commands import COMMANDS as IDENTITY_COMMANDS
from .identity_commands import IdentityHost, OpenHost, open_checked, run_identity_command
from .omemo_commands import COMMANDS as OMEMO_COMMANDS
from .omemo_commands import run_omemo_command
from .private_commands import private_target
from .room_commands import COMMANDS as ROOM_COMMANDS
from .room_commands import RoomHost, leave_before_close, room_instead, run_room_command, send_problem

NO_CHAT = "No chat is open: use /msg JID TEXT"


class CommandHost(IdentityHost, OpenHost, RoomHost, Protocol):
    @property
    def current_account(self) -> AccountId | None: ...

    @property
    def current_chat(self) -> ChatKey | None: ...

    def dispatch(self, intent: Intent) -> None: ...

    def open_chat(self, chat: ChatKey) -> None: ...

    def close_chat(self, chat: ChatKey) -> None: ...

    def say(self, text: str, error: bool = False) -> None:
        """A line for the user in the buffer shown."""
        ...

    async def quit(self) -> None: ...

    async def lock(self) -> None: ...

    def register(self) -> None:
        """Open the sign-up form (in-band registration)."""
        ...


async def run_line(host: CommandHost, line: str, correcting: str | None = None) -> None:
    """Act on one composer line; `correcting`: the message a /correct line brought back
    by Up was meant for (see send)."""
    parsed = parse(line)
    if isinstance(parsed, ParseError):
        host.say(parsed.message, error=True)
    elif isinstance(parsed, PlainText):
        send(host, parsed.text)
    elif parsed.name == "quit":
        await host.quit()
    elif parsed.name == "lock":
        await host.lock()
    else:
        run_command(host, parsed, correcting)


def send(host: CommandHost, body: str, correct: bool = False,
         correcting: str | None = None) -> None:
    """A message to the chat shown; with `correct`, a correction of our last one there
    (of the message `correcting`, if given: refused if ours moved on meanwhile)."""
    chat = host.current_chat
    if chat is None:
        host.say(NO_CHAT, error=True)
        return
    problem = send_problem(host, chat)
    if problem:
        host.say(problem, error=True)
        return
    if correct:
        host.dispatch(CorrectMessage(chat.account, chat, body, correcting))
    else:
        host.dispatch(SendMessage(chat.account, chat, body))


def run_command(host: CommandHost, command: Command, correcting: str | None = None) -> None:
    name, args = command.name, command.args
    if name in ("msg", "query"):
        _open(host, args[0], args[1] if len(args) > 1 else "")
    elif name == "close":
        chat = host.current_chat
        if chat is None:
            host.say("The status buffer cannot be closed.", error=True)
        else:
            leave_before_close(host, chat)
            host.close_chat(chat)
    elif name == "me":
        send(host, "/me " + args[0])
    elif name == "correct":
        send(host, args[0], correct=True, correcting=correcting)
    elif name == "search":
        search(host, args[0])
    elif name in IDENTITY_COMMANDS:
        run_identity_command(host, command)
    elif name == "route":
        account = host.current_account
        if account is None:
            host.say(NO_IDENTITY, error=True)
        else:
            host.dispatch(ShowRoute(account))
    elif name == "register":
        host.register()
    elif name in OMEMO_COMMANDS:
        run_omemo_command(host, command)
    elif name in ROOM_COMMANDS:
        run_room_command(host, command)
    elif name == "help":
        for text in help_lines(args[0] if args else None):
            host.say(text)
    else:
        host.say(f"/{name} is not available here yet.", error=True)


def search(host: CommandHost, text: str) -> None:
    """`/search TEXT`: the chat shown, or the whole identity from the status buffer;
    `/search -a TEXT`: the whole identity from a chat; `/search -- TEXT`: TEXT as typed."""
    account = host.current_account
    if account is None:
        host.say(NO_IDENTITY, error=True)
        return
    everywhere = text == "-a" or text.startswith("-a ")
    if everywhere:
        text = text[2:].strip()
    elif text.startswith("-- "):
        text = text[3:].strip()
    if not text:
        host.say("Usage: /search [-a] TEXT", error=True)
        return
    host.dispatch(SearchHistory(account, text, None if everywhere else host.current_chat))


def _open(host: CommandHost, jid: str, text: str) -> None:
    account = host.current_account
    if account is None:
        host.say(NO_IDENTITY, error=True)
        return
    private = private_target(host, account, jid)  # a room occupant (private_commands.py)
    if isinstance(private, str):
        host.say(private, error=True)
        return
    try:
        chat = private or ChatKey.of(account, jid)
    except InvalidJid as exc:
        host.say(f"Invalid JID {clean_field(jid, 80)!r}: {exc}", error=True)
        return
    if room_instead(host, chat):
        return

    def go() -> None:
        host.open_chat(chat)
        if text:
            host.dispatch(SendMessage(account, chat, text))

    open_checked(host, chat, go)
