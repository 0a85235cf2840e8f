"""Last message correction (XEP-0308): the pure rule, the readers, the presence tokens."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from xmppterm.core.corrections import Corrections
from xmppterm.domain import events as ev
from xmppterm.domain.corrections import (
    Verdict,
    corrected,
    encryption_allows,
    judge,
    last_own,
    wire_id,
)
from xmppterm.domain.ids import AccountId, ChatKey
from xmppterm.domain.messages import ChatMessage, Delivery, Direction, Encryption
from xmppterm.domain.rooms import Occupant, OccupantsChanged, RoomFeatures, RoomJoined, RoomLeft
from xmppterm.protocol import stanzas as st
from xmppterm.protocol.muc import stanzas as ms
from xmppterm.protocol.muc.occupants import Burst
from xmppterm.protocol.omemo import sce
from xmppterm.store.serial import message_from_bytes, message_to_bytes

ME = AccountId("me")
ALICE = ChatKey(ME, "alice@example.org")
ROOM = ChatKey(ME, "room@muc.example.org")
T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
P, TR, UN, X = (Encryption.PLAIN, Encryption.OMEMO_TRUSTED, Encryption.OMEMO_UNTRUSTED,
                Encryption.UNDECRYPTABLE)


def msg(body: str, *, local: str, remote: str | None = None, chat: ChatKey = ALICE,
        sender: str = "alice@example.org", direction: Direction = Direction.INCOMING,
        enc: Encryption = P, nick: str | None = None, occupant: str | None = None,
        replaces: str | None = None, origin: str | None = None,
        oid: str | None = None) -> ChatMessage:
    return ChatMessage(id=local, chat=chat, direction=direction, sender=sender, body=body,
                       timestamp=T0, encryption=enc, remote_id=remote, origin_id=origin,
                       nick=nick, occupant=occupant, replaces=replaces, occupant_id=oid,
                       delivery=Delivery.RECEIVED if direction is Direction.INCOMING
                       else Delivery.DELIVERED)


ORIGINAL = msg("teh text", local="L1", remote="r1")


def fix(**kw: object) -> ChatMessage:
    base = dict(local="L9", remote="r9", replaces="r1")
    base.update(kw)  # type: ignore[arg-type]
    return msg("the text", **base)  # type: ignore[arg-type]


# -- the rule, as a table ------------------------------------------------------------------
OCC = "alice-presence"
ROOM_ORIG = msg("hi", local="R1", remote="g1", chat=ROOM, sender="room@muc.example.org/al",
                nick="al", occupant=OCC)
ROOM_REAL = msg("hi", local="R2", remote="g2", chat=ROOM, sender="al@example.org", nick="al")
OWN = msg("mine", local="O1", origin="O1", sender="me@example.org",
          direction=Direction.OUTGOING)
ID_ORIG = replace(ROOM_ORIG, id="R3", remote_id="g3", occupant_id="id-al")


def room_fix(**kw: object) -> ChatMessage:
    """A correction of ID_ORIG in the room, from nick "al" unless told otherwise."""
    base: dict[str, object] = dict(chat=ROOM, replaces="g3", sender="room@muc.example.org/al",
                                   nick="al")
    base.update(kw)
    return fix(**base)

CASES = [
    # (what, history, correction, verdict)
    ("same contact", [ORIGINAL], fix(), Verdict.APPLY),
    ("names the origin-id", [replace(ORIGINAL, remote_id=None, origin_id="o1")],
     fix(replaces="o1"), Verdict.APPLY),
    ("another contact", [ORIGINAL], fix(sender="mallory@example.org"), Verdict.OTHER_SENDER),
    ("another chat", [ORIGINAL], fix(chat=ChatKey(ME, "mallory@example.org"),
                                     sender="alice@example.org"), Verdict.UNKNOWN),
    ("another account", [ORIGINAL], fix(chat=ChatKey(AccountId("work"), "alice@example.org")),
     Verdict.UNKNOWN),
    ("unknown id", [ORIGINAL], fix(replaces="nope"), Verdict.UNKNOWN),
    ("our own message from them", [OWN], fix(replaces="O1"), Verdict.OTHER_SENDER),
    ("ours from our other device", [OWN],
     fix(replaces="O1", sender="me@example.org", direction=Direction.OUTGOING), Verdict.APPLY),
    ("their message from our device", [ORIGINAL],
     fix(sender="me@example.org", direction=Direction.OUTGOING), Verdict.OTHER_SENDER),
    ("plain corrects OMEMO", [replace(ORIGINAL, encryption=TR)], fix(), Verdict.ENCRYPTION),
    ("OMEMO corrects plain", [ORIGINAL], fix(enc=UN), Verdict.ENCRYPTION),
    ("trusted corrects trusted", [replace(ORIGINAL, encryption=TR)], fix(enc=TR), Verdict.APPLY),
    ("trusted corrects untrusted", [replace(ORIGINAL, encryption=UN)], fix(enc=TR),
     Verdict.APPLY),
    ("untrusted corrects trusted", [replace(ORIGINAL, encryption=TR)], fix(enc=UN),
     Verdict.ENCRYPTION),
    ("undecryptable original", [replace(ORIGINAL, encryption=X)], fix(enc=UN),
     Verdict.ENCRYPTION),
    ("a 1:1 correction of a room message", [ROOM_ORIG],
     fix(chat=ROOM, replaces="g1", sender="room@muc.example.org/al"), Verdict.OTHER_SENDER),
    ("room: same nick, same presence", [ROOM_ORIG],
     fix(chat=ROOM, replaces="g1", sender="room@muc.example.org/al", nick="al", occupant=OCC),
     Verdict.APPLY),
    ("room: same nick, presence not seen", [ROOM_ORIG],
     fix(chat=ROOM, replaces="g1", sender="room@muc.example.org/al", nick="al"),
     Verdict.UNPROVEN),
    ("room: same nick, another presence", [ROOM_ORIG],
     fix(chat=ROOM, replaces="g1", sender="room@muc.example.org/al", nick="al",
         occupant="after-a-leave"), Verdict.UNPROVEN),
    ("room: original without presence", [replace(ROOM_ORIG, occupant=None)],
     fix(chat=ROOM, replaces="g1", sender="room@muc.example.org/al", nick="al", occupant=None),
     Verdict.UNPROVEN),
    ("room: another nick", [ROOM_ORIG],
     fix(chat=ROOM, replaces="g1", sender="room@muc.example.org/eve", nick="eve",
         occupant=OCC), Verdict.OTHER_SENDER),
    ("room: same real JID, nick changed", [ROOM_REAL],
     fix(chat=ROOM, replaces="g2", sender="al@example.org", nick="al2"), Verdict.APPLY),
    ("room: another real JID with the same nick", [ROOM_REAL],
     fix(chat=ROOM, replaces="g2", sender="eve@example.org", nick="al"), Verdict.OTHER_SENDER),
    ("room OMEMO: same real JID, encrypted", [replace(ROOM_REAL, encryption=UN)],
     fix(chat=ROOM, replaces="g2", sender="al@example.org", nick="al", enc=UN), Verdict.APPLY),
    ("room OMEMO: same real JID, a plaintext <replace>", [replace(ROOM_REAL, encryption=UN)],
     fix(chat=ROOM, replaces="g2", sender="al@example.org", nick="al"), Verdict.ENCRYPTION),
    ("room OMEMO: another member's encrypted one", [replace(ROOM_REAL, encryption=UN)],
     fix(chat=ROOM, replaces="g2", sender="eve@example.org", nick="al", enc=UN),
     Verdict.OTHER_SENDER),
    ("room: real JID known for one only, no presence", [ROOM_REAL],
     fix(chat=ROOM, replaces="g2", sender="room@muc.example.org/al", nick="al"),
     Verdict.UNPROVEN),
    # XEP-0421: where both carry the room's occupant-id, it decides
    ("room id: same id after a nick change", [ID_ORIG],
     room_fix(sender="room@muc.example.org/al2", nick="al2", oid="id-al"), Verdict.APPLY),
    ("room id: same id after a rejoin (new presence)", [ID_ORIG],
     room_fix(occupant="after-a-rejoin", oid="id-al"), Verdict.APPLY),
    ("room id: same id, presence not seen", [ID_ORIG], room_fix(oid="id-al"), Verdict.APPLY),
    ("room id: another id with the nick after a leave", [ID_ORIG],
     room_fix(occupant="after-a-leave", oid="id-eve"), Verdict.OTHER_SENDER),
    ("room id: another id beats the same presence", [ID_ORIG],
     room_fix(occupant=OCC, oid="id-eve"), Verdict.OTHER_SENDER),
    ("room id: same id, real JIDs differ", [replace(ID_ORIG, sender="al@example.org")],
     room_fix(sender="eve@example.org", oid="id-al"), Verdict.OTHER_SENDER),
    ("room id: another id, same real JID", [replace(ID_ORIG, sender="al@example.org")],
     room_fix(sender="al@example.org", oid="id-eve"), Verdict.OTHER_SENDER),
    ("room id: same id, real JID told for one only", [ID_ORIG],
     room_fix(sender="al@example.org", nick="al2", oid="id-al"), Verdict.APPLY),
    ("room id: only the original has one, same presence", [ID_ORIG],
     room_fix(occupant=OCC), Verdict.APPLY),
    ("room id: only the original has one, nick changed", [ID_ORIG],
     room_fix(sender="room@muc.example.org/al2", nick="al2", occupant=OCC), Verdict.OTHER_SENDER),
    ("room id: only the correction has one, presence broken", [replace(ID_ORIG, occupant_id=None)],
     room_fix(occupant="after-a-leave", oid="id-al"), Verdict.UNPROVEN),
    ("room id: only the correction has one, another nick", [replace(ID_ORIG, occupant_id=None)],
     room_fix(sender="room@muc.example.org/al2", nick="al2", oid="id-al"),
     Verdict.OTHER_SENDER),
    ("1:1: an occupant-id proves nothing", [replace(ORIGINAL, occupant_id="id-al")],
     fix(sender="mallory@example.org", oid="id-al"), Verdict.OTHER_SENDER),
    ("room id: a 1:1 correction of a room message", [ID_ORIG],
     fix(chat=ROOM, replaces="g3", sender="room@muc.example.org/al", oid="id-al"),
     Verdict.OTHER_SENDER),
]


@pytest.mark.parametrize(("what", "history", "correction", "verdict"), CASES,
                         ids=[c[0] for c in CASES])
def test_the_rule(what: str, history: list[ChatMessage], correction: ChatMessage,
                  verdict: Verdict) -> None:
    assert judge(correction, history)[0] is verdict


def test_an_id_copied_by_someone_else_neither_hides_nor_is_changed() -> None:
    copy = msg("copied id", local="M1", remote="r1", sender="mallory@example.org")
    history = [ORIGINAL, copy]  # the copy is newer
    verdict, target = judge(fix(), history)
    assert verdict is Verdict.APPLY and target is not None and target.id == "L1"
    verdict, target = judge(fix(sender="eve@example.org"), [ORIGINAL])
    assert verdict is Verdict.OTHER_SENDER


def test_a_chain_naming_the_last_correction_changes_the_first_message() -> None:
    first = fix()
    applied = replace(first, applied_to="L1")
    second = msg("the text!", local="L10", remote="r10", replaces="r9")
    verdict, target = judge(second, [ORIGINAL, applied])
    assert verdict is Verdict.APPLY and target is not None and target.id == "L1"
    foreign = replace(applied, sender="mallory@example.org")  # names the foreign chain link
    assert judge(replace(second, sender="mallory@example.org"), [ORIGINAL, foreign])[0] \
        is Verdict.OTHER_SENDER


def test_not_a_correction_and_the_result() -> None:
    assert judge(replace(fix(), replaces=None), [ORIGINAL])[0] is Verdict.NOT_A_CORRECTION
    once = corrected(ORIGINAL, fix())
    twice = corrected(once, fix(replaces="r1", local="L11"))
    assert (once.id, once.body, once.original_body, once.edited) == \
        ("L1", "the text", "teh text", True)
    assert twice.original_body == "teh text"


def test_encryption_classes() -> None:
    assert encryption_allows(P, P) and not encryption_allows(P, TR)
    assert not encryption_allows(TR, P) and not encryption_allows(X, X)
    assert not encryption_allows(UN, X) and encryption_allows(UN, UN)


def test_last_own() -> None:
    assert last_own([])[0] is None
    assert last_own([OWN, ORIGINAL])[0] is None  # the last one is theirs
    assert last_own([ORIGINAL, OWN])[0] == OWN
    hidden = replace(fix(), direction=Direction.OUTGOING, applied_to="O1")
    assert last_own([OWN, hidden])[0] == OWN  # an applied correction is not a message
    failed = replace(OWN, delivery=Delivery.FAILED)
    assert last_own([failed])[0] is None
    assert last_own([ORIGINAL, OWN], OWN.id)[0] == OWN  # the one the user was editing
    newer = replace(OWN, id="O2", body="sent from my phone meanwhile")
    moved, why = last_own([OWN, newer], OWN.id)
    assert moved is None and "changed while you were editing" in why
    assert wire_id(OWN) == "O1"
    assert wire_id(replace(OWN, origin_id=None, remote_id="carbon-id")) == "carbon-id"


# -- reading ----------------------------------------------------------------------------------
def stanza(text: str) -> ET.Element:
    return ET.fromstring(text)  # noqa: S314 (test literals)


def test_reading_a_plaintext_correction() -> None:
    ctx = st.Context(ME, "me@example.org")
    el = stanza("<message xmlns='jabber:client' from='alice@example.org/x' type='chat' id='c2'>"
                "<body>fixed</body><replace xmlns='urn:xmpp:message-correct:0' id='c1'/>"
                "</message>")
    read = st.incoming_chat(el, ctx, "L", T0)
    assert read is not None and (read.replaces, read.remote_id) == ("c1", "c2")
    two = stanza("<message xmlns='jabber:client' from='a@b' type='chat'><body>x</body>"
                 "<replace xmlns='urn:xmpp:message-correct:0' id='1'/>"
                 "<replace xmlns='urn:xmpp:message-correct:0' id='2'/></message>")
    assert st.replaces(two) is None
    long = stanza(f"<message xmlns='jabber:client'><replace xmlns='urn:xmpp:message-correct:0'"
                  f" id='{'x' * 300}'/></message>")
    assert st.replaces(long) is None


def test_reading_a_room_correction_keeps_the_remote_id_apart_from_dedup() -> None:
    el = stanza("<message xmlns='jabber:client' from='room@muc.example.org/al' type='groupchat'"
                " id='g9'><body>fixed</body><origin-id xmlns='urn:xmpp:sid:0' id='o9'/>"
                "<replace xmlns='urn:xmpp:message-correct:0' id='o1'/></message>")
    read = ms.room_message(el, ROOM, "al", ms.Writer(False, None), "me@example.org", "L", T0,
                           None)
    assert read is not None
    assert (read.origin_id, read.remote_id, read.replaces) == (None, "o9", "o1")


def test_an_omemo2_envelope_carries_the_correction_inside() -> None:
    data = sce.make_envelope("fixed", "alice@example.org", "me@example.org", replaces="c1")
    assert sce.read_envelope(data, "alice@example.org", "me@example.org") == ("fixed", "c1")
    plain = sce.make_envelope("new", "alice@example.org", "me@example.org")
    assert sce.read_envelope(plain, "alice@example.org", "me@example.org") == ("new", None)


def test_serialised_fields() -> None:
    full = replace(fix(), original_body="teh", applied_to="L1", occupant="tok",
                   occupant_id="stable")
    assert message_from_bytes(ME, message_to_bytes(full)) == full
    assert message_from_bytes(ME, message_to_bytes(ORIGINAL)) == ORIGINAL


# -- continuous presence in rooms ------------------------------------------------------------
def room_msg(nick: str, at: datetime) -> ChatMessage:
    return replace(msg("x", local="R", chat=ROOM, sender=f"{ROOM.jid}/{nick}", nick=nick),
                   timestamp=at)


def test_presence_tokens_follow_the_occupant() -> None:
    c = Corrections(ME, None)  # type: ignore[arg-type]  # stamp/observe never use the store
    now = datetime.now(UTC)
    c.observe(RoomJoined(ME, ROOM, "me", (Occupant("al"), Occupant("me")), RoomFeatures()))
    first = c.stamp(room_msg("al", now + timedelta(seconds=1))).occupant
    assert first is not None
    assert c.stamp(room_msg("al", now - timedelta(hours=1))).occupant is None  # history
    c.observe(OccupantsChanged(ME, ROOM, present=(Occupant("al", status="away"),)))
    assert c.stamp(room_msg("al", now + timedelta(seconds=2))).occupant == first
    c.observe(OccupantsChanged(ME, ROOM, gone=(("al", ""),)))
    assert c.stamp(room_msg("al", now + timedelta(seconds=3))).occupant is None
    c.observe(OccupantsChanged(ME, ROOM, present=(Occupant("al"),)))
    again = c.stamp(room_msg("al", datetime.now(UTC) + timedelta(seconds=4))).occupant
    assert again is not None and again != first  # someone (else?) took the nick: new
    c.observe(OccupantsChanged(ME, ROOM, renamed=(("al", "al2"),), present=(Occupant("al2"),)))
    assert c.stamp(room_msg("al", datetime.now(UTC) + timedelta(seconds=5))).occupant is None
    c.observe(ev.LinkLost(ME, "gone"))
    assert c.stamp(room_msg("al2", datetime.now(UTC) + timedelta(seconds=6))).occupant is None
    c.observe(RoomJoined(ME, ROOM, "me", (Occupant("al2"),), RoomFeatures()))
    c.observe(RoomLeft(ME, ROOM))
    assert c.stamp(room_msg("al2", datetime.now(UTC) + timedelta(seconds=7))).occupant is None


def test_a_leave_and_a_return_in_one_burst_breaks_the_presence() -> None:
    burst = Burst()
    burst.left("owner")
    burst.came(Occupant("owner"))  # someone else, perhaps: the nick was free a moment
    burst.left("eve")
    burst.came(Occupant("x"))
    burst.rename("x", "eve")
    event = burst.event(ROOM)
    assert dict(event.gone) == {"owner": "", "eve": ""}
    assert [o.nick for o in event.present] == ["owner", "eve"]
    c = Corrections(ME, None)  # type: ignore[arg-type]
    c.observe(RoomJoined(ME, ROOM, "me", (Occupant("owner"), Occupant("eve")), RoomFeatures()))
    later = datetime.now(UTC) + timedelta(seconds=1)
    before = (c.stamp(room_msg("owner", later)).occupant, c.stamp(room_msg("eve", later)).occupant)
    c.observe(event)
    after = (c.stamp(room_msg("owner", later)).occupant, c.stamp(room_msg("eve", later)).occupant)
    assert None not in before and None not in after
    assert before[0] != after[0] and before[1] != after[1]


async def test_our_correction_keeps_what_the_stored_message_got_meanwhile() -> None:
    """/correct read our message before its reflection (or receipt) was stored: the
    correction changes the body of the message as stored, never writes back the copy
    read earlier (which would lose DELIVERED and the room's id), and a reflection that
    comes after it keeps the corrected body."""
    from xmppterm.store.store import Store

    store = Store.open(None)
    sent = replace(msg("teh plan", local="L1", chat=ROOM, sender="me@example.org",
                       direction=Direction.OUTGOING, origin="L1"), delivery=Delivery.PENDING)
    await store.add_message(sent)
    reflected = replace(sent, delivery=Delivery.DELIVERED, stanza_id="room-1")
    await store.update_message(reflected)  # the reflection, stored meanwhile
    record = replace(sent, id="L2", body="the plan", origin_id="L2", replaces="L1",
                     applied_to="L1")
    shown = await Corrections(ME, store).mine(record, sent)  # `sent`: read before it
    stored = await store.get_message(ME, "L1")
    assert stored == shown == replace(reflected, body="the plan", original_body="teh plan")
    await store.close()
