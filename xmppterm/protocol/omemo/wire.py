"""OMEMO elements on the wire: finding them, fingerprinting them against replays, and
the one shape of message xmppterm sends (poezio's E2EE whitelist: after encrypting,
only these leave in clear).

    <message to=… type="chat" id=ID>       (type="groupchat" to a room: group.py)
      <encrypted xmlns="urn:xmpp:omemo:2">…</encrypted>                (if any device has it)
      <encrypted xmlns="eu.siacs.conversations.axolotl">…</encrypted>  (the others)
      <encryption xmlns="urn:xmpp:eme:0" namespace=… name="OMEMO"/>
      <body>FALLBACK</body>  <store xmlns="urn:xmpp:hints"/>
      <origin-id xmlns="urn:xmpp:sid:0" id=ID/>  <request xmlns="urn:xmpp:receipts"/>
      <replace xmlns="urn:xmpp:message-correct:0" id=OLD/>   (a correction only: for
    </message>                                legacy OMEMO clients, which read it here)
"""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from typing import Any

import oldmemo.etree
import oldmemo.oldmemo
import twomemo.etree
import twomemo.twomemo
from omemo.message import Message as OmemoMessage
from omemo.session_manager import SessionManager

OLD = oldmemo.oldmemo.NAMESPACE
TWO = twomemo.twomemo.NAMESPACE
EME = "urn:xmpp:eme:0"
HINTS = "urn:xmpp:hints"
SID = "urn:xmpp:sid:0"
RECEIPTS = "urn:xmpp:receipts"
CLIENT = "jabber:client"


class Malformed(Exception):
    """An `<encrypted>` element that cannot be read."""


def encrypted_elements(message: ET.Element) -> dict[str, list[ET.Element]]:
    """The OMEMO elements of a message, by namespace (empty if it has none)."""
    found = {ns: message.findall(f"{{{ns}}}encrypted") for ns in (TWO, OLD)}
    return {ns: elements for ns, elements in found.items() if elements}


def choose(message: ET.Element) -> tuple[str, ET.Element] | None:
    """The element to decrypt: OMEMO 2 before legacy; None if there is none.
    Raises Malformed for two elements of one namespace."""
    found = encrypted_elements(message)
    for namespace in (TWO, OLD):
        elements = found.get(namespace, [])
        if len(elements) > 1:
            raise Malformed("the message holds two OMEMO elements of one version")
        if elements:
            return namespace, elements[0]
    return None


async def parse(namespace: str, element: ET.Element, sender: str, own: str,
                manager: SessionManager) -> OmemoMessage:
    """The library's message; raises Malformed for what the schema or parser refuse.
    (Legacy OMEMO may download the sender's device list and bundle on the way.)"""
    try:
        if namespace == TWO:
            return twomemo.etree.parse_message(element, sender)
        return await oldmemo.etree.parse_message(element, sender, own, manager)
    except (ValueError, TypeError, KeyError) as exc:  # XMLSchemaValidationError is a ValueError
        raise Malformed(f"its OMEMO element is malformed ({type(exc).__name__})") from None


def replay_digest(namespace: str, element: ET.Element, sender: str, own_device: int) -> str:
    """What identifies one encrypted message for this device: sender, its device, the
    ciphertext and our key. A replay has the same digest whatever was changed around it."""
    ns = f"{{{namespace}}}"
    header = element.find(f"{ns}header")
    sid = header.get("sid", "") if header is not None else ""
    payload = element.findtext(f"{ns}payload") or ""
    iv = (header.findtext(f"{ns}iv") or "") if header is not None else ""
    ours = sorted((key.text or "") for key in element.iter(f"{ns}key")
                  if key.get("rid") == str(own_device))
    parts = [namespace, sender, sid, iv, payload, *ours]
    return hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()


def has_key_for(namespace: str, element: ET.Element, device: int) -> bool:
    """The element carries a key for our device `device` (in any <keys> group)."""
    return any(key.get("rid") == str(device) for key in element.iter(f"{{{namespace}}}key"))


def serialize(message: OmemoMessage) -> ET.Element:
    if message.namespace == TWO:
        return twomemo.etree.serialize_message(message)
    return oldmemo.etree.serialize_message(message)


def build(client: Any, to: str, message_id: str, messages: list[OmemoMessage],
          fallback: str, group: bool = False, replaces: str | None = None) -> Any:
    """The whole stanza to send (see the module docstring); `messages` come from
    SessionManager.encrypt, one per OMEMO version used. With `group`, a message of type
    groupchat to the room `to`, without a receipt request (XEP-0184 §5.3)."""
    stanza = client.make_message(mto=to, mtype="groupchat" if group else "chat")
    stanza["id"] = message_id
    for message in sorted(messages, key=lambda m: m.namespace != TWO):
        stanza.xml.append(serialize(message))
    namespaces = {m.namespace for m in messages}
    ET.SubElement(stanza.xml, f"{{{EME}}}encryption", name="OMEMO",
                  namespace=TWO if namespaces == {TWO} else OLD)
    ET.SubElement(stanza.xml, f"{{{CLIENT}}}body").text = fallback
    ET.SubElement(stanza.xml, f"{{{HINTS}}}store")
    ET.SubElement(stanza.xml, f"{{{SID}}}origin-id", id=message_id)
    if not group:
        ET.SubElement(stanza.xml, f"{{{RECEIPTS}}}request")
    if replaces:
        ET.SubElement(stanza.xml, "{urn:xmpp:message-correct:0}replace", id=replaces)
    return stanza
