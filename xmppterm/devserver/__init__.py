"""A private, throwaway Prosody on loopback for the test suite and `xmppterm demo`."""

from xmppterm.devserver.certs import CertFiles, make_certs, make_untrusted_certs
from xmppterm.devserver.prosody import ProsodyError, ProsodyServer, available_modules
from xmppterm.devserver.storage import Account

__all__ = [
    "Account",
    "CertFiles",
    "ProsodyError",
    "ProsodyServer",
    "available_modules",
    "make_certs",
    "make_untrusted_certs",
]
