"""The newcomer's first screen: add an account or try the demo, from the keyboard."""

import pytest

from xmppterm.ui.welcome import WelcomeApp


@pytest.mark.parametrize(("keys", "choice"), [
    (["enter"], "account"),
    (["tab", "enter"], "demo"),
    (["d"], "demo"),
    (["a"], "account"),
    (["q"], None),
])
async def test_choices(keys: list[str], choice: str | None) -> None:
    app = WelcomeApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(*keys)
        await pilot.pause()
    assert app.return_value == choice
