"""Composer lines to intents, with a fake host (no terminal)."""

from __future__ import annotations

from dataclasses import dataclass, field

from xmppterm.domain.ids import AccountId, ChatKey
from xmppterm.domain.intents import Connect, Disconnect, Intent, SendMessage
from xmppterm.ui.command_runner import NO_CHAT, run_line
from xmppterm.ui.room_book import RoomBook

from .conftest import ALICE, WORK


@dataclass
class Host:
    chat: ChatKey | None = None
    account: AccountId | None = WORK
    intents: list[Intent] = field(default_factory=list)
    notices: list[tuple[str, bool]] = field(default_factory=list)
    opened: list[ChatKey] = field(default_factory=list)
    closed: list[ChatKey] = field(default_factory=list)
    quitted: bool = False
    rooms: RoomBook = field(default_factory=RoomBook)

    @property
    def current_account(self) -> AccountId | None:
        return self.chat.account if self.chat else self.account

    @property
    def current_chat(self) -> ChatKey | None:
        return self.chat

    def dispatch(self, intent: Intent) -> None:
        self.intents.append(intent)

    def open_chat(self, chat: ChatKey) -> None:
        self.opened.append(chat)
        self.chat = chat

    def close_chat(self, chat: ChatKey) -> None:
        self.closed.append(chat)

    def say(self, text: str, error: bool = False) -> None:
        self.notices.append((text, error))

    async def quit(self) -> None:
        self.quitted = True

    async def lock(self) -> None:
        self.locked = True

    def cross_identity(self, chat: ChatKey) -> list[AccountId]:
        return []  # one identity: never a question (tests/ui/test_identity_commands.py asks)


async def test_plain_text_in_a_chat_is_sent() -> None:
    host = Host(chat=ALICE)
    await run_line(host, "hello [/]")
    assert host.intents == [SendMessage(WORK, ALICE, "hello [/]")]


async def test_plain_text_in_the_status_buffer_explains() -> None:
    host = Host()
    await run_line(host, "hello")
    assert host.intents == []
    assert host.notices == [(NO_CHAT, True)]


async def test_double_slash_sends_a_slash() -> None:
    host = Host(chat=ALICE)
    await run_line(host, "//shrug")
    assert host.intents == [SendMessage(WORK, ALICE, "/shrug")]


async def test_msg_opens_and_sends() -> None:
    host = Host()
    await run_line(host, "/msg Alice@Example.org hi there")
    assert host.opened == [ALICE]
    assert host.intents == [SendMessage(WORK, ALICE, "hi there")]


async def test_query_opens_only() -> None:
    host = Host()
    await run_line(host, "/query alice@example.org")
    assert host.opened == [ALICE] and host.intents == []


async def test_invalid_jid_is_an_error() -> None:
    host = Host()
    await run_line(host, "/msg @example.org hi")
    assert host.opened == [] and host.intents == []
    assert host.notices and host.notices[0][1] is True
    assert "Invalid JID" in host.notices[0][0]


async def test_me_sends_an_action_body() -> None:
    host = Host(chat=ALICE)
    await run_line(host, "/me waves slowly")
    assert host.intents == [SendMessage(WORK, ALICE, "/me waves slowly")]


async def test_close() -> None:
    host = Host(chat=ALICE)
    await run_line(host, "/close")
    assert host.closed == [ALICE]
    status = Host()
    await run_line(status, "/close")
    assert status.notices[0][1] is True


async def test_connect_and_disconnect_the_current_identity() -> None:
    host = Host()
    await run_line(host, "/connect")
    await run_line(host, "/disconnect")
    assert host.intents == [Connect(WORK), Disconnect(WORK)]


async def test_no_identity() -> None:
    host = Host(account=None)
    await run_line(host, "/connect")
    await run_line(host, "/msg alice@example.org")
    assert host.intents == [] and all(error for _, error in host.notices)


async def test_help_lists_commands() -> None:
    host = Host()
    await run_line(host, "/help")
    text = "\n".join(t for t, _ in host.notices)
    for name in ("/msg", "/query", "/close", "/me", "/connect", "/quit", "/help"):
        assert name in text


async def test_unknown_command_is_an_error() -> None:
    host = Host(chat=ALICE)
    await run_line(host, "/frobnicate now")
    assert host.intents == []
    assert host.notices[0][1] is True and "Unknown command /frobnicate" in host.notices[0][0]


async def test_quit() -> None:
    host = Host()
    await run_line(host, "/quit")
    assert host.quitted
