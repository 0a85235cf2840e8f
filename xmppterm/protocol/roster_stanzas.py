"""Reading subscription requests and XEP-0191 blocking stanzas: pure functions over
ElementTree elements, like `stanzas.py`, with the checks of who may say what.

- A subscription request counts only from a valid JID other than ourselves; its text
  is kept short (it is remote text, sanitised when drawn).
- A block list push counts only from our own server (no `from`) or our own bare JID,
  like a roster push (RFC 6121 §2.1.6; Gajim CVE-2015-8688, mcabber CVE-2016-9928).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from .stanzas import CLIENT, MAX_STATUS, jid_of

BLOCKING = "urn:xmpp:blocking"
BLOCK = f"{{{BLOCKING}}}block"
UNBLOCK = f"{{{BLOCKING}}}unblock"
BLOCKLIST = f"{{{BLOCKING}}}blocklist"
ITEM = f"{{{BLOCKING}}}item"
MAX_BLOCKED = 10_000  # items read from one list or push; the rest is ignored


def subscription_request(stanza: ET.Element, own: str) -> tuple[str, str] | None:
    """(bare JID, request text) of a `<presence type='subscribe'/>`, or None."""
    if stanza.get("type") != "subscribe":
        return None
    sender = jid_of(stanza.get("from"))
    if sender is None or sender.bare == own:
        return None
    text = (stanza.findtext(f"{CLIENT}status") or "")[:MAX_STATUS]
    return sender.bare, text


def push_allowed(iq: ET.Element, own: str) -> bool:
    """A push comes with no `from` (our server) or from our own bare JID."""
    if not iq.get("from"):
        return True
    sender = jid_of(iq.get("from"))
    return sender is not None and sender.full == own


def _items(parent: ET.Element) -> tuple[str, ...]:
    found: list[str] = []
    for el in parent.findall(ITEM)[:MAX_BLOCKED]:
        jid = jid_of(el.get("jid"))
        if jid is not None and jid.full not in found:
            found.append(jid.full)
    return tuple(found)


def block_push(iq: ET.Element, own: str) -> tuple[bool, tuple[str, ...]] | None:
    """(blocked, JIDs) of an allowed `<iq type='set'>` block or unblock push, or None."""
    if iq.get("type") != "set" or not push_allowed(iq, own):
        return None
    for tag, blocked in ((BLOCK, True), (UNBLOCK, False)):
        child = iq.find(tag)
        if child is not None:
            return blocked, _items(child)
    return None


def blocklist(iq: ET.Element) -> tuple[str, ...]:
    """The JIDs of a block list result (invalid ones skipped)."""
    child = iq.find(BLOCKLIST)
    return _items(child) if child is not None else ()
