"""Room administration (XEP-0045 owner and admin use cases, XEP-0425 moderation) for one
identity's client.

- The owner form is read before it is written: `configure_private` sets the wanted
  properties only through fields the form offers (services name them differently)
  and reports the properties it could not set; `set_config` refuses a field the form
  does not have, naming it, before anything is sent.
- Roles go by nick, affiliations by bare JID (the caller resolves a nick to its real
  JID through the room's occupant table).
- A refusal comes back as `AdminRefused` with a sentence for the user (the room's own
  error text, remote, is only appended; the UI sanitises it).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from slixmpp.exceptions import IqError, IqTimeout

from ...domain.ids import InvalidJid, parse_jid
from ...domain.rooms import Affiliation, Role
from ..errors import RequestFailed
from .dataform import FormField, FormValueError, check_value, parse_form, submit_form
from .dataform import X as XDATA_X

MUC_OWNER = "http://jabber.org/protocol/muc#owner"
MUC_ADMIN = "http://jabber.org/protocol/muc#admin"
MUC_USER = "http://jabber.org/protocol/muc#user"
DISCO_INFO = "http://jabber.org/protocol/disco#info"
MODERATE_0 = "urn:xmpp:message-moderate:0"
MODERATE_1 = "urn:xmpp:message-moderate:1"
RETRACT_0 = "urn:xmpp:message-retract:0"
RETRACT_1 = "urn:xmpp:message-retract:1"
FASTEN = "urn:xmpp:fasten:0"
STANZAS = "{urn:ietf:params:xml:ns:xmpp-stanzas}"
REQUEST_TIMEOUT = 20.0
MAX_LISTED = 2000  # affiliation list entries read
MAX_REASON = 1024

# What a private room needs: (property, [(field var, wanted value), ...]) — the first
# field the form offers is set. Prosody, ejabberd and others name archiving apart.
PRIVATE_ROOM: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("members-only", (("muc#roomconfig_membersonly", "1"),)),
    ("non-anonymous", (("muc#roomconfig_whois", "anyone"),)),
    ("persistent", (("muc#roomconfig_persistentroom", "1"),)),
    ("not listed", (("muc#roomconfig_publicroom", "0"),)),
    ("archived", (("muc#roomconfig_enablearchiving", "1"), ("mam", "1"),
                  ("muc#roomconfig_mam", "1"), ("muc#roomconfig_enable_mam", "1"))),
)
WHO = {"config": "an owner", "role": "a moderator", "affiliation": "an admin or owner",
       "list": "an admin or owner", "retract": "a moderator"}
# not-allowed where XEP-0045 says forbidden too (Prosody answers a participant so), or
# for an occupant who outranks us.
NOT_ALLOWED = {
    "role": "you may not do that: you are not a moderator here, or they outrank you",
    "affiliation": "you may not do that: you are not an admin or owner here, or they outrank you",
}
CONDITIONS = {
    "not-allowed": "the room does not allow that",
    "not-acceptable": "the room did not accept those values",
    "item-not-found": "the room (or that occupant) does not exist",
    "feature-not-implemented": "the room's service does not support that",
    "service-unavailable": "the room's service does not support that",
    "conflict": "that conflicts with the room's state",
    "bad-request": "the room found the request malformed",
    "jid-malformed": "that is not a usable JID",
    "not-authorized": "you are not allowed to do that here",
    "registration-required": "you must be a member of the room for that",
}


class AdminRefused(RequestFailed):
    """The room refused or did not answer; the message is for the user."""


@dataclass(frozen=True, slots=True)
class Configured:
    """What `configure_private` did: properties set, and those the form did not offer."""

    set: tuple[str, ...]
    missing: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Listed:
    jid: str
    nick: str = ""
    reason: str = ""


def refusal(iq: ET.Element, what: str) -> str:
    """The user's sentence for an error reply to a request of kind `what`."""
    error = iq.find("{jabber:client}error")
    condition, text = "", ""
    for child in error if error is not None else ():
        name = child.tag.rpartition("}")[2]
        if name == "text":
            text = " ".join((child.text or "")[:300].split())  # one line (sanitised when drawn)
        elif child.tag.startswith(STANZAS) and not condition:
            condition = name
    if condition == "forbidden":
        sentence = f"you are not {WHO.get(what, 'allowed to do that')} here"
    elif condition == "not-allowed" and what in NOT_ALLOWED:
        sentence = NOT_ALLOWED[what]
    else:
        sentence = CONDITIONS.get(condition, f"the room refused ({condition or 'error'})")
    return f"{sentence} (the room says: {text})" if text else sentence


def _bare(jid: str) -> str:
    try:
        return parse_jid(jid).bare
    except InvalidJid:
        raise AdminRefused(f"{jid!r} is not a usable JID") from None


