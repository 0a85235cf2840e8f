"""Reading invitations (protocol/muc/invites.py): which kind each is, and who invites."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from types import SimpleNamespace
from typing import Any

from xmppterm.domain.ids import AccountId
from xmppterm.domain.rooms import RoomInvited
from xmppterm.protocol.muc.invites import Invitations

ME = AccountId("me")
ROOM = "plans@conference.example.test"
USER = "http://jabber.org/protocol/muc#user"


def reader(inside: frozenset[str] = frozenset()) -> tuple[Invitations, list[Any]]:
    got: list[Any] = []
    return Invitations(None, SimpleNamespace(account=ME, emit=got.append), inside.__contains__), got


def message(text: str) -> ET.Element:
    return ET.fromstring(text)  # noqa: S314 (test literals)


async def test_mediated_with_a_conference_copy_names_the_real_inviter() -> None:
    invitations, got = reader()
    # what Prosody sends for a mediated invitation: muc#user, plus a XEP-0249 copy
    invitations.received(message(
        f"<message xmlns='jabber:client' from='{ROOM}'><x xmlns='{USER}'>"
        "<invite from='bob@example.test/pc'><reason>come</reason></invite></x>"
        f"<x xmlns='jabber:x:conference' jid='{ROOM}'/></message>"))
    assert got == [RoomInvited(ME, ROOM, "bob@example.test", "come", "", mediated=True)]


async def test_direct_is_not_mediated_and_forged_mediated_parts_do_not_count() -> None:
    invitations, got = reader()
    invitations.received(message(
        "<message xmlns='jabber:client' from='ann@example.test/pc'>"
        f"<x xmlns='jabber:x:conference' jid='{ROOM}' reason='hi'/></message>"))
    # an occupant (room/nick) cannot pass for the room: read as the direct part only
    other = "other@conference.example.test"
    invitations.received(message(
        f"<message xmlns='jabber:client' from='{other}/eve'><x xmlns='{USER}'>"
        "<invite from='boss@example.test'/></x>"
        f"<x xmlns='jabber:x:conference' jid='{other}'/></message>"))
    assert got == [RoomInvited(ME, ROOM, "ann@example.test", "hi"),
                   RoomInvited(ME, other, f"{other}", "")]
    assert not any(e.mediated for e in got)


async def test_second_of_a_pair_and_rooms_we_are_in_not_shown() -> None:
    invitations, got = reader(frozenset({"in@conference.example.test"}))
    direct = (f"<message xmlns='jabber:client' from='ann@example.test/pc'>"
              f"<x xmlns='jabber:x:conference' jid='{ROOM}'/></message>")
    mediated = (f"<message xmlns='jabber:client' from='{ROOM}'><x xmlns='{USER}'>"
                "<invite from='ann@example.test'/></x></message>")
    invitations.received(message(direct))
    invitations.received(message(mediated))
    invitations.received(message(
        "<message xmlns='jabber:client' from='in@conference.example.test'>"
        f"<x xmlns='{USER}'><invite from='ann@example.test'/></x></message>"))
    assert got == [RoomInvited(ME, ROOM, "ann@example.test"),  # the direct one, told
                   RoomInvited(ME, ROOM, "ann@example.test", mediated=True, again=True)]
    invitations.received(message(direct))  # a third copy: nothing more
    invitations.received(message(mediated))
    assert len(got) == 2


async def test_mediated_first_then_direct_is_shown_once() -> None:
    invitations, got = reader()
    invitations.received(message(
        f"<message xmlns='jabber:client' from='{ROOM}'><x xmlns='{USER}'>"
        "<invite from='ann@example.test'/></x></message>"))
    invitations.received(message(
        f"<message xmlns='jabber:client' from='ann@example.test/pc'>"
        f"<x xmlns='jabber:x:conference' jid='{ROOM}'/></message>"))
    assert got == [RoomInvited(ME, ROOM, "ann@example.test", mediated=True)]
