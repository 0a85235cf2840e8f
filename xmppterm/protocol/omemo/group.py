"""Outgoing OMEMO in group chats (XEP-0384 §6 over XEP-0045): one groupchat message
sealed for every device of every member of a room. Incoming ones: room_intake.py.

OMEMO works only in rooms that show every occupant's real JID (non-anonymous); core
(core/room_omemo.py) decides that and hands over the recipients: the owners, admins and
members from the room's affiliation lists and the real JIDs of the occupants, whether
they are online or not. We add ourselves, for our other devices (the library never
encrypts for the sending device, so the room's reflection of our own message cannot be
decrypted here: room_intake.py matches it to the message we sent instead).

    <message to=ROOM type="groupchat" id=ID>  the elements of wire.build, without a
    receipt request; the OMEMO 2 envelope (sce.py) names the ROOM as its <to>. A
    correction (XEP-0308) names the message it corrects inside the OMEMO 2 envelope,
    and in a <replace> outside for legacy OMEMO devices, as one-to-one (send.py).

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

from omemo.session_manager import NoEligibleDevices, SessionManager
from slixmpp.jid import JID

from ...domain.omemo import group_fingerprint
from . import sce, wire
from .devices import fingerprint
from .plugin import FALLBACK, UnverifiedDevices, XtOmemo
from .port import OmemoRefused
from .send import (
    NOTHING_SENT,
    SealedMessage,
    device_problem,
    encrypt_for,
    mark_for,
    ready_manager,
)

MAX_NAMED = 8  # members named in a refusal; the rest are counted


async def seal_group(plugin: XtOmemo, client: Any, room: str, members: frozenset[str],
                     body: str, message_id: str, replaces: str | None = None
                     ) -> SealedMessage:
    """Encrypt `body` for the room `room` (a bare JID) and every device of `members`
    (bare JIDs) and our own other devices; raises OmemoRefused. With `replaces`, a
    correction of our message with that id (the id the room's copies carry)."""
    manager = await ready_manager(plugin)
    own = str(client.boundjid.bare)
    recipients = frozenset({*members, own})
    plaintexts = {wire.TWO: sce.make_envelope(body, own, room, replaces=replaces),
                  wire.OLD: body.encode("utf-8")}
    async with plugin.lock:
        await plugin.refresh_device_lists({JID(jid) for jid in recipients})
        try:
            messages, errors = await encrypt_for(manager, plugin, recipients, plaintexts)
        except UnverifiedDevices as exc:
            raise OmemoRefused(unverified_reason(exc)) from None
        except NoEligibleDevices as exc:
            raise OmemoRefused(await no_device_reason(manager, plugin, exc.bare_jids)) from None
        mark = await mark_for(manager, messages, recipients)
    stanza = wire.build(client, room, message_id, list(messages), FALLBACK, group=True,
                        replaces=replaces)
    skipped = tuple(f"{e.bare_jid} device {e.device_id}" for e in errors)
    return SealedMessage(stanza, room, message_id, mark, skipped)


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


async def no_device_reason(manager: SessionManager, plugin: XtOmemo,
                           jids: frozenset[str]) -> str:
    """Why some members cannot get the message, naming them."""
    names = [f"{jid} ({(await device_problem(manager, plugin, jid)).value})"
             for jid in sorted(jids)]
    return (f"These members of the room could not read an encrypted message: {_named(names)}. "
            f"{NOTHING_SENT} Ask them to use OMEMO, or write here without encryption "
            "(/omemo off: the room's server can then read everything).")
