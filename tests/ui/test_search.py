"""/search in the app (FakeBackend, 80x24): the intent, the results list, opening a
result in its chat at that message, and hostile text drawn literally."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

import pytest

from xmppterm.domain.events import ChatOpened, SearchResults
from xmppterm.domain.ids import AccountId, ChatKey
from xmppterm.domain.intents import Intent, OpenChat, SearchHistory
from xmppterm.domain.messages import ChatMessage
from xmppterm.ui.app import XmppTermApp
from xmppterm.ui.chats import GAP, Chats
from xmppterm.ui.command_runner import NO_IDENTITY, run_line
from xmppterm.ui.render import NoticeLine
from xmppterm.ui.screens.search import SearchScreen, title, when

from .conftest import ALICE, WORK, FakeBackend, message, screen_lines

BOB = ChatKey(WORK, "bob@example.org")
HOSTILE = "\u202eevil \x1b]52;c;ZXZpbA==\x07 [@click=app.quit()] [/] [b]bold needle"
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def log_text(app: XmppTermApp) -> str:
    return "\n".join(app.chatlog.lines)


async def settle(pilot: object) -> None:
    await pilot.pause()  # type: ignore[attr-defined]
    await pilot.pause()  # type: ignore[attr-defined]


# -- the command --------------------------------------------------------------------------
@dataclass
class Host:
    chat: ChatKey | None = None
    account: AccountId | None = WORK
    intents: list[Intent] = field(default_factory=list)
    said: list[tuple[str, bool]] = field(default_factory=list)

    @property
    def current_account(self) -> AccountId | None:
        return self.chat.account if self.chat else self.account

    @property
    def current_chat(self) -> ChatKey | None:
        return self.chat

    def dispatch(self, intent: Intent) -> None:
        self.intents.append(intent)

    def open_chat(self, chat: ChatKey) -> None:
        self.chat = chat

    def close_chat(self, chat: ChatKey) -> None:
        pass

    def say(self, text: str, error: bool = False) -> None:
        self.said.append((text, error))

    async def quit(self) -> None:
        pass

    async def lock(self) -> None:
        pass


@pytest.mark.parametrize(("chat", "line", "intent"), [
    (ALICE, "/search Hello  World ", SearchHistory(WORK, "Hello  World", ALICE)),
    (None, "/search hello", SearchHistory(WORK, "hello", None)),
    (ALICE, "/search -a hello there", SearchHistory(WORK, "hello there", None)),
    (None, "/search -a hello", SearchHistory(WORK, "hello", None)),
    (ALICE, "/search -- -a", SearchHistory(WORK, "-a", ALICE)),
    (ALICE, "/SEARCH [b]x[/b]", SearchHistory(WORK, "[b]x[/b]", ALICE)),
])
async def test_search_dispatches_the_intent(chat: ChatKey | None, line: str,
                                            intent: SearchHistory) -> None:
    host = Host(chat=chat)
    await run_line(host, line)
    assert host.intents == [intent] and host.said == []


@pytest.mark.parametrize("line", ["/search", "/search   ", "/search -a", "/search -a  "])
async def test_search_without_text_explains(line: str) -> None:
    host = Host(chat=ALICE)
    await run_line(host, line)
    assert host.intents == []
    assert len(host.said) == 1 and "/search [-a] TEXT" in host.said[0][0] and host.said[0][1]


async def test_search_without_identity() -> None:
    host = Host(account=None)
    await run_line(host, "/search x")
    assert host.intents == [] and host.said == [(NO_IDENTITY, True)]


async def test_typed_in_the_app(backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(*"/search hi", "enter")
        backend.push(ChatOpened(WORK, ALICE, (), focus=True))
        await settle(pilot)
        await pilot.press(*"/search hi you", "enter", *"/search -a hi", "enter")
        await pilot.press(*"/help search", "enter")
        assert backend.of_type(SearchHistory) == [
            SearchHistory(WORK, "hi", None), SearchHistory(WORK, "hi you", ALICE),
            SearchHistory(WORK, "hi", None)]
        assert "/search [-a] TEXT" in log_text(app)


# -- results -------------------------------------------------------------------------------
async def test_no_results_is_one_clear_line(backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(80, 24)) as pilot:
        backend.push(SearchResults(WORK, "zebra", ALICE, ()))
        backend.push(SearchResults(WORK, "gnu", None, ()))
        await settle(pilot)
        assert not isinstance(app.screen, SearchScreen)
        text = log_text(app)
        assert "No message in alice@example.org contains “zebra”." in text
        assert "No message in any chat of work contains “gnu”." in text


async def test_results_are_listed_and_escape_closes(backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    found = (message("the needle, newest", chat=BOB), message("an old needle"))
    async with app.run_test(size=(80, 24)) as pilot:
        backend.push(SearchResults(WORK, "needle", None, found, truncated=True))
        await settle(pilot)
        assert isinstance(app.screen, SearchScreen)
        shown = "\n".join(screen_lines(app))
        assert "2 messages in any chat of work contain “needle”" in shown
        assert "only the newest 2 are" in shown
        assert re.search(r"bob@example\.org\s+2024-05-01 12:34  bob: the needle, newest", shown)
        assert re.search(r"alice@example\.org\s+2024-05-01 12:34  alice: an old needle", shown)
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, SearchScreen)
        assert backend.of_type(OpenChat) == []


async def test_enter_opens_the_chat_at_the_message(backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    first, second = message("needle one", chat=BOB), message("needle two")
    async with app.run_test(size=(80, 24)) as pilot:
        backend.push(SearchResults(WORK, "needle", None, (first, second)))
        await settle(pilot)
        await pilot.press("down", "enter")
        await settle(pilot)
        assert not isinstance(app.screen, SearchScreen)
        assert backend.of_type(OpenChat) == [OpenChat(WORK, ALICE, focus=True, at=second.id)]
        assert app.current_chat == ALICE


async def test_chat_opened_at_scrolls_to_and_marks_the_message(backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    history = tuple(message(f"line {i}") for i in range(60))
    target = history[10]
    async with app.run_test(size=(80, 24)) as pilot:
        backend.push(ChatOpened(WORK, ALICE, history, focus=True, at=target.id))
        await settle(pilot)
        log = app.chatlog
        assert log.found == target.id
        line = log.line_of(target.id)
        assert line is not None
        top = log.scroll_offset.y
        assert top <= line < top + log.scrollable_content_region.height
        assert "line 10" in "\n".join(screen_lines(app))
        mark = log.get_component_rich_style("chatlog--found", partial=True)
        marked = log._lines[line]  # the strip drawn for the found message
        assert mark.bgcolor is not None
        assert all(seg.style is not None and seg.style.bgcolor == mark.bgcolor
                   for seg in marked if seg.text.strip())
        other = log._lines[line + 1]
        assert all(seg.style is None or seg.style.bgcolor != mark.bgcolor for seg in other)


async def test_a_result_already_shown_needs_no_backend(backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    history = tuple(message(f"line {i}") for i in range(60))
    async with app.run_test(size=(80, 24)) as pilot:
        backend.push(ChatOpened(WORK, ALICE, history, focus=False))
        backend.push(SearchResults(WORK, "line 5", None, (history[5],)))
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert backend.of_type(OpenChat) == []
        assert app.current_chat == ALICE and app.chatlog.found == history[5].id
        assert "line 5" in "\n".join(screen_lines(app))


async def test_hostile_text_in_results_is_drawn_literally(backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    evil = ChatKey(WORK, "evil@example.org")
    hostile = (message(HOSTILE, chat=evil),
               message("needle", chat=evil, sender="[red]x\x1b[2J@example.org"))
    async with app.run_test(size=(120, 24)) as pilot:
        backend.push(SearchResults(WORK, "[b]needle", None, hostile))
        await settle(pilot)
        assert isinstance(app.screen, SearchScreen)
        shown = "\n".join(screen_lines(app))
        assert "[@click=app.quit()] [/] [b]bold" in shown
        assert "[red]x␛[2J@example.org" in shown
        assert "2 messages in any chat of work contain “[b]needle”." in shown
        assert "␛]52;c;" in shown and "⟨U+202E⟩" in shown
        assert not RAW_CONTROL.search(shown)
        await pilot.press("enter")
        await settle(pilot)
        assert app.is_running  # the [@click=app.quit()] was text, not an action


# -- buffers -----------------------------------------------------------------------------
def test_window_before_the_newest_lines_with_a_gap() -> None:
    chats = Chats()
    recent = [message(f"recent {i}", msg_id=f"r{i}") for i in range(3)]
    chats.open(ALICE, recent, stranger=False, focus=True)
    window = [message(f"old {i}", msg_id=f"o{i}") for i in range(3)]
    buffer = chats.open(ALICE, window, stranger=False, focus=True, at="o1")
    texts = [e.text if isinstance(e, NoticeLine) else e.id for e in buffer.entries]
    assert texts == ["o0", "o1", "o2", GAP, "r0", "r1", "r2"]


def test_window_that_reaches_the_buffer_joins_it() -> None:
    chats = Chats()
    msgs = [message(f"m {i}", msg_id=f"j{i}") for i in range(6)]
    chats.open(ALICE, msgs[3:], stranger=False, focus=True)
    chats.add_notice(NoticeLine("later notice"), ALICE)
    buffer = chats.open(ALICE, msgs[:5], stranger=False, focus=True, at="j1")
    texts = [e.text if isinstance(e, NoticeLine) else e.id for e in buffer.entries]
    assert texts == ["j0", "j1", "j2", "j3", "j4", "j5", "later notice"]


def test_window_keeps_room_in_a_bounded_buffer() -> None:
    chats = Chats(max_entries=10)
    chats.open(ALICE, [message("r", msg_id=f"b{i}") for i in range(10)], False, True)
    buffer = chats.open(ALICE, [message("o", msg_id=f"w{i}") for i in range(4)], False, True,
                        at="w0")
    ids = [e.id if isinstance(e, ChatMessage) else "gap" for e in buffer.entries]
    assert ids == ["w0", "w1", "w2", "w3", "gap", *(f"b{i}" for i in range(5, 10))]


def test_when_shows_the_date_of_older_messages() -> None:
    stamp = datetime(2024, 5, 1, 12, 34)
    assert when(stamp, today=datetime(2024, 5, 1, 20, 0)) == "12:34"
    assert when(stamp, today=datetime(2024, 5, 2, 9, 0)) == "2024-05-01 12:34"


def test_title_counts_in_words() -> None:
    one = SearchResults(WORK, "x", ALICE, (message("x"),))
    assert title(one).plain == "1 message in alice@example.org contains “x”."
