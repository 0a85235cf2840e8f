"""The very first screen when no account exists yet: add one, or try the local demo."""

from __future__ import annotations

from typing import ClassVar, Literal

from rich.text import Text
from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static

from .themes import LAYOUT_CSS

Choice = Literal["account", "demo"]
TEXT = (
    "Welcome to xmppterm.\n\n"
    "No account is configured yet. You can add your XMPP account now, or first try "
    "xmppterm against a throwaway server on this machine (needs the Debian package "
    "prosody; nothing is kept afterwards)."
)


class WelcomeApp(App[Choice]):
    """Returns "account", "demo", or None when the user quits."""

    CSS_PATH = LAYOUT_CSS
    ENABLE_COMMAND_PALETTE = False
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "choose('account')", "Add an account"),
        Binding("d", "choose('demo')", "Try the demo"),
        Binding("escape,ctrl+q,q", "quit", "Quit"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="welcome-box"):
            yield Static(Text(TEXT), id="welcome-text")
            with Horizontal(id="welcome-buttons"):
                yield Button("Add an account (a)", id="account", variant="primary", compact=True)
                yield Button("Try the demo (d)", id="demo", compact=True)
            yield Static(Text("Tab: next button, Enter: choose, q: quit"), id="welcome-keys")

    def on_mount(self) -> None:
        self.query_one("#account", Button).focus()

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        self.action_choose(event.button.id or "account")

    def action_choose(self, choice: str) -> None:
        self.exit("demo" if choice == "demo" else "account")
