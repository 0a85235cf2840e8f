"""The log file: 0600, in the data directory, never message text or secrets.

Libraries that log stanzas or plaintext (slixmpp at DEBUG logs every stanza;
python-omemo logs plaintext at DEBUG) are pinned to WARNING whatever the level.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

PINNED = ("slixmpp", "slixmpp_omemo", "omemo", "oldmemo", "twomemo", "asyncio", "textual")
LOG_NAME = "xmppterm.log"
_installed: list[logging.Handler] = []


def pin_noisy_loggers() -> None:
    for name in PINNED:
        logging.getLogger(name).setLevel(logging.WARNING)


def setup_logging(data_dir: Path | None, level: int = logging.INFO) -> None:
    """Log to a private file in `data_dir`, or nowhere when it is None."""
    root = logging.getLogger()
    for handler in _installed:
        root.removeHandler(handler)
        handler.close()
    _installed.clear()
    pin_noisy_loggers()
    if data_dir is None:  # nothing on disk, and nothing on the terminal the TUI draws
        _installed.append(logging.NullHandler())
        root.addHandler(_installed[-1])
        return
    path = data_dir / LOG_NAME
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.close(fd)
    path.chmod(0o600)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    _installed.append(handler)
    root.setLevel(level)
