"""What core needs of a connection, so that it can be tested with a fake one."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Protocol

from ..config import AccountConfig
from ..domain.ids import AccountId
from ..domain.ports import EventSink
from ..protocol.errors import NotConnected
from ..protocol.muc.port import RoomPort
from ..protocol.omemo.port import Sealed
from ..store.store import Store

__all__ = ["ISOLATION", "Link", "LinkFactory", "NotConnected", "SocksIsolation",
           "protocol_link_factory", "store_link_factory"]


class Link(Protocol):
    @property
    def online(self) -> bool: ...

    async def connect(self) -> None: ...

    async def disconnect(self) -> None: ...

    def send_chat(self, to: str, body: str, message_id: str,
                  replaces: str | None = None) -> bool:
        """True: SENT will come as an event (the server's ack); False: sent once written.
        `replaces`: a correction (XEP-0308) of our message with that id."""
        ...

    @property
    def resumable(self) -> bool:
        """After a loss: the same link may `resume()` the stream (XEP-0198), once."""
        ...

    async def resume(self) -> None: ...

    def send_chat_state(self, to: str, state: str) -> bool:
        """A chat state (XEP-0085) as the identity's setting allows; True when sent."""
        ...

    def send_sealed(self, sealed: Sealed) -> bool:
        """Send an OMEMO message sealed by this link (core/omemo.py); like send_chat."""
        ...

    async def catch_up(self, marker: str | None) -> None:
        """Read the server archive after `marker`; reports ArchivePage events."""
        ...

    @property
    def rooms(self) -> RoomPort:
        """Group chats on this link (protocol/muc/port.py); core reads it through
        core.room_messages.rooms_of (a fake link in a unit test may have none)."""
        ...


LinkFactory = Callable[[AccountConfig, str, EventSink], Link]


class SocksIsolation:
    """Random SOCKS5 credentials, one pair per identity (account name and JID) for the
    life of the process: reused on every reconnect, never given to another identity, so
    that Tor (IsolateSOCKSAuth) keeps each identity on circuits of its own."""

    def __init__(self) -> None:
        self._pairs: dict[tuple[AccountId, str], tuple[str, str]] = {}

    def credentials(self, account: AccountConfig) -> tuple[str, str]:
        key = (account.id, account.jid)
        if key not in self._pairs:
            self._pairs[key] = (secrets.token_hex(16), secrets.token_hex(16))
        return self._pairs[key]


ISOLATION = SocksIsolation()


def protocol_link_factory(account: AccountConfig, password: str, emit: EventSink) -> Link:
    """The real link: a hardened slixmpp client (imported late: tests may not need it),
    on the account's route (its proxy, with the identity's own credentials, or direct)."""
    from ..protocol.link import ProtocolLink

    return ProtocolLink(account, password, emit, socks_auth=ISOLATION.credentials(account))


def store_link_factory(store: Store) -> LinkFactory:
    """The real link (as above) with `store` keeping each identity's OMEMO keys and
    sessions; without it (`protocol_link_factory`) OMEMO is off."""

    def make(account: AccountConfig, password: str, emit: EventSink) -> Link:
        from ..protocol.link import ProtocolLink

        return ProtocolLink(account, password, emit, socks_auth=ISOLATION.credentials(account),
                            records=store)

    return make
