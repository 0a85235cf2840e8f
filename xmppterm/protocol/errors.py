"""Link failures and the words the user reads about them. No slixmpp here: core and
unit tests import this module without loading the XMPP library."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from ..domain.ids import AccountId


class NotConnected(Exception):
    """Raised by `ProtocolLink.send_chat` when the link is not online."""


class RequestFailed(Exception):
    """A request to the server (roster, blocking) was refused or not answered; the
    message is for the user (remote parts already shortened, sanitised when drawn)."""


class FailKind(Enum):
    CERTIFICATE = "certificate"  # the certificate did not verify
    PIN = "pin"  # it verified, but its key is not one of the account's tls_pin (detail: its pin)
    TLS_MISSING = "tls missing"  # no STARTTLS offered, stripped or refused
    TLS_ERROR = "tls error"  # the TLS handshake failed for another reason
    AUTH = "auth"  # the server refused the credentials
    NO_MECHANISM = "no mechanism"  # the server offers no SASL mechanism we allow


@dataclass(frozen=True, slots=True)
class Failure:
    """A failure that retrying cannot fix. `detail` is technical and short; where it
    comes from the server (a SASL condition, mechanism names) it has been cleaned."""

    kind: FailKind
    detail: str


_TOKEN = re.compile(r"[^A-Za-z0-9_.-]")


def clean_token(text: str, limit: int = 40) -> str:
    """A server-supplied name (mechanism, condition) reduced to harmless characters."""
    return _TOKEN.sub("?", text)[:limit]


def failure_reason(account: AccountId, jid: str, domain: str, failure: Failure) -> str:
    """The sentence the user sees: what happened and what to do."""
    section = f"[accounts.{account}]"
    match failure.kind:
        case FailKind.CERTIFICATE:
            return (f"The server's certificate for {domain} did not verify: {failure.detail}. "
                    f"If you run this server, fix its certificate; or set ca_file in {section}.")
        case FailKind.PIN:
            return (f"The server's key for {domain} does not match tls_pin in {section}: it "
                    f"presented {failure.detail}. Someone may be intercepting the connection, "
                    "so xmppterm stopped before sending anything (no password). Only if you "
                    "know the server changed its key (or you moved to another server), and "
                    f'have checked it another way, set tls_pin = "{failure.detail}".')
        case FailKind.TLS_MISSING:
            return (f"{domain} did not set up TLS encryption ({failure.detail}), so xmppterm "
                    "stopped before sending your password. Someone on the network may be "
                    "stripping encryption: try another network, or set tls = \"direct\" in "
                    f"{section} if the server supports direct TLS.")
        case FailKind.TLS_ERROR:
            return (f"The TLS connection to {domain} failed: {failure.detail}. No password was "
                    f"sent. Check host, port and tls in {section}.")
        case FailKind.AUTH:
            return (f"{domain} refused the password for {jid} ({failure.detail}). "
                    f"Check password or password_command in {section}.")
        case FailKind.NO_MECHANISM:
            return (f"{domain} offers no sign-in method that xmppterm allows (it offers: "
                    f"{failure.detail}). xmppterm signs in with SCRAM; to allow PLAIN over "
                    f"verified TLS, set allow_plain = true in {section}.")
    return f"The connection to {domain} failed: {failure.detail}."  # pragma: no cover
