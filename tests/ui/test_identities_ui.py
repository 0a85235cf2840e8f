"""Several identities in the app (Pilot, FakeBackend): who you write as, the question
before a chat crosses identities, subscription requests, /status, identity colours."""

from __future__ import annotations

from typing import Any

from textual.color import Color

from xmppterm.domain.connection import ConnState
from xmppterm.domain.events import (
    BlockListReceived,
    RosterItemChanged,
    RosterReceived,
    SubscriptionAnswered,
    SubscriptionRequested,
)
from xmppterm.domain.ids import AccountId, ChatKey
from xmppterm.domain.intents import AnswerSubscription, OpenChat, SendMessage, SetPresence
from xmppterm.domain.ports import AccountInfo
from xmppterm.domain.roster import RosterItem, Show
from xmppterm.ui.app import XmppTermApp
from xmppterm.ui.screens.choice import ChoiceScreen
from xmppterm.ui.widgets.statusline import StatusLine

from .conftest import WORK, FakeBackend, screen_lines, until

HOME = AccountId("home")
ALICE_JID = "alice@example.org"
HOSTILE = "hi \x1b]52;c;ZXZpbA==\x07 [@click=app.quit()] [/] \u202eevil"


def two_identities(**colours: str) -> FakeBackend:
    return FakeBackend([
        AccountInfo(WORK, "me@example.org", color=colours.get("work"), state=ConnState.ONLINE),
        AccountInfo(HOME, "me@home.example", color=colours.get("home"), state=ConnState.ONLINE),
    ])


async def type_line(pilot: Any, line: str) -> None:
    pilot.app.composer.input.value = line  # as if typed (faster than key by key)
    await pilot.press("enter")
    await pilot.pause()


def prompt_text(app: XmppTermApp) -> str:
    return str(app.query_one("#prompt").render())


async def test_account_switches_the_identity_in_status_line_and_prompt() -> None:
    backend = two_identities()
    app = XmppTermApp(backend)
    async with app.run_test(size=(100, 24)) as pilot:
        assert prompt_text(app) == "work> "
        await type_line(pilot, "/account home")
        info = app.query_one(StatusLine).info
        assert info.account is not None and info.account.id == HOME
        assert prompt_text(app) == "home> "
        assert app.query_one("#prompt").has_class("identity-2")
        status_row = next(row for row in screen_lines(app) if "[1:status]" in row)
        assert "home DIRECT online" in status_row
        await type_line(pilot, "/account nobody")
        assert "No identity named 'nobody'" in "\n".join(app.chatlog.lines)
        assert app.current_account == HOME


async def cross_identity_setup(pilot: Any, backend: FakeBackend) -> None:
    backend.push(RosterReceived(WORK, (RosterItem(ALICE_JID, "Alice"),)))
    await pilot.pause()
    await type_line(pilot, "/account home")


async def test_a_contact_of_another_identity_asks_first_and_cancel_opens_nothing() -> None:
    backend = two_identities()
    app = XmppTermApp(backend)
    async with app.run_test(size=(100, 24)) as pilot:
        await cross_identity_setup(pilot, backend)
        await type_line(pilot, f"/msg {ALICE_JID} secret plans")
        assert isinstance(app.screen, ChoiceScreen)
        question = "\n".join(screen_lines(app))
        assert "'work'" in question and "'home'" in question and ALICE_JID in question
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ChoiceScreen)
        assert backend.of_type(OpenChat) == [] and backend.of_type(SendMessage) == []
        assert app.chats.find(ChatKey(HOME, ALICE_JID)) is None
        await type_line(pilot, f"/query {ALICE_JID}")
        await pilot.press("enter")  # the focused answer is Cancel
        await pilot.pause()
        assert backend.of_type(OpenChat) == []


async def test_confirming_opens_the_chat_as_the_chosen_identity() -> None:
    backend = two_identities()
    app = XmppTermApp(backend)
    async with app.run_test(size=(100, 24)) as pilot:
        await cross_identity_setup(pilot, backend)
        await type_line(pilot, f"/msg {ALICE_JID} hello")
        await pilot.press("shift+tab", "enter")  # back to "Open as home"
        await pilot.pause()
        chat = ChatKey(HOME, ALICE_JID)
        assert backend.of_type(OpenChat) == [OpenChat(HOME, chat, focus=True)]
        assert backend.of_type(SendMessage) == [SendMessage(HOME, chat, "hello")]
        await type_line(pilot, f"/msg {ALICE_JID} again")  # open now: no second question
        assert not isinstance(app.screen, ChoiceScreen)
        assert backend.of_type(SendMessage)[-1] == SendMessage(HOME, chat, "again")


