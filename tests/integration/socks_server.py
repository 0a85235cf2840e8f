"""A recording SOCKS5 server on loopback (RFC 1928, RFC 1929 username/password) and a
recorder of every name lookup and socket connect made in the test process."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

ATYP_IPV4, ATYP_DOMAIN, ATYP_IPV6 = 1, 3, 4


@dataclass(frozen=True)
class Request:
    """One CONNECT request as the proxy saw it."""

    username: str | None
    password: str | None
    atyp: int
    host: str
    port: int

    @property
    def credentials(self) -> tuple[str | None, str | None]:
        return self.username, self.password


def reply(code: int) -> bytes:
    return bytes([5, code, 0, ATYP_IPV4, 0, 0, 0, 0, 0, 0])


class RecordingSocks:
    """Records each request and forwards it to a loopback port chosen by `routes`
    ((host, port) as the client named it -> port on 127.0.0.1). Modes: "forward",
    "hang" (accepts TCP, never answers), "close" (hangs up after the greeting),
    "bad-auth" (refuses every username/password), or `error` (reply code) set."""

    def __init__(self, routes: dict[tuple[str, int], int] | None = None, *,
                 mode: str = "forward", error: int = 0) -> None:
        self.routes = routes or {}
        self.mode, self.error = mode, error
        self.requests: list[Request] = []
        self.accepted = 0
        self.port = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        return f"socks5://127.0.0.1:{self.port}"

    async def __aenter__(self) -> RecordingSocks:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=2.0)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        self.accepted += 1
        try:
            await self._session(reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
            self._writers.discard(writer)
            self._tasks.discard(task)

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.mode == "hang":
            await reader.read()  # until the client gives up
            return
        auth = await self._authenticate(reader, writer)
        if auth is None:
            return
        version, _cmd, _rsv, atyp = await reader.readexactly(4)
        assert version == 5
        host = await self._address(reader, atyp)
        port = int.from_bytes(await reader.readexactly(2), "big")
        request = Request(*auth, atyp=atyp, host=host, port=port)
        self.requests.append(request)
        target = self.routes.get((host, port))
        code = self.error or (0 if target else 0x04)
        if code or target is None:
            writer.write(reply(code))
            await writer.drain()
            return
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", target)
        self._writers.add(up_writer)
        writer.write(reply(0))
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))

    async def _authenticate(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
                            ) -> tuple[str | None, str | None] | None:
        version, count = await reader.readexactly(2)
        methods = await reader.readexactly(count)
        assert version == 5
        if self.mode == "close":
            return None
        if 2 in methods:
            writer.write(b"\x05\x02")
            _, ulen = await reader.readexactly(2)
            user = (await reader.readexactly(ulen)).decode()
            (plen,) = await reader.readexactly(1)
            password = (await reader.readexactly(plen)).decode()
            ok = self.mode != "bad-auth"
            writer.write(b"\x01\x00" if ok else b"\x01\x01")
            return (user, password) if ok else None
        if 0 in methods:
            writer.write(b"\x05\x00")
            return None, None
        writer.write(b"\x05\xff")
        return None

    async def _address(self, reader: asyncio.StreamReader, atyp: int) -> str:
        if atyp == ATYP_DOMAIN:
            (length,) = await reader.readexactly(1)
            return (await reader.readexactly(length)).decode()
        size = 4 if atyp == ATYP_IPV4 else 16
        return str(ipaddress.ip_address(await reader.readexactly(size)))


async def _pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
    try:
        while data := await src.read(65536):
            dst.write(data)
            await dst.drain()
    except ConnectionError:
        pass
    finally:
        dst.close()


# -- the leak recorder -------------------------------------------------------------------
TRAP_SUFFIXES = (".test", ".onion")


@dataclass
class Leaks:
    """Every name looked up and every address connected to in this process while
    installed. Names of the test domains resolve to 127.0.0.1, so that a leak would
    also reach a listener instead of failing quietly."""

    lookups: list[str] = field(default_factory=list)
    connects: list[Any] = field(default_factory=list)

    def names(self) -> list[str]:
        """Lookups of anything but an IP literal."""
        return [n for n in self.lookups if not _is_ip(n)]


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def install_leak_recorder(monkeypatch: pytest.MonkeyPatch) -> Leaks:
    leaks = Leaks()
    real_getaddrinfo = socket.getaddrinfo
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def getaddrinfo(host: Any, port: Any, *args: Any, **kw: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        leaks.lookups.append(name)
        if name.endswith(TRAP_SUFFIXES):
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", int(port or 0)))]
        return real_getaddrinfo(host, port, *args, **kw)

    def recorder(real: Callable[..., Any]) -> Callable[..., Any]:
        def connect(sock: socket.socket, address: Any) -> Any:
            leaks.connects.append(address)
            return real(sock, address)
        return connect

    async def loop_getaddrinfo(self: Any, host: Any, *args: Any, **kw: Any) -> Any:
        return getaddrinfo(host, *args, **kw)

    async def no_resolve(*args: Any, **kw: Any) -> Any:
        leaks.lookups.append(f"slixmpp-resolve:{args[:1]}")
        raise OSError("resolver disabled in this test")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(asyncio.base_events.BaseEventLoop, "getaddrinfo", loop_getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", recorder(real_connect))
    monkeypatch.setattr(socket.socket, "connect_ex", recorder(real_connect_ex))
    monkeypatch.setattr("slixmpp.xmlstream.xmlstream.resolve", no_resolve)
    try:
        import aiodns
    except ImportError:
        return leaks
    for method in ("query", "query_dns", "gethostbyname", "getaddrinfo"):
        if hasattr(aiodns.DNSResolver, method):
            monkeypatch.setattr(aiodns.DNSResolver, method,
                                lambda *a, _m=method, **k: leaks.lookups.append(f"aiodns.{_m}"))
    return leaks
