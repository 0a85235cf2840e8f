"""The slixmpp-omemo plugin, adapted: our storage, our trust rules, our device lists.

What it changes in slixmpp-omemo's `XEP_0384`, and why:
- `storage`: the identity's sealed records (storage.py); one per connection.
- Trust: blind trust before verification (`btbv`) or manual; once a contact has a
  verified device the library stops trusting blindly, and `_prompt_manual_trust` has
  nobody to ask on the wire: it refuses (`UnverifiedDevices`), the send stops and the
  user decides with /trust, /verify or /distrust.
- Device lists count only from the owner's PEP: a device list event must come from a
  bare JID (a contact's own account), never from a resource or another entity.
- Device lists are fetched and subscribed to explicitly, for every contact and for
  ourselves: xmppterm sends no entity caps (privacy), so the server would not push
  PEP updates on its own. A fetched list is reused for `LIST_MAX_AGE` seconds.
- Start-up (key generation, bundle publishing) runs guarded: a server that refuses
  our keys leaves OMEMO off with a reason, it does not crash the session. Keys are
  published without publish options where a server refuses those (publish.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import oldmemo.oldmemo
import twomemo.twomemo
from omemo.session_manager import SessionManager, TrustDecisionFailed
from omemo.storage import Storage
from omemo.types import DeviceInformation
from slixmpp.jid import JID
from slixmpp.plugins.base import register_plugin
from slixmpp_omemo import XEP_0384

from . import publish

log = logging.getLogger(__name__)
NAMESPACES = (twomemo.twomemo.NAMESPACE, oldmemo.oldmemo.NAMESPACE)
NODES = {twomemo.twomemo.NAMESPACE: "urn:xmpp:omemo:2:devices",
         oldmemo.oldmemo.NAMESPACE: "eu.siacs.conversations.axolotl.devicelist"}
LIST_MAX_AGE = 120.0  # seconds a downloaded device list is trusted to be current
FALLBACK = ("This message is end-to-end encrypted with OMEMO, and your client cannot "
            "decrypt it.")
OMEMO_LOGGERS = ("omemo", "oldmemo", "twomemo", "slixmpp_omemo", "doubleratchet", "x3dh")


def quiet_omemo_logs() -> None:
    """python-omemo logs plaintext at DEBUG: never let it reach a log (THREATS.md)."""
    for name in OMEMO_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level < logging.WARNING:
            logger.setLevel(logging.WARNING)


class UnverifiedDevices(TrustDecisionFailed):
    """A trust decision is needed that only the user can make."""

    def __init__(self, devices: frozenset[DeviceInformation]) -> None:
        super().__init__("devices need a trust decision")
        self.devices = devices


class OmemoHooks:
    """What the plugin tells the rest of the protocol layer (set by the service); the
    coroutines are called with the plugin's `lock` held."""

    def __init__(self) -> None:
        self.started: Callable[[], Awaitable[None]] | None = None
        self.failed: Callable[[str], None] | None = None
        self.lists_changed: Callable[[str], Awaitable[None]] | None = None


