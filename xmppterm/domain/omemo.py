"""OMEMO as the rest of the program sees it: settings, devices, fingerprints, and the
intents and events of the OMEMO commands. Pure: no I/O, no library types.

A fingerprint is the 64 lowercase hex characters of a device's Curve25519 identity
key (what python-omemo's `format_identity_key` gives, and what Conversations puts
into its `xmpp:` URIs); it is shown in eight groups of eight.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from urllib.parse import quote

from .events import Event
from .ids import ChatKey
from .intents import Intent

FINGERPRINT_HEX = 64
GROUP = 8
_HEX = re.compile(r"[0-9a-f]+")
# What may stay unescaped in the JID part of an `xmpp:` URI (RFC 5122, minus `?#;=`).
_URI_SAFE = "@/!$&'()*+,:"


class OmemoMode(Enum):
    """Per identity: `default` encrypts chats whose contact has OMEMO devices (and any
    chat turned on with /omemo on); `always` every chat; `never` none."""

    DEFAULT = "default"
    ALWAYS = "always"
    NEVER = "never"


class TrustMode(Enum):
    """Blind trust before verification, or every device decided by the user."""

    BTBV = "btbv"
    MANUAL = "manual"


class DeviceTrust(Enum):
    VERIFIED = "verified"  # the user compared the fingerprint
    BLIND = "blindly trusted"  # trusted before any device of the contact was verified
    UNDECIDED = "not yet trusted"
    DISTRUSTED = "distrusted"


class ChatSecurity(Enum):
    """What the status line says about the chat shown."""

    PLAIN = "PLAIN"
    OMEMO_VERIFIED = "OMEMO VERIFIED"
    OMEMO_UNVERIFIED = "OMEMO UNVERIFIED"


@dataclass(frozen=True, slots=True)
class Device:
    """One OMEMO device of an account (ours or a contact's)."""

    jid: str
    device_id: int
    fingerprint: str  # 64 hex characters
    trust: DeviceTrust
    active: bool = True
    current: bool = False  # this very device (xmppterm on this machine)
    omemo2: bool = False  # announced under urn:xmpp:omemo:2


def group_fingerprint(fingerprint: str) -> str:
    """`0123abcd 4567ef01 …`: eight groups of eight hex characters."""
    return " ".join(fingerprint[i:i + GROUP] for i in range(0, len(fingerprint), GROUP))


def normalise_fingerprint(text: str) -> str | None:
    """The 64 hex characters of a typed fingerprint (spaces, colons and a leading `05`
    key type allowed), or None if it is not one."""
    hexes = re.sub(r"[\s:]", "", text).lower()
    if len(hexes) == FINGERPRINT_HEX + 2 and hexes.startswith("05"):
        hexes = hexes[2:]
    if len(hexes) != FINGERPRINT_HEX or not _HEX.fullmatch(hexes):
        return None
    return hexes


def find_device(devices: tuple[Device, ...], target: str) -> Device | None:
    """The device named by a full fingerprint or a device id, or None."""
    fingerprint = normalise_fingerprint(target)
    if fingerprint is not None:
        return next((d for d in devices if d.fingerprint == fingerprint), None)
    text = target.strip()
    if not text.isdigit() or len(text) > 10:
        return None
    return next((d for d in devices if d.device_id == int(text)), None)


def fingerprint_uri(jid: str, devices: tuple[Device, ...]) -> str:
    """The `xmpp:` URI Conversations scans to verify: `xmpp:JID?omemo-sid-ID=HEX;…`."""
    pairs = ";".join(f"omemo-sid-{d.device_id}={d.fingerprint}" for d in devices)
    address = quote(jid, safe=_URI_SAFE)
    return f"xmpp:{address}?{pairs}" if pairs else f"xmpp:{address}"


def chat_security(enabled: bool, devices: tuple[Device, ...]) -> ChatSecurity:
    """VERIFIED when every active device that would get our messages (the contact's
    and our own other ones, distrusted ones aside) is verified; else UNVERIFIED."""
    if not enabled:
        return ChatSecurity.PLAIN
    used = [d for d in devices if d.active and not d.current and d.trust is not DeviceTrust.DISTRUSTED]
    if used and all(d.trust is DeviceTrust.VERIFIED for d in used):
        return ChatSecurity.OMEMO_VERIFIED
    return ChatSecurity.OMEMO_UNVERIFIED


# -- intents (the OMEMO commands) --------------------------------------------------------
@dataclass(frozen=True, slots=True)
class OmemoIntent(Intent):
    """Base of the OMEMO intents: core hands them to the identity's OMEMO part."""


@dataclass(frozen=True, slots=True)
class SetChatOmemo(OmemoIntent):
    """/omemo on|off in a chat."""

    chat: ChatKey
    enabled: bool


@dataclass(frozen=True, slots=True)
class ShowOmemo(OmemoIntent):
    """/fingerprint, /devices, /qr: ask for our devices (and the chat's contact's)."""

    chat: ChatKey | None
    purpose: str  # "fingerprint", "devices" or "qr"


@dataclass(frozen=True, slots=True)
class SetDeviceTrust(OmemoIntent):
    """/trust, /verify, /distrust: `target` is a device id or a fingerprint."""

    chat: ChatKey | None
    target: str
    trust: DeviceTrust
    require_fingerprint: bool = False  # /verify: only a full fingerprint will do


@dataclass(frozen=True, slots=True)
class RemoveOwnDevice(OmemoIntent):
    """/devices remove ID: take a stale device of ours off the published device list."""

    device_id: int


# -- events ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class OmemoDevices(Event):
    """Answer to ShowOmemo: our devices and, in a chat, the contact's."""

    own_jid: str
    own: tuple[Device, ...]
    chat: ChatKey | None
    contact: tuple[Device, ...]
    purpose: str


@dataclass(frozen=True, slots=True)
class ChatSecurityChanged(Event):
    chat: ChatKey
    security: ChatSecurity


@dataclass(frozen=True, slots=True)
class NewOmemoDevice(Event):
    """A device appeared on a device list (a contact's, or our own: chat None)."""

    chat: ChatKey | None
    device: Device
