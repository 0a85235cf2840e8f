"""The pure parts of "nothing lost": archive (XEP-0313) paging and result checks, the
translator's stream-management and archive rows, the delivery state table."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from xmppterm.domain import events as ev
from xmppterm.domain.delivery import advance
from xmppterm.domain.ids import AccountId, ChatKey
from xmppterm.domain.messages import Delivery, Direction
from xmppterm.protocol import mam
from xmppterm.protocol import stanzas as st
from xmppterm.protocol.translate import HANDLERS, Translator

ACC = AccountId("work")
OWN = "me@example.org"
CTX = st.Context(ACC, OWN)
NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
BOB = "bob@example.net"
D = Delivery


def x(text: str) -> ET.Element:
    return ET.fromstring(text)  # noqa: S314 (test literals)


def result(inner: str, *, frm: str | None = None, qid: str = "q1", rid: str = "A1",
           stamp: str = "2024-05-01T10:00:00Z", extra: str = "") -> ET.Element:
    sender = f" from='{frm}'" if frm is not None else ""
    return x(f"<message xmlns='jabber:client' to='{OWN}/xt-1'{sender}>"
             f"<result xmlns='urn:xmpp:mam:2' queryid='{qid}' id='{rid}'>"
             "<forwarded xmlns='urn:xmpp:forward:0'>"
             f"<delay xmlns='urn:xmpp:delay' stamp='{stamp}'/>{inner}</forwarded></result>"
             f"{extra}</message>")


def inner(frm: str, to: str, body: str = "hi", kind: str = "chat", extra: str = "") -> str:
    return (f"<message xmlns='jabber:client' from='{frm}' to='{to}' type='{kind}'>"
            f"<body>{body}</body>{extra}</message>")


# -- paging ---------------------------------------------------------------------------------
def test_first_cursor_from_the_marker() -> None:
    assert mam.first_cursor(None) == mam.Cursor(newest=True)
    assert mam.first_cursor("") == mam.Cursor(after=None)
    assert mam.first_cursor("A7") == mam.Cursor(after="A7")


def test_pages_forward_until_complete() -> None:
    cursor = mam.first_cursor("A0")
    step = mam.after_page(cursor, mam.Fin(complete=False, last="A50"), 50)
    assert step == mam.Step(mam.Cursor(after="A50", pages=1, fetched=50), "A50")
    assert step.cursor is not None
    end = mam.after_page(step.cursor, mam.Fin(complete=True, last="A60"), 10)
    assert end == mam.Step(None, "A60")


def test_an_empty_page_keeps_the_marker() -> None:
    assert mam.after_page(mam.Cursor(after="A0"), mam.Fin(complete=True), 0) == mam.Step(None, None)


@pytest.mark.parametrize("fin", [mam.Fin(complete=False, last=None),
                                 mam.Fin(complete=False, last="A0")],
                         ids=["no-last", "same-last"])
def test_a_page_that_does_not_move_ends_it(fin: mam.Fin) -> None:
    step = mam.after_page(mam.Cursor(after="A0"), fin, 3)
    assert step.cursor is None and not step.truncated


def test_bounded_number_of_pages() -> None:
    cursor: mam.Cursor | None = mam.first_cursor("")
    steps = []
    for page in range(10):
        assert cursor is not None
        step = mam.after_page(cursor, mam.Fin(complete=False, last=f"A{page}"), 50, max_pages=3)
        steps.append(step)
        cursor = step.cursor
        if cursor is None:
            break
    assert len(steps) == 3 and steps[-1] == mam.Step(None, "A2", truncated=True)


def test_newest_page_sets_the_marker_even_when_empty() -> None:
    newest = mam.Cursor(newest=True)
    assert mam.after_page(newest, mam.Fin(complete=False, last="Z9"), 50) == mam.Step(None, "Z9")
    assert mam.after_page(newest, mam.Fin(complete=True), 0) == mam.Step(None, "")


def test_query_element() -> None:
    after = mam.query_element("q1", mam.Cursor(after="A5"), 50)
    assert after.tag == "{urn:xmpp:mam:2}query" and after.get("queryid") == "q1"
    rsm = "{http://jabber.org/protocol/rsm}"
    assert after.findtext(f"{rsm}set/{rsm}max") == "50"
    assert after.findtext(f"{rsm}set/{rsm}after") == "A5"
    newest = mam.query_element("q2", mam.Cursor(newest=True))
    assert newest.find(f"{rsm}set/{rsm}before") is not None
    start = mam.query_element("q3", mam.Cursor())
    assert start.find(f"{rsm}set/{rsm}after") is None and start.find(f"{rsm}set/{rsm}before") is None


def test_parse_fin() -> None:
    iq = x("<iq xmlns='jabber:client' type='result'><fin xmlns='urn:xmpp:mam:2' complete='true'>"
           "<set xmlns='http://jabber.org/protocol/rsm'><first>A1</first><last>A9</last></set>"
           "</fin></iq>")
    assert mam.parse_fin(iq) == mam.Fin(complete=True, last="A9")
    assert mam.parse_fin(x("<iq xmlns='jabber:client' type='result'/>")) == mam.Fin(complete=True)
    long_id = x("<iq xmlns='jabber:client'><fin xmlns='urn:xmpp:mam:2'>"
                "<set xmlns='http://jabber.org/protocol/rsm'>"
                f"<last>{'x' * 300}</last></set></fin></iq>")
    assert mam.parse_fin(long_id) == mam.Fin(complete=False, last=None)


# -- who may send a result --------------------------------------------------------------------
@pytest.mark.parametrize("frm", [None, OWN], ids=["no-from", "own-bare"])
def test_result_from_our_account_for_an_open_query(frm: str | None) -> None:
    found, why = mam.open_result(result(inner(BOB, OWN), frm=frm), OWN, {"q1"})
    assert found is not None and why == ""


@pytest.mark.parametrize(("element", "open_ids"), [
    (result(inner(BOB, OWN), frm=BOB), {"q1"}),  # a peer claiming our query id
    (result(inner(BOB, OWN), frm=f"{BOB}/phone"), {"q1"}),
    (result(inner(BOB, OWN), frm=f"{OWN}/other"), {"q1"}),  # another resource of ours
    (result(inner(BOB, OWN), frm="example.org"), {"q1"}),
    (result(inner(BOB, OWN)), set()),  # our query has ended
    (result(inner(BOB, OWN), qid="guess"), {"q1"}),
    (result(inner(BOB, OWN), qid=""), {""}),
    (result(inner(BOB, OWN), extra="<result xmlns='urn:xmpp:mam:2' queryid='q1' id='B'/>"),
     {"q1"}),  # two results in one message
], ids=["peer", "peer-full", "own-full", "domain", "closed", "unknown-id", "empty-id", "two"])
def test_forged_or_late_results_are_refused(element: ET.Element, open_ids: set[str]) -> None:
    found, why = mam.open_result(element, OWN, open_ids)
    assert found is None and why


# -- what a result says -----------------------------------------------------------------------
def accepted(element: ET.Element) -> ET.Element:
    found, _ = mam.open_result(element, OWN, {"q1"})
    assert found is not None
    return found


def test_incoming_archived_message() -> None:
    origin = "<origin-id xmlns='urn:xmpp:sid:0' id='o1'/>"
    m = mam.archived_chat(accepted(result(inner(f"{BOB}/phone", OWN, extra=origin))), CTX, "L1", NOW)
    assert m is not None
    assert (m.id, m.chat, m.sender, m.body) == ("L1", ChatKey(ACC, BOB), BOB, "hi")
    assert m.direction is Direction.INCOMING and m.delivery is Delivery.RECEIVED
    assert (m.stanza_id, m.origin_id) == ("A1", "o1")
    assert m.timestamp == datetime(2024, 5, 1, 10, 0, tzinfo=UTC)  # the archive's stamp


def test_our_own_message_from_another_device_is_outgoing() -> None:
    m = mam.archived_chat(accepted(result(inner(f"{OWN}/phone", BOB))), CTX, "L2", NOW)
    assert m is not None and m.direction is Direction.OUTGOING and m.chat == ChatKey(ACC, BOB)
    assert m.sender == OWN and m.delivery is Delivery.SENT


@pytest.mark.parametrize("stamp", ["garbage", "2999-01-01T00:00:00Z"])
def test_bad_or_future_stamp_is_now(stamp: str) -> None:
    m = mam.archived_chat(accepted(result(inner(BOB, OWN), stamp=stamp)), CTX, "L", NOW)
    assert m is not None and m.timestamp == NOW


@pytest.mark.parametrize("payload", [
    inner(BOB, OWN, kind="groupchat"), inner(BOB, OWN, kind="error"),
    inner(BOB, "carol@example.net"),  # neither from nor to us
    f"<message xmlns='jabber:client' from='{BOB}' to='{OWN}'/>",  # no body
    f"<message xmlns='jabber:client' to='{OWN}'><body>no sender</body></message>",
    f"<message xmlns='jabber:client' from='{OWN}'><body>to nobody</body></message>",
    inner("bad jid@x", OWN), "",
])
def test_not_a_chat_message(payload: str) -> None:
    assert mam.archived_chat(accepted(result(payload)), CTX, "L", NOW) is None


# -- the translator rows ----------------------------------------------------------------------
def make_translator() -> tuple[Translator, list[ev.Event]]:
    out: list[ev.Event] = []
    return Translator(CTX, out.append, lambda: f"{OWN}/xt-1", lambda: NOW), out


def stanza(element: ET.Element) -> Any:
    return SimpleNamespace(xml=element)


def test_rows_for_stream_management_and_the_archive() -> None:
    rows = dict(HANDLERS)
    assert rows["session_resumed"] == "link_up" and rows["stanza_acked"] == "stanza_acked"
    assert rows[mam.ARCHIVED_EVENT] == "archived"
    assert {"sm_failed", "session_end"} <= rows.keys()


def test_sent_on_the_servers_ack() -> None:
    t, out = make_translator()
    t.link_up()
    t.note_sent("m1", BOB, acked=True)
    t.note_sent("m2", BOB)  # no stream management: core marks it SENT on writing
    assert t.unacked("m1") and not t.unacked("m2") and t.awaiting_acks == 1
    t.stanza_acked(stanza(x("<presence xmlns='jabber:client' id='m1'/>")))
    t.stanza_acked(stanza(x(f"<message xmlns='jabber:client' id='m1' to='{BOB}'/>")))
    t.stanza_acked(stanza(x(f"<message xmlns='jabber:client' id='m1' to='{BOB}'/>")))
    sent = [e for e in out if isinstance(e, ev.MessageDeliveryChanged)]
    assert [(e.message_id, e.delivery, e.chat) for e in sent] == [("m1", D.SENT, ChatKey(ACC, BOB))]
    assert not t.unacked("m1")


def test_stream_end_keeps_unacked_messages_pending() -> None:
    t, out = make_translator()
    t.link_up()
    t.note_sent("m1", BOB, acked=True)
    t.lost("gone")
    t.sm_failed()  # the resumption was refused: the old stream is gone
    t.session_end()
    assert not t.unacked("m1") and not [e for e in out if isinstance(e, ev.MessageDeliveryChanged)]


def test_sm_refused_in_a_live_session_counts_as_written() -> None:
    t, out = make_translator()
    t.link_up()
    t.note_sent("m1", BOB, acked=True)
    t.sm_failed()
    assert [e.delivery for e in out if isinstance(e, ev.MessageDeliveryChanged)] == [D.SENT]


def test_reopen_reports_a_resumed_session_again() -> None:
    t, out = make_translator()
    t.link_up()
    t.lost("dropped")
    t.link_up()  # an echo: nothing
    t.reopen()
    t.link_up()
    assert [type(e) for e in out] == [ev.LinkUp, ev.LinkLost, ev.LinkUp]


def test_archived_only_for_an_open_query_and_counted() -> None:
    t, out = make_translator()
    t.archived(stanza(result(inner(BOB, OWN, body="early"))))
    t.queries["q1"] = 0
    t.archived(stanza(result(inner(BOB, OWN, body="forged"), frm=BOB)))
    t.archived(stanza(result(inner(BOB, OWN, body="real"))))
    t.archived(stanza(result(inner(BOB, "carol@example.net"))))  # read, but not ours
    del t.queries["q1"]
    t.archived(stanza(result(inner(BOB, OWN, body="late"))))
    bodies = [e.message.body for e in out if isinstance(e, ev.MessageReceived)]
    assert bodies == ["real"] and t.refused_results == 3


def test_a_poison_result_is_skipped(monkeypatch: pytest.MonkeyPatch,
                                    caplog: pytest.LogCaptureFixture) -> None:
    t, out = make_translator()
    t.queries["q1"] = 0

    def boom(*_: object) -> None:
        raise ValueError("secret body text")

    monkeypatch.setattr(mam, "archived_chat", boom)
    t.archived(stanza(result(inner(BOB, OWN, body="secret body text"))))
    assert out == [] and "ValueError" in caplog.text and "secret" not in caplog.text


# -- the delivery state table -----------------------------------------------------------------
@pytest.mark.parametrize(("current", "reported", "expected"), [
    (D.PENDING, D.SENT, D.SENT), (D.PENDING, D.DELIVERED, D.DELIVERED),
    (D.SENT, D.DELIVERED, D.DELIVERED), (D.SENT, D.FAILED, D.FAILED),
    (D.PENDING, D.FAILED, D.FAILED), (D.FAILED, D.DELIVERED, D.DELIVERED),
    (D.DELIVERED, D.SENT, None), (D.DELIVERED, D.FAILED, None), (D.SENT, D.SENT, None),
    (D.FAILED, D.SENT, None), (D.SENT, D.PENDING, None), (D.RECEIVED, D.SENT, None),
])
def test_delivery_moves_only_forward(current: Delivery, reported: Delivery,
                                     expected: Delivery | None) -> None:
    assert advance(current, reported) == expected
