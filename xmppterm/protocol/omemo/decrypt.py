"""Decrypting taken messages, one at a time, in arrival order (see receive.py).

Order of the steps for one message, all under the plugin's lock:
1. pick the element (OMEMO 2 before legacy) and compute its replay digest;
2. drop it quietly if that digest was seen before (a replay, or the archive's copy of
   a message that already arrived live);
3. let the library decrypt it: the new ratchet state is written to the store before
   `decrypt` returns, so a message is shown only after its ratchet is safe; then
   remember the digest (a decryption cut short leaves the archive's copy readable);
4. announce devices learnt on the way, send the receipt of a live message, emit it.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from omemo import (
    DecryptionFailed,
    KeyExchangeFailed,
    MessageNotForUs,
    NoSession,
    PublicDataInconsistency,
    SenderDistrusted,
    SenderNotFound,
)
from omemo.session_manager import SessionManager

from ...domain import events as ev
from ...domain.ids import AccountId, ChatKey
from ...domain.messages import ChatMessage, Delivery, Direction, Encryption
from . import sce, wire
from .devices import mark_of
from .plugin import XtOmemo
from .receive import Envelope
from .room_intake import NO_REAL_JID

log = logging.getLogger(__name__)
CLOSE_WAIT = 5.0  # seconds a disconnect waits for a decryption under way
REASONS: tuple[tuple[type[Exception], str], ...] = (
    (MessageNotForUs, "it was not encrypted for this device"),
    (SenderNotFound, "the sending device is not on the sender's published device list"),
    (SenderDistrusted, "it comes from a device you distrusted"),
    (NoSession, "there is no OMEMO session with the sending device"),
    (PublicDataInconsistency, "the sender's keys do not match what they published"),
    (KeyExchangeFailed, "the key exchange with the sending device failed"),
    (DecryptionFailed, "its ciphertext did not decrypt (damaged, replayed or forged)"),
)


class SeenRefs(Protocol):
    async def seen(self, account: AccountId, ref: str) -> bool: ...

    async def mark_seen(self, account: AccountId, ref: str) -> None: ...


class MemorySeen:
    def __init__(self) -> None:
        self.refs: set[tuple[AccountId, str]] = set()

    async def seen(self, account: AccountId, ref: str) -> bool:
        return (account, ref) in self.refs

    async def mark_seen(self, account: AccountId, ref: str) -> None:
        self.refs.add((account, ref))


@dataclass(frozen=True, slots=True)
class Outcome:
    body: str | None = None  # decrypted text
    encryption: Encryption = Encryption.UNDECRYPTABLE
    reason: str = ""  # why it is undecryptable; "" with body None: nothing to show
    reflection: bool = False  # a room's copy of a message this very device sent
    replaces: str | None = None  # OMEMO 2: a correction named inside the envelope


QUIET = Outcome()
REFLECTION = Outcome(reflection=True)


def _short(value: str | None) -> str | None:
    return value if value and len(value) <= sce.MAX_ID else None


def reason_of(exc: BaseException) -> str:
    for kind, text in REASONS:
        if isinstance(exc, kind):
            return text
    return f"it could not be decrypted ({type(exc).__name__})"


class Receiver:
    def __init__(self, plugin: XtOmemo, seen: SeenRefs, account: AccountId, own: str,
                 emit: Callable[[ev.Event], None],
                 learnt: Callable[[str], Awaitable[None]],
                 acknowledge: Callable[[ET.Element], None]) -> None:
        self._plugin, self._seen, self._account, self._own = plugin, seen, account, own
        self._emit, self._learnt, self._acknowledge = emit, learnt, acknowledge
        self._queue: asyncio.Queue[Envelope] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        self._own_device: int | None = None

    def deliver(self, envelope: Envelope) -> None:
        self._queue.put_nowait(envelope)
        if self._worker is None:
            self._worker = asyncio.ensure_future(self._work())

    async def _work(self) -> None:
        while True:
            envelope = await self._queue.get()
            try:
                await self.handle(envelope)
            except Exception as exc:  # one message must not stop the others
                log.warning("an OMEMO message could not be handled: %s", type(exc).__name__)

    async def close(self) -> None:
        """Stop after the message being decrypted (if any) is done; the rest stays on
        the server (offline storage, archive) for the next connection."""
        worker, self._worker = self._worker, None
        if worker is None:
            return
        try:
            async with asyncio.timeout(CLOSE_WAIT), self._plugin.lock:
                worker.cancel()
        except TimeoutError:
            worker.cancel()
        await asyncio.gather(worker, return_exceptions=True)

    async def handle(self, envelope: Envelope) -> None:
        outcome = await self.decrypt(envelope)
        if outcome.reflection:
            self._reflected(envelope)
            return
        if outcome.body is None and not outcome.reason:
            return
        if outcome.body is not None and envelope.live and envelope.nick is None:
            self._acknowledge(envelope.message)  # its ratchet is stored: receipt now
        self._emit(ev.MessageReceived(self._account, self._message(envelope, outcome)))

    def _reflected(self, envelope: Envelope) -> None:
        """Our own room message as the room relays (or archived) it: passed on as an
        OUTGOING message with its origin-id and no text, which core matches to the
        message we sent and keep (core/room_messages.py: DELIVERED, the room's
        stanza-id); never shown a second time. Only if this device's history no longer
        has it is it shown, as undecryptable, saying why."""
        self._emit(ev.MessageReceived(self._account, self._message(envelope, Outcome(
            reason="it was sent from this device, and its text is no longer in this "
                   "device's history"))))

    def _message(self, envelope: Envelope, outcome: Outcome) -> ChatMessage:
        outgoing = envelope.direction is Direction.OUTGOING
        sender = envelope.sender or f"{envelope.chat}/{envelope.nick}"
        return ChatMessage(
            id=uuid.uuid4().hex, chat=ChatKey(self._account, envelope.chat),
            direction=envelope.direction, sender=sender, body=outcome.body or "",
            timestamp=envelope.timestamp, encryption=outcome.encryption,
            delivery=Delivery.SENT if outgoing else Delivery.RECEIVED,
            stanza_id=envelope.stanza_id, origin_id=envelope.origin_id,
            error=outcome.reason or None, nick=envelope.nick,
            remote_id=_short(envelope.message.get("id")), replaces=outcome.replaces)

    async def decrypt(self, envelope: Envelope) -> Outcome:
        try:
            chosen = wire.choose(envelope.message)
        except wire.Malformed as exc:
            return Outcome(reason=str(exc)) if envelope.fallback else QUIET
        if chosen is None:
            return QUIET
        if envelope.nick is not None and not envelope.sender:
            empty = chosen[1].find(f"{{{chosen[0]}}}payload") is None
            return QUIET if empty else Outcome(reason=NO_REAL_JID)
        try:
            manager = await self._plugin.ready()
        except RuntimeError as exc:
            return Outcome(reason=f"OMEMO is not running on this connection: {exc}")
        async with self._plugin.lock:
            return await self._open(manager, envelope, *chosen)

    async def _open(self, manager: SessionManager, envelope: Envelope, namespace: str,
                    element: ET.Element) -> Outcome:
        empty = element.find(f"{{{namespace}}}payload") is None
        digest = wire.replay_digest(namespace, element, envelope.sender,
                                    await self._device(manager))
        ref = f"omemo-msg\0{digest}"
        if envelope.nick is not None and envelope.sender == self._own and \
                not wire.has_key_for(namespace, element, await self._device(manager)):
            return REFLECTION  # python-omemo never encrypts for the sending device
        if await self._seen.seen(self._account, ref):
            log.info("dropped an OMEMO message seen before (a replay or a second copy)")
            return QUIET
        try:
            message = await wire.parse(namespace, element, envelope.sender, self._own, manager)
            plaintext, device, _ = await manager.decrypt(message)
            await self._seen.mark_seen(self._account, ref)
        except wire.Malformed as exc:
            return QUIET if empty and not envelope.fallback else Outcome(reason=str(exc))
        except Exception as exc:
            log.info("OMEMO message not decrypted: %s", type(exc).__name__)
            return QUIET if empty else Outcome(reason=reason_of(exc))
        finally:
            await self._learnt(envelope.sender)
        if plaintext is None:
            return QUIET
        if namespace == wire.TWO:
            return self._open_envelope(plaintext, envelope, mark_of(device))
        return Outcome(body=plaintext.decode("utf-8", "replace"), encryption=mark_of(device))

    def _open_envelope(self, plaintext: bytes, envelope: Envelope, mark: Encryption) -> Outcome:
        to = self._own if envelope.direction is Direction.INCOMING and envelope.nick is None \
            else envelope.chat  # a room's messages are addressed to the room
        try:
            body, replaces = sce.read_envelope(plaintext, sender=envelope.sender, recipient=to)
        except sce.EnvelopeError as exc:
            return Outcome(reason=f"its OMEMO 2 envelope was refused: {exc}")
        return Outcome(body=body, encryption=mark, replaces=replaces) if body is not None \
            else QUIET

    async def _device(self, manager: SessionManager) -> int:
        if self._own_device is None:
            own, _ = await manager.get_own_device_information()
            self._own_device = own.device_id
        return self._own_device