class XtOmemo(XEP_0384):
    name = "xt_omemo"
    description = "OMEMO (xmppterm)"
    default_config = {"fallback_message": FALLBACK, "xt_storage": None, "xt_btbv": True,
                      "xt_hooks": None}

    def plugin_init(self) -> None:
        super().plugin_init()
        quiet_omemo_logs()
        publish.install()
        self.failure: str | None = None
        self.lock = asyncio.Lock()  # one library operation at a time: ratchets never race
        self._fetched: dict[str, float] = {}
        self._start_task: asyncio.Task[None] | None = None

    @property
    def storage(self) -> Storage:
        storage: Storage = self.config["xt_storage"]
        return storage

    @property
    def _btbv_enabled(self) -> bool:
        return bool(self.config["xt_btbv"])

    @property
    def hooks(self) -> OmemoHooks:
        hooks: OmemoHooks = self.config["xt_hooks"]
        return hooks

    async def _prompt_manual_trust(self, manually_trusted: frozenset[DeviceInformation],
                                   identifier: str | None) -> None:
        raise UnverifiedDevices(manually_trusted)

    # -- start-up ------------------------------------------------------------------------
    def session_bind(self, jid: JID) -> None:  # overrides: a guarded start, reported
        """Start once per client; again on a new session of the same client (a failed
        stream resumption) if the last start failed or is stuck on the old stream."""
        task = self._start_task
        if task is not None and task.done() and self.failure is None:
            return
        if task is not None:
            task.cancel()
            self._XEP_0384__session_manager_task = None  # the library keeps a failed build
        self.failure = None
        self._start_task = asyncio.ensure_future(self._start())

    async def _start(self) -> None:
        try:
            await self.get_session_manager()
        except Exception as exc:
            self.failure = describe_start_failure(exc)
            log.warning("OMEMO did not start: %s", self.failure)
            if self.hooks.failed is not None:
                self.hooks.failed(self.failure)
            return
        async with self.lock:
            await self._subscribe_all([JID(self.xmpp.boundjid.bare)])
            if self.hooks.started is not None:
                await self.hooks.started()

    async def ready(self) -> SessionManager:
        """The session manager, once started; raises RuntimeError with the reason if
        OMEMO could not start on this connection."""
        while (task := self._start_task) is not None and not task.done():
            try:
                await asyncio.shield(task)
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if current is not None and current.cancelling():
                    raise  # we are cancelled, not only the start we waited for
        if self.failure is not None:
            raise RuntimeError(self.failure)
        return await self.get_session_manager()

    async def close(self) -> None:
        """Stop the session manager's background work (pre key rotation)."""
        task, self._start_task = self._start_task, None
        if task is not None and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        if self.failure is None and task is not None and not task.cancelled():
            manager = await self.get_session_manager()
            await manager.shutdown()

    # -- device lists --------------------------------------------------------------------
    async def _on_device_list_update(self, msg: Any) -> None:  # overrides: owner only
        sender = msg["from"]
        if sender.resource or not sender.user:
            log.warning("ignored a device list that did not come from an account's PEP")
            return
        async with self.lock:
            await super()._on_device_list_update(msg)
            if self.hooks.lists_changed is not None:
                await self.hooks.lists_changed(sender.bare)

    async def _on_subscription_changed(self, presence: Any) -> None:
        """Overrides: keep our explicit subscriptions (no caps means no implicit ones)."""

    async def refresh_device_lists(self, jids: set[JID], force_download: bool = False) -> None:
        """Overrides: subscribe to and fetch (at most every LIST_MAX_AGE s) the lists of
        `jids`, ourselves included. The caller holds `lock`."""
        await self._subscribe_all(jids)
        manager = await self.get_session_manager()
        loop = asyncio.get_running_loop()
        for jid in {JID(j).bare for j in jids} | {self.xmpp.boundjid.bare}:
            fetched = self._fetched.get(jid)
            if not force_download and fetched is not None and loop.time() - fetched < LIST_MAX_AGE:
                continue
            results = await asyncio.gather(
                *(manager.refresh_device_list(ns, jid) for ns in NAMESPACES),
                return_exceptions=True)
            failed = [r for r in results if isinstance(r, BaseException)]
            if len(failed) < len(results):
                self._fetched[jid] = loop.time()
            for error in failed:
                log.info("device list of a contact not fetched: %s", type(error).__name__)
            if self.hooks.lists_changed is not None:
                await self.hooks.lists_changed(jid)

    async def _subscribe_all(self, jids: Iterable[JID]) -> None:
        storage = self.storage
        for jid in jids:
            bare = JID(JID(jid).bare)
            for namespace in NAMESPACES:
                key = f"/slixmpp/subscribed/{bare.bare}/{namespace}"
                if (await storage.load_primitive(key, bool)).maybe(False):
                    continue
                try:
                    await self._subscribe(namespace, bare)
                except Exception as exc:  # a timeout: updates come with the next fetch
                    log.info("device list subscription failed: %s", type(exc).__name__)

    def forget_fetch(self, jid: str) -> None:
        self._fetched.pop(jid, None)


def describe_start_failure(exc: BaseException) -> str:
    """Why OMEMO did not start, in words (no remote text)."""
    name = type(exc).__name__
    if "Upload" in name:
        return (f"the server refused to publish our OMEMO keys ({name}); check that it "
                "supports PEP with publish options")
    if "Download" in name:
        return f"our OMEMO device list could not be read from the server ({name})"
    return f"OMEMO could not start ({name})"


register_plugin(XtOmemo)
