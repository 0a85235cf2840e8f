"""Shared fixtures: a throwaway Prosody on loopback and fresh accounts on it.

`prosody` is one server for the whole session: never kill or restart it in a
test; use `fresh_prosody` (a private server for one test) for that.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from xmppterm.devserver import Account, ProsodyServer
from xmppterm.devserver.prosody import PROSODY


def require_prosody() -> None:
    """Skip when Prosody is not installed; in CI (env CI set) fail instead."""
    if Path(PROSODY).exists():
        return
    reason = f"{PROSODY} is not installed (Debian: apt-get install prosody)"
    if os.environ.get("CI"):
        pytest.fail(f"integration tests need Prosody in CI: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def prosody(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProsodyServer]:
    """One Prosody for the session (hosts example.test and other.test). Do not kill it."""
    require_prosody()
    server = ProsodyServer(tmp_path_factory.mktemp("prosody"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def prosody_factory(tmp_path_factory: pytest.TempPathFactory,
                    ) -> Iterator[Callable[..., ProsodyServer]]:
    """Make private servers for one test: `prosody_factory(with_upload=True)` etc.

    Takes ProsodyServer's keyword arguments; starts the server unless start=False.
    Every server made is stopped after the test, whatever happened to it.
    """
    require_prosody()
    made: list[ProsodyServer] = []

    def make(*, start: bool = True, **options: Any) -> ProsodyServer:
        server = ProsodyServer(tmp_path_factory.mktemp("prosody-private"), **options)
        made.append(server)
        if start:
            server.start()
        return server

    try:
        yield make
    finally:
        for server in made:
            server.stop()


@pytest.fixture
def fresh_prosody(prosody_factory: Callable[..., ProsodyServer]) -> ProsodyServer:
    """A private, started Prosody for one test, free to be killed and restarted."""
    return prosody_factory()


@pytest.fixture
def account_factory(prosody: ProsodyServer) -> Callable[..., Account]:
    """Call with an optional host ("example.test" by default) for a new account."""

    def make(host: str | None = None) -> Account:
        return prosody.new_account(host)

    return make
