"""SOCKS5 (RFC 1928) with username/password (RFC 1929): the route of a proxied identity.

What it guarantees (THREATS.md, "Transport and TLS"):
- No name is resolved on this machine. The proxy address must be an IP literal
  ("localhost" is taken as 127.0.0.1 without asking any resolver). The destination
  hostname goes to the proxy as a name (ATYP 0x03), `.onion` included; the proxy
  resolves it. A destination that already is an IP literal (a `host = "203.0.113.5"`
  the user wrote) goes as ATYP 0x01/0x04: nothing is looked up either way, and a
  proxy may refuse a numeric "name".
- The one socket opened is the one to the proxy. Every failure (refused, closed,
  an error reply, a handshake that hangs) raises `ProxyError`, an OSError with a
  sentence for the user (`ProxyTimeout` is also a TimeoutError); nothing falls back to
  a direct connection.
- The credentials are the identity's own: Tor (IsolateSOCKSAuth, on by default) puts
  streams with different credentials on different circuits. With credentials, only
  username/password authentication is offered unless `allow_no_auth` (a plain proxy
  such as `ssh -D` knows only "no authentication").
After the handshake, TLS (direct TLS or later STARTTLS) runs inside the tunnel and
the certificate is checked against the name the caller gives, as with a direct socket.
"""

from __future__ import annotations

import asyncio
import ipaddress
import secrets
import socket
import ssl

from ..config import AccountConfig
from .connect import CONNECT_TIMEOUT, Connector, DirectConnector, ProtocolFactory

VERSION, AUTH_VERSION, CONNECT = 0x05, 0x01, 0x01
NO_AUTH, USER_PASS, NO_ACCEPTABLE = 0x00, 0x02, 0xFF
ATYP_IPV4, ATYP_DOMAIN, ATYP_IPV6 = 0x01, 0x03, 0x04
ADDRESS_LENGTH = {ATYP_IPV4: 4, ATYP_IPV6: 16}
REPLIES = {
    0x01: "general failure",
    0x02: "its rules do not allow this connection",
    0x03: "the network is unreachable",
    0x04: "the host is unreachable or its name does not exist",
    0x05: "the server refused the connection",
    0x06: "the connection timed out (TTL expired)",
    0x07: "it does not support the CONNECT command",
    0x08: "it does not support this address type",
    # Tor's extended errors for onion services (SocksPort ExtendedErrors)
    0xF0: "the onion service was not found",
    0xF1: "the onion service descriptor is invalid",
    0xF2: "the introduction to the onion service failed",
    0xF3: "the rendezvous with the onion service failed",
    0xF4: "the onion service requires client authorization",
    0xF5: "the onion service refused the client authorization",
    0xF6: "the onion address is invalid",
    0xF7: "the introduction to the onion service timed out",
}


class ProxyError(OSError):
    """The proxy could not give us a tunnel; str() is the sentence the user reads."""


class ProxyTimeout(ProxyError, TimeoutError):
    """The proxy (or the connection it makes for us) did not answer in time."""


def new_isolation() -> tuple[str, str]:
    """Fresh random SOCKS credentials: a circuit of its own under Tor."""
    return secrets.token_hex(16), secrets.token_hex(16)


def proxy_ip(host: str) -> str:
    """The proxy host as an IP literal; "localhost" means 127.0.0.1. Never resolves."""
    if host.lower() == "localhost":
        return "127.0.0.1"
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        raise ValueError(f"the proxy address {host!r} is not an IP address: resolving it "
                         "would be a DNS query from this machine") from None


def greeting(methods: tuple[int, ...]) -> bytes:
    return bytes([VERSION, len(methods), *methods])


def auth_request(username: str, password: str) -> bytes:
    user, pw = username.encode(), password.encode()
    if not (0 < len(user) < 256 and 0 < len(pw) < 256):
        raise ProxyError("SOCKS5 usernames and passwords must be 1 to 255 bytes long")
    return bytes([AUTH_VERSION, len(user)]) + user + bytes([len(pw)]) + pw


def connect_request(host: str, port: int) -> bytes:
    """CONNECT to `host`: a hostname as ATYP domain, an IP literal as IPv4/IPv6."""
    if not 0 < port < 65536:
        raise ProxyError(f"{port} is not a TCP port")
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        address = bytes([ATYP_DOMAIN]) + _name(host)
    else:
        address = bytes([ATYP_IPV4 if ip.version == 4 else ATYP_IPV6]) + ip.packed
    return bytes([VERSION, CONNECT, 0x00]) + address + port.to_bytes(2, "big")


def _name(host: str) -> bytes:
    try:
        name = host.encode("ascii") if host.isascii() else host.encode("idna")
    except UnicodeError:
        raise ProxyError(f"the host name {host!r} cannot be sent to a SOCKS5 proxy") from None
    if not 0 < len(name) < 256:
        raise ProxyError("a SOCKS5 host name must be 1 to 255 bytes long")
    return bytes([len(name)]) + name


def reply_problem(code: int) -> str:
    return REPLIES.get(code, f"error code {code:#04x}")


