"""Stanza Content Encryption (XEP-0420) as OMEMO 2 (XEP-0384 0.8) uses it.

slixmpp-omemo 2.2 has no SCE: it refuses OMEMO 2 content after the ratchet advanced.
Here the envelope is built before encrypting and read after decrypting:

    <envelope xmlns="urn:xmpp:sce:1">
      <content><body xmlns="jabber:client">TEXT</body></content>
      <rpad>RANDOM</rpad> <time stamp="…"/> <to jid="PEER"/> <from jid="US"/>
    </envelope>

Reading is strict: the decrypted bytes are bounded in size and depth and may hold no
DOCTYPE or entity declaration; `from` must be the account that sent the message, and
`to` (when present) the account it was sent to, so that a message cannot be replayed
into another conversation. Only the body of `<content>` is taken; other elements in it
are not supported and are dropped, but for a correction's `<replace>` (XEP-0308): the
message it names, read from inside the encryption (`read_envelope`).
"""

from __future__ import annotations

import re
import secrets
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

NS = "urn:xmpp:sce:1"
CLIENT = "jabber:client"
REPLACE = "{urn:xmpp:message-correct:0}replace"
MAX_ID = 256
MAX_BYTES = 64 * 1024
MAX_DEPTH = 16
RPAD_MAX = 200
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


class EnvelopeError(Exception):
    """An envelope that is refused; the text says why, without remote content."""


def _jid_affix(parent: ET.Element, name: str, jid: str) -> None:
    ET.SubElement(parent, f"{{{NS}}}{name}", jid=jid)


def xml_text(text: str) -> str:
    """`text` with what XML 1.0 cannot carry (C0 controls but tab, newline and carriage
    return; surrogates; U+FFFE/U+FFFF) replaced by U+FFFD."""
    return _NOT_XML.sub("\ufffd", text)


def make_envelope(body: str, sender: str, recipient: str,
                  now: datetime | None = None, replaces: str | None = None) -> bytes:
    """The plaintext OMEMO 2 encrypts for one chat message (with `replaces`: a
    correction of the message with that id)."""
    envelope = ET.Element(f"{{{NS}}}envelope")
    content = ET.SubElement(envelope, f"{{{NS}}}content")
    ET.SubElement(content, f"{{{CLIENT}}}body").text = xml_text(body)
    if replaces:
        ET.SubElement(content, REPLACE, id=replaces)
    ET.SubElement(envelope, f"{{{NS}}}rpad").text = secrets.token_urlsafe(
        secrets.randbelow(RPAD_MAX) + 1)
    stamp = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    ET.SubElement(envelope, f"{{{NS}}}time", stamp=stamp)
    _jid_affix(envelope, "to", recipient)
    _jid_affix(envelope, "from", sender)
    data: bytes = ET.tostring(envelope, encoding="utf-8")
    return data


def _parse(data: bytes) -> ET.Element:
    if len(data) > MAX_BYTES:
        raise EnvelopeError("it is too large")
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise EnvelopeError("it declares a DOCTYPE or entities")
    parser: ET.XMLPullParser[ET.Element] = ET.XMLPullParser(events=("start", "end"))
    depth, root = 0, None
    try:
        parser.feed(data)
        parser.close()
        for event, element in parser.read_events():  # type: ignore[misc]
            assert isinstance(element, ET.Element)
            depth += 1 if event == "start" else -1
            if depth > MAX_DEPTH:
                raise EnvelopeError("it is nested too deeply")
            root = element if root is None else root
    except ET.ParseError:
        raise EnvelopeError("it is not well-formed XML") from None
    if root is None or root.tag != f"{{{NS}}}envelope":
        raise EnvelopeError("it is not an SCE envelope")
    return root


def _affix_jid(envelope: ET.Element, name: str) -> str | None:
    found = envelope.findall(f"{{{NS}}}{name}")
    if len(found) > 1:
        raise EnvelopeError(f"it has more than one <{name}>")
    return found[0].get("jid") if found else None


def _same_account(claimed: str, actual: str) -> bool:
    return claimed.partition("/")[0].casefold() == actual.casefold()


def open_envelope(data: bytes, sender: str, recipient: str) -> str | None:
    """The body of a decrypted envelope (None if it has no body: nothing to show).
    `sender` is the bare JID the message came from, `recipient` the bare JID it was
    addressed to."""
    return read_envelope(data, sender, recipient)[0]


def read_envelope(data: bytes, sender: str, recipient: str) -> tuple[str | None, str | None]:
    """(body, the id a `<replace>` in the content names) of a decrypted envelope; the
    checks of `open_envelope`. Several `<replace>`s name nothing."""
    envelope = _parse(data)
    claimed = _affix_jid(envelope, "from")
    if claimed is None or not _same_account(claimed, sender):
        raise EnvelopeError("its sender does not match who sent the message")
    addressed = _affix_jid(envelope, "to")
    if addressed is not None and not _same_account(addressed, recipient):
        raise EnvelopeError("it was addressed to another conversation")
    content = envelope.findall(f"{{{NS}}}content")
    if len(content) != 1:
        raise EnvelopeError("it does not have exactly one <content>")
    bodies = content[0].findall(f"{{{CLIENT}}}body")
    found = content[0].findall(REPLACE)
    named = found[0].get("id") if len(found) == 1 else None
    replaces = named if named and len(named) <= MAX_ID else None
    return ((bodies[0].text or "") if bodies else None), replaces
