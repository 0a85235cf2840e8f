"""TLS public-key pins (`tls_pin`): pure parsing and formatting, no I/O.

A pin is the SHA-256 of a server key's SubjectPublicKeyInfo (DER), in base64, as HPKP
(RFC 7469) and curl's `--pinnedpubkey "sha256//…"` write it. We accept both the
`sha256/` and curl's `sha256//` prefix and keep one canonical form, `sha256/BASE64`,
for comparing and showing. The hash itself is computed in transport/tls.py.
"""

from __future__ import annotations

import base64
import binascii

PIN_PREFIX = "sha256/"
PIN_PREFIXES = ("sha256//", "sha256/")  # the longer first: curl's form
DIGEST_SIZE = 32  # bytes of a SHA-256
PIN_FORM = ('tls_pin = "sha256/BASE64" (the base64 SHA-256 of the server key\'s '
            'SubjectPublicKeyInfo; "sha256//BASE64" works too), or a list of them')


class InvalidPin(ValueError):
    """A pin that is not `sha256/` or `sha256//` and the base64 of 32 bytes."""


def format_pin(digest: bytes) -> str:
    """The canonical pin of a SHA-256 digest."""
    if len(digest) != DIGEST_SIZE:
        raise InvalidPin(f"a SHA-256 digest has {DIGEST_SIZE} bytes, not {len(digest)}")
    return PIN_PREFIX + base64.b64encode(digest).decode("ascii")


def parse_pin(text: str) -> str:
    """`sha256/BASE64` or `sha256//BASE64` (surrounding blanks allowed) in canonical form.

    Base64 may itself start with "/", so "sha256//…" is read both ways: only one of
    them can be the 44 characters of a SHA-256 (they differ in length by one)."""
    stripped = text.strip()
    bodies = [stripped[len(p):] for p in PIN_PREFIXES if stripped.startswith(p)]
    if not bodies:
        raise InvalidPin(f"{_show(stripped)} does not start with sha256/ or sha256//")
    problems = []
    for body in bodies:
        try:
            return format_pin(_digest(body))
        except InvalidPin as exc:
            problems.append(str(exc))
    raise InvalidPin(f"{_show(stripped)} {problems[0]}")


def _digest(body: str) -> bytes:
    try:
        digest = base64.b64decode(body.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise InvalidPin("is not valid base64 after the prefix") from None
    if len(digest) != DIGEST_SIZE:
        raise InvalidPin(f"holds {len(digest)} bytes, not the {DIGEST_SIZE} of a SHA-256")
    return digest


def parse_pins(value: object) -> tuple[str, ...]:
    """A config value (one pin or a non-empty list of pins) as canonical pins, without
    repeats, in the order given."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        raise InvalidPin("must be a pin or a non-empty list of pins")
    if not all(isinstance(item, str) for item in items):
        raise InvalidPin("must hold only strings")
    return tuple(dict.fromkeys(parse_pin(item) for item in items))


def _show(text: str, limit: int = 60) -> str:
    """The user's own value, shortened and without control characters, for the error."""
    shown = "".join(ch if ch.isprintable() else "?" for ch in text[:limit])
    return repr(shown + ("…" if len(text) > limit else ""))
