"""Group chats in the app (Pilot, FakeBackend): each room command dispatches its intent
of domain/rooms.py, or says why not; /who, /topic, invitations. Helpers for
test_rooms_view.py."""

from __future__ import annotations

import re
from datetime import datetime
from itertools import count
from typing import Any

import pytest

from xmppterm.domain import rooms as r
from xmppterm.domain.events import ChatOpened
from xmppterm.domain.ids import ChatKey
from xmppterm.domain.intents import OpenChat, SendMessage
from xmppterm.domain.messages import ChatMessage, Delivery, Direction
from xmppterm.ui.app import XmppTermApp
from xmppterm.ui.command_runner import run_line
from xmppterm.ui.render import NoticeLine

from .conftest import WORK, FakeBackend

ROOM = ChatKey(WORK, "room@conference.example.org")
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
HOSTILE = "\x1b]52;c;ZXZpbA==\x07 \x1b[2J\x9b31m[@click=app.quit()] [/]\u202eevil"
_ids = count(1)


def occupant(nick: str, role: r.Role = r.Role.PARTICIPANT,
             affiliation: r.Affiliation = r.Affiliation.NONE, jid: str | None = None) -> r.Occupant:
    return r.Occupant(nick, role, affiliation, jid)


OCCUPANTS = (
    occupant("me", r.Role.MODERATOR, r.Affiliation.OWNER, "me@example.org"),
    occupant("alice", r.Role.MODERATOR, r.Affiliation.ADMIN, "alice@example.org"),
    occupant("bob", jid="bob@example.org"),
    occupant("carol", r.Role.VISITOR),
)


def room_message(body: str, nick: str = "alice", direction: Direction = Direction.INCOMING,
                 delivery: Delivery = Delivery.RECEIVED, msg_id: str | None = None) -> ChatMessage:
    return ChatMessage(id=msg_id or f"r{next(_ids)}", chat=ROOM, direction=direction,
                       sender=f"{ROOM.jid}/{nick}", body=body,
                       timestamp=datetime(2024, 5, 1, 12, 34), delivery=delivery, nick=nick)


def joined(occupants: tuple[r.Occupant, ...] = OCCUPANTS, nick: str = "me",
           subject: str = "") -> r.RoomJoined:
    return r.RoomJoined(WORK, ROOM, nick, occupants, r.RoomFeatures(non_anonymous=True),
                        subject=subject)


async def enter(backend: FakeBackend, pilot: Any, event: r.RoomJoined | None = None,
                focus: bool = True) -> None:
    backend.push(ChatOpened(WORK, ROOM, (), focus=focus, room=True), event or joined())
    await pilot.pause()


def log_text(app: XmppTermApp) -> str:
    """The lines of the buffer shown, unwrapped (notices' text, messages' bodies)."""
    return "\n".join(entry.text if isinstance(entry, NoticeLine) else entry.body
                     for entry in app.chats.current.entries)


