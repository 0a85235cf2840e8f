"""ChatLog on its own: one frame per message, following the end, partial redraws."""

from __future__ import annotations

from typing import Any

from rich.console import RenderableType
from textual.app import App, ComposeResult
from textual.screen import Screen
from textual.widgets import RichLog

from xmppterm.domain.messages import Delivery, Direction
from xmppterm.ui.render import NoticeLine
from xmppterm.ui.widgets.chatlog import ChatLog

from .conftest import message, until


class LogApp(App[None]):
    CSS = "ChatLog, RichLog { height: 1fr; }"

    def __init__(self, rich_log: bool = False) -> None:
        super().__init__()
        self.rich_log = rich_log
        self.frames: list[int] = []

    def compose(self) -> ComposeResult:
        yield RichLog() if self.rich_log else ChatLog()

    def _display(self, screen: Screen[Any], renderable: RenderableType | None) -> None:
        """Count the frames that would be written to the terminal (and their size)."""
        if renderable is not None:
            self.frames.append(len(renderable.render_segments(self.console)))  # type: ignore[union-attr]
        super()._display(screen, renderable)


async def count_frames(app: LogApp, pilot: Any, append: Any, n: int) -> list[int]:
    per_message = []
    for i in range(n):
        app.frames.clear()
        append(i)
        await until(pilot, lambda: app.frames)  # the first frame, however slow the machine
        await pilot.pause(0.1)  # a second one would come by now
        await pilot.pause()
        per_message.append(len(app.frames))
    return per_message


async def test_one_frame_per_appended_message_while_scrolling() -> None:
    app = LogApp()
    async with app.run_test(size=(80, 24)) as pilot:
        log = app.query_one(ChatLog)
        log.show([message(f"history {i}") for i in range(40)])
        await pilot.pause(0.1)
        frames = await count_frames(app, pilot, lambda i: log.append(message(f"new {i}")), 5)
        assert frames == [1] * 5
        assert log.scroll_offset.y == log.max_scroll_y > 0
        assert log.lines[-1].endswith("new 4")


async def test_one_frame_per_appended_message_before_the_log_is_full() -> None:
    app = LogApp()
    async with app.run_test(size=(80, 24)) as pilot:
        log = app.query_one(ChatLog)
        await pilot.pause(0.1)
        frames = await count_frames(app, pilot, lambda i: log.append(message(f"m {i}")), 5)
        assert frames == [1] * 5


async def test_the_counter_sees_the_double_paint_of_richlog() -> None:
    """Control: RichLog.write() paints twice per line; if this fails the counter is blind."""
    app = LogApp(rich_log=True)
    async with app.run_test(size=(80, 24)) as pilot:
        log = app.query_one(RichLog)
        for i in range(40):
            log.write(f"history {i}")
        await pilot.pause(0.2)
        frames = await count_frames(app, pilot, lambda i: log.write(f"new {i}"), 3)
        assert all(count >= 2 for count in frames)


async def test_follows_the_end_only_if_the_reader_is_there() -> None:
    app = LogApp()
    async with app.run_test(size=(80, 24)) as pilot:
        log = app.query_one(ChatLog)
        log.show([message(f"history {i}") for i in range(60)])
        await pilot.pause()
        end = log.max_scroll_y
        log.scroll_to(y=5, animate=False)
        await pilot.pause()
        app.frames.clear()
        log.append(message("while reading"))
        await pilot.pause(0.1)
        assert log.scroll_offset.y == 5
        assert log.max_scroll_y == end + 1
        log.scroll_end(animate=False, immediate=True)
        log.append(message("at the end again"))
        await pilot.pause()
        assert log.scroll_offset.y == log.max_scroll_y == end + 2


async def test_update_delivery_redraws_only_that_entry() -> None:
    app = LogApp()
    async with app.run_test(size=(80, 24)) as pilot:
        log = app.query_one(ChatLog)
        own = message("mine", direction=Direction.OUTGOING, delivery=Delivery.PENDING,
                      msg_id="x")
        log.show([message("before"), own, message("after")])
        await pilot.pause()
        assert log.lines[1] == "12:34 P …  <me> mine"
        refreshed: list[Any] = []
        original = log.refresh

        def spy(*regions: Any, **kwargs: Any) -> Any:
            refreshed.append(regions)
            return original(*regions, **kwargs)

        log.refresh = spy  # type: ignore[method-assign]
        assert log.update_delivery("x", Delivery.SENT)
        assert log.lines[1] == "12:34 P ✓  <me> mine"
        assert [region.height for regions in refreshed for region in regions] == [1]
        assert log.update_delivery("x", Delivery.FAILED, "offline")
        assert log.lines[1:3] == ["12:34 P ✗  <me> mine", "      ✗ not sent: offline"]
        assert log.lines[3].endswith("after")
        assert not log.update_delivery("unknown", Delivery.SENT)


async def test_resize_rewraps() -> None:
    app = LogApp()
    async with app.run_test(size=(100, 24)) as pilot:
        log = app.query_one(ChatLog)
        log.show([message("word " * 30), NoticeLine("a notice")])
        await pilot.pause()
        wide = len(log.lines)
        await pilot.resize_terminal(50, 24)
        await pilot.pause()
        assert len(log.lines) > wide
        assert all(len(line) <= 50 for line in log.lines)


async def test_entries_written_before_the_size_is_known_are_drawn() -> None:
    class Early(LogApp):
        def on_mount(self) -> None:
            self.query_one(ChatLog).append(message("early bird"))

    app = Early()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.query_one(ChatLog).lines == ["12:34 P    <alice@example.org> early bird"]


async def test_restyled_on_theme_change_but_not_on_focus_change() -> None:
    class Themed(LogApp):
        CSS = "ChatLog { height: 1fr; } ChatLog > .chatlog--peer { color: $foreground; }"

    app = Themed()
    async with app.run_test(size=(80, 24)) as pilot:
        log = app.query_one(ChatLog)
        log.show([message("hi")])
        await pilot.pause()
        rebuilds: list[int] = []
        original = log._rebuild

        def spy() -> None:
            rebuilds.append(1)
            original()

        log._rebuild = spy  # type: ignore[method-assign]
        log.focus()
        await pilot.pause()
        log.blur()
        await pilot.pause()
        assert rebuilds == []
        before = log._lines[0]
        app.theme = "textual-light"
        await pilot.pause()
        assert rebuilds
        assert log._lines[0].text == before.text and log._lines[0] != before


async def test_the_log_is_bounded_and_keeps_the_readers_place() -> None:
    class Small(LogApp):
        def compose(self) -> ComposeResult:
            yield ChatLog(max_entries=50)

    app = Small()
    async with app.run_test(size=(80, 24)) as pilot:
        log = app.query_one(ChatLog)
        log.show([message(f"old {i}") for i in range(50)])
        await pilot.pause()
        log.scroll_to(y=10, animate=False)
        await pilot.pause()
        top = log.lines[10]
        for i in range(201):
            log.append(message(f"new {i}"))
        await pilot.pause()
        assert len(log.entries) == 50 and len(log.lines) == 50
        assert log.lines[-1].endswith("new 200")
        assert log.scroll_offset.y == 0  # its lines were dropped: the view moved to the top
        assert top not in log.lines
