"""Loopback port helpers for the local test and demo server (no remote connections)."""

from __future__ import annotations

import socket
import time

POLL_INTERVAL = 0.05


def free_tcp_port(host: str = "127.0.0.1") -> int:
    """A TCP port on `host` that nothing listens on right now.

    The port is released before returning, so another process could take it in
    the meantime; on a loopback interface in a test run that is rare enough.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
    return port


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    """Whether something accepts TCP connections on `host:port` now."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_for_port(host: str, port: int, timeout: float = 10.0) -> bool:
    """Poll until `host:port` accepts a TCP connection; False if `timeout` passes first."""
    deadline = time.monotonic() + timeout
    while True:
        if port_open(host, port, timeout=min(0.5, timeout)):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(POLL_INTERVAL)
