"""`xmppterm demo`: a throwaway local Prosody, a demo account and an echo companion.

The server (config, data, certificates) lives in one temporary directory that is
removed at exit; the client keeps its history in memory only (as with --ephemeral).
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
from pathlib import Path

from .config import AccountConfig, Config, Settings
from .core.manager import SessionManager
from .domain.ids import AccountId
from .store.files import atomic_write

PROSODY_MISSING = """\
xmppterm demo needs Prosody, the XMPP server it starts privately on 127.0.0.1.
Install it with:  apt-get install prosody   (as root, or with sudo)
The system-wide Prosody service is not used; you may stop it: systemctl disable --now prosody
"""


def run_demo(keep: bool = False, low_bandwidth: bool = False, theme: str | None = None) -> int:
    from .devserver.prosody import PROSODY

    if not Path(PROSODY).exists():
        print(PROSODY_MISSING, file=sys.stderr, end="")
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="xmppterm-demo-"))
    try:
        return asyncio.run(_demo(tmp, low_bandwidth, theme or "default"))
    finally:
        if keep:
            print(f"xmppterm demo: kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


async def _demo(tmp: Path, low_bandwidth: bool, theme: str) -> int:
    from .devserver import ProsodyServer
    from .protocol.companion import EchoCompanion
    from .run import run_client

    server = ProsodyServer(tmp / "server")
    await asyncio.to_thread(server.start)
    you, echo = server.create_user("you"), server.create_user("echo")
    server.befriend(you, echo, name_a="You", name_b="Echo (demo companion)")
    secret = tmp / "password"
    atomic_write(secret, you.password.encode())
    account = AccountConfig(
        id=AccountId("demo"), jid=you.jid, password_command=f"cat {secret}",
        host="127.0.0.1", port=server.c2s_port, ca_file=server.ca_file)
    companion = EchoCompanion(echo.jid, echo.password, server.ca_file, greet=you.jid,
                              room=f"lobby@{server.conference_domain}")

    async def start_companion(_manager: SessionManager) -> None:
        companion.connect(host="127.0.0.1", port=server.c2s_port)

    try:
        return await run_client(
            Config(None, Settings(low_bandwidth=low_bandwidth, theme=theme), (account,)),
            None, low_bandwidth=low_bandwidth, theme=theme,
            status_text="DEMO", manager_hook=start_companion)
    finally:
        companion.disconnect()
        await asyncio.to_thread(server.stop)
