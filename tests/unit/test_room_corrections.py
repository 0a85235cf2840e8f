"""Corrections (XEP-0308) in OMEMO rooms, core only (core/room_messages.py with a real
RoomOmemo and a fake link): a correction leaves exactly as the message it corrects did,
encrypted ones naming it inside the seal; where the room's OMEMO was switched since,
nothing is kept or sent and the text comes back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from xmppterm.config import AccountConfig
from xmppterm.core.corrections import Corrections
from xmppterm.core.omemo import sealed_as
from xmppterm.core.room_messages import RoomMessages
from xmppterm.core.room_omemo import RoomOmemo
from xmppterm.domain import events as ev
from xmppterm.domain.ids import AccountId, ChatKey
from xmppterm.domain.messages import ChatMessage, Delivery, Direction, Encryption
from xmppterm.domain.rooms import Affiliation, Occupant, RoomFeatures, RoomState
from xmppterm.store.store import Store

ACC = AccountId("work")
ME = "me@x.org"
ROOM = ChatKey(ACC, "club@conf.x.org")
NOW = datetime(2030, 1, 1, tzinfo=UTC)
PRIVATE = RoomFeatures(non_anonymous=True, members_only=True, archived=True)
UN, P = Encryption.OMEMO_UNTRUSTED, Encryption.PLAIN


@dataclass
class FakeSealed:
    encryption: Encryption = UN
    skipped: tuple[str, ...] = ()


@dataclass
class Listed:
    jid: str


class FakeOmemo:
    def __init__(self) -> None:
        self.sealed: list[dict[str, Any]] = []

    async def seal_group(self, room: str, members: frozenset[str], body: str,
                         message_id: str, replaces: str | None = None) -> FakeSealed:
        self.sealed.append({"room": room, "body": body, "id": message_id,
                            "replaces": replaces})
        return FakeSealed()

    async def devices(self, jid: str | None) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
        return (), ()


class FakeAdmin:
    async def affiliations(self, room: str, affiliation: Affiliation) -> tuple[Listed, ...]:
        return (Listed("bob@x.org"),) if affiliation is Affiliation.MEMBER else ()


class FakeRooms:
    def __init__(self) -> None:
        self.joined_rooms: set[str] = set()
        self.plain: list[tuple[str, str | None]] = []

    def joined(self, room: str) -> bool:
        return room in self.joined_rooms

    def send_groupchat(self, room: str, body: str, message_id: str,
                       replaces: str | None = None) -> bool:
        self.plain.append((body, replaces))
        return False


class FakeLink:
    def __init__(self) -> None:
        self.omemo, self.admin, self.rooms, self.online = FakeOmemo(), FakeAdmin(), FakeRooms(), True
        self.sent: list[Any] = []

    def send_sealed(self, sealed: Any) -> bool:
        self.sent.append(sealed)
        return False


class Session:
    """What RoomMessages reads of core/session.AccountSession."""

    def __init__(self, store: Store, room_omemo: RoomOmemo | None) -> None:
        self.account, self.config = ACC, AccountConfig(id=ACC, jid=ME)
        self.online_link = FakeLink()
        self.room_omemo = room_omemo
        self.corrections = Corrections(ACC, store)


def state(joined: bool = True) -> RoomState:
    return RoomState(ROOM, "me", joined, {"bob": Occupant("bob", jid="bob@x.org")},
                     features=PRIVATE)


async def setup(encrypted: bool = True, omemo: bool = True
                ) -> tuple[RoomMessages, Session, Store, list[ev.Event]]:
    store, events = Store.open(None), []
    room_omemo = RoomOmemo(AccountConfig(id=ACC, jid=ME), store, events.append) if omemo \
        else None
    session = Session(store, room_omemo)
    session.online_link.rooms.joined_rooms.add(ROOM.jid)
    if room_omemo is not None:
        await room_omemo.joined(state(), session.online_link)  # private: OMEMO on
        if not encrypted:
            await room_omemo.switch(ROOM, False, session.online_link)
    return RoomMessages(session, store, events.append), session, store, events  # type: ignore[arg-type]


async def mine(store: Store, encryption: Encryption) -> ChatMessage:
    msg = ChatMessage(id="m0", chat=ROOM, direction=Direction.OUTGOING, sender=ME,
                      body="teh text", timestamp=NOW, encryption=encryption,
                      delivery=Delivery.DELIVERED, origin_id="o0", nick="me")
    await store.add_message(msg)
    return msg


async def test_an_encrypted_message_is_corrected_encrypted_naming_it() -> None:
    messages, session, store, events = await setup()
    original = await mine(store, UN)
    record = await messages.send(state(), "the text", original)
    assert record is not None and record.replaces == "o0" and record.applied_to == "m0"
    link = session.online_link
    [sealed] = link.omemo.sealed
    assert (sealed["body"], sealed["replaces"], sealed["id"]) == ("the text", "o0", record.id)
    assert len(link.sent) == 1 and link.rooms.plain == []  # nothing in plaintext
    changed = await store.get_message(ACC, "m0")
    assert changed is not None and changed.body == "the text" and changed.edited
    assert changed.encryption is UN
    kept = await store.get_message(ACC, record.id)
    assert kept is not None and kept.encryption is UN and not kept.shown
    shown = [e.message for e in events if isinstance(e, ev.MessageReceived)]
    assert [m.id for m in shown] == ["m0"]  # the record is never a line of its own


async def test_a_plaintext_message_is_not_corrected_in_a_room_that_encrypts_now() -> None:
    messages, session, store, events = await setup()
    original = await mine(store, P)
    assert await messages.send(state(), "the text", original) is None
    [refused] = [e for e in events if isinstance(e, ev.SendRefused)]
    assert refused.body == "/correct the text" and "was not encrypted" in refused.reason
    assert session.online_link.omemo.sealed == [] and session.online_link.rooms.plain == []
    assert [m.id for m in await store.history(ROOM)] == ["m0"]  # nothing kept
    assert (await store.get_message(ACC, "m0")).body == "teh text"  # type: ignore[union-attr]


async def test_an_encrypted_message_is_not_corrected_where_omemo_was_turned_off() -> None:
    for omemo in (True, False):  # turned off here, or OMEMO is not running at all
        messages, session, store, events = await setup(encrypted=False, omemo=omemo)
        original = await mine(store, UN)
        assert await messages.send(state(), "the text", original) is None
        [refused] = [e for e in events if isinstance(e, ev.SendRefused)]
        assert refused.body == "/correct the text" and "was encrypted" in refused.reason
        assert session.online_link.rooms.plain == [] and session.online_link.sent == []
        assert [m.id for m in await store.history(ROOM)] == ["m0"]


async def test_a_waiting_plaintext_correction_fails_once_the_room_encrypts() -> None:
    messages, session, store, events = await setup(omemo=False)
    room_omemo = RoomOmemo(AccountConfig(id=ACC, jid=ME), store, events.append)
    session.room_omemo = room_omemo  # known as a room, no decision yet, not joined
    original = await mine(store, P)
    record = await messages.send(state(joined=False), "the text", original)
    assert record is not None and record.encryption is P and record.delivery is Delivery.PENDING
    await room_omemo.joined(state(), session.online_link)  # private: OMEMO turns on
    await messages.flush(state())
    failed = await store.get_message(ACC, record.id)
    assert failed is not None and failed.delivery is Delivery.FAILED
    assert failed.error is not None and "switched" in failed.error
    assert session.online_link.omemo.sealed == [] and session.online_link.rooms.plain == []
    assert any(isinstance(e, ev.MessageDeliveryChanged) and e.message_id == record.id
               and e.delivery is Delivery.FAILED for e in events)


async def test_a_waiting_encrypted_correction_is_sealed_naming_it() -> None:
    messages, session, store, _ = await setup()
    original = await mine(store, UN)
    record = await messages.send(state(joined=False), "the text", original)
    assert record is not None and record.delivery is Delivery.PENDING
    assert session.online_link.omemo.sealed == []
    await messages.flush(state())
    [sealed] = session.online_link.omemo.sealed
    assert sealed["replaces"] == "o0" and len(session.online_link.sent) == 1


async def test_a_sealed_correction_record_is_stored_not_shown() -> None:
    store, events = Store.open(None), []
    record = ChatMessage(id="c1", chat=ROOM, direction=Direction.OUTGOING, sender=ME,
                         body="fixed", timestamp=NOW, encryption=UN, delivery=Delivery.PENDING,
                         origin_id="c1", nick="me", replaces="o0", applied_to="m0")
    await store.add_message(record)
    marked = await sealed_as(store, events.append, record,
                             FakeSealed(Encryption.OMEMO_TRUSTED))  # type: ignore[arg-type]
    assert marked.encryption is Encryption.OMEMO_TRUSTED
    assert (await store.get_message(ACC, "c1")).encryption is Encryption.OMEMO_TRUSTED  # type: ignore[union-attr]
    assert not [e for e in events if isinstance(e, ev.MessageReceived)]
