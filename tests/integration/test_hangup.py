"""When the terminal goes away (an SSH link drops, tmux is killed: SIGHUP) or the client
is asked to stop (SIGTERM), it quits as /quit does: `xmppterm demo` then stops its
Prosody and removes its temporary directory instead of leaving both behind."""

from __future__ import annotations

import fcntl
import os
import pty
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def prosody_of(tmp: Path) -> list[str]:
    """The Prosody processes started with a config under `tmp`."""
    found = subprocess.run(["pgrep", "-f", f"prosody --config {tmp}"], capture_output=True,
                           text=True, check=False)
    return found.stdout.split()


def until(check: object, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return True
        time.sleep(0.1)
    return False


@pytest.mark.parametrize("sig", [signal.SIGHUP, signal.SIGTERM], ids=["SIGHUP", "SIGTERM"])
def test_the_demo_cleans_up_when_its_terminal_goes_away(tmp_path: Path, sig: int) -> None:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    env = {**os.environ, "TMPDIR": str(tmp_path), "TERM": "xterm-256color"}
    child = subprocess.Popen([sys.executable, "-m", "xmppterm", "demo"], stdin=slave,
                             stdout=slave, stderr=slave, env=env, start_new_session=True)
    os.close(slave)
    screen = bytearray()

    def drain() -> None:  # the terminal's side: read what the app draws
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:
                return
            if not data:
                return
            screen.extend(data)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        assert until(lambda: b"DEMO" in screen and prosody_of(tmp_path), 60), \
            bytes(screen[-2000:])
        demo_dirs = [p for p in tmp_path.iterdir() if p.name.startswith("xmppterm-demo-")]
        assert len(demo_dirs) == 1
        time.sleep(1.0)  # the app is up and drawing
        child.send_signal(sig)
        assert child.wait(timeout=30) == 0  # a clean exit, not killed by the signal
        assert prosody_of(tmp_path) == []
        assert not demo_dirs[0].exists()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        for pid in prosody_of(tmp_path):
            os.kill(int(pid), signal.SIGKILL)
        os.close(master)
