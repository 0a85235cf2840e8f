"""The help screen: key bindings, commands, and what the marks in the log mean."""

from __future__ import annotations

from typing import ClassVar

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from ...domain.commands import COMMANDS
from ..keys import KEY_HELP
from ..render import LEGEND


def _table(rows: list[tuple[str, str]]) -> Table:
    table = Table(box=None, show_header=False, padding=(0, 2, 0, 2), expand=True)
    table.add_column(no_wrap=True)
    table.add_column(ratio=1)
    for left, right in rows:
        table.add_row(Text(left), Text(right))
    return table


def help_renderable() -> Group:
    """Keys, commands and log marks, as tables that wrap inside their columns."""
    commands = [(spec.usage, spec.help) for spec in COMMANDS.values()]
    return Group(
        Text("Keys", style="bold"), _table(KEY_HELP), Text(""),
        Text("Commands", style="bold"),
        _table(commands), Text(""),
        Text("Marks in the log", style="bold"), _table(list(LEGEND)), Text(""),
        Text("Esc, F1 or q closes this screen; Up/Down/PageUp/PageDown scroll."),
    )


class HelpScreen(ModalScreen[None]):
    """Scrollable help; Escape closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,f1,q", "close", "Close"),
        Binding("up", "scroll(-1)", show=False),
        Binding("down", "scroll(1)", show=False),
        Binding("pageup", "scroll(-10)", show=False),
        Binding("pagedown", "scroll(10)", show=False),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body"):
            yield Static(help_renderable(), id="help-text")

    def on_mount(self) -> None:
        self.query_one("#help-body").focus()

    def action_close(self) -> None:
        self.dismiss(None)

    def action_scroll(self, lines: int) -> None:
        body = self.query_one("#help-body", VerticalScroll)
        body.scroll_relative(y=lines, animate=False)
