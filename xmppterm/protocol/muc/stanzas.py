"""Reading group-chat stanzas (XEP-0045, XEP-0249) into domain values: pure functions
over ElementTree elements, tested without a server.

Who may say what: the caller decides which room a stanza may speak for (a room we
joined); here a `<stanza-id>` counts only when `by` is that room, a `<delay>` only when
the room (or its service) put it there, an origin-id only on our own reflections (an
occupant who copied another's origin-id could otherwise have the store drop the
other's message as a duplicate), an XEP-0421 occupant-id only when the caller says the
room announced urn:xmpp:occupant-id:0 (such a room replaces the ones clients send; any
other room passes them on unchecked). A nick is the occupant JID's resource, kept raw: it
may hold '/', '@', controls or bidi marks (sanitising is the UI's job), and none of it
breaks reading.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime

from ...domain.ids import ChatKey
from ...domain.messages import ChatMessage, Delivery, Direction
from ...domain.rooms import (
    NICK_CHANGED,
    REMOVAL_REASONS,
    Affiliation,
    Occupant,
    Role,
    RoomFeatures,
)
from .. import stanzas as st

MUC = "http://jabber.org/protocol/muc"
MUC_USER = "http://jabber.org/protocol/muc#user"
X_USER = f"{{{MUC_USER}}}x"
CONFERENCE = "jabber:x:conference"
DISCO_INFO = "http://jabber.org/protocol/disco#info"
XDATA = "jabber:x:data"
MAM = "urn:xmpp:mam:2"
MODERATE = "urn:xmpp:message-moderate:0"
OCCUPANT_ID = "urn:xmpp:occupant-id:0"
STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
MAX_NICK = 1023  # bytes, as a JID resource
MAX_TEXT = 1024  # status texts, reasons, subjects are cut here
SHOWS = ("away", "chat", "dnd", "xa")

# What a refused join means, and what the user can do about it (XEP-0045 §7.2).
JOIN_ERRORS = {
    "not-authorized": "The room needs a password: /join ROOM NICK PASSWORD",
    "registration-required": "The room is members-only and you are not a member: ask an "
                             "owner or admin for an invitation (or membership)",
    "conflict": "That nick is taken in the room: /join ROOM OTHERNICK",
    "forbidden": "You are banned from this room",
    "service-unavailable": "The room is full (it admits no more occupants now)",
    "item-not-found": "The room does not exist, and this service does not let you create it",
    "not-allowed": "The room does not exist, and this service does not let you create it",
    "not-acceptable": "The room refused this nick (it may require your registered nick)",
    "jid-malformed": "The room refused the nick: it is empty or not allowed",
    "remote-server-not-found": "The room's service could not be reached",
    "remote-server-timeout": "The room's service did not answer",
}


def _short(value: str | None) -> str | None:
    return value if value and len(value) <= st.MAX_ID else None


def occupant_id(stanza: ET.Element) -> str | None:
    """The XEP-0421 id of the one `<occupant-id>` of a room's stanza (None for none,
    several, empty or too long). Only for a room that announces the feature."""
    found = stanza.findall(f"{{{OCCUPANT_ID}}}occupant-id")
    return _short(found[0].get("id")) if len(found) == 1 else None


def split_occupant(text: str | None) -> tuple[str, str] | None:
    """(room bare JID, nick) of an occupant JID `room@service/nick`; the room part must
    be a valid JID with a local part, the nick is the raw rest (not empty, bounded)."""
    if not text or "/" not in text:
        return None
    bare, _, nick = text.partition("/")
    room = st.jid_of(bare)
    if room is None or not room.local or room.resource:
        return None
    if not nick or len(nick.encode("utf-8", "surrogatepass")) > MAX_NICK:
        return None
    return room.bare, nick


def status_codes(stanza: ET.Element) -> frozenset[str]:
    return frozenset(s.get("code", "") for x in stanza.findall(X_USER)
                     for s in x.findall(f"{{{MUC_USER}}}status"))


def _enum(kind: type[Role] | type[Affiliation], value: str | None, default: str) -> object:
    try:
        return kind(value or default)
    except ValueError:
        return kind(default)


@dataclass(frozen=True, slots=True)
class RoomPresence:
    """One occupant presence of a room, read: who, what the room says of them, and for
    an unavailable one whether it was a nick change (`new_nick`) or a removal."""

    room: str
    nick: str
    available: bool
    codes: frozenset[str]
    occupant: Occupant
    new_nick: str | None = None
    reason: str = ""  # of a kick/ban (remote text)

    @property
    def own(self) -> bool:
        return "110" in self.codes

    @property
    def removal(self) -> str:
        """Why the room removed this occupant ("" none)."""
        for code, why in REMOVAL_REASONS.items():
            if code in self.codes:
                return why
        return ""


def room_presence(stanza: ET.Element, occupant_ids: bool = False) -> RoomPresence | None:
    """An available or unavailable presence from an occupant JID with `<x muc#user>`;
    its occupant-id only with `occupant_ids` (the room announces XEP-0421)."""
    kind = stanza.get("type", "")
    found = split_occupant(stanza.get("from"))
    x = stanza.find(X_USER)
    if kind not in ("", "unavailable") or found is None or x is None:
        return None
    item = x.find(f"{{{MUC_USER}}}item")
    item = item if item is not None else ET.Element("item")
    real = st.jid_of(item.get("jid"))
    show = stanza.findtext(f"{st.CLIENT}show") or ""
    occupant = Occupant(
        nick=found[1],
        role=_enum(Role, item.get("role"), "none" if kind else "participant"),  # type: ignore[arg-type]
        affiliation=_enum(Affiliation, item.get("affiliation"), "none"),  # type: ignore[arg-type]
        jid=real.bare if real is not None else None,
        show=show if show in SHOWS else "available",
        status=(stanza.findtext(f"{st.CLIENT}status") or "")[:MAX_TEXT],
        occupant_id=occupant_id(stanza) if occupant_ids else None)
    codes = status_codes(stanza)
    new_nick = item.get("nick") if NICK_CHANGED in codes and kind else None
    if new_nick is not None and not 0 < len(new_nick.encode("utf-8", "surrogatepass")) <= MAX_NICK:
        new_nick = None
    return RoomPresence(found[0], found[1], kind == "", codes, occupant, new_nick,
                        (item.findtext(f"{{{MUC_USER}}}reason") or "")[:MAX_TEXT])


def join_error(stanza: ET.Element) -> str:
    """The reason for the user of an error presence answering a join."""
    error = stanza.find(f"{st.CLIENT}error")
    condition = ""
    if error is not None:
        condition = next((c.tag.rpartition("}")[2] for c in error
                          if c.tag.startswith(f"{{{STANZAS}}}") and not c.tag.endswith("}text")),
                         "")
    return JOIN_ERRORS.get(condition, f"The room refused the join ({st.error_text(stanza)})")


def join_element(password: str, features: RoomFeatures | None, since: datetime | None,
                 first: int) -> ET.Element:
    """The `<x xmlns=muc>` of a join: no history from the room when it keeps an archive
    (read from there instead) or does not exist yet (`features` None); else the history
    since `since` (our newest message kept), or its last `first` messages."""
    x = ET.Element(f"{{{MUC}}}x")
    history = ET.SubElement(x, f"{{{MUC}}}history")
    if features is None or features.archived:
        history.set("maxstanzas", "0")
    elif since is not None:
        history.set("since", since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
    else:
        history.set("maxstanzas", str(first))
    if password:
        ET.SubElement(x, f"{{{MUC}}}password").text = password
    return x


def room_features(query: ET.Element) -> RoomFeatures:
    """What a room's disco#info `<query>` says about it."""
    have = {f.get("var", "") for f in query.findall(f"{{{DISCO_INFO}}}feature")}
    identity = query.find(f"{{{DISCO_INFO}}}identity")
    name = (identity.get("name", "") if identity is not None else "")[:MAX_TEXT]
    return RoomFeatures(
        non_anonymous="muc_nonanonymous" in have, members_only="muc_membersonly" in have,
        persistent="muc_persistent" in have, public="muc_hidden" not in have,
        moderated="muc_moderated" in have, password="muc_passwordprotected" in have,
        archived=MAM in have, moderation=MODERATE in have,
        occupant_id=OCCUPANT_ID in have, name=name)


