"""TLS client contexts: the one place where certificate policy is decided.

TLS 1.2 or newer, the certificate must verify and must name the host we expect.
With `ca_file`, ONLY that file is trusted (a private CA or a pinned server
certificate); without it, the system store. A `tls_pin` narrows that further: the
protocol client compares `spki_pin` of the verified server certificate with it.
"""

from __future__ import annotations

import asyncio
import hashlib
import ssl
from pathlib import Path

from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from cryptography.x509 import load_der_x509_certificate

from ..domain.pins import format_pin


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


def spki_pin(der_cert: bytes) -> str:
    """The pin of a DER certificate: "sha256/" + base64(SHA-256(SubjectPublicKeyInfo)),
    as HPKP and curl's --pinnedpubkey compute it. Raises ValueError on a bad certificate."""
    key = load_der_x509_certificate(der_cert).public_key()
    spki = key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return format_pin(hashlib.sha256(spki).digest())


def pin_mismatch(transport: asyncio.BaseTransport, pins: tuple[str, ...]) -> str | None:
    """None when `transport` is not (yet) TLS, or its peer's key is one of `pins`; else
    what the peer presented instead: its pin, for the user to see."""
    ssl_object = transport.get_extra_info("ssl_object")
    if ssl_object is None:
        return None  # plain TCP before STARTTLS: only the stream header and <starttls/>
    der = ssl_object.getpeercert(binary_form=True)
    try:
        actual = spki_pin(der) if der else "no certificate"
    except ValueError:
        actual = "an unreadable certificate"
    return None if actual in pins else actual
