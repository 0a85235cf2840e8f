"""Identity and contact commands to intents, with a fake host (no terminal)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from xmppterm.domain import intents as it
from xmppterm.domain.commands import COMMANDS, Command, help_lines, parse
from xmppterm.domain.connection import ConnState
from xmppterm.domain.ids import AccountId, ChatKey
from xmppterm.domain.ports import AccountInfo
from xmppterm.domain.roster import Show
from xmppterm.ui.identity_commands import (
    cross_identity_question,
    open_checked,
    parse_status,
    run_identity_command,
)

WORK, HOME = AccountId("work"), AccountId("Home")
INFOS = [AccountInfo(WORK, "me@work.example", state=ConnState.ONLINE),
         AccountInfo(HOME, "me@home.example")]


@dataclass
class Host:
    account: AccountId | None = WORK
    intents: list[it.Intent] = field(default_factory=list)
    said: list[tuple[str, bool]] = field(default_factory=list)
    chosen: list[AccountId] = field(default_factory=list)

    @property
    def current_account(self) -> AccountId | None:
        return self.account

    def dispatch(self, intent: it.Intent) -> None:
        self.intents.append(intent)

    def say(self, text: str, error: bool = False) -> None:
        self.said.append((text, error))

    def identity_infos(self) -> list[AccountInfo]:
        return INFOS

    def choose_identity(self, account: AccountId) -> None:
        self.chosen.append(account)


def run(line: str, host: Host | None = None) -> Host:
    host = host or Host()
    parsed = parse(line)
    assert isinstance(parsed, Command), parsed
    run_identity_command(host, parsed)
    return host


def test_every_new_command_has_usage_and_help() -> None:
    for name in ("account", "add", "remove", "rename", "approve", "deny", "block", "unblock",
                 "blocked", "status", "connect", "disconnect"):
        assert COMMANDS[name].usage.startswith(f"/{name}") and COMMANDS[name].help
        assert help_lines(name)[0].startswith(f"/{name}")


@pytest.mark.parametrize(("line", "intent"), [
    ("/add Bob@Example.org", it.AddContact(WORK, "bob@example.org", "")),
    ("/add bob@example.org Bob the Builder", it.AddContact(WORK, "bob@example.org",
                                                            "Bob the Builder")),
    ("/remove bob@example.org/phone", it.RemoveContact(WORK, "bob@example.org")),
    ("/rename bob@example.org [b]Bobby", it.RenameContact(WORK, "bob@example.org", "[b]Bobby")),
    ("/approve eve@example.org", it.AnswerSubscription(WORK, "eve@example.org", True)),
    ("/deny eve@example.org", it.AnswerSubscription(WORK, "eve@example.org", False)),
    ("/block spam.example", it.Block(WORK, "spam.example")),
    ("/block spam@x.org/bot", it.Block(WORK, "spam@x.org/bot")),
    ("/unblock spam@x.org", it.Unblock(WORK, "spam@x.org")),
    ("/blocked", it.ListBlocked(WORK)),
])
def test_contact_commands_dispatch_for_the_current_identity(line: str, intent: it.Intent) -> None:
    assert run(line).intents == [intent]


def test_a_bad_jid_or_no_identity_is_explained() -> None:
    host = run("/add not@valid@jid")
    assert host.intents == [] and host.said[0][1] and "Invalid JID" in host.said[0][0]
    host = run("/block x@y.org", Host(account=None))
    assert host.intents == [] and "No identity" in host.said[0][0]
    assert parse("/rename bob@example.org") == parse("/rename")  # both: the usage


def test_connect_and_disconnect_one_named_or_all() -> None:
    assert run("/connect").intents == [it.Connect(WORK)]
    assert run("/disconnect home").intents == [it.Disconnect(HOME)]  # case-insensitive
    assert run("/connect all").intents == [it.Connect(WORK), it.Connect(HOME)]
    host = run("/disconnect nobody")
    assert host.intents == [] and "No identity named 'nobody'" in host.said[0][0]
    assert "work, Home" in host.said[0][0]


def test_account_chooses_or_lists() -> None:
    assert run("/account Home").chosen == [HOME]
    listed = run("/account").said
    assert listed[0] == ("work: me@work.example, DIRECT, online  ← you write as this one", False)
    assert listed[1] == ("Home: me@home.example, DIRECT, offline", False)
    assert run("/account nope").said[0][1]


@pytest.mark.parametrize(("text", "expected"), [
    ("away", (False, Show.AWAY, "")),
    ('away "out for lunch"', (False, Show.AWAY, "out for lunch")),
    ("dnd I'm busy", (False, Show.DND, "I'm busy")),
    ("--all xa gone", (True, Show.XA, "gone")),
    ("-a online", (True, Show.AVAILABLE, "")),
    ("CHAT", (False, Show.CHAT, "")),
])
def test_status_is_parsed(text: str, expected: tuple[bool, Show, str]) -> None:
    assert parse_status(text) == expected


def test_status_dispatches_set_presence() -> None:
    assert run('/status away "back soon"').intents == [it.SetPresence(WORK, Show.AWAY,
                                                                      "back soon")]
    assert run("/status --all dnd").intents == [it.SetPresence(WORK, Show.DND, ""),
                                                it.SetPresence(HOME, Show.DND, "")]
    for bad in ("/status sleepy", "/status --all"):
        host = run(bad)
        assert host.intents == [] and host.said[0][0].startswith("Usage: /status")


@dataclass
class OpenHost:
    others: list[AccountId]
    asked: list[str] = field(default_factory=list)
    answer: bool = False

    def cross_identity(self, chat: ChatKey) -> list[AccountId]:
        return self.others

    def confirm(self, question: str, then: Callable[[], None]) -> None:
        self.asked.append(question)
        if self.answer:
            then()


def test_crossing_identities_asks_and_names_both() -> None:
    chat = ChatKey(HOME, "alice@example.org")
    opened: list[bool] = []
    host = OpenHost([WORK])
    open_checked(host, chat, lambda: opened.append(True))
    assert opened == [] and "'work'" in host.asked[0] and "'Home'" in host.asked[0]
    open_checked(OpenHost([WORK], answer=True), chat, lambda: opened.append(True))
    assert opened == [True]
    open_checked(OpenHost([]), chat, lambda: opened.append(True))
    assert opened == [True, True]
    question = cross_identity_question(ChatKey(HOME, "a\u202eb@x.org"), [WORK])
    assert "\u202e" not in question
