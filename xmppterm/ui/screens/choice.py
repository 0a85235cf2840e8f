"""A small modal question with a few answers: Escape is always the safe one (None).

Used before opening a chat with a contact of another identity, and to answer a
subscription request. The question is drawn as plain text (it names remote JIDs,
already sanitised by the caller): never as markup.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

Choice = tuple[str, str]  # (value returned, button label)


class ChoiceScreen(ModalScreen[str | None]):
    """`question` and one button per choice; `focus` names the choice focused first."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    ChoiceScreen { align: center middle; }
    #choice-box {
        width: 100%; max-width: 76; height: auto; padding: 0 1;
        background: $surface; border: round $warning;
    }
    #choice-question { height: auto; }
    #choice-buttons { height: auto; margin-top: 1; }
    #choice-buttons Button { margin-right: 2; min-width: 10; }
    #choice-keys { color: $text-muted; }
    """

    def __init__(self, question: str, choices: tuple[Choice, ...], focus: str | None = None,
                 *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.question = question
        self.choices = choices
        self.first = focus or choices[-1][0]

    def compose(self) -> ComposeResult:
        with Vertical(id="choice-box"):
            yield Static(Text(self.question), id="choice-question")
            with Horizontal(id="choice-buttons"):
                for value, label in self.choices:
                    yield Button(Text(label), id=f"choice-{value}", compact=True)
            yield Static(Text("Tab: next answer  Enter: choose  Esc: cancel"), id="choice-keys")

    def on_mount(self) -> None:
        self.query_one(f"#choice-{self.first}", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss((event.button.id or "").removeprefix("choice-") or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