def room_stanza_id(message: ET.Element, room: str) -> str | None:
    """The `<stanza-id>` the room added (`by` its bare JID), if exactly one."""
    found = [el.get("id") for el in message.findall(st.STANZA_ID)
             if st.bare_of(el.get("by")) == room]
    value = found[0] if len(found) == 1 else None
    return value if value and len(value) <= st.MAX_ID else None


def room_timestamp(message: ET.Element, room: str, now: datetime) -> datetime:
    """The `<delay>` stamp when exactly one comes from the room or its service, never
    later than now; otherwise (or malformed) `now`."""
    service = room.partition("@")[2]
    delays = [d for d in message.findall(st.DELAY) if st.bare_of(d.get("from")) in (room, service)]
    stamp = st.parse_stamp(delays[0].get("stamp")) if len(delays) == 1 else None
    return min(stamp, now) if stamp else now


def subject_of(message: ET.Element) -> str | None:
    """The subject of a groupchat subject change (a `<subject>` and no body), else None."""
    subject = message.find(f"{st.CLIENT}subject")
    if subject is None or st.body_of(message):
        return None
    return (subject.text or "")[:MAX_TEXT]


@dataclass(frozen=True, slots=True)
class Writer:
    """Who wrote a room message, as the caller knows: our own nick then, the real JID of
    the writer (occupant table, or the archive's record), and whether the room announces
    XEP-0421 (then the message's occupant-id is the room's and is read)."""

    own: bool
    real: str | None
    occupant_ids: bool = False


