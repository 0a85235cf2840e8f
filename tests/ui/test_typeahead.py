"""Keys that reach the app together (type-ahead over a slow SSH or Tor link, a fast
typist, a terminal that delivers several keys in one read) are applied in the order
they were typed. Textual runs a focused Input's bindings only once the key has bubbled
up to the app, after the printable keys queued behind it; the composer runs its own
bindings at once. Each burst here is posted the way the terminal driver posts keys:
all of them before the app handles the first."""

from __future__ import annotations

from textual import events
from textual.app import App, ComposeResult
from textual.widgets import Input

from xmppterm.domain.intents import CorrectMessage, SendMessage
from xmppterm.domain.messages import Delivery, Direction
from xmppterm.ui.app import XmppTermApp
from xmppterm.ui.widgets.ordered_input import OrderedInput

from .conftest import ALICE, WORK, FakeBackend, message
from .test_app import open_alice

CHARACTERS = {"backspace": "\x7f", "enter": "\r", "left": None, "home": None, "up": None,
              "escape": "\x1b", "delete": None}


async def burst(app: App[None], pilot: object, *keys: str) -> None:
    """`keys` as one read from the terminal: every Key is queued before any is handled."""
    for key in keys:
        for name in ([key] if key in CHARACTERS else list(key)):
            app.post_message(events.Key(name, CHARACTERS.get(name, name)))
    for _ in range(5):
        await pilot.pause()  # type: ignore[attr-defined]


async def test_backspace_and_cursor_keys_apply_in_order(backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_alice(backend, pilot)
        await burst(app, pilot, "abc", *["backspace"] * 4, "xyz")
        assert app.composer.value == "xyz"
        await burst(app, pilot, "home", "delete", "left", "W")
        assert app.composer.value == "Wyz"


async def test_what_is_typed_after_enter_starts_the_next_line(backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_alice(backend, pilot)
        await burst(app, pilot, "hi", "enter", "there", "enter", "and more")
        assert backend.of_type(SendMessage) == [SendMessage(WORK, ALICE, "hi"),
                                                SendMessage(WORK, ALICE, "there")]
        assert app.composer.value == "and more"


async def test_a_correction_typed_ahead_keeps_its_message(backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_alice(backend, pilot, message("teh", direction=Direction.OUTGOING,
                                                 delivery=Delivery.DELIVERED, msg_id="t"))
        await burst(app, pilot, "up", *["backspace"] * 2, "he", "enter", "next")
        assert backend.of_type(CorrectMessage) == [CorrectMessage(WORK, ALICE, "the", "t")]
        assert app.composer.value == "next"


class OneField(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.submitted: list[str] = []

    def compose(self) -> ComposeResult:
        yield OrderedInput(password=True)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.submitted.append(event.value)


async def test_every_form_field_keeps_the_order_a_passphrase_was_typed_in() -> None:
    """The forms' fields (passphrase, account, sign-up) are OrderedInputs too: a mistyped
    passphrase corrected at speed unlocks instead of failing."""
    app = OneField()
    async with app.run_test() as pilot:
        await burst(app, pilot, "correct horsf", "backspace", "e", "enter")  # type: ignore[arg-type]
        assert app.submitted == ["correct horse"]