# -- commands ------------------------------------------------------------------------------
IN_ROOM = [
    ("/part bye all", r.LeaveRoom(WORK, ROOM, "bye all")),
    ("/part", r.LeaveRoom(WORK, ROOM, "")),
    ("/nick new me", r.ChangeNick(WORK, ROOM, "new me")),
    ("/topic [b]news[/b]", r.SetSubject(WORK, ROOM, "[b]news[/b]")),
    ("/invite Dave@Example.org come in", r.InviteToRoom(WORK, ROOM, "dave@example.org", "come in")),
    ("/config", r.ShowRoomConfig(WORK, ROOM)),
    ('/config muc#roomconfig_roomname="Our room" muc#roomconfig_publicroom=0',
     r.SetRoomConfig(WORK, ROOM, (("muc#roomconfig_roomname", "Our room"),
                                  ("muc#roomconfig_publicroom", "0")))),
    ("/kick bob spamming", r.Moderate(WORK, ROOM, r.ModerationAction.KICK, "bob", "spamming")),
    ("/ban bob", r.Moderate(WORK, ROOM, r.ModerationAction.BAN, "bob@example.org")),
    ("/ban carol", r.Moderate(WORK, ROOM, r.ModerationAction.BAN, "carol")),
    ("/ban eve@evil.example go away",
     r.Moderate(WORK, ROOM, r.ModerationAction.BAN, "eve@evil.example", "go away")),
    ("/voice carol", r.Moderate(WORK, ROOM, r.ModerationAction.VOICE, "carol")),
    ("/devoice bob", r.Moderate(WORK, ROOM, r.ModerationAction.DEVOICE, "bob")),
    ("/affiliation member carol", r.Moderate(WORK, ROOM, r.ModerationAction.MEMBER, "carol")),
    ("/affiliation admin bob", r.Moderate(WORK, ROOM, r.ModerationAction.ADMIN, "bob@example.org")),
    ("/affiliation none frank@example.org",
     r.Moderate(WORK, ROOM, r.ModerationAction.NONE, "frank@example.org")),
    ("/members", r.ListAffiliation(WORK, ROOM, r.Affiliation.MEMBER)),
    ("/members outcast", r.ListAffiliation(WORK, ROOM, r.Affiliation.OUTCAST)),
    ("/bookmark", r.SetBookmark(WORK, ROOM.jid, autojoin=True, nick="me")),
    ("/bookmark noautojoin", r.SetBookmark(WORK, ROOM.jid, autojoin=False, nick="me")),
    ("/bookmark remove", r.SetBookmark(WORK, ROOM.jid, autojoin=True, nick="me", remove=True)),
    ("/me waves", SendMessage(WORK, ROOM, "/me waves")),
    ("hello room", SendMessage(WORK, ROOM, "hello room")),
]


@pytest.mark.parametrize(("line", "intent"), IN_ROOM, ids=[line for line, _ in IN_ROOM])
async def test_room_commands_dispatch_their_intent(backend: FakeBackend, line: str,
                                                   intent: object) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(80, 24)) as pilot:
        await enter(backend, pilot)
        await run_line(app, line)
        assert backend.intents[-1] == intent


ANYWHERE = [
    ("/join Room@Conference.example.org", r.JoinRoom(WORK, ROOM.jid)),
    ('/join room@conference.example.org "my nick" secret',
     r.JoinRoom(WORK, ROOM.jid, "my nick", "secret")),
    ("/join room@conference.example.org/nick", r.JoinRoom(WORK, ROOM.jid, "nick")),
    ("/create room@conference.example.org alice@example.org Bob@Example.org",
     r.CreateRoom(WORK, ROOM.jid, "", ("alice@example.org", "bob@example.org"))),
]


@pytest.mark.parametrize(("line", "intent"), ANYWHERE, ids=[line for line, _ in ANYWHERE])
async def test_join_and_create_from_the_status_buffer(backend: FakeBackend, line: str,
                                                      intent: object) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(80, 24)):
        await run_line(app, line)
        assert backend.intents == [intent]
        assert app.rooms.is_room(ROOM)


BY_NAME = [
    ("/join Plans", r.JoinRoom(WORK, "plans")),
    ('/join plans "my nick" secret', r.JoinRoom(WORK, "plans", "my nick", "secret")),
    ("/join plans/nick", r.JoinRoom(WORK, "plans", "nick")),
    ("/create Plans alice@example.org", r.CreateRoom(WORK, "plans", "", ("alice@example.org",))),
    ("/create plans/boss", r.CreateRoom(WORK, "plans", "boss")),
]


@pytest.mark.parametrize(("line", "intent"), BY_NAME, ids=[line for line, _ in BY_NAME])
async def test_join_and_create_by_name_leave_the_service_to_core(backend: FakeBackend, line: str,
                                                                 intent: object) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(80, 24)):
        await run_line(app, line)
        assert backend.intents == [intent]
        assert not app.rooms.is_room(ChatKey(WORK, "plans"))  # not a JID: core names the room


REFUSED = [
    ("/join pl:ans", "Invalid room name 'pl:ans'"),
    ("/create pl<ans>", "Invalid room name 'pl<ans>'"),
    ("/join a\x1b[2Jb", "Invalid room name"),
    ("/join bad@@x", "Invalid room address"),
    ("/create room@conference.example.org not@@valid", "Invalid member address"),
    ("/kick bob", "works in a group chat"),
    ("/who", "works in a group chat"),
    ("/part", "works in a group chat"),
    ("/topic", "works in a group chat"),
    ("/accept", "No invitation is waiting"),
    ("/decline room@conference.example.org", "No invitation to room@conference.example.org"),
    ("/joins maybe", "Usage: /joins show|fold"),
    ("/bookmark autojoin", "works in a group chat"),
]