def room_message(message: ET.Element, chat: ChatKey, nick: str, writer: Writer, own_jid: str,
                 local_id: str, stamp: datetime, stanza_id: str | None) -> ChatMessage | None:
    """A groupchat message with a body, as a ChatMessage of the room `chat`; our own
    (a reflection) is OUTGOING with its origin-id, anyone else's has none (only the id
    it gave its message, `remote_id`, which a correction names and nothing dedups on:
    its origin-id if it set one, else its stanza id)."""
    body = st.body_of(message)
    if not body:
        return None
    stable = occupant_id(message) if writer.occupant_ids else None
    if writer.own:
        return ChatMessage(id=local_id, chat=chat, direction=Direction.OUTGOING, sender=own_jid,
                           body=body, timestamp=stamp, delivery=Delivery.DELIVERED,
                           stanza_id=stanza_id,
                           origin_id=st.origin_id(message) or _short(message.get("id")),
                           nick=nick, replaces=st.replaces(message), occupant_id=stable)
    return ChatMessage(id=local_id, chat=chat, direction=Direction.INCOMING,
                       sender=writer.real or f"{chat.jid}/{nick}", body=body, timestamp=stamp,
                       stanza_id=stanza_id, nick=nick,
                       remote_id=st.origin_id(message) or st.remote_id(message),
                       replaces=st.replaces(message), occupant_id=stable)


def archived_real_jid(message: ET.Element) -> str | None:
    """The writer's real bare JID as the room's archive recorded it (exactly one)."""
    jids = {st.bare_of(item.get("jid")) for x in message.findall(X_USER)
            for item in x.findall(f"{{{MUC_USER}}}item") if item.get("jid") is not None}
    return jids.pop() if len(jids) == 1 and "" not in jids else None


def is_room_private(message: ET.Element) -> bool:
    """A message that is not a 1:1 chat although it may look like one: it carries
    `<x muc#user>` (a private message through a room, a mediated invitation) or a
    XEP-0249 invitation."""
    return message.find(X_USER) is not None or message.find(f"{{{CONFERENCE}}}x") is not None


@dataclass(frozen=True, slots=True)
class Invitation:
    room: str
    inviter: str
    reason: str = ""
    password: str = ""


def direct_invite(message: ET.Element) -> Invitation | None:
    """XEP-0249: `<x xmlns='jabber:x:conference' jid=ROOM>` from the inviter; the room
    must be a bare JID with a local part (a room address), the inviter a valid JID."""
    x = message.find(f"{{{CONFERENCE}}}x")
    inviter = st.jid_of(message.get("from"))
    room = st.jid_of(x.get("jid")) if x is not None else None
    if x is None or inviter is None or room is None or not room.local or room.resource:
        return None
    return Invitation(room.bare, inviter.bare, (x.get("reason") or "")[:MAX_TEXT],
                      (x.get("password") or "")[:MAX_TEXT])


def mediated_invite(message: ET.Element) -> Invitation | None:
    """XEP-0045 §7.8.2: from the room's bare JID, `<x muc#user><invite from=…>`."""
    room = st.jid_of(message.get("from"))
    x = message.find(X_USER)
    invite = x.find(f"{{{MUC_USER}}}invite") if x is not None else None
    if room is None or not room.local or room.resource or invite is None or x is None:
        return None
    inviter = st.jid_of(invite.get("from"))
    return Invitation(room.bare, inviter.bare if inviter else "",
                      (invite.findtext(f"{{{MUC_USER}}}reason") or "")[:MAX_TEXT],
                      (x.findtext(f"{{{MUC_USER}}}password") or "")[:MAX_TEXT])
