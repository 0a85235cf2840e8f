"""What core needs of a connection, so that it can be tested with a fake one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from ..config import AccountConfig
from ..domain.ports import EventSink
from ..protocol.errors import NotConnected

__all__ = ["Link", "LinkFactory", "NotConnected", "protocol_link_factory"]


class Link(Protocol):
    @property
    def online(self) -> bool: ...

    async def connect(self) -> None: ...

    async def disconnect(self) -> None: ...

    def send_chat(self, to: str, body: str, message_id: str) -> None: ...


LinkFactory = Callable[[AccountConfig, str, EventSink], Link]


def protocol_link_factory(account: AccountConfig, password: str, emit: EventSink) -> Link:
    """The real link: a hardened slixmpp client (imported late: tests may not need it)."""
    from ..protocol.link import ProtocolLink

    return ProtocolLink(account, password, emit)
