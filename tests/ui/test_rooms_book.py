"""The pure side of the room UI: look-alike nicks, join summaries, invitations,
highlights, nick completion candidates and the room message layout (no terminal)."""

from __future__ import annotations

from rich.style import Style

from xmppterm.domain import rooms as r
from xmppterm.domain.ids import AccountId
from xmppterm.domain.messages import Direction
from xmppterm.ui.render import RoomEventLine, render_entry
from xmppterm.ui.room_book import RoomBook, Summary
from xmppterm.ui.room_render import RoomLook, code_points, nick_slot, skeleton
from xmppterm.ui.room_text import summary_parts
from xmppterm.ui.widgets.composer import candidates

from .conftest import WORK
from .test_rooms import OCCUPANTS, ROOM, joined, occupant, room_message

STYLES: dict[str, Style] = {}


def plain(lines: list) -> list[str]:  # type: ignore[type-arg]
    return [line.plain for line in lines]


def test_skeleton_tells_confusable_nicks() -> None:
    assert skeleton("\u0430lice") == skeleton("alice") == skeleton("Alice") == skeleton("AIice")
    assert skeleton("bob\u200b") == skeleton("bob") == skeleton("b0b")
    assert skeleton("\u0391\u039b\u0399\u03a7") != skeleton("alice")
    assert skeleton("alice") != skeleton("alicia")
    assert code_points("\u0430lice") == "U+0430 l i c e"


def test_confusable_set_grows_with_what_was_seen() -> None:
    book = RoomBook()
    book.joined(joined())
    assert book.look(ROOM) == RoomLook(frozenset({"me"}), frozenset())
    assert book.see(ROOM, ["dave"]) is False
    assert book.see(ROOM, ["b0b"]) is True
    look = book.look(ROOM)
    assert look is not None and look.confusable == {"bob", "b0b"}
    assert book.see(ROOM, ["x\u202eevil"]) is True  # alone suspicious: invisible control
    assert "x\u202eevil" in book.look(ROOM).confusable  # type: ignore[union-attr]


def test_nick_colour_is_stable_and_in_range() -> None:
    slots = {nick_slot(f"user{i}") for i in range(200)}
    assert slots == set(range(1, 9))
    assert nick_slot("alice") == nick_slot("alice")


def test_summary_of_occupant_changes() -> None:
    book = RoomBook()
    book.joined(joined())
    summary = book.changed(r.OccupantsChanged(
        WORK, ROOM, present=(occupant("dave"), occupant("bob", r.Role.VISITOR, jid="b@x"),
                             occupant("alice", r.Role.MODERATOR, r.Affiliation.OWNER)),
        gone=(("carol", "banned"), ("ghost", "")), renamed=(("me", "me2"),)))
    assert summary == Summary(("dave",), (("carol", "banned"),), (("me", "me2"),),
                              (("bob", "visitor"), ("alice", "owner")))
    state = book.state(ROOM)
    assert state is not None and state.nick == "me2"
    assert book.own_nicks[ROOM] == {"me", "me2"}
    text = "".join(t for t, _ in summary_parts(summary, "me2"))
    assert text == ("→ dave joined · ← carol was banned · me is now me2 · bob is now visitor"
                    " · alice is now owner")
    assert not book.changed(r.OccupantsChanged(WORK, ROOM, present=(occupant("dave"),)))


def test_highlights_count_only_when_not_shown_and_not_ours() -> None:
    book = RoomBook()
    book.joined(joined())
    assert book.message(room_message("me: hi"), shown=False)
    assert book.message(room_message("hi ME"), shown=True)
    assert not book.message(room_message("meet me", direction=Direction.OUTGOING, nick="me"),
                            shown=False)
    assert not book.message(room_message("memes"), shown=False)
    assert not book.message(room_message("/me waves"), shown=False)  # the action's /me
    assert book.highlights[ROOM] == 1


def test_invitations_are_bounded_and_chosen() -> None:
    book = RoomBook()
    other = AccountId("home")
    for i in range(60):
        book.invited(r.RoomInvited(WORK, f"r{i}@c.example", "x@example.org"))
    assert len(book.invites) == 50
    assert isinstance(book.invitation(WORK, None), str)
    book.invites.clear()
    book.invited(r.RoomInvited(other, "a@c.example", "x@example.org"))
    found = book.invitation(WORK, "a@c.example")
    assert not isinstance(found, str) and found.account == other
    assert isinstance(book.invitation(WORK, "b@c.example"), str)


def test_completion_candidates() -> None:
    nicks = ["alice", "Alfred", "bob", "John Doe"]
    assert candidates("al", [], nicks) == ["alice: ", "Alfred: "]
    assert candidates("hi b", [], nicks) == ["hi bob "]
    assert candidates("/kick jo", [], nicks) == ['/kick "John Doe" ']
    assert candidates("/msg al", ["alice@example.org"], nicks) == ["/msg alice@example.org "]
    assert candidates("/topic al", [], nicks) == []
    assert candidates("zz", [], nicks) == []


def test_room_message_layout() -> None:
    look = RoomLook(frozenset({"me"}), frozenset({"\u0430lice"}))
    out = plain(render_entry(room_message("hi me", nick="\u0430lice"), 60, STYLES, look))
    assert out == ["12:34 P !  ⚠<\u0430lice> hi me"]
    out = plain(render_entry(room_message("/me waves\nsecond", nick="bob"), 60, STYLES, look))
    assert out == ["12:34 P    * bob waves", "      │ second"]
    out = plain(render_entry(room_message("from the room", nick=""), 60, STYLES, look))
    assert out == ["12:34 P    -room- from the room"]
    line = RoomEventLine("→ x", parts=(("→ ", "notice"), ("x\x1b[2J\n", "nick-1")))
    assert plain(render_entry(line, 60, STYLES))[0].endswith("-!- → x␛[2J⏎")


def test_occupants_fixture_is_what_the_tests_assume() -> None:
    assert [o.nick for o in OCCUPANTS] == ["me", "alice", "bob", "carol"]
