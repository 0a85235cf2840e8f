"""The passphrase screen: in front of everything at start, and after /lock.

It cannot be dismissed without the right passphrase (Ctrl+Q still quits). A new
passphrase is asked twice. Nothing of the store is shown behind it.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Input, Static

from ...domain.ports import Gate
from ..widgets.ordered_input import OrderedInput

MIN_LENGTH = 8
NEW_TEXT = ("Choose a passphrase. It encrypts everything xmppterm keeps on disk: history, "
            "contacts, keys, passwords, the outbox. Without it nothing can be read, not even "
            "by you: there is no way around it.")
OPEN_TEXT = "Enter your passphrase to unlock xmppterm."


class PassphraseScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("ctrl+q", "app.quit", "Quit", priority=True)]

    def __init__(self, gate: Gate) -> None:
        super().__init__(id="passphrase-screen")
        self.gate = gate
        self.new = gate.new

    def compose(self) -> ComposeResult:
        with Vertical(id="passphrase-box"):
            yield Static(NEW_TEXT if self.new else OPEN_TEXT, id="passphrase-intro")
            yield OrderedInput(password=True, placeholder="passphrase", id="passphrase")
            if self.new:
                yield OrderedInput(password=True, placeholder="the same again", id="passphrase-again")
            yield Static("", id="passphrase-error", markup=False)
            yield Static("Enter: unlock   Ctrl+Q: quit", id="passphrase-keys")

    def on_mount(self) -> None:
        self.query_one("#passphrase", Input).focus()

    def _error(self, text: str) -> None:
        self.query_one("#passphrase-error", Static).update(text)

    async def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        first = self.query_one("#passphrase", Input)
        if self.new and event.input.id == "passphrase":
            self.query_one("#passphrase-again", Input).focus()
            return
        problem = self._check(first.value)
        if problem is None:
            self._error("Unlocking…")
            problem = await self.gate.unlock(first.value)
        for box in self.query(Input):
            box.value = ""
        if problem is None:
            self.dismiss(None)
            return
        self._error(problem)
        first.focus()

    def _check(self, passphrase: str) -> str | None:
        if not passphrase:
            return "The passphrase cannot be empty."
        if not self.new:
            return None
        if len(passphrase) < MIN_LENGTH:
            return f"Use at least {MIN_LENGTH} characters; a few random words are best."
        if passphrase != self.query_one("#passphrase-again", Input).value:
            return "The two passphrases differ. Type them again."
        return None