class RoomAdmin:
    """Owner, admin and moderator requests to rooms, for one client."""

    def __init__(self, client: Any, timeout: float = REQUEST_TIMEOUT) -> None:
        self._client, self.timeout = client, timeout

    async def _send(self, iq: Any, what: str) -> ET.Element:
        try:
            result = await iq.send(timeout=self.timeout)
        except IqError as exc:
            raise AdminRefused(refusal(exc.iq.xml, what)) from None
        except (IqTimeout, TimeoutError):
            raise AdminRefused("the room did not answer") from None
        xml: ET.Element = result.xml
        return xml

    def _query(self, room: str, ns: str, kind: str = "get") -> tuple[Any, ET.Element]:
        make = self._client.make_iq_get if kind == "get" else self._client.make_iq_set
        iq = make(ito=_bare(room))
        query = ET.Element(f"{{{ns}}}query")
        iq.append(query)
        return iq, query

    # -- configuration (owner) -----------------------------------------------------------
    async def config_form(self, room: str) -> tuple[FormField, ...]:
        iq, _ = self._query(room, MUC_OWNER)
        reply = await self._send(iq, "config")
        x = reply.find(f"{{{MUC_OWNER}}}query/{XDATA_X}")
        if x is None:
            raise AdminRefused("the room sent no configuration form")
        return parse_form(x)

    async def show_config(self, room: str) -> tuple[tuple[str, str, str, str], ...]:
        """The form as (var, label, type, value) lines (remote text)."""
        return tuple((f.var, f.label, f.type, f.value) for f in await self.config_form(room))

    async def _submit(self, room: str, fields: tuple[FormField, ...],
                      changes: dict[str, tuple[str, ...]]) -> None:
        iq, query = self._query(room, MUC_OWNER, "set")
        query.append(submit_form(fields, changes))
        await self._send(iq, "config")

    async def set_config(self, room: str, values: Sequence[tuple[str, str]]) -> None:
        """Set fields by var; a var the form lacks or a value it refuses raises
        AdminRefused naming it, and nothing is sent."""
        fields = await self.config_form(room)
        by_var = {f.var: f for f in fields}
        changes: dict[str, tuple[str, ...]] = {}
        for var, value in values:
            field = by_var.get(var)
            if field is None:
                raise AdminRefused(f"this room has no setting {var!r} (/config lists them)")
            try:
                changes[var] = check_value(field, value)
            except FormValueError as exc:
                raise AdminRefused(str(exc)) from None
        await self._submit(room, fields, changes)

    async def configure_private(self, room: str) -> Configured:
        """Make the room members-only, non-anonymous, persistent, unlisted and archived,
        as far as its form allows (also unlocks a room that waits after code 201)."""
        fields = await self.config_form(room)
        by_var = {f.var: f for f in fields}
        changes: dict[str, tuple[str, ...]] = {}
        done, missing = [], []
        for prop, candidates in PRIVATE_ROOM:
            for var, wanted in candidates:
                field = by_var.get(var)
                if field is None:
                    continue
                try:
                    changes[var] = check_value(field, wanted)
                except FormValueError:
                    continue
                done.append(prop)
                break
            else:
                missing.append(prop)
        await self._submit(room, fields, changes)
        return Configured(tuple(done), tuple(missing))

    # -- roles and affiliations (moderator, admin) ----------------------------------------
    async def set_role(self, room: str, nick: str, role: Role, reason: str = "") -> None:
        """kick = Role.NONE, voice = PARTICIPANT, devoice = VISITOR."""
        iq, query = self._query(room, MUC_ADMIN, "set")
        item = ET.SubElement(query, f"{{{MUC_ADMIN}}}item", {"nick": nick, "role": role.value})
        if reason:
            ET.SubElement(item, f"{{{MUC_ADMIN}}}reason").text = reason[:MAX_REASON]
        await self._send(iq, "role")

    async def set_affiliation(self, room: str, jid: str, affiliation: Affiliation,
                              reason: str = "") -> None:
        iq, query = self._query(room, MUC_ADMIN, "set")
        item = ET.SubElement(query, f"{{{MUC_ADMIN}}}item",
                             {"jid": _bare(jid), "affiliation": affiliation.value})
        if reason:
            ET.SubElement(item, f"{{{MUC_ADMIN}}}reason").text = reason[:MAX_REASON]
        await self._send(iq, "affiliation")

    async def affiliations(self, room: str, affiliation: Affiliation) -> tuple[Listed, ...]:
        """Who has `affiliation` (remote values: invalid JIDs are skipped)."""
        iq, query = self._query(room, MUC_ADMIN)
        ET.SubElement(query, f"{{{MUC_ADMIN}}}item", {"affiliation": affiliation.value})
        reply = await self._send(iq, "list")
        found: list[Listed] = []
        for item in reply.findall(f"{{{MUC_ADMIN}}}query/{{{MUC_ADMIN}}}item")[:MAX_LISTED]:
            try:
                jid = parse_jid(item.get("jid", "")).bare
            except InvalidJid:
                continue
            reason = item.find(f"{{{MUC_ADMIN}}}reason")
            found.append(Listed(jid, item.get("nick", "")[:200],
                                ((reason.text or "") if reason is not None else "")[:300]))
        return tuple(found)

    # -- moderation (XEP-0425) -------------------------------------------------------------
    async def features(self, room: str) -> frozenset[str]:
        iq, _ = self._query(room, DISCO_INFO)
        reply = await self._send(iq, "info")
        return frozenset(f.get("var", "") for f in
                         reply.findall(f"{{{DISCO_INFO}}}query/{{{DISCO_INFO}}}feature")[:500])

    async def retract(self, room: str, stanza_id: str, reason: str = "") -> None:
        """Ask the room to retract a message (by the room's stanza-id) for everyone."""
        announced = await self.features(room)
        if MODERATE_1 in announced:
            outer = moderate = ET.Element(f"{{{MODERATE_1}}}moderate", {"id": stanza_id})
            ET.SubElement(moderate, f"{{{RETRACT_1}}}retract")
            ns = MODERATE_1
        elif MODERATE_0 in announced:
            outer = ET.Element(f"{{{FASTEN}}}apply-to", {"id": stanza_id})
            moderate = ET.SubElement(outer, f"{{{MODERATE_0}}}moderate")
            ET.SubElement(moderate, f"{{{RETRACT_0}}}retract")
            ns = MODERATE_0
        else:
            raise AdminRefused("this room's server does not support retraction")
        if reason:
            ET.SubElement(moderate, f"{{{ns}}}reason").text = reason[:MAX_REASON]
        iq = self._client.make_iq_set(ito=_bare(room))
        iq.append(outer)
        await self._send(iq, "retract")
