"""The results of a history search: one row per message, walked with the keyboard.

Each row is `chat  time  sender: snippet`, built from sanitised one-line fields into
rich `Text` (never markup, which an OptionList would parse in a plain string). Enter
closes the screen with the message chosen; Escape closes it with None.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from ...domain.events import SearchResults
from ...domain.messages import ChatMessage, Direction
from ...domain.sanitize import clean_field
from ...domain.search import Needle, snippet_start
from ..render import OWN_LABEL, clock

CHAT_WIDTH = 24  # cells of the chat column
SENDER_WIDTH = 32
SNIPPET_CHARS = 160  # characters of a body taken for its row (the row is cut to the width)
KEYS = "Up/Down, PageUp/PageDown: choose · Enter: open the chat there · Esc: close"


def when(stamp: datetime, today: datetime | None = None) -> str:
    """HH:MM for today's messages, the date before it for older ones."""
    local = stamp.astimezone() if stamp.tzinfo is not None else stamp
    now = today or datetime.now(local.tzinfo)
    day = "" if local.date() == now.date() else local.strftime("%Y-%m-%d ")
    return day + clock(stamp)


def title(event: SearchResults) -> Text:
    where = (f"in {clean_field(event.chat.jid, 80)}" if event.chat is not None
             else f"in any chat of {clean_field(event.account.name, 40)}")
    count = len(event.results)
    verb = "messages {} contain" if count != 1 else "message {} contains"
    text = f"{count} {verb.format(where)} “{clean_field(event.text, 80)}”"
    if event.truncated:
        text += f"; only the newest {count} are listed"
    return Text(text + ".")


def sender_label(message: ChatMessage) -> str:
    """`me`, the name part of the peer of a 1:1 chat (its full JID is in the chat column),
    or the full sender."""
    if message.direction is Direction.OUTGOING:
        return OWN_LABEL
    if message.sender == message.chat.jid and "@" in message.sender:
        return message.sender.partition("@")[0]
    return message.sender


def chat_column(results: tuple[ChatMessage, ...]) -> int:
    return min(CHAT_WIDTH, max((len(m.chat.jid) for m in results), default=0))


def result_row(message: ChatMessage, needle: Needle, styles: dict[str, Style],
               chat_width: int = CHAT_WIDTH) -> Text:
    """One result: chat, time, sender and the part of the body around the match."""
    chat = clean_field(message.chat.jid, chat_width)
    sender = clean_field(sender_label(message), SENDER_WIDTH)
    start = snippet_start(message.body, needle)
    body = message.body[start:start + SNIPPET_CHARS]
    snippet = Text(("…" if start else "") + clean_field(body))
    found = needle.find(snippet.plain)
    if found is not None:
        snippet.stylize(styles["match"], *found)
    return Text.assemble(
        (chat.ljust(chat_width) + "  ", styles["chat"]),
        (when(message.timestamp) + "  ", styles["time"]),
        (sender + ": ", styles["sender"]),
        snippet,
        no_wrap=True, overflow="ellipsis",
    )


class SearchScreen(ModalScreen[ChatMessage | None]):
    """A list of search results; Enter picks one, Escape closes."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "search--chat", "search--time", "search--sender", "search--match"}
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close", "Close")]
    DEFAULT_CSS = """
    SearchScreen { align: center middle; }
    #search-box { width: 100%; max-width: 120; height: 100%; padding: 0 1; }
    #search-title, #search-keys { height: auto; }
    #search-results { height: 1fr; text-wrap: nowrap; text-overflow: ellipsis; }
    """

    def __init__(self, results: SearchResults) -> None:
        super().__init__()
        self.results = results

    def compose(self) -> ComposeResult:
        with Vertical(id="search-box"):
            yield Static(title(self.results), id="search-title")
            yield OptionList(id="search-results")
            yield Static(Text(KEYS), id="search-keys")

    def on_mount(self) -> None:
        styles = {name: self.get_component_rich_style(f"search--{name}", partial=True)
                  for name in ("chat", "time", "sender", "match")}
        needle, found = Needle(self.results.text), self.results.results
        width = chat_column(found)
        options = self.query_one(OptionList)
        options.add_options([Option(result_row(message, needle, styles, width), id=str(index))
                             for index, message in enumerate(found)])
        options.highlighted = 0
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self.results.results[event.option_index])

    def action_close(self) -> None:
        self.dismiss(None)
