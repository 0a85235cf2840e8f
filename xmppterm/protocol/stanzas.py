"""Reading stanzas into domain values: pure functions over ElementTree elements.

Every check about *who* may say *what* lives here, next to the reading, so that it is
done once and can be tested without a server: carbons only from our own bare JID,
`<delay>` only from our server, `<stanza-id>` only when our own archive set it,
roster pushes only from our server or ourselves.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime

from ..domain import chatstates
from ..domain.chatstates import ChatState
from ..domain.ids import AccountId, ChatKey, InvalidJid, Jid, parse_jid
from ..domain.messages import ChatMessage, Delivery, Direction
from ..domain.roster import Presence, RosterItem, Show

CLIENT = "{jabber:client}"
DELAY = "{urn:xmpp:delay}delay"
STANZA_ID = "{urn:xmpp:sid:0}stanza-id"
ORIGIN_ID = "{urn:xmpp:sid:0}origin-id"
REPLACE = "{urn:xmpp:message-correct:0}replace"
FORWARDED = "{urn:xmpp:forward:0}forwarded"
CARBONS = "urn:xmpp:carbons:2"
ROSTER_QUERY = "{jabber:iq:roster}query"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
MAX_ID = 256
MAX_STATUS = 1024
SUBSCRIPTIONS = ("none", "to", "from", "both", "remove")


@dataclass(frozen=True, slots=True)
class Context:
    """Who we are: the identity the stanzas arrive for."""

    account: AccountId
    own: str  # our bare JID

    @property
    def domain(self) -> str:
        return parse_jid(self.own).domain

    def chat(self, bare: str) -> ChatKey:
        return ChatKey(self.account, bare)


def jid_of(text: str | None) -> Jid | None:
    """A parsed JID, or None for an absent or invalid one."""
    if not text:
        return None
    try:
        return parse_jid(text)
    except InvalidJid:
        return None


def bare_of(text: str | None) -> str:
    jid = jid_of(text)
    return jid.bare if jid else ""


def body_of(message: ET.Element) -> str:
    """The body without a language tag, else the first one; "" if none."""
    bodies = message.findall(f"{CLIENT}body")
    plain = [b for b in bodies if not b.get(XML_LANG)]
    chosen = plain or bodies
    return (chosen[0].text or "") if chosen else ""


def _short_id(value: str | None) -> str | None:
    return value if value and len(value) <= MAX_ID else None


def origin_id(message: ET.Element) -> str | None:
    el = message.find(ORIGIN_ID)
    return _short_id(el.get("id")) if el is not None else None


def remote_id(message: ET.Element) -> str | None:
    """The sender's stanza `id` (what a correction names); never used against duplicates."""
    return _short_id(message.get("id"))


def replaces(message: ET.Element) -> str | None:
    """XEP-0308: the id named by the one `<replace>` of a plaintext message (None for
    none or several). Whether it may change anything is core's decision
    (domain/corrections.py); an OMEMO message never gets here (protocol/omemo)."""
    found = message.findall(REPLACE)
    return _short_id(found[0].get("id")) if len(found) == 1 else None


def stanza_id(message: ET.Element, ctx: Context) -> str | None:
    """XEP-0359 `<stanza-id>` only when `by` is our own bare JID (our archive)."""
    for el in message.findall(STANZA_ID):
        if bare_of(el.get("by")) == ctx.own:
            return _short_id(el.get("id"))
    return None


