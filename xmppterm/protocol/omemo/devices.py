"""The library's device information as domain values, and trust levels both ways."""

from __future__ import annotations

from omemo.session_manager import SessionManager
from omemo.types import DeviceInformation
from slixmpp_omemo import TrustLevel

from ...domain.messages import Encryption
from ...domain.omemo import Device, DeviceTrust
from .wire import TWO

TRUST_OF_LEVEL = {
    TrustLevel.TRUSTED.value: DeviceTrust.VERIFIED,
    TrustLevel.BLINDLY_TRUSTED.value: DeviceTrust.BLIND,
    TrustLevel.UNDECIDED.value: DeviceTrust.UNDECIDED,
    TrustLevel.DISTRUSTED.value: DeviceTrust.DISTRUSTED,
}
LEVEL_OF_TRUST = {trust: level for level, trust in TRUST_OF_LEVEL.items()}


def fingerprint(identity_key: bytes) -> str:
    """64 hex characters: the library's own formatter, groups joined."""
    return "".join(SessionManager.format_identity_key(identity_key))


def to_device(info: DeviceInformation, own_device: int | None = None) -> Device:
    active = dict(info.active)
    return Device(
        jid=info.bare_jid, device_id=info.device_id,
        fingerprint=fingerprint(info.identity_key),
        trust=TRUST_OF_LEVEL.get(info.trust_level_name, DeviceTrust.UNDECIDED),
        active=any(active.get(ns, False) for ns in info.namespaces),
        current=own_device is not None and info.device_id == own_device,
        omemo2=TWO in info.namespaces and active.get(TWO, False))


def sorted_devices(infos: frozenset[DeviceInformation], own_device: int | None = None
                   ) -> tuple[Device, ...]:
    devices = (to_device(info, own_device) for info in infos)
    return tuple(sorted(devices, key=lambda d: (not d.current, not d.active, d.device_id)))


def mark_of(info: DeviceInformation) -> Encryption:
    """How a message from (or to) this device is marked: verified, or not."""
    if info.trust_level_name == TrustLevel.TRUSTED.value:
        return Encryption.OMEMO_TRUSTED
    return Encryption.OMEMO_UNTRUSTED
