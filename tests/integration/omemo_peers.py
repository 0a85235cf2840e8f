"""OMEMO helpers for integration tests: a scripted slixmpp-omemo device (its own
in-memory storage) and an xmppterm identity running on an encrypted store.

The scripted device is what another client of the same person (or of the contact)
would be: slixmpp-omemo encrypts legacy OMEMO itself; for OMEMO 2 (which it cannot
read, "SCE not supported yet") it uses xmppterm's SCE reader, so that it can read
what xmppterm sends to devices that announce OMEMO 2. With `legacy_only=True` it loads
and announces the legacy backend alone, as Conversations, Dino, Gajim and Profanity do.
"""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from copy import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import oldmemo
import twomemo.etree
from omemo.session_manager import DeviceListDownloadFailed
from omemo.session_manager import SessionManager as OmemoManager
from omemo.storage import Just, Maybe, Nothing, Storage
from omemo.types import DeviceInformation, JSONType
from slixmpp.jid import JID
from slixmpp.plugins.base import register_plugin
from slixmpp_omemo import XEP_0384, TrustLevel
from slixmpp_omemo.xep_0384 import OLDMEMO_DEVICE_LIST_NODE, _make_session_manager

from xmppterm.config import AccountConfig, Config, Settings
from xmppterm.core.manager import SessionManager
from xmppterm.devserver import Account, ProsodyServer
from xmppterm.domain.ids import AccountId
from xmppterm.protocol.omemo import sce, wire
from xmppterm.run import open_store

from .peers import Events, Peer


class MemoryStorage(Storage):
    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, JSONType] = {}

    async def _load(self, key: str) -> Maybe[JSONType]:
        return Just(self.data[key]) if key in self.data else Nothing()

    async def _store(self, key: str, value: JSONType) -> None:
        self.data[key] = value

    async def _delete(self, key: str) -> None:
        self.data.pop(key, None)


class PeerOmemo(XEP_0384):
    name = "xt_test_omemo"
    default_config = {"fallback_message": "scripted peer: OMEMO", "storage": None,
                      "legacy_only": False}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._legacy_manager: asyncio.Task[OmemoManager] | None = None

    @property
    def storage(self) -> Storage:
        storage: Storage = self.config["storage"]
        return storage

    @property
    def legacy_only(self) -> bool:
        return bool(self.config["legacy_only"])

    async def get_session_manager(self) -> OmemoManager:
        """Legacy-only: the library's own set-up (`_prepare`) with the oldmemo backend
        alone, so only the legacy device list and bundle are published."""
        if not self.legacy_only:
            return await super().get_session_manager()
        if self._legacy_manager is None:
            self._legacy_manager = asyncio.ensure_future(self._prepare_legacy())
        return await asyncio.shield(self._legacy_manager)

    async def _prepare_legacy(self) -> OmemoManager:
        manager = await _make_session_manager(self.xmpp, self).create(
            [oldmemo.Oldmemo(self.storage)], self.storage, self.xmpp.boundjid.bare,
            initial_own_label=None, undecided_trust_level_name=TrustLevel.UNDECIDED.value)
        await manager.ensure_data_consistency()
        await manager.after_history_sync()
        self.xmpp.event("omemo_initialized")
        return manager

    async def refresh_device_lists(self, jids: set[JID], force_download: bool = False) -> None:
        """Legacy-only: fetch the legacy lists (ours too) every time; the library's
        version would also fetch OMEMO 2 lists, which a legacy session manager refuses."""
        if not self.legacy_only:
            return await super().refresh_device_lists(jids, force_download)
        manager = await self.get_session_manager()
        for bare in {JID(j).bare for j in jids} | {self.xmpp.boundjid.bare}:
            with suppress(DeviceListDownloadFailed):
                await manager.refresh_device_list(oldmemo.oldmemo.NAMESPACE, bare)

    async def _on_device_list_update(self, msg: Any) -> None:
        if self.legacy_only and msg["pubsub_event"]["items"]["node"] != OLDMEMO_DEVICE_LIST_NODE:
            return  # a legacy client does not look at OMEMO 2 lists
        await super()._on_device_list_update(msg)

    @property
    def _btbv_enabled(self) -> bool:
        return True

    async def _prompt_manual_trust(self, manually_trusted: frozenset[DeviceInformation],
                                   identifier: str | None) -> None:
        raise AssertionError("the scripted peer trusts blindly")


register_plugin(PeerOmemo)


@dataclass
class Decrypted:
    body: str | None
    sender: str
    stanza: Any
    namespace: str