def parse_stamp(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        stamp = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def trusted_timestamp(message: ET.Element, ctx: Context, now: datetime) -> datetime:
    """The `<delay>` stamp when exactly one delay comes from our server (or our own bare
    JID), never later than now; otherwise, or for a malformed stamp, `now`."""
    ours = [d for d in message.findall(DELAY) if bare_of(d.get("from")) in (ctx.domain, ctx.own)]
    if len(ours) != 1:
        return now
    stamp = parse_stamp(ours[0].get("stamp"))
    return min(stamp, now) if stamp else now


def _message(message: ET.Element, ctx: Context, *, local_id: str, now: datetime,
             chat: str, direction: Direction, sender: str) -> ChatMessage:
    outgoing = direction is Direction.OUTGOING
    return ChatMessage(
        id=local_id, chat=ctx.chat(chat), direction=direction, sender=sender,
        body=body_of(message), timestamp=trusted_timestamp(message, ctx, now),
        delivery=Delivery.SENT if outgoing else Delivery.RECEIVED,
        stanza_id=stanza_id(message, ctx), origin_id=origin_id(message),
        remote_id=remote_id(message), replaces=replaces(message),
    )


def incoming_chat(message: ET.Element, ctx: Context, local_id: str,
                  now: datetime) -> ChatMessage | None:
    """A one-to-one message (type chat or normal) with a body; None otherwise."""
    if message.get("type", "normal") not in ("chat", "normal") or not body_of(message):
        return None
    sender = jid_of(message.get("from"))
    if sender is None:
        return None
    return _message(message, ctx, local_id=local_id, now=now, chat=sender.bare,
                    direction=Direction.INCOMING, sender=sender.bare)


def chat_state(message: ET.Element, ctx: Context) -> tuple[str, ChatState] | None:
    """(bare sender, state) of a one-to-one chat state notification (XEP-0085) from
    someone else; None for anything else (groupchat, ourselves, no or several states)."""
    if message.get("type") != "chat":
        return None
    sender = jid_of(message.get("from"))
    state = chatstates.read([child.tag for child in message])
    if sender is None or sender.bare == ctx.own or state is None:
        return None
    return sender.bare, state


def carbon_inner(outer: ET.Element, ctx: Context, sent: bool) -> tuple[ET.Element, Jid] | None:
    """XEP-0280: the forwarded message and the peer, accepted only when the outer `from`
    is our own bare JID and the inner message is from us (sent) or to us (received)."""
    outer_from = jid_of(outer.get("from"))
    if outer_from is None or outer_from.full != ctx.own:  # the bare JID, no resource
        return None
    wrapper = outer.find(f"{{{CARBONS}}}{'sent' if sent else 'received'}")
    inner = wrapper.find(f"{FORWARDED}/{CLIENT}message") if wrapper is not None else None
    if inner is None or inner.get("type", "normal") not in ("chat", "normal"):
        return None
    mine, theirs = ("from", "to") if sent else ("to", "from")
    peer = jid_of(inner.get(theirs))
    if bare_of(inner.get(mine)) != ctx.own or peer is None:
        return None
    return inner, peer


def carbon(outer: ET.Element, ctx: Context, local_id: str, now: datetime,
           sent: bool) -> ChatMessage | None:
    """A carbon with a body (see `carbon_inner`) as our message or the peer's."""
    found = carbon_inner(outer, ctx, sent)
    if found is None or not body_of(found[0]):
        return None
    inner, peer = found
    if sent:
        return _message(inner, ctx, local_id=local_id, now=now, chat=peer.bare,
                        direction=Direction.OUTGOING, sender=ctx.own)
    return _message(inner, ctx, local_id=local_id, now=now, chat=peer.bare,
                    direction=Direction.INCOMING, sender=peer.bare)


def roster_push_allowed(iq: ET.Element, ctx: Context) -> bool:
    """RFC 6121 §2.1.6: a push comes from our bare JID or with no `from` (our server)."""
    if not iq.get("from"):
        return True
    sender = jid_of(iq.get("from"))
    return sender is not None and sender.full in (ctx.own, ctx.domain)


def roster_items(iq: ET.Element) -> list[tuple[RosterItem, bool]]:
    """(item, removed) pairs of a roster result or push; invalid items are skipped."""
    query = iq.find(ROSTER_QUERY)
    if query is None:
        return []
    out: list[tuple[RosterItem, bool]] = []
    for el in query.findall("{jabber:iq:roster}item"):
        jid = jid_of(el.get("jid"))
        sub = el.get("subscription", "none")
        if jid is None or sub not in SUBSCRIPTIONS:
            continue
        groups = tuple(g.text or "" for g in el.findall("{jabber:iq:roster}group"))
        item = RosterItem(jid=jid.bare, name=el.get("name", ""),
                          subscription="none" if sub == "remove" else sub, groups=groups,
                          asked=el.get("ask") == "subscribe")
        out.append((item, sub == "remove"))
    return out


def presence(stanza: ET.Element, own_full: str) -> Presence | None:
    """Available or unavailable presence of someone (not our own session)."""
    kind = stanza.get("type", "")
    if kind not in ("", "unavailable"):
        return None
    sender = jid_of(stanza.get("from"))
    if sender is None or sender.full == own_full:
        return None
    show_el = stanza.find(f"{CLIENT}show")
    status_el = stanza.find(f"{CLIENT}status")
    show = Show.parse(show_el.text if show_el is not None else None, kind == "")
    try:
        priority = max(-128, min(127, int(stanza.findtext(f"{CLIENT}priority") or 0)))
    except ValueError:
        priority = 0
    status = (status_el.text or "")[:MAX_STATUS] if status_el is not None else ""
    return Presence(jid=sender.bare, resource=sender.resource, show=show, status=status,
                    priority=priority)


def error_text(stanza: ET.Element) -> str:
    """`condition: text` of a stanza error, short; the text is remote and only shown
    after sanitising."""
    error = stanza.find(f"{CLIENT}error")
    if error is None:
        return "error"
    condition, text = "", ""
    for child in error:
        name = child.tag.rpartition("}")[2]
        if name == "text":
            text = (child.text or "")[:300]
        elif child.tag.startswith("{urn:ietf:params:xml:ns:xmpp-stanzas}") and not condition:
            condition = name
    return f"{condition or 'error'}: {text}" if text else condition or "error"
