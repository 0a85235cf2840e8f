"""One identity's OMEMO policy: which chats are encrypted, what the status line says,
and what the OMEMO commands do. The cryptography is the link's (protocol/omemo).

Which chat is encrypted (the identity's `omemo` setting):
- "never": none; "always": every one.
- "default": a chat turned on or off with /omemo; otherwise on as soon as the contact
  is found to publish OMEMO devices (or sends an OMEMO message). Once on, it stays on
  (stored): a server that later hides the contact's device list cannot turn a chat
  back to plaintext; only /omemo off can.
A message that must be encrypted is sealed by the link or not sent at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Coroutine
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, TypeGuard, TypeVar

from ..config import AccountConfig
from ..domain import events as ev
from ..domain.ids import ChatKey
from ..domain.messages import ChatMessage, Delivery, Direction, Encryption
from ..domain.omemo import (
    ChatSecurity,
    ChatSecurityChanged,
    NewOmemoDevice,
    OmemoDevices,
    OmemoIntent,
    OmemoMode,
    RemoveOwnDevice,
    SetChatOmemo,
    SetDeviceTrust,
    ShowOmemo,
    chat_security,
    find_device,
)
from ..domain.ports import EventSink
from ..protocol.omemo.port import OmemoPort, OmemoRefused, Sealed
from ..store.store import Store
from .link import NotConnected

if TYPE_CHECKING:
    from .room_omemo import RoomOmemo

log = logging.getLogger(__name__)
T = TypeVar("T")
CHATS_RECORD = "omemo_chats"
ENCRYPTED = (Encryption.OMEMO_TRUSTED, Encryption.OMEMO_UNTRUSTED)
DECIDE_WAIT = 8.0  # seconds a new message waits for the server before it is held
NO_DEVICES_AGAIN = 300.0  # seconds before a contact without devices is asked again
OFFLINE = "Connect first: OMEMO devices and keys are read from the server."


class Undecided(OmemoRefused):
    """Whether the contact uses OMEMO could not be found out (their device list could
    not be read): neither plaintext nor OMEMO can be chosen yet."""


@dataclass(frozen=True, slots=True)
class Outgoing:
    """How a new message leaves: its mark, the sealed stanza when sealed already, and
    `hold` when it waits in the outbox for the next connection (nothing could be
    decided), or `later` when the decision or sealing is still under way."""

    encryption: Encryption
    sealed: Sealed | None = None
    hold: bool = False
    later: asyncio.Future[Any] | None = None  # still deciding or sealing: send when done


class Slow(Exception):
    """The work did not finish within DECIDE_WAIT seconds; it goes on as `task`."""

    def __init__(self, task: asyncio.Future[Any]) -> None:
        super().__init__("still under way")
        self.task = task


async def _within(work: Coroutine[Any, Any, T]) -> T:
    """`work`'s result if it comes within DECIDE_WAIT seconds, else Slow with the task:
    the work is not cancelled (a library call cut short could leave half-written state,
    and its outcome, e.g. a chat found to use OMEMO, counts)."""
    task = asyncio.ensure_future(work)
    task.add_done_callback(lambda t: t.cancelled() or t.exception())
    try:
        return await asyncio.wait_for(asyncio.shield(task), DECIDE_WAIT)
    except TimeoutError:
        raise Slow(task) from None


async def refused(store: Store, emit: EventSink, msg: ChatMessage, reason: str) -> None:
    """An outbox message whose sealing was refused: FAILED with the reason (nothing left)."""
    await store.update_message(msg.with_delivery(Delivery.FAILED, reason))
    emit(ev.MessageDeliveryChanged(msg.chat.account, msg.chat, msg.id, Delivery.FAILED, reason))


async def sealed_as(store: Store, emit: EventSink, msg: ChatMessage, sealed: Sealed
                    ) -> ChatMessage:
    """`msg` marked as it was sealed (stored and shown if that changed its mark), after
    telling which devices it could not be encrypted for. A correction's record is not
    shown (it is no line of its own): only stored."""
    if sealed.skipped:
        emit(ev.Notice(msg.chat.account, "Not encrypted for these devices, whose keys could "
                       f"not be fetched: {', '.join(sealed.skipped)}.", msg.chat))
    if sealed.encryption is not msg.encryption:
        msg = replace(msg, encryption=sealed.encryption)
        await store.update_message(msg)
        if msg.shown:
            emit(ev.MessageReceived(msg.chat.account, msg))
    return msg


def port_of(link: Any) -> OmemoPort | None:
    """The OMEMO side of an online link (None for links without OMEMO)."""
    port: OmemoPort | None = getattr(link, "omemo", None) if link is not None else None
    return port


async def seal(link: Any, to: str, body: str, message_id: str,
               replaces: str | None = None) -> Sealed:
    """Seal on the link; with `replaces`, a correction (XEP-0308) of that message id."""
    sealer = getattr(link, "seal", None)
    if sealer is None:
        raise OmemoRefused("OMEMO is not available on this connection. Nothing was sent.")
    extra = {"replaces": replaces} if replaces else {}
    sealed: Sealed = await sealer(to, body, message_id, **extra)
    return sealed


class ChatOmemo:
    def __init__(self, config: AccountConfig, store: Store, emit: EventSink) -> None:
        self.account, self.jid = config.id, config.jid
        self.mode = OmemoMode(config.omemo)
        self._store, self._emit = store, emit
        self._flags: dict[str, bool] = {}
        self._plain_until: dict[str, float] = {}  # loop time until which "no devices" holds
        self.security: dict[str, ChatSecurity] = {}
        self.rooms: RoomOmemo | None = None  # room chats go there (core/room_omemo.py)

    def _room(self, jid: str) -> RoomOmemo | None:
        return self.rooms if self.rooms is not None and self.rooms.is_room(jid) else None

    # -- which chats ---------------------------------------------------------------------
    async def load(self) -> None:
        blob = await self._store.load_record(self.account, CHATS_RECORD)
        self._flags = {str(k): bool(v) for k, v in json.loads(blob).items()} if blob else {}

    def flag(self, jid: str) -> bool | None:
        """Whether the chat is encrypted; None: not decided yet (default mode)."""
        if self.mode is OmemoMode.NEVER:
            return False
        if self.mode is OmemoMode.ALWAYS:
            return True
        return self._flags.get(jid)

    async def _set_flag(self, chat: ChatKey, enabled: bool) -> None:
        if self._flags.get(chat.jid) == enabled:
            return
        self._flags[chat.jid] = enabled
        blob = json.dumps(self._flags, sort_keys=True).encode("utf-8")
        await self._store.save_record(self.account, CHATS_RECORD, blob)

    async def must_encrypt(self, chat: ChatKey, port: OmemoPort | None) -> bool:
        """Decide for a message now; raises OmemoRefused when it cannot be decided."""
        flag = self.flag(chat.jid)
        if flag is not None or port is None:
            return bool(flag)
        now = asyncio.get_running_loop().time()
        if self._plain_until.get(chat.jid, 0.0) > now:
            return False  # looked a moment ago: no devices (a new one is announced anyway)
        found = await port.has_devices(chat.jid)
        if found is None:
            raise Undecided(
                f"Could not find out whether {chat.jid} uses OMEMO (their device list could "
                "not be read). Nothing was sent: try again, or /omemo off to write to them "
                "without encryption.")
        if found:
            await self._set_flag(chat, True)
        else:
            self._plain_until[chat.jid] = now + NO_DEVICES_AGAIN
        return found

    # -- sending -------------------------------------------------------------------------
    async def prepare(self, chat: ChatKey, body: str, message_id: str, link: Any,
                      replaces: str | None = None) -> Outgoing:
        """For a new message: PLAIN, or sealed now (online), or to be sealed when it is
        sent (offline: marked OMEMO_UNTRUSTED until then). Raises OmemoRefused. Past
        DECIDE_WAIT seconds the message is shown as pending and sent when the work ends.
        `replaces`: the message is a correction of the one with that id (XEP-0308)."""
        if (rooms := self._room(chat.jid)) is not None:
            return await rooms.prepare_chat(chat, body, message_id, link, replaces)
        try:
            must = await _within(self.must_encrypt(chat, port_of(link)))
        except Slow as slow:
            return Outgoing(Encryption.PLAIN, later=slow.task)
        except (Undecided, NotConnected):
            self._say(f"Whether {chat.jid} uses OMEMO is not known yet (their device list "
                      "could not be read): the message waits in the outbox, is asked about "
                      "again in a moment and at the next connection, and leaves (encrypted "
                      "if they use OMEMO) once that is known.", chat, error=True)
            return Outgoing(Encryption.PLAIN, hold=True)
        if not must:
            return Outgoing(Encryption.PLAIN)
        if link is None:
            return Outgoing(Encryption.OMEMO_UNTRUSTED)
        try:
            sealed = await _within(seal(link, chat.jid, body, message_id, replaces))
        except Slow as slow:
            return Outgoing(Encryption.OMEMO_UNTRUSTED, later=slow.task)
        except NotConnected:
            return Outgoing(Encryption.OMEMO_UNTRUSTED, hold=True)
        return Outgoing(sealed.encryption, sealed)

    async def seal_pending(self, msg: ChatMessage, link: Any) -> Sealed | None:
        """For an outbox message: sealed if it must be (it was written in an OMEMO chat,
        or its chat is one now); None for plaintext. Raises OmemoRefused, NotConnected."""
        if msg.encryption is Encryption.PLAIN and \
                not await self.must_encrypt(msg.chat, port_of(link)):
            return None
        return await seal(link, msg.chat.jid, msg.body, msg.id, msg.replaces)

    async def outgoing(self, msg: ChatMessage, link: Any, sealed: Sealed | None
                       ) -> tuple[ChatMessage, Sealed | None] | None:
        """For sending `msg` now: the message with its final mark and the sealed stanza
        (None: plaintext). None when sealing was refused: the message is FAILED then,
        with the reason, and nothing was sent. Raises NotConnected."""
        if self.rooms is not None and self.rooms.owns(msg):
            return await self.rooms.outgoing(msg, link, sealed)
        if sealed is None:
            try:
                sealed = await self.seal_pending(msg, link)
            except OmemoRefused as exc:
                if isinstance(exc, Undecided) and not getattr(link, "online", False):
                    raise NotConnected from None  # the link went: decided next time
                await refused(self._store, self._emit, msg, exc.reason)
                return None
        if sealed is not None:
            msg = await sealed_as(self._store, self._emit, msg, sealed)
        return msg, sealed

    @staticmethod
    def is_sealed(value: object) -> TypeGuard[Sealed]:
        return hasattr(value, "encryption") and hasattr(value, "skipped")

    # -- incoming ------------------------------------------------------------------------
    async def incoming(self, msg: ChatMessage) -> None:
        """After a message was stored: an OMEMO one turns its chat on (default mode);
        a plaintext one in an OMEMO chat is flagged loudly."""
        if self.rooms is not None and self.rooms.owns(msg):
            await self.rooms.incoming(msg)
            return
        if msg.encryption in ENCRYPTED and self.flag(msg.chat.jid) is None:
            await self._set_flag(msg.chat, True)
            self._set_security(msg.chat, ChatSecurity.OMEMO_UNVERIFIED)
        if msg.encryption is Encryption.PLAIN and self.flag(msg.chat.jid):
            who = ("A message you sent from another device" if msg.direction is Direction.OUTGOING
                   else f"The message above from {msg.sender}")
            self._emit(ev.Notice(
                self.account, f"{who} was NOT encrypted, although this chat uses OMEMO. Do not "
                "trust it as private or as coming from them; your messages here stay "
                "encrypted.", msg.chat, error=True))

    # -- the status line -----------------------------------------------------------------
    def _set_security(self, chat: ChatKey, security: ChatSecurity) -> None:
        if self.security.get(chat.jid) != security:
            self.security[chat.jid] = security
            self._emit(ChatSecurityChanged(self.account, chat, security))

    async def refresh(self, chat: ChatKey, link: Any) -> None:
        """Work out (and report) the chat's encryption state; online, this may decide
        a default-mode chat by looking for the contact's devices."""
        if (rooms := self._room(chat.jid)) is not None:
            await rooms.refresh(chat, link)
            return
        port = port_of(link)
        with contextlib.suppress(OmemoRefused):  # undecidable: it stays as it is
            await self.must_encrypt(chat, port)
        await self._refresh(chat, port)

    async def _refresh(self, chat: ChatKey, port: OmemoPort | None) -> None:
        enabled = bool(self.flag(chat.jid))
        if not enabled or port is None:
            last = self.security.get(chat.jid, ChatSecurity.OMEMO_UNVERIFIED)
            self._set_security(chat, last if enabled else ChatSecurity.PLAIN)
            return
        try:
            own, theirs = await port.devices(chat.jid)
        except (OmemoRefused, NotConnected):
            return
        self._set_security(chat, chat_security(True, own + theirs))

    async def device_added(self, event: NewOmemoDevice, link: Any) -> None:
        if event.chat is not None:
            self._plain_until.pop(event.chat.jid, None)
        chats = [event.chat] if event.chat is not None else [
            ChatKey(self.account, jid) for jid in self.security]
        for chat in chats:
            if chat.jid in self.security:
                await self._refresh(chat, port_of(link))
        for room in list(self.rooms.security if self.rooms is not None else ()):
            await self.refresh(ChatKey(self.account, room), link)

    # -- the commands --------------------------------------------------------------------
    async def handle(self, intent: OmemoIntent, link: Any) -> None:
        try:
            match intent:
                case SetChatOmemo(chat=chat, enabled=enabled) if self._room(chat.jid):
                    assert self.rooms is not None
                    await self.rooms.switch(chat, enabled, link)
                case SetChatOmemo(chat=chat, enabled=enabled):
                    await self._switch(chat, enabled, link)
                case ShowOmemo():
                    await self._show(intent, link)
                case SetDeviceTrust(chat=chat):
                    await self._trust(intent, link)
                case RemoveOwnDevice(device_id=device_id):
                    self._say(await self._port(link).remove_own_device(device_id))
        except OmemoRefused as exc:
            self._say(exc.reason, getattr(intent, "chat", None), error=True)
        except NotConnected:
            self._say(OFFLINE, getattr(intent, "chat", None), error=True)

    def _port(self, link: Any) -> OmemoPort:
        port = port_of(link)
        if port is None:
            raise NotConnected
        return port

    def _say(self, text: str, chat: ChatKey | None = None, error: bool = False) -> None:
        self._emit(ev.Notice(self.account, text, chat, error=error))

    async def _switch(self, chat: ChatKey, enabled: bool, link: Any) -> None:
        if self.mode is OmemoMode.NEVER and enabled:
            raise OmemoRefused(f'OMEMO is off for this identity (omemo = "never" in '
                               f"[accounts.{self.account}]).")
        if self.mode is OmemoMode.ALWAYS and not enabled:
            raise OmemoRefused(f'This identity encrypts every chat (omemo = "always" in '
                               f"[accounts.{self.account}]): it cannot be turned off here.")
        await self._set_flag(chat, enabled)
        self._say("OMEMO is now on in this chat: messages are sent encrypted or not at all."
                  if enabled else "OMEMO is now OFF in this chat: messages are sent in "
                  "plaintext, readable by the servers.", chat, error=not enabled)
        await self._refresh(chat, port_of(link))

    async def _peers(self, chat: ChatKey, link: Any) -> list[str]:
        """Whose devices a chat's /fingerprint shows: the contact's, or in a room every
        member's (those its messages are encrypted for)."""
        rooms = self._room(chat.jid)
        if rooms is None:
            return [chat.jid]
        state = rooms.state(chat.jid)
        if state is None or not state.joined:
            raise OmemoRefused("Join the room first: its members are read from it.")
        return sorted(await rooms.recipients(state, link) - {self.jid})

    async def _show(self, intent: ShowOmemo, link: Any) -> None:
        port = self._port(link)
        own, theirs = await port.devices(None)
        for jid in await self._peers(intent.chat, link) if intent.chat else []:
            theirs += (await port.devices(jid))[1]
        self._emit(OmemoDevices(self.account, self.jid, own, intent.chat, theirs, intent.purpose))

    async def _owner(self, intent: SetDeviceTrust, port: OmemoPort, link: Any) -> str | None:
        """The JID whose device the intent names (None: one of our own)."""
        if intent.chat is None:
            return None
        peers = await self._peers(intent.chat, link)
        if len(peers) == 1:
            return peers[0]
        for jid in peers:  # a room: the member who has that device
            if find_device((await port.devices(jid))[1], intent.target) is not None:
                return jid
        return None

    async def _trust(self, intent: SetDeviceTrust, link: Any) -> None:
        port = self._port(link)
        jid = await self._owner(intent, port, link)
        done = await port.set_trust(jid, intent.target, intent.trust, intent.require_fingerprint)
        self._say(done, intent.chat)
        chats = {*self.security, *([intent.chat.jid] if intent.chat else [])}
        for jid in sorted(chats):
            await self._refresh(ChatKey(self.account, jid), port)
