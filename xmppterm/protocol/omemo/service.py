"""One identity's OMEMO on one connection: the plugin, incoming and outgoing messages,
devices and trust. `ProtocolLink` owns one; core reaches it as `port.OmemoPort`.

Without a store (`records` None) OMEMO is off: sealing refuses, and encrypted messages
are still taken (so that a fallback body is never shown) and marked undecryptable.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from omemo.session_manager import SessionManager
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

from ...config import AccountConfig
from ...domain import events as ev
from ...domain.ids import ChatKey
from ...domain.omemo import Device, DeviceTrust, NewOmemoDevice, find_device, normalise_fingerprint
from .. import stanzas as st
from . import wire
from .decrypt import MemorySeen, Receiver, SeenRefs
from .devices import LEVEL_OF_TRUST, sorted_devices
from .group import seal_group
from .lists import remove_device
from .plugin import NAMESPACES, OmemoHooks, XtOmemo
from .port import OmemoRefused
from .receive import Intake
from .room_intake import RoomDirectory
from .send import SealedMessage, seal
from .storage import Records, RecordStorage

log = logging.getLogger(__name__)
CLIENT = "jabber:client"


class StoreRecords(Records, SeenRefs, Protocol):
    """What OMEMO keeps in the store (`store.Store` implements it)."""

KNOWN = "omemo-announced"  # record: device ids already announced, per JID
NO_LIST = ("item-not-found", "feature-not-implemented", "service-unavailable")


class OmemoService:
    def __init__(self, client: Any, account: AccountConfig, records: Records | None,
                 seen: SeenRefs | None, emit: Callable[[ev.Event], None],
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._client, self._account, self._records, self._emit = client, account, records, emit
        self.plugin: XtOmemo | None = None
        self.failure = "OMEMO needs the encrypted store, and this session has none"
        if records is not None:
            hooks = OmemoHooks()
            hooks.started, hooks.failed = self._started, self._failed
            hooks.lists_changed = self._announce
            self.plugin = client.enable_omemo({
                "xt_storage": RecordStorage(records, account.id, account.jid),
                "xt_btbv": account.trust == "btbv", "xt_hooks": hooks})
        ctx = st.Context(account.id, account.jid)
        self.receiver = Receiver(self.plugin, seen or MemorySeen(), account.id, account.jid,
                                 emit, self._announce, client.acknowledge_decrypted
                                 ) if self.plugin else None
        self.intake = Intake(ctx, self._deliver, now)
        for namespace in (wire.TWO, wire.OLD):  # slixmpp's `message` needs a <body>
            client.register_handler(Callback(
                f"xt OMEMO {namespace}", MatchXPath(f"{{{CLIENT}}}message/{{{namespace}}}encrypted"),
                self._without_body))

    def _without_body(self, stanza: Any) -> None:
        """A bodiless OMEMO message (key transport, or OMEMO 2 without a fallback)."""
        if stanza.xml.find(f"{{{CLIENT}}}body") is None:
            self.intake.live(stanza.xml)

    @property
    def own(self) -> str:
        return self._account.jid

    def _deliver(self, envelope: Any) -> None:
        if self.receiver is not None:
            self.receiver.deliver(envelope)
        elif envelope.fallback:
            self._emit(ev.Notice(self._account.id, f"An encrypted message from {envelope.sender} "
                                 f"could not be read: {self.failure}.",
                                 ChatKey(self._account.id, envelope.chat), error=True))

    async def _manager(self) -> SessionManager:
        if self.plugin is None:
            raise OmemoRefused(self.failure)
        try:
            return await self.plugin.ready()
        except RuntimeError as exc:
            raise OmemoRefused(f"OMEMO is not running on this connection: {exc}") from None

    # -- lifecycle -----------------------------------------------------------------------
    def _failed(self, reason: str) -> None:
        self.failure = reason
        self._emit(ev.Notice(self._account.id, f"OMEMO is off on this connection: {reason}. "
                             "Chats that use OMEMO will not send until it works.", error=True))

    async def _started(self) -> None:
        await self._announce(self.own)

    async def close(self) -> None:
        if self.receiver is not None:
            await self.receiver.close()
        if self.plugin is not None:
            try:
                await self.plugin.close()
            except Exception as exc:
                log.info("OMEMO shutdown: %s", type(exc).__name__)

    # -- sending -------------------------------------------------------------------------
    async def seal(self, to: str, body: str, message_id: str,
                   replaces: str | None = None) -> SealedMessage:
        if self.plugin is None:
            raise OmemoRefused(f"{self.failure}. Nothing was sent.")
        return await seal(self.plugin, self._client, to, body, message_id, replaces=replaces)

    async def seal_group(self, room: str, members: frozenset[str], body: str,
                         message_id: str, replaces: str | None = None) -> SealedMessage:
        """Encrypt a groupchat message for every device of `members` (group.py); with
        `replaces`, a correction of our message with that id."""
        if self.plugin is None:
            raise OmemoRefused(f"{self.failure}. Nothing was sent.")
        return await seal_group(self.plugin, self._client, room, members, body, message_id,
                                replaces=replaces)

    def use_rooms(self, rooms: RoomDirectory) -> None:
        """Where encrypted groupchat messages find their writers' real JIDs: the
        link's room part, once it exists (room_intake.RoomDirectory)."""
        self.intake.rooms = rooms

    async def has_devices(self, jid: str) -> bool | None:
        manager = await self._manager()
        assert self.plugin is not None
        storage = self.plugin.storage
        async with self.plugin.lock:
            results = [await self._fetch_list(manager, ns, jid) for ns in NAMESPACES]
        for device_id in (await storage.load_list(f"/devices/{jid}/list", int)).maybe([]):
            active = (await storage.load_dict(f"/devices/{jid}/{device_id}/active", bool))
            if any(active.maybe({}).values()):
                return True
        return None if None in results else False

    async def _fetch_list(self, manager: SessionManager, namespace: str, jid: str) -> bool | None:
        """Refresh one device list: True when read, False when the account has none or
        its server has no PEP, None when it could not be read."""
        try:
            await manager.refresh_device_list(namespace, jid)
        except Exception as exc:
            condition = getattr(exc.__cause__, "condition", "")
            if condition in NO_LIST:
                return False
            log.info("device list not fetched: %s", type(exc).__name__)
            return None
        return True

    # -- devices and trust ---------------------------------------------------------------
    async def devices(self, jid: str | None) -> tuple[tuple[Device, ...], tuple[Device, ...]]:
        manager = await self._manager()
        assert self.plugin is not None
        async with self.plugin.lock:
            own_info, _ = await manager.get_own_device_information()
            own = await manager.get_device_information(self.own)
            theirs = await manager.get_device_information(jid) if jid else frozenset()
        current = own_info.device_id
        return sorted_devices(own, current), sorted_devices(theirs, current)

    async def set_trust(self, jid: str | None, target: str, trust: DeviceTrust,
                        require_fingerprint: bool) -> str:
        if require_fingerprint and normalise_fingerprint(target) is None:
            raise OmemoRefused("/verify needs the whole fingerprint you compared (64 hex "
                               "characters), not a device id.")
        own, theirs = await self.devices(jid)
        device = find_device(theirs + own, target)
        if device is None:
            raise OmemoRefused("No known OMEMO device has that device id or fingerprint: "
                               "see /fingerprint.")
        if device.current:
            raise OmemoRefused("That is this device: its trust is not yours to set.")
        manager = await self._manager()
        assert self.plugin is not None
        async with self.plugin.lock:
            key = await self._identity_key(manager, device)
            await manager.set_trust(device.jid, key, LEVEL_OF_TRUST[trust])
        return f"Device {device.device_id} of {device.jid} is now {trust.value}."

    async def _identity_key(self, manager: SessionManager, device: Device) -> bytes:
        for info in await manager.get_device_information(device.jid):
            if info.device_id == device.device_id:
                return info.identity_key
        raise OmemoRefused("That device is no longer known.")

    async def remove_own_device(self, device_id: int) -> str:
        manager = await self._manager()
        assert self.plugin is not None
        own_info, _ = await manager.get_own_device_information()
        if device_id == own_info.device_id:
            raise OmemoRefused("That is this device: it cannot be removed from here.")
        async with self.plugin.lock:
            return await remove_device(manager, self.plugin, self.own, device_id)

    # -- announcements -------------------------------------------------------------------
    async def _announce(self, jid: str) -> None:
        """Emit NewOmemoDevice for each active device of `jid` not announced before
        (called with the plugin's lock held)."""
        if self._records is None or self.plugin is None:
            return
        try:
            manager = await self.plugin.get_session_manager()
            own_info, _ = await manager.get_own_device_information()
            devices = sorted_devices(await manager.get_device_information(jid), own_info.device_id)
        except Exception as exc:
            log.info("device announcement skipped: %s", type(exc).__name__)
            return
        name = f"{KNOWN}\0{self._account.jid}\0{jid}"
        blob = await self._records.load_record(self._account.id, name)
        known: set[int] = set(json.loads(blob)) if blob else set()
        fresh = [d for d in devices if d.active and not d.current and d.device_id not in known]
        if not fresh:
            return
        known |= {d.device_id for d in fresh}
        await self._records.save_record(self._account.id, name, json.dumps(sorted(known)).encode())
        chat = None if jid == self.own else ChatKey(self._account.id, jid)
        for device in fresh:
            self._emit(NewOmemoDevice(self._account.id, chat, device))
