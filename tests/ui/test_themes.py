"""Theme files: lookup order, broken themes reported (never fatal), the compact look."""

from __future__ import annotations

from pathlib import Path

import pytest

from xmppterm.domain.events import ChatOpened
from xmppterm.ui.app import XmppTermApp
from xmppterm.ui.themes import find_theme

from .conftest import ALICE, WORK, FakeBackend, message

REPO_THEMES = Path(__file__).resolve().parents[2] / "themes"


@pytest.fixture
def user_themes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    folder = tmp_path / "xmppterm" / "themes"
    folder.mkdir(parents=True)
    return folder


def test_lookup_prefers_the_user_directory(user_themes: Path) -> None:
    assert find_theme("default") == REPO_THEMES / "default.tcss"
    (user_themes / "default.tcss").write_text("Screen { }\n")
    assert find_theme("default") == user_themes / "default.tcss"
    assert find_theme("../default") is None


@pytest.mark.parametrize("css", [
    "ChatLog { color: $no-such-variable; }\n",
    "ChatLog { colr: red; }\n",
    "this is { not css\n",
])
async def test_a_broken_user_theme_is_reported_and_the_default_used(
        user_themes: Path, css: str) -> None:
    (user_themes / "mine.tcss").write_text(css)
    app = XmppTermApp(FakeBackend(), theme="mine")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        text = "\n".join(app.chatlog.lines)
        assert "mine.tcss has errors" in text and "using the default theme" in text
        assert app.css_path[-1] == REPO_THEMES / "default.tcss"


async def test_a_missing_theme_is_reported(user_themes: Path) -> None:
    app = XmppTermApp(FakeBackend(), theme="nosuch")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert "Theme 'nosuch' not found" in "\n".join(app.chatlog.lines)


async def test_a_user_theme_is_applied(user_themes: Path) -> None:
    (user_themes / "mine.tcss").write_text("ChatLog > .chatlog--time { text-style: bold; }\n")
    app = XmppTermApp(FakeBackend(), theme="mine")
    async with app.run_test(size=(80, 24)):
        assert app.css_path[-1] == user_themes / "mine.tcss"
        assert app.chatlog.get_component_rich_style("chatlog--time").bold


async def test_low_bandwidth_look(user_themes: Path) -> None:
    backend = FakeBackend()
    app = XmppTermApp(backend, low_bandwidth=True)
    async with app.run_test(size=(80, 24)) as pilot:
        backend.push(ChatOpened(WORK, ALICE, tuple(message(f"m{i}") for i in range(50))))
        await pilot.pause()
        assert app.css_path[-1] == REPO_THEMES / "compact.tcss"
        log = app.chatlog
        assert log.styles.scrollbar_size_vertical == 0
        assert log.scrollable_content_region.width == 80  # no scrollbar column
        assert log.max_scroll_y > 0 and log.scroll_offset.y == log.max_scroll_y  # still scrolls
        strips = app.screen._compositor.render_strips()
        backgrounds = {str(seg.style.bgcolor) for seg in strips[3] if seg.style}
        assert backgrounds == {"Color('default', ColorType.DEFAULT)"}
        assert app.composer.input.cursor_blink is False


async def test_default_look_blinks_and_paints_its_background() -> None:
    app = XmppTermApp(FakeBackend())
    async with app.run_test(size=(80, 24)):
        assert app.composer.input.cursor_blink is True
        assert app.css_path[-1] == REPO_THEMES / "default.tcss"
