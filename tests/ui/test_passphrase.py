"""The passphrase gate in the UI: nothing starts before it opens; /lock closes it again."""

from __future__ import annotations

from xmppterm.domain.events import ChatOpened, MessageReceived
from xmppterm.ui.app import XmppTermApp
from xmppterm.ui.screens.passphrase import PassphraseScreen

from .conftest import ALICE, WORK, FakeBackend, message, screen_lines, until


class FakeGate:
    def __init__(self, new: bool, secret: str = "correct horse battery") -> None:
        self.new, self.secret = new, secret
        self.locked = True
        self.tries: list[str] = []
        self.lock_calls = 0

    async def unlock(self, passphrase: str) -> str | None:
        self.tries.append(passphrase)
        if passphrase != self.secret:
            return "Wrong passphrase: nothing was loaded. Try again."
        self.locked, self.new = False, False
        return None

    async def lock(self) -> None:
        self.locked = True
        self.lock_calls += 1


def text(app: XmppTermApp) -> str:
    return "\n".join(screen_lines(app))


async def test_existing_store_wrong_then_right(backend: FakeBackend) -> None:
    gate = FakeGate(new=False)
    app = XmppTermApp(backend, gate=gate)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, PassphraseScreen) and backend.started == 0
        await pilot.press(*"guess", "enter")
        await pilot.pause()
        assert "Wrong passphrase" in text(app) and backend.started == 0
        assert "guess" not in text(app)  # masked, and cleared after the attempt
        await pilot.press(*gate.secret, "enter")
        await until(pilot, lambda: backend.started and not isinstance(app.screen, PassphraseScreen))
        assert not isinstance(app.screen, PassphraseScreen)
        assert backend.started == 1 and gate.tries == ["guess", gate.secret]


async def test_new_passphrase_is_asked_twice_and_checked(backend: FakeBackend) -> None:
    gate = FakeGate(new=True)
    app = XmppTermApp(backend, gate=gate)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(*"short", "enter", *"short", "enter")
        await pilot.pause()
        assert "at least 8" in text(app) and gate.tries == []
        await pilot.press(*gate.secret, "enter", *"something else", "enter")
        await pilot.pause()
        assert "differ" in text(app) and gate.tries == []
        await pilot.press(*gate.secret, "enter", *gate.secret, "enter")
        await until(pilot, lambda: backend.started)
        assert gate.tries == [gate.secret] and backend.started == 1


async def test_lock_forgets_what_was_shown(backend: FakeBackend) -> None:
    gate = FakeGate(new=False)
    gate.locked = False
    app = XmppTermApp(backend, gate=gate)
    async with app.run_test(size=(80, 24)) as pilot:
        backend.push(ChatOpened(WORK, ALICE, (), focus=True),
                     MessageReceived(WORK, message("the secret plan")))
        await pilot.pause()
        assert "the secret plan" in text(app)
        await pilot.press(*"/lock", "enter")
        await pilot.pause()
        assert gate.lock_calls == 1 and isinstance(app.screen, PassphraseScreen)
        assert "the secret plan" not in text(app)
        await pilot.press(*gate.secret, "enter")
        await until(pilot, lambda: not isinstance(app.screen, PassphraseScreen))
        await pilot.pause(0.2)  # the chat is drawn again by now
        assert not isinstance(app.screen, PassphraseScreen)
        assert "the secret plan" not in text(app)  # it comes back only from the store
