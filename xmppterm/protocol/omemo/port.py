"""What core sees of OMEMO on a link. No slixmpp or python-omemo here: core and its
unit tests import this module without loading either library."""

from __future__ import annotations

from typing import Protocol

from ...domain.messages import Encryption
from ...domain.omemo import Device, DeviceTrust


class OmemoRefused(Exception):
    """Encryption did not happen, so nothing was sent; `reason` is for the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Sealed(Protocol):
    """A message encrypted and ready to send (by the link that sealed it)."""

    @property
    def encryption(self) -> Encryption: ...

    @property
    def skipped(self) -> tuple[str, ...]:
        """Devices that could not be encrypted for (their keys could not be fetched)."""
        ...


class OmemoPort(Protocol):
    async def has_devices(self, jid: str) -> bool | None:
        """Whether `jid` publishes OMEMO devices; None when that cannot be found out."""
        ...

    async def devices(self, jid: str | None) -> tuple[tuple[Device, ...], tuple[Device, ...]]:
        """(our devices, the devices of `jid`); raises OmemoRefused if OMEMO is off."""
        ...

    async def set_trust(self, jid: str | None, target: str, trust: DeviceTrust,
                        require_fingerprint: bool) -> str:
        """Set the trust of a device (ours, or `jid`'s); returns what was done, raises
        OmemoRefused with what went wrong."""
        ...

    async def remove_own_device(self, device_id: int) -> str: ...
