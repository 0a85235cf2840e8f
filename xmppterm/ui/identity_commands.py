"""Commands about identities and contacts: /account, /connect, /disconnect, /add,
/remove, /rename, /approve, /deny, /block, /unblock, /blocked, /status; and the check
before /msg or /query opens a chat with a contact of another identity.

No Textual here: the app implements `IdentityHost` (tested with a fake host).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from ..domain import intents as it
from ..domain.commands import NO_IDENTITY, Command
from ..domain.ids import AccountId, ChatKey, InvalidJid, parse_jid
from ..domain.ports import AccountInfo
from ..domain.roster import Show
from ..domain.sanitize import clean_field

SHOWS = {"online": Show.AVAILABLE, "available": Show.AVAILABLE, "chat": Show.CHAT,
         "away": Show.AWAY, "xa": Show.XA, "dnd": Show.DND}
ALL_FLAGS = ("--all", "-a")
COMMANDS = frozenset({"account", "connect", "disconnect", "add", "remove", "rename", "approve",
                      "deny", "block", "unblock", "blocked", "status"})


class IdentityHost(Protocol):
    @property
    def current_account(self) -> AccountId | None: ...

    def dispatch(self, intent: it.Intent) -> None: ...

    def say(self, text: str, error: bool = False) -> None: ...

    def identity_infos(self) -> list[AccountInfo]:
        """Every identity, in sidebar order."""
        ...

    def choose_identity(self, account: AccountId) -> None:
        """Write as `account` from now on (the status buffer, its prompt and colour)."""
        ...


def run_identity_command(host: IdentityHost, command: Command) -> None:
    name, args = command.name, command.args
    if name == "account":
        _account(host, args[0] if args else None)
    elif name in ("connect", "disconnect"):
        _connect(host, name == "connect", args[0] if args else None)
    elif name == "status":
        _status(host, args[0])
    else:
        account = host.current_account
        if account is None:
            host.say(NO_IDENTITY, error=True)
            return
        intent = _contact_intent(account, name, args)
        if isinstance(intent, str):
            host.say(intent, error=True)
        else:
            host.dispatch(intent)


def _contact_intent(account: AccountId, name: str, args: tuple[str, ...]) -> it.Intent | str:
    """The intent of a contact command, or the error text for the user."""
    if name == "blocked":
        return it.ListBlocked(account)
    try:
        jid = parse_jid(args[0])
    except InvalidJid as exc:
        return f"Invalid JID {clean_field(args[0], 80)!r}: {exc}"
    rest = args[1] if len(args) > 1 else ""
    match name:
        case "add":
            return it.AddContact(account, jid.bare, rest)
        case "remove":
            return it.RemoveContact(account, jid.bare)
        case "rename":
            return it.RenameContact(account, jid.bare, rest)
        case "approve" | "deny":
            return it.AnswerSubscription(account, jid.bare, name == "approve")
        case "block":
            return it.Block(account, jid.full)
        case _:
            return it.Unblock(account, jid.full)


def find_identity(infos: list[AccountInfo], name: str) -> AccountInfo | None:
    """The identity called `name` (exactly, else ignoring case)."""
    for info in infos:
        if info.id.name == name:
            return info
    folded = [info for info in infos if info.id.name.casefold() == name.casefold()]
    return folded[0] if len(folded) == 1 else None


def _targets(host: IdentityHost, name: str | None) -> list[AccountId] | None:
    if name is None:
        account = host.current_account
        if account is None:
            host.say(NO_IDENTITY, error=True)
        return [account] if account is not None else None
    infos = host.identity_infos()
    if name.casefold() == "all":
        return [info.id for info in infos]
    found = find_identity(infos, name)
    if found is None:
        host.say(f"No identity named {clean_field(name, 40)!r}. {_names(infos)}", error=True)
        return None
    return [found.id]


def _names(infos: list[AccountInfo]) -> str:
    return "Identities: " + ", ".join(clean_field(i.id.name, 40) for i in infos) + "."


def _connect(host: IdentityHost, connect: bool, name: str | None) -> None:
    for account in _targets(host, name) or []:
        host.dispatch(it.Connect(account) if connect else it.Disconnect(account))


def _account(host: IdentityHost, name: str | None) -> None:
    infos = host.identity_infos()
    if not infos:
        host.say(NO_IDENTITY, error=True)
        return
    if name is None:
        current = host.current_account
        for info in infos:
            mark = "  ← you write as this one" if info.id == current else ""
            host.say(f"{clean_field(info.id.name, 40)}: {clean_field(info.jid, 80)}, "
                     f"{info.route}, {info.state.value}{mark}")
        return
    found = find_identity(infos, name)
    if found is None:
        host.say(f"No identity named {clean_field(name, 40)!r}. {_names(infos)}", error=True)
        return
    host.choose_identity(found.id)


def parse_status(text: str) -> tuple[bool, Show, str] | str:
    """`[--all] SHOW [TEXT]` → (all, show, text); TEXT may be in double quotes."""
    words = text.split(None, 1)
    everyone = bool(words) and words[0] in ALL_FLAGS
    if everyone:
        words = words[1].split(None, 1) if len(words) > 1 else []
    if not words or words[0].lower() not in SHOWS:
        return "Usage: /status [--all] online|chat|away|xa|dnd [\"TEXT\"]"
    status = words[1].strip() if len(words) > 1 else ""
    if len(status) >= 2 and status[0] == status[-1] == '"':
        status = status[1:-1]
    return everyone, SHOWS[words[0].lower()], status


def _status(host: IdentityHost, text: str) -> None:
    parsed = parse_status(text)
    if isinstance(parsed, str):
        host.say(parsed, error=True)
        return
    everyone, show, status = parsed
    targets = [i.id for i in host.identity_infos()] if everyone else _targets(host, None)
    for account in targets or []:
        host.dispatch(it.SetPresence(account, show, status))


# -- opening a chat with a contact of another identity --------------------------------
def cross_identity_question(chat: ChatKey, others: list[AccountId]) -> str:
    """The question asked before `chat` is opened: its JID is a contact of `others`,
    not of the chat's own identity."""
    jid = clean_field(chat.jid, 80)
    names = ", ".join(f"'{clean_field(a.name, 40)}'" for a in others)
    return (f"{jid} is a contact of {names}, not of '{clean_field(chat.account.name, 40)}'.\n"
            f"Open a chat with {jid} as '{clean_field(chat.account.name, 40)}'? "
            f"They will see this identity's address.")


class OpenHost(Protocol):
    def cross_identity(self, chat: ChatKey) -> list[AccountId]:
        """Other identities with `chat.jid` as a contact when `chat`'s identity has not
        (and the chat is not open yet); [] when no question is needed."""
        ...

    def confirm(self, question: str, then: Callable[[], None]) -> None:
        """Ask; call `then` only on yes."""
        ...


def open_checked(host: OpenHost, chat: ChatKey, go: Callable[[], None]) -> None:
    """Run `go` (open the chat, maybe send) now, or after the user confirmed."""
    others = host.cross_identity(chat)
    if others:
        host.confirm(cross_identity_question(chat, others), go)
    else:
        go()
