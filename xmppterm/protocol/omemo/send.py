"""Outgoing OMEMO: encrypt one chat message for a contact's devices and our own other
devices, or refuse with the reason. Nothing here ever falls back to plaintext.

OMEMO 2 (an SCE envelope, sce.py) goes to devices that announce `urn:xmpp:omemo:2`,
legacy OMEMO (the body) to the others; the library picks per device.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from omemo.session_manager import EncryptionError, NoEligibleDevices, SessionManager
from slixmpp.jid import JID

from ...domain.messages import Encryption
from ...domain.omemo import group_fingerprint
from . import sce, wire
from .devices import fingerprint, mark_of
from .plugin import FALLBACK, UnverifiedDevices, XtOmemo
from .port import OmemoRefused

NOTHING_SENT = "Nothing was sent."


@dataclass(frozen=True, slots=True)
class SealedMessage:
    """Implements port.Sealed."""

    stanza: Any  # the slixmpp Message to send as it is
    to: str
    message_id: str
    encryption: Encryption
    skipped: tuple[str, ...] = ()


async def ready_manager(plugin: XtOmemo) -> SessionManager:
    """The plugin's session manager, or OmemoRefused when OMEMO is not running."""
    try:
        return await plugin.ready()
    except RuntimeError as exc:
        raise OmemoRefused(f"OMEMO is not running on this connection: {exc}. "
                           f"{NOTHING_SENT}") from None


async def seal(plugin: XtOmemo, client: Any, to: str, body: str, message_id: str,
               omemo2: bool = True, replaces: str | None = None) -> SealedMessage:
    """Encrypt `body` for `to` (a bare JID); raises OmemoRefused. With `replaces`, a
    correction (XEP-0308) of our message with that id: named inside the OMEMO 2
    envelope, and outside for legacy OMEMO devices (as Conversations does)."""
    manager = await ready_manager(plugin)
    own = str(client.boundjid.bare)
    plaintexts = {wire.OLD: body.encode("utf-8")}
    if omemo2:
        plaintexts[wire.TWO] = sce.make_envelope(body, own, to, replaces=replaces)
    async with plugin.lock:
        await plugin.refresh_device_lists({JID(to)})
        try:
            messages, errors = await encrypt_for(manager, plugin, frozenset({to}), plaintexts,
                                                 identifier=to)
        except UnverifiedDevices as exc:
            raise OmemoRefused(unverified_reason(exc, to)) from None
        except NoEligibleDevices:
            raise OmemoRefused(await no_device_reason(manager, plugin, to)) from None
        mark = await mark_for(manager, messages, frozenset({to, own}))
    stanza = wire.build(client, to, message_id, list(messages), FALLBACK, replaces=replaces)
    skipped = tuple(f"{e.bare_jid} device {e.device_id}" for e in errors)
    return SealedMessage(stanza, to, message_id, mark, skipped)


async def encrypt_for(manager: SessionManager, plugin: XtOmemo, recipients: frozenset[str],
                      plaintexts: dict[str, bytes], identifier: str | None = None
                      ) -> tuple[Any, frozenset[EncryptionError]]:
    """Encrypt for every device of `recipients`, OMEMO 2 where announced. Raises the
    library's UnverifiedDevices and NoEligibleDevices for the caller to explain, and
    OmemoRefused for anything else (the recipients' lists are then fetched afresh)."""
    order = [ns for ns in (wire.TWO, wire.OLD) if ns in plaintexts]
    try:
        return await manager.encrypt(recipients, plaintexts, backend_priority_order=order,
                                     identifier=identifier)
    except (UnverifiedDevices, NoEligibleDevices):
        raise
    except Exception as exc:
        for jid in recipients:
            plugin.forget_fetch(jid)
        raise OmemoRefused(f"OMEMO encryption failed ({type(exc).__name__}). "
                           f"{NOTHING_SENT}") from None


async def mark_for(manager: SessionManager, messages: Any, recipients: frozenset[str]
                   ) -> Encryption:
    """OMEMO_TRUSTED only when every device it was encrypted for is verified."""
    used = {(key.bare_jid, key.device_id) for message in messages for key, _ in message.keys}
    infos = [info for jid in sorted(recipients)
             for info in await manager.get_device_information(jid)
             if (info.bare_jid, info.device_id) in used]
    if infos and all(mark_of(info) is Encryption.OMEMO_TRUSTED for info in infos):
        return Encryption.OMEMO_TRUSTED
    return Encryption.OMEMO_UNTRUSTED


def unverified_reason(exc: UnverifiedDevices, to: str) -> str:
    names = [f"{'your own device' if d.bare_jid != to else 'device'} {d.device_id} "
             f"({group_fingerprint(fingerprint(d.identity_key))[:17]}…)"
             for d in sorted(exc.devices, key=lambda d: d.device_id)]
    return (f"These OMEMO devices are not verified and trust is not decided yet: "
            f"{', '.join(names)}. Check their fingerprints (/fingerprint), then /verify or "
            f"/trust them, or /distrust them. {NOTHING_SENT}")


class Problem(Enum):
    """Why no device of an account could be encrypted for."""

    NO_DEVICE = "publishes no OMEMO device"
    NO_KEYS = "their keys could not be fetched"
    DISTRUSTED = "you distrusted every device"
    NO_SESSION = "no OMEMO session could be set up"


async def device_problem(manager: SessionManager, plugin: XtOmemo, jid: str) -> Problem:
    """As precisely as the stored state tells, why `jid` got no encrypted key."""
    storage = plugin.storage
    listed = (await storage.load_list(f"/devices/{jid}/list", int)).maybe([])
    active = [d for d in listed
              if any((await storage.load_dict(f"/devices/{jid}/{d}/active", bool)).maybe({}).values())]
    if not active:
        return Problem.NO_DEVICE
    known = [i for i in await manager.get_device_information(jid) if i.device_id in active]
    if not known:
        return Problem.NO_KEYS
    if all(i.trust_level_name == "DISTRUSTED" for i in known):
        return Problem.DISTRUSTED
    return Problem.NO_SESSION


async def no_device_reason(manager: SessionManager, plugin: XtOmemo, to: str) -> str:
    """Why no device of `to` could be encrypted for, for the user."""
    match await device_problem(manager, plugin, to):
        case Problem.NO_DEVICE:
            return (f"{to} publishes no OMEMO device, so this message cannot be encrypted. "
                    f"{NOTHING_SENT} Use /omemo off to write to them without encryption.")
        case Problem.NO_KEYS:
            return (f"The keys (bundles) of {to}'s OMEMO devices could not be fetched. "
                    f"{NOTHING_SENT} Try again later.")
        case Problem.DISTRUSTED:
            return f"You distrusted every OMEMO device of {to}. {NOTHING_SENT}"
    return f"No OMEMO session could be set up with any device of {to}. {NOTHING_SENT}"
