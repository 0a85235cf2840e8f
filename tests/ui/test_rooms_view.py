"""Group chats drawn (Pilot, FakeBackend): hostile nicks, topics and reasons drawn
literally, the gutter, highlights, look-alike nicks, nick completion, join lines
(folded or not), a 300-occupant join, removals, the status line and sidebar, and one
frame per room message."""

from __future__ import annotations

from typing import Any

from rich.console import RenderableType
from textual.screen import Screen

from xmppterm.domain import rooms as r
from xmppterm.domain.events import ChatOpened, MessageReceived
from xmppterm.domain.intents import CloseChat, SendMessage
from xmppterm.domain.messages import Delivery, Direction
from xmppterm.ui.app import XmppTermApp
from xmppterm.ui.command_runner import run_line

from .conftest import WORK, FakeBackend, screen_lines, until
from .test_rooms import (
    HOSTILE,
    OCCUPANTS,
    RAW_CONTROL,
    ROOM,
    enter,
    joined,
    log_text,
    occupant,
    room_message,
)


# -- drawing -------------------------------------------------------------------------------
async def test_hostile_nick_topic_and_reasons_are_drawn_literally(backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    evil = "ev\nil\x1b[31m[b]x[/]\u202e"
    async with app.run_test(size=(160, 40)) as pilot:
        backend.push(r.RoomInvited(WORK, ROOM.jid, "x\u202e@example.org", HOSTILE))
        await enter(backend, pilot, joined((*OCCUPANTS, occupant(evil)), subject=HOSTILE))
        backend.push(
            MessageReceived(WORK, room_message("body " + HOSTILE, nick=evil)),
            MessageReceived(WORK, room_message("/me " + HOSTILE, nick=evil)),
            r.OccupantsChanged(WORK, ROOM, present=(occupant(HOSTILE),), gone=((evil, HOSTILE),)),
            r.RoomSubjectChanged(WORK, ROOM, "new " + HOSTILE, by=HOSTILE),
            r.RoomListing(WORK, ROOM, HOSTILE, (HOSTILE,)),
            r.RoomConfigShown(WORK, ROOM, (("v", HOSTILE, "text-single", HOSTILE),)),
            r.RoomLeft(WORK, ROOM, HOSTILE, removed=True),
        )
        await until(pilot, lambda: "Topic: new ␛]52;c;ZXZpbA==␇" in "\n".join(screen_lines(app)))
        assert app.is_running
        text = "\n".join(screen_lines(app))
        assert not RAW_CONTROL.search(text)
        assert "[@click=app.quit()] [/]" in text
        assert "⚠<ev⏎il␛[31m[b]x[/]⟨U+202E⟩> body ␛]52;c;ZXZpbA==␇" in text
        assert "⚠* ev⏎il␛[31m[b]x[/]⟨U+202E⟩ ␛]52" in text
        assert "Topic: new ␛]52;c;ZXZpbA==␇" in text
        assert not RAW_CONTROL.search(app.export_screenshot())
        await pilot.press("ctrl+p")  # still responsive
        assert app.chats.current.key is None
        assert "x⟨U+202E⟩@example.org invites work" in log_text(app)


async def test_multiline_room_body_stays_under_the_gutter(backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(80, 24)) as pilot:
        await enter(backend, pilot)
        backend.push(MessageReceived(WORK, room_message("one\n12:00 P    <bob> fake\n-!- x")))
        await pilot.pause()
        lines = app.chatlog.lines
        at = next(i for i, line in enumerate(lines) if "<alice> one" in line)
        assert lines[at].startswith("12:34 P    <alice> one")
        assert lines[at + 1] == "      │ 12:00 P    <bob> fake"
        assert lines[at + 2] == "      │ -!- x"


async def test_own_room_messages_show_delivery_and_our_nick(backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(80, 24)) as pilot:
        await enter(backend, pilot)
        own = room_message("mine", nick="me", direction=Direction.OUTGOING,
                           delivery=Delivery.PENDING, msg_id="own1")
        backend.push(MessageReceived(WORK, own))
        await pilot.pause()
        assert app.chatlog.lines[-1] == "12:34 P …  <me> mine"
        backend.push(MessageReceived(WORK, own.with_delivery(Delivery.DELIVERED)))
        await pilot.pause()
        assert app.chatlog.lines[-1] == "12:34 P ✓✓ <me> mine"


async def test_lookalike_nicks_are_marked(backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(100, 30)) as pilot:
        await enter(backend, pilot)
        backend.push(MessageReceived(WORK, room_message("the real one")))
        # "аlice" with a Cyrillic а; "bob" followed by a zero-width space
        backend.push(r.OccupantsChanged(WORK, ROOM, present=(occupant("\u0430lice"),
                                                              occupant("bob\u200b"))))
        backend.push(MessageReceived(WORK, room_message("fake", nick="\u0430lice")),
                     MessageReceived(WORK, room_message("fake too", nick="bob\u200b")),
                     MessageReceived(WORK, room_message("plain", nick="carol")))
        await pilot.pause()
        lines = app.chatlog.lines
        assert "⚠<\u0430lice> fake" in lines[-3]
        assert "⚠<bob⟨U+200B⟩> fake too" in lines[-2]
        assert "⚠" not in lines[-1]
        assert any("⚠<alice> the real one" in line for line in lines)  # marked too, redrawn
        await run_line(app, "/who")
        await pilot.pause()
        text = log_text(app)
        assert "⚠\u0430lice  looks like another nick: U+0430 l i c e" in text
        assert "⚠bob⟨U+200B⟩  looks like another nick: b o b U+200B" in text


async def test_highlight_on_mention_not_on_a_longer_word(backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(120, 30)) as pilot:
        await enter(backend, pilot, joined(nick="ann"))
        backend.push(MessageReceived(WORK, room_message("annotate this, anne")))
        backend.push(MessageReceived(WORK, room_message("Ann: look here")))
        await pilot.pause()
        assert app.chatlog.lines[-2].startswith("12:34 P    <alice> annotate")
        assert app.chatlog.lines[-1].startswith("12:34 P !  <alice> Ann: look here")
        await pilot.press("alt+1")
        backend.push(MessageReceived(WORK, room_message("nothing for you")),
                     MessageReceived(WORK, room_message("hey ann!")))
        await until(pilot, lambda: app.sidebar.label_of(ROOM) == f"# !1 [2] {ROOM.jid}"
                    and "act:!2" in screen_lines(app)[-2])
        assert app.rooms.highlights[ROOM] == 1
        assert "act:!2" in screen_lines(app)[-2]
        assert app.sidebar.label_of(ROOM) == f"# !1 [2] {ROOM.jid}"
        await pilot.press("alt+2")
        await until(pilot, lambda: app.sidebar.label_of(ROOM) == f"# {ROOM.jid}")
        assert ROOM not in app.rooms.highlights
        assert app.sidebar.label_of(ROOM) == f"# {ROOM.jid}"


async def test_tab_completes_a_nick(backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(80, 24)) as pilot:
        await enter(backend, pilot)
        await pilot.press("a", "l", "tab")
        assert app.composer.value == "alice: "
        await pilot.press(*"hi c", "tab")
        assert app.composer.value == "alice: hi carol "
        app.composer.input.value = "/kick b"
        await pilot.press("end", "tab")
        assert app.composer.value == "/kick bob "
        app.composer.input.value = "m"
        await pilot.press("end", "tab")
        assert app.composer.value == "m"  # our own nick is not offered


async def test_join_lines_one_per_event_and_folded(backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(120, 30)) as pilot:
        await enter(backend, pilot)
        before = len(app.chats.current.entries)
        backend.push(r.OccupantsChanged(
            WORK, ROOM, present=(occupant("dave"), occupant("erin"),
                                 occupant("bob", r.Role.MODERATOR, jid="bob@example.org")),
            gone=(("carol", ""), ("alice", "kicked")), renamed=(("bob", "bobby"),)))
        await pilot.pause()
        assert len(app.chats.current.entries) == before + 1
        assert app.chatlog.lines[-1][6:] == ("-!- → dave, erin, bob joined · ← carol left · "
                                             "← alice was kicked · bob is now bobby")
        assert set(app.rooms.state(ROOM).occupants) == {"me", "bobby", "bob", "dave", "erin"}
        backend.push(r.OccupantsChanged(WORK, ROOM, present=(occupant("dave", r.Role.MODERATOR),)))
        await pilot.pause()
        assert app.chatlog.lines[-1].endswith("-!- dave is now moderator")
        await run_line(app, "/joins fold")
        count_folded = len(app.chats.current.entries)
        backend.push(r.OccupantsChanged(WORK, ROOM, present=(occupant("frank"),),
                                        gone=(("dave", ""),)))
        await pilot.pause()
        assert len(app.chats.current.entries) == count_folded
        assert "frank" in app.rooms.state(ROOM).occupants  # folded, but known (Tab, /who)
        backend.push(r.OccupantsChanged(WORK, ROOM, renamed=(("me", "me2"),)))
        await pilot.pause()
        assert app.chatlog.lines[-1].endswith("-!- me is now me2")  # our own, even folded
        await run_line(app, "/joins show")
        backend.push(r.OccupantsChanged(WORK, ROOM, present=(occupant("gina"),)))
        await pilot.pause()
        assert app.chatlog.lines[-1].endswith("-!- → gina joined")


async def test_a_burst_of_300_occupants_is_one_line_and_the_app_responds(
        backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    crowd = tuple(occupant(f"user{i}") for i in range(300))
    async with app.run_test(size=(80, 24)) as pilot:
        backend.push(ChatOpened(WORK, ROOM, (), room=True))
        await pilot.pause()
        before = len(app.chats.current.entries)
        backend.push(joined((occupant("me"), *crowd)))
        backend.push(r.OccupantsChanged(WORK, ROOM, present=tuple(occupant(f"late{i}")
                                                                   for i in range(300))))
        await pilot.press("x")  # handled after both events
        assert app.composer.value == "x"
        entries = app.chats.current.entries[before:]
        assert len(entries) == 2
        assert "as me: 301 occupants" in entries[0].text  # type: ignore[union-attr]
        assert entries[1].text == "→ late0, late1, late2, late3, late4 and 295 more joined"  # type: ignore[union-attr]
        assert len(app.rooms.state(ROOM).occupants) == 601


async def test_removal_says_why_and_stops_sending(backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(100, 24)) as pilot:
        await enter(backend, pilot)
        backend.push(r.RoomLeft(WORK, ROOM, "You were kicked from the room", removed=True))
        await pilot.pause()
        assert ("You were kicked from the room. xmppterm will not rejoin by itself; "
                f"/join {ROOM.jid} tries again.") in log_text(app)
        await pilot.press(*"still here?", "enter")
        assert backend.of_type(SendMessage) == []
        assert f"You are not in {ROOM.jid} now" in log_text(app)
        assert ", OUT" in screen_lines(app)[-2]


async def test_status_line_names_nick_and_anonymity(backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(120, 24)) as pilot:
        await enter(backend, pilot)
        assert "as me, non-anonymous" in screen_lines(app)[-2]
        backend.push(r.RoomFeaturesChanged(WORK, ROOM, r.RoomFeatures(non_anonymous=False)))
        await pilot.pause()
        assert "as me, semi-anonymous" in screen_lines(app)[-2]
        assert "OMEMO is not possible here" in log_text(app)


async def test_room_buffer_is_a_room_in_the_sidebar_not_a_stranger(backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(120, 24)) as pilot:
        backend.push(ChatOpened(WORK, ROOM, (), stranger=True, focus=False, room=True))
        backend.push(MessageReceived(WORK, room_message("hi"), stranger=True))
        # labels are redrawn on a short timer: wait for it, under load too
        await until(pilot, lambda: app.sidebar.label_of(ROOM) == f"# [1] {ROOM.jid}")
        assert not app.sidebar.is_stranger_node(ROOM)
        assert app.sidebar.label_of(ROOM) == f"# [1] {ROOM.jid}"
        await enter(backend, pilot)
        await run_line(app, "/close")
        assert backend.intents[-2:] == [r.LeaveRoom(WORK, ROOM), CloseChat(WORK, ROOM)]
        assert app.sidebar.label_of(ROOM) == ""
        assert app.chats.find(ROOM) is None and not app.rooms.is_room(ROOM)


# -- one frame per room message ----------------------------------------------------------
class FrameApp(XmppTermApp):
    def __init__(self, backend: FakeBackend) -> None:
        super().__init__(backend)
        self.frames: list[int] = []

    def _display(self, screen: Screen[Any], renderable: RenderableType | None) -> None:
        if renderable is not None:
            self.frames.append(1)
        super()._display(screen, renderable)


async def test_one_frame_per_room_message(backend: FakeBackend) -> None:
    app = FrameApp(backend)
    async with app.run_test(size=(80, 24)) as pilot:
        app.composer.input.cursor_blink = False  # a blink is a frame of its own
        await enter(backend, pilot)
        for i in range(30):
            backend.push(MessageReceived(WORK, room_message(f"history {i}", nick=f"n{i % 5}")))
        await until(pilot, lambda: bool(app.chatlog.lines)
                    and app.chatlog.lines[-1].endswith("history 29"))
        await pilot.pause(0.2)  # every frame of the history is out
        frames = []
        for i in range(5):
            app.frames.clear()
            nick = "\u0430lice" if i == 3 else "alice"  # a new look-alike: still one frame
            backend.push(MessageReceived(WORK, room_message(f"new {i} me", nick=nick)))
            await until(pilot, lambda: app.frames)  # the first frame, however slow the machine
            await pilot.pause(0.1)  # a second one would come by now
            await pilot.pause()
            frames.append(len(app.frames))
        assert frames == [1] * 5
        assert app.chatlog.lines[-1].endswith("new 4 me")


async def test_bookmarks_are_told_only_when_they_change(backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    lobby = r.Bookmark("lobby@conference.example.org", autojoin=True)

    def told() -> int:
        return sum("bookmarked room" in line for line in screen_lines(app))

    async with app.run_test(size=(100, 30)) as pilot:
        backend.push(r.BookmarksReceived(WORK, ()))  # at login, none: nothing to say
        await pilot.pause()
        assert told() == 0
        backend.push(r.BookmarksReceived(WORK, (lobby,)))  # added (here or elsewhere)
        await pilot.pause()
        assert told() == 1
        backend.push(r.BookmarksReceived(WORK, (lobby,)))  # the next login: the same list
        await pilot.pause()
        assert told() == 1
        backend.push(r.BookmarksReceived(WORK, ()))  # removed
        await pilot.pause()
        assert told() == 2


async def test_fingerprints_in_a_room_are_grouped_by_member(backend: FakeBackend) -> None:
    from xmppterm.domain.omemo import Device, DeviceTrust, OmemoDevices

    def device(jid: str, device_id: int, fill: str) -> Device:
        return Device(jid, device_id, fill * 64, DeviceTrust.BLIND)

    app = XmppTermApp(backend)
    async with app.run_test(size=(100, 40)) as pilot:
        await enter(backend, pilot)
        backend.push(OmemoDevices(WORK, "me@example.org", (device("me@example.org", 1, "a"),),
                                  ROOM, (device("bea@x.org", 2, "b"), device("bea@x.org", 3, "c"),
                                         device("eve\u202e@x.org", 4, "d")), "fingerprint"))
        await pilot.pause()
        text = log_text(app)
        assert f"Devices of the members of {ROOM.jid}:" in text
        assert text.count(" bea@x.org:") == 1  # one heading per member, not per device
        assert "bbbbbbbb" in text and "cccccccc" in text and "dddddddd" in text
        assert "\u202e" not in "\n".join(screen_lines(app))
