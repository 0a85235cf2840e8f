"""The pure parts of the protocol layer: stanza reading, origin checks, the bounded
parser, failure texts and the translator's link bookkeeping."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from xmppterm.domain import events as ev
from xmppterm.domain.ids import AccountId, ChatKey
from xmppterm.domain.messages import Delivery, Direction
from xmppterm.domain.roster import Show
from xmppterm.protocol import stanzas as st
from xmppterm.protocol.errors import FailKind, Failure, clean_token, failure_reason
from xmppterm.protocol.translate import HANDLERS, Translator
from xmppterm.protocol.xmlguard import BoundedStreamParser, StreamViolation

ACC = AccountId("work")
CTX = st.Context(ACC, "me@example.org")
NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
NS = "xmlns='jabber:client'"


def x(text: str) -> ET.Element:
    return ET.fromstring(text)  # noqa: S314 (test literals)


def chat(extra: str = "", frm: str = "bob@example.net/phone", kind: str = "chat") -> ET.Element:
    return x(f"<message {NS} from='{frm}' to='me@example.org' type='{kind}'>"
             f"<body>hi</body>{extra}</message>")


# -- messages -------------------------------------------------------------------------------
def test_incoming_chat() -> None:
    m = st.incoming_chat(chat("<origin-id xmlns='urn:xmpp:sid:0' id='o1'/>"), CTX, "L1", NOW)
    assert m is not None
    assert (m.id, m.chat, m.sender, m.body) == ("L1", ChatKey(ACC, "bob@example.net"),
                                                "bob@example.net", "hi")
    assert m.direction is Direction.INCOMING and m.delivery is Delivery.RECEIVED
    assert m.origin_id == "o1" and m.stanza_id is None and m.timestamp == NOW


@pytest.mark.parametrize("element", [
    chat(kind="groupchat"), chat(kind="error"), chat(kind="headline"),
    x(f"<message {NS} from='bob@example.net' type='chat'><subject>s</subject></message>"),
    x(f"<message {NS} type='chat'><body>no sender</body></message>"),
    x(f"<message {NS} from='bad jid@x' type='chat'><body>invalid sender</body></message>"),
])
def test_not_a_chat_message(element: ET.Element) -> None:
    assert st.incoming_chat(element, CTX, "L", NOW) is None


def test_type_defaults_to_normal_and_body_without_lang_wins() -> None:
    el = x(f"<message {NS} from='bob@example.net'><body xml:lang='de'>hallo</body>"
           "<body>hello</body></message>")
    m = st.incoming_chat(el, CTX, "L", NOW)
    assert m is not None and m.body == "hello"


@pytest.mark.parametrize(("delays", "expected"), [
    ("<delay xmlns='urn:xmpp:delay' from='example.org' stamp='2024-04-30T10:00:00Z'/>",
     datetime(2024, 4, 30, 10, 0, tzinfo=UTC)),
    ("<delay xmlns='urn:xmpp:delay' from='me@example.org' stamp='2024-04-30T10:00:00+02:00'/>",
     datetime(2024, 4, 30, 8, 0, tzinfo=UTC)),
    ("<delay xmlns='urn:xmpp:delay' from='example.net' stamp='2001-01-01T00:00:00Z'/>", NOW),
    ("<delay xmlns='urn:xmpp:delay' stamp='2001-01-01T00:00:00Z'/>", NOW),
    ("<delay xmlns='urn:xmpp:delay' from='example.org' stamp='yesterday'/>", NOW),
    ("<delay xmlns='urn:xmpp:delay' from='example.org' stamp='2999-01-01T00:00:00Z'/>", NOW),
    ("<delay xmlns='urn:xmpp:delay' from='example.org' stamp='2024-04-30T10:00:00Z'/>"
     "<delay xmlns='urn:xmpp:delay' from='example.org' stamp='2001-01-01T00:00:00Z'/>", NOW),
], ids=["server", "own-jid", "foreign", "no-from", "malformed", "future", "two-claims"])
def test_delay_trusted_only_from_our_server(delays: str, expected: datetime) -> None:
    m = st.incoming_chat(chat(delays), CTX, "L", NOW)
    assert m is not None and m.timestamp == expected  # a bad stamp never drops the message


def test_stanza_id_only_from_our_archive() -> None:
    ids = ("<stanza-id xmlns='urn:xmpp:sid:0' by='bob@example.net' id='forged'/>"
           "<stanza-id xmlns='urn:xmpp:sid:0' by='me@example.org' id='real'/>")
    assert st.stanza_id(chat(ids), CTX) == "real"
    assert st.stanza_id(chat(ids.split("/>")[0] + "/>"), CTX) is None
    assert st.origin_id(chat(f"<origin-id xmlns='urn:xmpp:sid:0' id='{'x' * 300}'/>")) is None


def carbon(kind: str, outer_from: str, inner: str) -> ET.Element:
    return x(f"<message {NS} from='{outer_from}' to='me@example.org/xt-1'>"
             f"<{kind} xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>"
             f"{inner}</forwarded></{kind}></message>")


RECEIVED = (f"<message {NS} type='chat' from='bob@example.net/p' to='me@example.org'>"
            "<body>r</body></message>")
SENT = (f"<message {NS} type='chat' from='me@example.org/phone' to='bob@example.net'>"
        "<body>s</body></message>")


def test_carbons_from_our_own_account() -> None:
    got = st.carbon(carbon("received", "me@example.org", RECEIVED), CTX, "L", NOW, sent=False)
    assert got is not None and got.direction is Direction.INCOMING
    assert got.chat == ChatKey(ACC, "bob@example.net") and got.body == "r"
    sent = st.carbon(carbon("sent", "me@example.org", SENT), CTX, "L", NOW, sent=True)
    assert sent is not None and sent.direction is Direction.OUTGOING
    assert sent.sender == "me@example.org" and sent.delivery is Delivery.SENT
    assert sent.chat == ChatKey(ACC, "bob@example.net")


@pytest.mark.parametrize(("kind", "outer", "inner"), [
    ("received", "bob@example.net", RECEIVED),  # CVE-2017-5589: a contact forges a carbon
    ("received", "me@example.org/other", RECEIVED),  # a full JID, not the bare one
    ("received", "example.org", RECEIVED),
    ("sent", "bob@example.net/p", SENT),
    ("sent", "me@example.org", RECEIVED),  # a "sent" carbon of a message we did not write
    ("received", "me@example.org", SENT),  # a "received" carbon not addressed to us
    ("received", "me@example.org", RECEIVED.replace("type='chat'", "type='groupchat'")),
])
def test_forged_carbons(kind: str, outer: str, inner: str) -> None:
    assert st.carbon(carbon(kind, outer, inner), CTX, "L", NOW, sent=kind == "sent") is None


# -- roster and presence ------------------------------------------------------------------
ROSTER = ("<iq xmlns='jabber:client' type='{t}' {frm}><query xmlns='jabber:iq:roster'>"
          "<item jid='Bob@Example.net' name='Bob' subscription='both'><group>g</group></item>"
          "<item jid='gone@example.net' subscription='remove'/>"
          "<item jid='odd@example.net' subscription='sideways'/></query></iq>")


def test_roster_items() -> None:
    items = st.roster_items(x(ROSTER.format(t="set", frm="")))
    assert [(i.jid, i.name, i.subscription, i.groups, r) for i, r in items] == [
        ("bob@example.net", "Bob", "both", ("g",), False),
        ("gone@example.net", "", "none", (), True)]


@pytest.mark.parametrize(("frm", "ok"), [
    ("", True), ("from='me@example.org'", True), ("from='example.org'", True),
    ("from='bob@example.net'", False), ("from='me@example.org/xt-1'", False),
    ("from='evil.example'", False)])
def test_roster_push_origin(frm: str, ok: bool) -> None:
    assert st.roster_push_allowed(x(ROSTER.format(t="set", frm=frm)), CTX) is ok


def test_presence() -> None:
    p = st.presence(x(f"<presence {NS} from='bob@example.net/p'><show>dnd</show>"
                      "<status>busy</status><priority>999</priority></presence>"), "me@x/1")
    assert p is not None and (p.jid, p.resource, p.show, p.status, p.priority) == (
        "bob@example.net", "p", Show.DND, "busy", 127)
    gone = st.presence(x(f"<presence {NS} from='bob@example.net/p' type='unavailable'/>"), "")
    assert gone is not None and gone.show is Show.OFFLINE
    assert st.presence(x(f"<presence {NS} from='me@x/1'/>"), "me@x/1") is None
    assert st.presence(x(f"<presence {NS} from='b@x' type='subscribe'/>"), "") is None


def test_error_text() -> None:
    el = x(f"<message {NS} type='error' from='b@x'><error type='cancel'>"
           "<item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
           "<text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>no such user</text>"
           "</error></message>")
    assert st.error_text(el) == "item-not-found: no such user"
    assert st.error_text(x(f"<message {NS}/>")) == "error"


# -- failure texts --------------------------------------------------------------------------
def test_failure_reasons_say_what_to_do() -> None:
    cert = failure_reason(ACC, CTX.own, "example.org",
                          Failure(FailKind.CERTIFICATE, "self-signed certificate"))
    assert cert == ("The server's certificate for example.org did not verify: self-signed "
                    "certificate. If you run this server, fix its certificate; or set ca_file "
                    "in [accounts.work].")
    for kind, words in [(FailKind.TLS_MISSING, "password"), (FailKind.AUTH, "password_command"),
                        (FailKind.NO_MECHANISM, "allow_plain"), (FailKind.TLS_ERROR, "tls")]:
        assert words in failure_reason(ACC, CTX.own, "example.org", Failure(kind, "d"))
    assert clean_token("PLAIN\x1b[31m<x>") == "PLAIN??31m?x?"


# -- the bounded parser -----------------------------------------------------------------
HEADER = (b"<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
          b"xmlns:stream='http://etherx.jabber.org/streams'>")


def feed_all(parser: BoundedStreamParser, *chunks: bytes) -> list[tuple[str, str, int]]:
    return [(k, e.tag.rpartition("}")[2], d) for c in chunks for k, e, d in parser.feed(c)]


def test_parser_events_and_byte_by_byte_header() -> None:
    data = HEADER + b"<message><body>a</body></message>"
    events = feed_all(BoundedStreamParser(), *(data[i:i + 1] for i in range(len(data))))
    assert events == [("start", "stream", 1), ("start", "message", 2), ("start", "body", 3),
                      ("end", "body", 3), ("end", "message", 2)]


@pytest.mark.parametrize("prolog", [
    b"<!DOCTYPE s [<!ENTITY a 'b'>]>", b"<?xml version='1.0'?><!DOCTYPE s>",
    b"<?xml version='1.0'?><!-- hi -->", b"<?xml-stylesheet href='x'?>",
    b"<?xml version='1.0'?><?pi x?>", b" <?xml version='1.0'?>", b"text",
])
def test_parser_refuses_prolog_constructs(prolog: bytes) -> None:
    parser = BoundedStreamParser()
    with pytest.raises(StreamViolation):
        for i in range(len(prolog)):  # also split across reads
            feed_all(parser, prolog[i:i + 1])
        feed_all(parser, HEADER.split(b"?>", 1)[1])


def test_parser_refuses_entities_and_doctype_inside() -> None:
    for body in (b"<message>&lol;</message>", b"<message><!DOCTYPE x></message>"):
        with pytest.raises(StreamViolation):
            feed_all(BoundedStreamParser(), HEADER + body)


def test_parser_limits() -> None:
    deep = BoundedStreamParser(max_depth=8)
    feed_all(deep, HEADER + b"<m>" + b"<a>" * 7 + b"</a>" * 7 + b"</m>")
    with pytest.raises(StreamViolation, match="nested"):
        feed_all(deep, b"<m>" + b"<a>" * 8)
    big = BoundedStreamParser(max_stanza=1000)
    feed_all(big, HEADER)
    for _ in range(50):  # many small stanzas are fine, in chunks that cut them anywhere
        feed_all(big, b"<m>" + b"x" * 300, b"</m>")
    with pytest.raises(StreamViolation, match="larger"):
        feed_all(big, b"<m>", *([b"x" * 300] * 4))


# -- the translator -------------------------------------------------------------------------
def stanza(text: str) -> Any:
    return SimpleNamespace(xml=x(text))


def make_translator() -> tuple[Translator, list[ev.Event]]:
    out: list[ev.Event] = []
    return Translator(CTX, out.append, lambda: "me@example.org/xt-1", lambda: NOW), out


def test_table_names_existing_handlers() -> None:
    assert all(callable(getattr(Translator, method)) for _, method in HANDLERS)
    assert "groupchat_message" not in dict(HANDLERS)


def test_link_reports_one_end() -> None:
    t, out = make_translator()
    t.link_up()
    t.link_up()
    t.link_failed(Failure(FailKind.AUTH, "not-authorized"))
    t.disconnected("closed")
    t.connection_failed(OSError(111, "Connection refused"))
    assert [type(e) for e in out] == [ev.LinkUp, ev.LinkFailed]
    t2, out2 = make_translator()
    t2.connection_failed(OSError(111, "Connection refused"))
    assert out2 == [ev.LinkLost(ACC, "Could not connect to example.org: Connection refused")]
    t3, out3 = make_translator()
    t3.closing = True
    t3.disconnected(None)
    assert out3 == []


def test_receipts_and_errors_match_what_we_sent() -> None:
    t, out = make_translator()
    t.note_sent("m1", "bob@example.net")
    t.note_sent("m2", "bob@example.net")
    receipt = "<message {ns} from='{f}'><received xmlns='urn:xmpp:receipts' id='{i}'/></message>"
    t.receipt_received(stanza(receipt.format(ns=NS, f="eve@example.net/x", i="m1")))
    t.receipt_received(stanza(receipt.format(ns=NS, f="bob@example.net/p", i="m1")))
    t.message_error(stanza(f"<message {NS} type='error' id='m2' from='eve@example.net'/>"))
    t.message_error(stanza(f"<message {NS} type='error' id='m2' from='bob@example.net'/>"))
    chat_key = ChatKey(ACC, "bob@example.net")
    assert out[0] == ev.MessageDeliveryChanged(ACC, chat_key, "m1", Delivery.DELIVERED)
    assert isinstance(out[1], ev.Notice) and out[1].error
    assert out[2] == ev.MessageDeliveryChanged(ACC, chat_key, "m2", Delivery.FAILED, "error")
    assert len(out) == 3


def test_roster_push_from_a_stranger_is_ignored() -> None:
    t, out = make_translator()
    t.roster_update(stanza(ROSTER.format(t="set", frm="from='bob@example.net'")))
    assert out == []
    t.roster_update(stanza(ROSTER.format(t="result", frm="")))
    assert out == [ev.RosterReceived(ACC, (st.roster_items(
        x(ROSTER.format(t="result", frm="")))[0][0],))]


def test_message_translation_carries_the_account() -> None:
    t, out = make_translator()
    t.message(SimpleNamespace(xml=chat()))
    t.message(SimpleNamespace(xml=chat(kind="groupchat")))
    [received] = out
    assert isinstance(received, ev.MessageReceived) and received.account == ACC
    assert received.message.timestamp == NOW and not received.stranger
    assert received.message.timestamp - NOW == timedelta(0)


def test_scram_nonce_comes_from_the_system_csprng() -> None:
    import random
    import secrets

    from slixmpp.util.sasl import mechanisms

    import xmppterm.protocol.client  # noqa: F401  (applies the patch)

    assert isinstance(mechanisms.random, secrets.SystemRandom)
    assert mechanisms.random is not random
