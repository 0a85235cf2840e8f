"""The OMEMO commands: /omemo, /fingerprint [qr], /trust, /distrust, /verify, /devices.

Each turns into one intent of domain/omemo.py for the current identity (and chat);
the answers come back as events (omemo_view.py). No Textual here.
"""

from __future__ import annotations

from typing import Protocol

from ..domain.commands import NO_IDENTITY, Command
from ..domain.ids import AccountId, ChatKey
from ..domain.intents import Intent
from ..domain.omemo import DeviceTrust, RemoveOwnDevice, SetChatOmemo, SetDeviceTrust, ShowOmemo

COMMANDS = frozenset({"omemo", "fingerprint", "trust", "distrust", "verify", "devices"})
TRUST_OF = {"trust": DeviceTrust.VERIFIED, "verify": DeviceTrust.VERIFIED,
            "distrust": DeviceTrust.DISTRUSTED}


class OmemoHost(Protocol):
    @property
    def current_account(self) -> AccountId | None: ...

    @property
    def current_chat(self) -> ChatKey | None: ...

    def dispatch(self, intent: Intent) -> None: ...

    def say(self, text: str, error: bool = False) -> None: ...


def run_omemo_command(host: OmemoHost, command: Command) -> None:
    account = host.current_account
    if account is None:
        host.say(NO_IDENTITY, error=True)
        return
    name, args, chat = command.name, command.args, host.current_chat
    if name == "omemo":
        _switch(host, account, chat, args[0].lower())
    elif name == "fingerprint":
        _fingerprint(host, account, chat, args)
    elif name == "devices":
        _devices(host, account, args)
    else:
        host.dispatch(SetDeviceTrust(account, chat, args[0], TRUST_OF[name],
                                     require_fingerprint=name == "verify"))


def _switch(host: OmemoHost, account: AccountId, chat: ChatKey | None, word: str) -> None:
    if chat is None:
        host.say("/omemo works in a chat: open one with /msg JID first.", error=True)
    elif word not in ("on", "off"):
        host.say("Usage: /omemo on|off", error=True)
    else:
        host.dispatch(SetChatOmemo(account, chat, word == "on"))


def _fingerprint(host: OmemoHost, account: AccountId, chat: ChatKey | None,
                 args: tuple[str, ...]) -> None:
    if args and args[0].lower() != "qr":
        host.say("Usage: /fingerprint [qr]", error=True)
    else:
        host.dispatch(ShowOmemo(account, chat, "qr" if args else "fingerprint"))


def _devices(host: OmemoHost, account: AccountId, args: tuple[str, ...]) -> None:
    if not args:
        host.dispatch(ShowOmemo(account, None, "devices"))
    elif len(args) == 2 and args[0].lower() == "remove" and args[1].isdigit() \
            and len(args[1]) <= 10:
        host.dispatch(RemoveOwnDevice(account, int(args[1])))
    else:
        host.say("Usage: /devices, or /devices remove ID (see the ids with /devices)",
                 error=True)
