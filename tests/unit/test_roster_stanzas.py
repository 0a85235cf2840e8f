"""Reading subscription requests and XEP-0191 stanzas, with their origin checks."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from xmppterm.protocol import roster_stanzas as rs

OWN = "me@example.org"


def xml(text: str) -> ET.Element:
    return ET.fromstring(text)  # noqa: S314 (test literals)


def presence(attrs: str, inner: str = "") -> ET.Element:
    return xml(f"<presence xmlns='jabber:client' {attrs}>{inner}</presence>")


def test_a_subscription_request_is_read_with_its_text() -> None:
    stanza = presence("type='subscribe' from='Eve@Evil.example/r'",
                      "<status>let me in \u202e</status>")
    assert rs.subscription_request(stanza, OWN) == ("eve@evil.example", "let me in \u202e")


def test_no_request_from_ourselves_a_bad_jid_or_another_type() -> None:
    assert rs.subscription_request(presence(f"type='subscribe' from='{OWN}/x'"), OWN) is None
    assert rs.subscription_request(presence("type='subscribe' from='a@'"), OWN) is None
    assert rs.subscription_request(presence("type='subscribe'"), OWN) is None
    assert rs.subscription_request(presence("type='subscribed' from='a@b.c'"), OWN) is None


def test_the_request_text_is_bounded() -> None:
    stanza = presence("type='subscribe' from='a@b.c'", f"<status>{'x' * 5000}</status>")
    found = rs.subscription_request(stanza, OWN)
    assert found is not None and len(found[1]) == 1024


def iq(attrs: str, inner: str) -> ET.Element:
    return xml(f"<iq xmlns='jabber:client' type='set' id='p' {attrs}>{inner}</iq>")


BLOCK = ("<block xmlns='urn:xmpp:blocking'><item jid='Spam@X.org'/><item jid='x.org/r'/>"
         "<item jid='bad@'/><item jid='spam@x.org'/></block>")


def test_a_block_push_from_our_server_or_ourselves_is_read() -> None:
    for origin in ("", f"from='{OWN}'"):
        assert rs.block_push(iq(origin, BLOCK), OWN) == (True, ("spam@x.org", "x.org/r"))
    unblock_all = iq("", "<unblock xmlns='urn:xmpp:blocking'/>")
    assert rs.block_push(unblock_all, OWN) == (False, ())


def test_a_block_push_from_anyone_else_is_refused() -> None:
    for origin in ("from='mallory@example.org'", f"from='{OWN}/other'", "from='example.org'",
                   "from='@@'"):
        assert not rs.push_allowed(iq(origin, BLOCK), OWN)
        assert rs.block_push(iq(origin, BLOCK), OWN) is None
    assert rs.block_push(xml(f"<iq xmlns='jabber:client' type='get'>{BLOCK}</iq>"), OWN) is None
    assert rs.block_push(iq("", "<query xmlns='jabber:iq:roster'/>"), OWN) is None


def test_the_block_list_result_is_read_and_bounded() -> None:
    items = "".join(f"<item jid='u{n}@x.org'/>" for n in range(rs.MAX_BLOCKED + 50))
    result = xml("<iq xmlns='jabber:client' type='result'>"
                 f"<blocklist xmlns='urn:xmpp:blocking'>{items}<item/></blocklist></iq>")
    found = rs.blocklist(result)
    assert len(found) == rs.MAX_BLOCKED and found[0] == "u0@x.org"
    assert rs.blocklist(xml("<iq xmlns='jabber:client' type='result'/>")) == ()