class OmemoPeer(Peer):
    """A scripted OMEMO device of `acc`; `.raw` keeps every message stanza received."""

    def __init__(self, acc: Account, ca: Path, resource: str = "omemo-peer",
                 legacy_only: bool = False) -> None:
        super().__init__(acc, ca, resource)
        self.register_plugin("xt_test_omemo", {"storage": MemoryStorage(),
                                               "legacy_only": legacy_only})
        for event in ("carbon_received", "carbon_sent"):
            self.add_event_handler(event, self.inbox.put_nowait)
        self.omemo: Any = self.plugin["xt_test_omemo"]

    async def start(self, server: ProsodyServer) -> OmemoPeer:
        ready = asyncio.Event()
        self.add_event_handler("omemo_initialized", lambda *_: ready.set())
        await super().start(server)
        await asyncio.wait_for(ready.wait(), 20)
        await self.plugin["xep_0280"].enable()
        return self

    async def device_id(self) -> int:
        manager = await self.omemo.get_session_manager()
        own, _ = await manager.get_own_device_information()
        return int(own.device_id)

    async def fingerprint(self) -> str:
        manager = await self.omemo.get_session_manager()
        own, _ = await manager.get_own_device_information()
        return "".join(manager.format_identity_key(own.identity_key))

    async def wait_for_devices(self, jid: str, count: int = 1, timeout: float = 20.0,
                               namespace: str | None = None) -> None:
        """Until `jid` publishes at least `count` OMEMO devices (xmppterm publishes its
        own a moment after it is online); with `namespace`, devices active in that one
        (xmppterm publishes its two device lists one after the other)."""
        manager = await self.omemo.get_session_manager()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            await self.omemo.refresh_device_lists({JID(jid)}, force_download=True)
            devices = await manager.get_device_information(jid)
            if len([d for d in devices if any(active and namespace in (None, ns)
                                              for ns, active in d.active)]) >= count:
                return
            assert loop.time() < deadline, f"{jid} published no OMEMO device"
            await asyncio.sleep(0.3)

    async def encrypted(self, to: str, body: str) -> Any:
        """An OMEMO (legacy) message stanza for `to`, not sent yet."""
        msg = self.make_message(mto=to, mtype="chat", mbody=body)
        await self.wait_for_devices(to, namespace=oldmemo.oldmemo.NAMESPACE)
        stanza, errors = await self.omemo.encrypt_message(msg, JID(to))
        assert stanza is not None and not errors
        return stanza

    async def send_encrypted(self, to: str, body: str) -> Any:
        stanza = await self.encrypted(to, body)
        stanza.send()
        return stanza

    async def decrypt(self, stanza: Any, sender: str | None = None) -> Decrypted:
        """Decrypt a message (OMEMO 2 with xmppterm's SCE reader); `sender` for carbons."""
        sender = sender or stanza["from"].bare
        element = stanza.xml.find(f"{{{wire.TWO}}}encrypted")
        if element is None or self.omemo.legacy_only:
            legacy = copy(stanza)  # a legacy client does not see the OMEMO 2 element
            for two in legacy.xml.findall(f"{{{wire.TWO}}}encrypted"):
                legacy.xml.remove(two)
            decrypted, _ = await self.omemo.decrypt_message(legacy)
            return Decrypted(decrypted["body"] or None, sender, stanza, wire.OLD)
        manager = await self.omemo.get_session_manager()
        message = twomemo.etree.parse_message(element, sender)
        plaintext, _, _ = await manager.decrypt(message)
        to = stanza["to"].bare if sender == self.boundjid.bare else self.boundjid.bare
        body = None if plaintext is None else sce.open_envelope(plaintext, sender, to)
        return Decrypted(body, sender, stanza, wire.TWO)

    async def next_decrypted(self, timeout: float = 15.0) -> Decrypted:
        """The next message with a body: encrypted ones decrypted, carbons unwrapped."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            stanza = await self.next_message(max(0.1, deadline - loop.time()))
            inner, sender = unwrap_carbon(stanza, self.boundjid.bare)
            if not wire.encrypted_elements(inner.xml):
                if inner["body"]:
                    return Decrypted(inner["body"], sender, inner, "")
                continue
            found = await self.decrypt(inner, sender)
            if found.body is not None:
                return found


def unwrap_carbon(stanza: Any, own: str) -> tuple[Any, str]:
    for kind in ("carbon_sent", "carbon_received"):
        if stanza.xml.find(f"{{urn:xmpp:carbons:2}}{kind.split('_')[1]}") is not None \
                and stanza["from"].full == own:
            inner = stanza[kind]
            return inner, inner["from"].bare
    return stanza, stanza["from"].bare


def archived_bodies(server: ProsodyServer, text: str) -> list[Path]:
    """Files in the server's data (offline storage, archives) holding `text`."""
    needle = text.encode("utf-8")
    return [p for p in server.data_path.rglob("*") if p.is_file() and needle in p.read_bytes()]


@dataclass
class Identity:
    manager: SessionManager
    events: Events
    account: AccountId
    jid: str


def identity_config(server: ProsodyServer, acc: Account, name: str,
                    **options: Any) -> Config:
    account = AccountConfig(id=AccountId(name), jid=acc.jid, password=acc.password,
                            host="127.0.0.1", port=server.c2s_port, ca_file=server.ca_file,
                            **options)
    return Config(None, Settings(insecure_fast_kdf=True), (account,))


@asynccontextmanager
async def identity(server: ProsodyServer, acc: Account, data: Path, name: str = "me",
                   **options: Any) -> AsyncIterator[Identity]:
    """An xmppterm identity on an encrypted store in `data` (same passphrase each time)."""
    config = identity_config(server, acc, name, **options)
    secret = data.parent / f"{data.name}.pass"
    secret.write_text("omemo test passphrase\n")
    store, gate = await open_store(config, data, f"cat {secret}")
    assert gate is not None and not gate.locked
    manager = SessionManager(config, store)
    events = Events()
    manager.subscribe(events)
    await manager.start()
    try:
        yield Identity(manager, events, AccountId(name), acc.jid)
    finally:
        await manager.shutdown()
        await store.close()


def first_encrypted(stanza_xml: ET.Element) -> ET.Element | None:
    found = wire.encrypted_elements(stanza_xml)
    return next((els[0] for els in found.values()), None)