class SocksConnector:
    """Opens every connection of one identity through one SOCKS5 proxy."""

    local_dns = False

    def __init__(self, proxy_host: str, proxy_port: int, username: str | None,
                 password: str | None, timeout: float = CONNECT_TIMEOUT, *,
                 tor: bool = False, allow_no_auth: bool = False) -> None:
        self.proxy = (proxy_ip(proxy_host), proxy_port)
        self.timeout = timeout
        self.tor = tor
        self._auth = (username, password) if username is not None and password is not None else None
        self.methods = ((USER_PASS,) if self._auth else ()) + (
            (NO_AUTH,) if allow_no_auth or not self._auth else ())
        ip = self.proxy[0]
        where = f"[{ip}]:{proxy_port}" if ":" in ip else f"{ip}:{proxy_port}"
        self.label = f"The {'Tor' if tor else 'SOCKS'} proxy at {where}"

    def __repr__(self) -> str:  # never the credentials
        return f"<SocksConnector {self.label[4:]}>"

    async def open(self, factory: ProtocolFactory, host: str, port: int,
                   tls: ssl.SSLContext | None, server_hostname: str | None
                   ) -> asyncio.BaseTransport:
        sock = await self.tunnel(host, port)
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self.timeout):
                transport, _ = await loop.create_connection(
                    factory, sock=sock, ssl=tls, server_hostname=server_hostname if tls else None)
        except BaseException:
            sock.close()
            raise
        return transport

    async def tunnel(self, host: str, port: int) -> socket.socket:
        """A connected socket whose bytes reach `host:port` through the proxy."""
        ip, proxy_port = self.proxy
        family = socket.AF_INET6 if ":" in ip else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setblocking(False)
        try:
            async with asyncio.timeout(self.timeout):
                await self._reach_proxy(sock, (ip, proxy_port))
                await self._negotiate(sock, host, port)
        except TimeoutError as exc:
            sock.close()
            if isinstance(exc, ProxyError):
                raise
            raise ProxyTimeout(f"{self.label} did not answer within {self.timeout:g} s"
                               f"{self._hint()}") from None
        except BaseException:
            sock.close()
            raise
        return sock

    def _hint(self) -> str:
        return ": is Tor running?" if self.tor else ": is it running?"

    async def _reach_proxy(self, sock: socket.socket, address: tuple[str, int]) -> None:
        try:
            await asyncio.get_running_loop().sock_connect(sock, address)
        except ConnectionRefusedError:
            raise ProxyError(f"{self.label} refused the connection{self._hint()}") from None
        except OSError as exc:
            raise ProxyError(f"{self.label} cannot be reached "
                             f"({exc.strerror or type(exc).__name__})") from None

    async def _negotiate(self, sock: socket.socket, host: str, port: int) -> None:
        await self._send(sock, greeting(self.methods))
        version, method = await self._recv(sock, 2)
        self._check_version(version)
        if method == USER_PASS and self._auth:
            await self._send(sock, auth_request(*self._auth))
            _, status = await self._recv(sock, 2)
            if status != 0x00:
                raise ProxyError(f"{self.label} refused the SOCKS username and password")
        elif method != NO_AUTH or NO_AUTH not in self.methods:
            raise ProxyError(f"{self.label} accepts none of the authentication methods "
                             "offered (a SOCKS username and password)")
        await self._send(sock, connect_request(host, port))
        version, reply, _, atyp = await self._recv(sock, 4)
        self._check_version(version)
        if reply != 0x00:
            raise ProxyError(f"{self.label} could not connect to {host} port {port}: "
                             f"{reply_problem(reply)}")
        await self._skip_bound_address(sock, atyp)

    def _check_version(self, version: int) -> None:
        if version != VERSION:
            raise ProxyError(f"{self.label} does not speak SOCKS5")

    async def _skip_bound_address(self, sock: socket.socket, atyp: int) -> None:
        if atyp == ATYP_DOMAIN:
            (length,) = await self._recv(sock, 1)
        elif atyp in ADDRESS_LENGTH:
            length = ADDRESS_LENGTH[atyp]
        else:
            raise ProxyError(f"{self.label} sent a malformed SOCKS5 reply")
        await self._recv(sock, length + 2)

    async def _send(self, sock: socket.socket, data: bytes) -> None:
        try:
            await asyncio.get_running_loop().sock_sendall(sock, data)
        except OSError as exc:
            raise self._closed(exc) from None

    async def _recv(self, sock: socket.socket, size: int) -> bytes:
        """Exactly `size` bytes: nothing of the tunnelled stream is read here."""
        loop, data = asyncio.get_running_loop(), b""
        while len(data) < size:
            try:
                chunk = await loop.sock_recv(sock, size - len(data))
            except OSError as exc:
                raise self._closed(exc) from None
            if not chunk:
                raise self._closed(None)
            data += chunk
        return data

    def _closed(self, exc: OSError | None) -> ProxyError:
        why = f" ({exc.strerror or type(exc).__name__})" if exc else ""
        return ProxyError(f"{self.label} closed the connection during the SOCKS5 handshake{why}")


def connector_for(account: AccountConfig, isolation: tuple[str, str] | None = None,
                  timeout: float = CONNECT_TIMEOUT) -> Connector:
    """The route the account's configuration asks for. Without configured credentials a
    proxied account uses `isolation` (the identity's own pair, stable for the session),
    or a fresh random pair when none is given."""
    proxy = account.proxy
    if proxy is None:
        return DirectConnector(timeout)
    if proxy.username is not None and proxy.password is not None:
        user, password, no_auth = proxy.username, proxy.password, False
    else:
        (user, password), no_auth = isolation or new_isolation(), not proxy.tor
    return SocksConnector(proxy.host, proxy.port, user, password, timeout,
                          tor=proxy.tor, allow_no_auth=no_auth)
