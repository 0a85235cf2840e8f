"""Private chats through a room in the app (Pilot, FakeBackend): /msg NICK and /query
NICK in a room's buffer, /msg room@service/nick, the refusals (nick absent, OMEMO room),
and a hostile nick drawn literally in the buffer name, the sidebar and the status line."""

from __future__ import annotations

from xmppterm.domain import events as ev
from xmppterm.domain.chatstates import SetChatState
from xmppterm.domain.events import ChatOpened
from xmppterm.domain.ids import ChatKey
from xmppterm.domain.intents import OpenChat, SendMessage
from xmppterm.domain.omemo import ChatSecurity, ChatSecurityChanged
from xmppterm.ui.app import XmppTermApp
from xmppterm.ui.command_runner import run_line

from .conftest import WORK, FakeBackend, message, screen_lines
from .test_rooms import HOSTILE, OCCUPANTS, RAW_CONTROL, ROOM, enter, joined, log_text, occupant

BOB = ChatKey.private(WORK, ROOM.jid, "bob")


async def test_msg_nick_in_a_room_opens_the_private_chat(backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(120, 30)) as pilot:
        await enter(backend, pilot)
        await run_line(app, "/msg bob hi there")
        await pilot.pause()
        assert backend.of_type(OpenChat) == [OpenChat(WORK, BOB, focus=True)]
        assert backend.of_type(SendMessage) == [SendMessage(WORK, BOB, "hi there")]
        assert app.chats.current.key == BOB
        backend.push(ChatOpened(WORK, BOB, ()), ChatSecurityChanged(WORK, BOB, ChatSecurity.PLAIN))
        await pilot.pause()
        status = "\n".join(screen_lines(app))
        assert f"private via {ROOM.jid}" in status and "PLAIN" in status
        await pilot.press("h", "e")  # no chat states through a room
        await pilot.pause()
        assert backend.of_type(SetChatState) == []


async def test_query_and_msg_by_occupant_jid(backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(100, 30)) as pilot:
        await enter(backend, pilot)
        await run_line(app, "/query alice")
        await run_line(app, f"/msg {ROOM.jid}/carol")  # from the private chat now shown
        await pilot.pause()
        assert backend.of_type(OpenChat) == [
            OpenChat(WORK, ChatKey.private(WORK, ROOM.jid, "alice"), focus=True),
            OpenChat(WORK, ChatKey.private(WORK, ROOM.jid, "carol"), focus=True)]


async def test_refused_when_the_nick_is_absent_or_the_room_encrypted(
        backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(100, 30)) as pilot:
        await enter(backend, pilot)
        await run_line(app, "/query nobody")
        await run_line(app, "/msg me hello me")
        await run_line(app, f"/msg {ROOM.jid}/nobody hi")
        await pilot.pause()
        assert backend.intents == []
        text = log_text(app)
        assert text.count("nobody is not in") == 2 and "That is you." in text
        backend.push(ChatSecurityChanged(WORK, ROOM, ChatSecurity.OMEMO_UNVERIFIED))
        await pilot.pause()
        await run_line(app, "/msg bob secret plans")
        await run_line(app, "/query carol")
        await pilot.pause()
        assert backend.intents == []  # never a plaintext chat where the room is encrypted
        text = log_text(app)
        assert "is encrypted (OMEMO)" in text and "/msg bob@example.org" in text
        assert "does not show their real JID" in text  # carol's is not known


async def test_hostile_nick_is_drawn_literally(backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(160, 40)) as pilot:
        await enter(backend, pilot, joined((*OCCUPANTS, occupant(HOSTILE))))
        chat = ChatKey.private(WORK, ROOM.jid, HOSTILE)
        backend.push(ChatOpened(WORK, chat, ()),
                     ev.MessageReceived(WORK, message("psst", chat, sender=chat.jid)))
        await pilot.pause()
        position = app.chats.position(chat)
        assert position is not None
        app.select_buffer(position)
        await pilot.pause()
        lines = screen_lines(app)
        shown = "\n".join(lines)
        assert not RAW_CONTROL.search(shown)
        assert "[@click=app.quit()]" in shown  # markup drawn as text, not interpreted
        assert "␛]52;c;ZXZpbA==␇ ␛[2J⟨U+009B⟩31m[@click=app.quit()] [/]⟨U+202E⟩evil" in shown
        status = next(line for line in lines if "private via" in line)
        assert f"{ROOM.jid}/␛" in status  # the buffer name, sanitised (then cut)
        assert any(f"PM ⚠{ROOM.jid[:10]}" in line for line in lines)  # sidebar, flagged
        assert app.is_running and app.chats.current.key == chat


async def test_incoming_private_chat_is_listed_apart(backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(120, 30)) as pilot:
        await enter(backend, pilot)
        backend.push(ev.MessageReceived(WORK, message("psst", BOB, sender=BOB.jid)))
        await pilot.pause()
        shown = "\n".join(screen_lines(app))
        assert "PM room@conf" in shown and "psst" not in log_text(app)  # not in the room



async def test_the_encryption_stays_on_an_80_column_status_line(backend: FakeBackend) -> None:
    """The long room part of the status line comes after the encryption: a narrow
    screen cuts it, never "PLAIN" (or a room's OMEMO state)."""
    app = XmppTermApp(backend)
    async with app.run_test(size=(80, 24)) as pilot:
        await enter(backend, pilot)
        await run_line(app, "/msg bob hi there")
        backend.push(ChatOpened(WORK, BOB, ()), ChatSecurityChanged(WORK, BOB, ChatSecurity.PLAIN))
        await pilot.pause()
        rows = screen_lines(app)
        status = next(row for row in rows if "private via" in row)
        assert "PLAIN" in status.split("private via")[0], status
