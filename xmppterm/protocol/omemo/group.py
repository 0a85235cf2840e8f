"""Outgoing OMEMO in group chats (XEP-0384 §6 over XEP-0045): one groupchat message
sealed for every device of every member of a room. Incoming ones: room_intake.py.

OMEMO works only in rooms that show every occupant's real JID (non-anonymous); core
(core/room_omemo.py) decides that and hands over the recipients: the owners, admins and
members from the room's affiliation lists and the real JIDs of the occupants, whether
they are online or not. We add ourselves, for our other devices (the library never
encrypts for the sending device, so the room's reflection of our own message cannot be
decrypted here: room_intake.py matches it to the message we sent instead).

    <message to=ROOM type="groupchat" id=ID>  the elements of wire.build, without a
    receipt request; the OMEMO 2 envelope (sce.py) names the ROOM as its <to>.

It fails closed like a one-to-one message, before anything is sent:
- a recipient with no device the message can be encrypted for (none published, all
  distrusted, or no key bundle could be fetched) stops the send, and the reason names
  them. Conversations refuses the same way: sending anyway would leave that member
  unable to read the room without anyone noticing, and would tempt the sender into
  believing everyone read it;
- an undecided device under manual trust stops it too, named with its owner.
"""

from __future__ import annotations

from typing import Any

from omemo.session_manager import EncryptionError, NoEligibleDevices, SessionManager
from slixmpp.jid import JID

from ...domain.messages import Encryption
from ...domain.omemo import group_fingerprint
from . import sce, wire
from .devices import fingerprint, mark_of
from .plugin import FALLBACK, UnverifiedDevices, XtOmemo
from .port import OmemoRefused
from .send import NOTHING_SENT, SealedMessage

MAX_NAMED = 8  # members named in a refusal; the rest are counted


async def seal_group(plugin: XtOmemo, client: Any, room: str, members: frozenset[str],
                     body: str, message_id: str) -> SealedMessage:
    """Encrypt `body` for the room `room` (a bare JID) and every device of `members`
    (bare JIDs) and our own other devices; raises OmemoRefused."""
    try:
        manager = await plugin.ready()
    except RuntimeError as exc:
        raise OmemoRefused(f"OMEMO is not running on this connection: {exc}. "
                           f"{NOTHING_SENT}") from None
    own = str(client.boundjid.bare)
    recipients = frozenset({*members, own})
    plaintexts = {wire.TWO: sce.make_envelope(body, own, room), wire.OLD: body.encode("utf-8")}
    async with plugin.lock:
        await plugin.refresh_device_lists({JID(jid) for jid in recipients})
        messages, errors = await _encrypt(manager, plugin, recipients, plaintexts)
        mark = await _mark(manager, messages, recipients)
    stanza = wire.build(client, room, message_id, list(messages), FALLBACK, group=True)
    skipped = tuple(f"{e.bare_jid} device {e.device_id}" for e in errors)
    return SealedMessage(stanza, room, message_id, mark, skipped)


async def _encrypt(manager: SessionManager, plugin: XtOmemo, recipients: frozenset[str],
                   plaintexts: dict[str, bytes]) -> tuple[Any, frozenset[EncryptionError]]:
    try:
        return await manager.encrypt(recipients, plaintexts,
                                     backend_priority_order=[wire.TWO, wire.OLD])
    except UnverifiedDevices as exc:
        raise OmemoRefused(unverified_reason(exc)) from None
    except NoEligibleDevices as exc:
        raise OmemoRefused(await no_device_reason(manager, plugin, exc.bare_jids)) from None
    except Exception as exc:
        for jid in recipients:
            plugin.forget_fetch(jid)
        raise OmemoRefused(f"OMEMO encryption failed ({type(exc).__name__}). "
                           f"{NOTHING_SENT}") from None


async def _mark(manager: SessionManager, messages: Any, recipients: frozenset[str]
                ) -> Encryption:
    """OMEMO_TRUSTED only when every device it was encrypted for is verified."""
    used = {(key.bare_jid, key.device_id) for message in messages for key, _ in message.keys}
    infos = [info for jid in sorted(recipients)
             for info in await manager.get_device_information(jid)
             if (info.bare_jid, info.device_id) in used]
    if infos and all(mark_of(info) is Encryption.OMEMO_TRUSTED for info in infos):
        return Encryption.OMEMO_TRUSTED
    return Encryption.OMEMO_UNTRUSTED


def _named(items: list[str]) -> str:
    shown = ", ".join(items[:MAX_NAMED])
    rest = len(items) - MAX_NAMED
    return f"{shown} and {rest} more" if rest > 0 else shown


def unverified_reason(exc: UnverifiedDevices) -> str:
    names = [f"{d.bare_jid} device {d.device_id} "
             f"({group_fingerprint(fingerprint(d.identity_key))[:17]}…)"
             for d in sorted(exc.devices, key=lambda d: (d.bare_jid, d.device_id))]
    return (f"These OMEMO devices in this room are not verified and trust is not decided "
            f"yet: {_named(names)}. Check their fingerprints, then /verify or /trust them, "
            f"or /distrust them. {NOTHING_SENT}")


async def _why(manager: SessionManager, plugin: XtOmemo, jid: str) -> str:
    storage = plugin.storage
    listed = (await storage.load_list(f"/devices/{jid}/list", int)).maybe([])
    active = [d for d in listed
              if any((await storage.load_dict(f"/devices/{jid}/{d}/active", bool)).maybe({}).values())]
    if not active:
        return f"{jid} (publishes no OMEMO device)"
    known = [i for i in await manager.get_device_information(jid) if i.device_id in active]
    if not known:
        return f"{jid} (their keys could not be fetched)"
    if all(i.trust_level_name == "DISTRUSTED" for i in known):
        return f"{jid} (you distrusted every device)"
    return f"{jid} (no OMEMO session could be set up)"


async def no_device_reason(manager: SessionManager, plugin: XtOmemo,
                           jids: frozenset[str]) -> str:
    """Why some members cannot get the message, naming them."""
    names = [await _why(manager, plugin, jid) for jid in sorted(jids)]
    return (f"These members of the room could not read an encrypted message: {_named(names)}. "
            f"{NOTHING_SENT} Ask them to use OMEMO, or write here without encryption "
            "(/omemo off: the room's server can then read everything).")