@pytest.mark.parametrize(("line", "said"), REFUSED, ids=[line for line, _ in REFUSED])
async def test_commands_say_why_not(backend: FakeBackend, line: str, said: str) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(80, 24)) as pilot:
        await run_line(app, line)
        await pilot.pause()
        assert backend.intents == []
        assert said in log_text(app)


async def test_room_commands_that_need_an_occupant_say_so(backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(80, 24)) as pilot:
        await enter(backend, pilot)
        for line in ("/kick nobody", "/voice nobody", "/affiliation king bob", "/members all",
                     "/bookmark autojoin noautojoin", "/invite not@@valid", "/config =x"):
            await run_line(app, line)
        await pilot.pause()
        assert backend.intents == []
        text = log_text(app)
        assert text.count("Nobody is called 'nobody'") == 2
        assert "Usage: /affiliation" in text and "Usage: /members" in text
        assert "Usage: /bookmark" in text and "Invalid JID" in text and "Usage: /config" in text


async def test_msg_to_a_room_says_join(backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(80, 24)) as pilot:
        await enter(backend, pilot, focus=False)
        await run_line(app, f"/msg {ROOM.jid} hi")
        await pilot.pause()
        assert backend.of_type(OpenChat) == [] and backend.of_type(SendMessage) == []
        assert f"is a group chat: /join {ROOM.jid}" in log_text(app)


async def test_who_topic_and_joins_fold(backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(100, 40)) as pilot:
        await enter(backend, pilot, joined(subject="Plans for May"))
        assert "Topic: Plans for May" in log_text(app)
        await run_line(app, "/who")
        await run_line(app, "/topic")
        await pilot.pause()
        lines = app.chatlog.lines
        at = next(i for i, line in enumerate(lines) if "4 occupants in" in line)
        who = [line[8:] for line in lines[at:at + 9]]
        assert "non-anonymous" in lines[at]
        assert who[1:] == ["Moderators (2):", "  alice [admin] alice@example.org",
                           "  me (you) [owner] me@example.org", "Participants (1):",
                           "  bob bob@example.org", "Visitors (cannot speak) (1):", "  carol",
                           "- Topic of room@conference.example.org: Plans for May"]
        assert backend.intents == []  # both answered from what the UI knows


async def test_invitation_accept_and_decline(backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(100, 30)) as pilot:
        backend.push(r.RoomInvited(WORK, ROOM.jid, "alice@example.org", "join us", "pw"),
                     r.RoomInvited(WORK, "other@conference.example.org", "bob@example.org",
                                   mediated=True))
        await pilot.pause()
        text = log_text(app)
        assert f"/accept {ROOM.jid} joins it, /decline {ROOM.jid} says no" in text
        await run_line(app, "/accept")
        assert "Several invitations wait" in log_text(app) and backend.intents == []
        await run_line(app, f"/accept {ROOM.jid}")
        assert backend.intents == [r.AnswerInvite(WORK, ROOM.jid, True, "pw",
                                                  inviter="alice@example.org")]
        await run_line(app, "/decline")  # the intent names whom the room tells
        assert backend.intents[-1] == r.AnswerInvite(WORK, "other@conference.example.org", False,
                                                     inviter="bob@example.org", mediated=True)
        await run_line(app, "/decline")
        assert len(backend.intents) == 2


async def test_the_rooms_copy_of_an_invitation_is_kept_quietly(backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(100, 30)) as pilot:
        backend.push(r.RoomInvited(WORK, ROOM.jid, "alice@example.org", "join us", "pw"),
                     r.RoomInvited(WORK, ROOM.jid, "alice@example.org", mediated=True, again=True))
        await pilot.pause()
        assert log_text(app).count("/decline") == 1  # told once
        kept = app.rooms.invitation(WORK, ROOM.jid)
        assert isinstance(kept, r.RoomInvited)
        assert (kept.mediated, kept.password, kept.reason) == (True, "pw", "join us")
        await run_line(app, "/decline")  # the room can tell alice: the copy was kept
        assert backend.intents == [r.AnswerInvite(WORK, ROOM.jid, False, "",
                                                  inviter="alice@example.org", mediated=True)]
