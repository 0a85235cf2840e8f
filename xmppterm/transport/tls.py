"""TLS client contexts: the one place where certificate policy is decided.

TLS 1.2 or newer, the certificate must verify and must name the host we expect.
With `ca_file`, ONLY that file is trusted (a private CA or a pinned server
certificate); without it, the system store.
"""

from __future__ import annotations

import ssl
from pathlib import Path


def client_context(ca_file: Path | None = None) -> ssl.SSLContext:
    """A client context that verifies the peer and its hostname."""
    if ca_file is None:
        ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    else:
        # create_default_context(cafile=...) loads only that file, not the system store.
        ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(ca_file))
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.check_hostname = True
    ctx.options |= ssl.OP_NO_COMPRESSION
    return ctx