async def test_the_identitys_own_contact_opens_without_a_question() -> None:
    backend = two_identities()
    app = XmppTermApp(backend)
    async with app.run_test(size=(100, 24)) as pilot:
        backend.push(RosterReceived(WORK, (RosterItem(ALICE_JID),)))
        await pilot.pause()
        await type_line(pilot, f"/query {ALICE_JID}")
        assert not isinstance(app.screen, ChoiceScreen)
        assert backend.of_type(OpenChat) == [OpenChat(WORK, ChatKey(WORK, ALICE_JID))]


async def test_a_strangers_request_waits_under_requests(backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(120, 30)) as pilot:
        backend.push(SubscriptionRequested(WORK, "eve@evil.example", HOSTILE))
        await until(pilot, lambda: "+ eve@evil.example" in "\n".join(screen_lines(app)))
        rows = "\n".join(screen_lines(app))
        assert "requests (1)" in rows and "+ eve@evil.example" in rows
        assert "\x1b" not in rows and "\u202e" not in rows
        assert "asks to see your presence" in "\n".join(app.chatlog.lines)
        backend.push(SubscriptionRequested(WORK, "eve@evil.example", HOSTILE))  # at re-login
        await pilot.pause()
        assert "\n".join(app.chatlog.lines).count("asks to see your presence") == 1

        app.action_focus_sidebar()
        node = app.sidebar.requests._nodes[ChatKey(WORK, "eve@evil.example")]
        app.sidebar.move_cursor(node)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceScreen)
        await pilot.press("shift+tab", "shift+tab", "enter")  # Later → Deny → Approve
        await pilot.pause()
        assert backend.of_type(AnswerSubscription) == [
            AnswerSubscription(WORK, "eve@evil.example", True)]
        backend.push(RosterItemChanged(WORK, RosterItem("zed@x.org")),
                     RosterReceived(WORK, (RosterItem("amy@x.org"), RosterItem("zed@x.org"))),
                     RosterItemChanged(WORK, RosterItem("max@x.org")))
        await until(pilot, lambda: len(app.sidebar.root.children[0].children) >= 4)
        labels = [str(n.label.plain) for n in app.sidebar.root.children[0].children]
        assert [label[2:] for label in labels[:3]] == ["amy@x.org", "max@x.org", "zed@x.org"]
        assert labels[3] == "requests (1)"  # contacts first, then the requests
        backend.push(SubscriptionAnswered(WORK, "eve@evil.example", True))
        await until(pilot, lambda: "requests (" not in "\n".join(screen_lines(app)))
        assert "requests (" not in "\n".join(screen_lines(app))


async def test_status_sets_presence_on_one_or_all_identities() -> None:
    backend = two_identities()
    app = XmppTermApp(backend)
    async with app.run_test(size=(100, 24)) as pilot:
        await type_line(pilot, '/status away "back at 3"')
        await type_line(pilot, "/status --all dnd")
        await type_line(pilot, "/status sleepy")
        assert backend.of_type(SetPresence) == [
            SetPresence(WORK, Show.AWAY, "back at 3"),
            SetPresence(WORK, Show.DND, ""), SetPresence(HOME, Show.DND, "")]
        assert "Usage: /status" in "\n".join(app.chatlog.lines)


async def test_blocked_lists_only_when_asked(backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(100, 24)) as pilot:
        backend.push(BlockListReceived(WORK, ("spam@example.org",)))  # at login
        await pilot.pause()
        assert "spam@example.org" not in "\n".join(app.chatlog.lines)
        backend.push(BlockListReceived(WORK, ("spam@example.org", "evil.example"), True))
        await pilot.pause()
        log = "\n".join(app.chatlog.lines)
        assert "work blocks 2:" in log and "evil.example" in log


async def test_colour_from_the_config_slot_or_colour() -> None:
    backend = two_identities(work="identity-5", home="#ff8800")
    app = XmppTermApp(backend)
    async with app.run_test(size=(100, 24)) as pilot:
        prompt = app.query_one("#prompt")
        assert prompt.has_class("identity-5") and app.colour(WORK) == 5
        await type_line(pilot, "/account home")
        assert prompt.has_class("identity-2")  # its place in the list…
        assert prompt.styles.color == Color.parse("#ff8800")  # …drawn in its own colour
        label = app.sidebar.root.children[1].label
        assert any(span.style and "#ff8800" in str(span.style) for span in label.spans)
