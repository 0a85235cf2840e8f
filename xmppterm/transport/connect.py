"""Opening the byte stream of one XMPP connection.

The protocol layer never opens a socket itself: it hands a `Connector` the asyncio
protocol to attach, where to connect and (for direct TLS) the TLS context and the
name the certificate must carry. A SOCKS5 connector (remote DNS, per-account
credentials) will implement the same interface; it will set `local_dns = False` so
that the protocol layer makes no DNS query of its own.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable
from typing import Protocol

CONNECT_TIMEOUT = 30.0
ProtocolFactory = Callable[[], asyncio.BaseProtocol]


class Connector(Protocol):
    #: whether the caller may resolve names (SRV records) on this machine
    local_dns: bool

    async def open(self, factory: ProtocolFactory, host: str, port: int,
                   tls: ssl.SSLContext | None, server_hostname: str | None
                   ) -> asyncio.BaseTransport:
        """Connect and attach the protocol that `factory` returns; raise OSError (or
        ssl.SSLError, TimeoutError) if that fails. With `tls`, TLS starts with the
        first byte and the certificate must name `server_hostname`."""
        ...


class DirectConnector:
    """A plain TCP connection from this machine (name resolution included)."""

    local_dns = True

    def __init__(self, timeout: float = CONNECT_TIMEOUT) -> None:
        self.timeout = timeout

    async def open(self, factory: ProtocolFactory, host: str, port: int,
                   tls: ssl.SSLContext | None, server_hostname: str | None
                   ) -> asyncio.BaseTransport:
        loop = asyncio.get_running_loop()
        transport, _ = await asyncio.wait_for(
            loop.create_connection(factory, host, port, ssl=tls,
                                   server_hostname=server_hostname if tls else None),
            self.timeout,
        )
        return transport
