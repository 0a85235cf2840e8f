"""The command line: what `xmppterm --help` teaches."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from . import __version__
from .paths import default_config_path, default_data_dir

DESCRIPTION = """\
A terminal XMPP client for people whose safety depends on their messaging.

First time? Try it against a throwaway local server:
  xmppterm demo

Use your own account: run `xmppterm` and fill in the form, or write
~/.config/xmppterm/config.toml (chmod 600):
  [accounts.work]
  jid = "alice@example.org"
  password_command = "pass show xmpp/alice"

Everything xmppterm keeps on disk is encrypted under a passphrase that it asks
for at start (or reads from --passphrase-command).

Inside the client: /help lists commands, F1 lists keys, /lock locks, /quit leaves.
"""

EPILOG = """\
examples:
  xmppterm                       start with the default config
  xmppterm --config ~/burner.toml --data-dir ~/.burner
                                 a separate identity with its own files
  xmppterm --low-bandwidth       fewer bytes on the wire (SSH, Tor)
  xmppterm demo                  local demo server, nothing kept afterwards
  xmppterm --ephemeral           nothing written to disk this time
  xmppterm register --tor example.org
                                 create an account on example.org through Tor
  xmppterm passphrase            change the passphrase of the store
  xmppterm wipe --account burner destroy one identity's history and keys
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="xmppterm", description=DESCRIPTION, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"xmppterm {__version__}")
    parser.add_argument("--config", type=Path, default=None, metavar="PATH",
                        help=f"configuration file (default: {default_config_path()})")
    parser.add_argument("--data-dir", type=Path, default=None, metavar="PATH",
                        help=f"where history is kept (default: {default_data_dir()})")
    parser.add_argument("--low-bandwidth", action="store_true",
                        help="compact look that sends fewer bytes to the terminal (over SSH/Tor)")
    parser.add_argument("--theme", default=None, metavar="NAME",
                        help="theme from themes/NAME.tcss (default, compact)")
    parser.add_argument("--ephemeral", action="store_true",
                        help="keep nothing on disk this time: history and state live in memory")
    parser.add_argument("--passphrase-command", default=None, metavar="CMD",
                        help="read the store passphrase from the first line CMD prints")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = sub.add_parser(
        "demo", help="start a throwaway local Prosody with a demo account and an echo contact",
        description="Start a private Prosody on 127.0.0.1 (Debian package `prosody`), create "
        "an account and a companion that echoes what you send, and open xmppterm logged in. "
        "Everything lives in a temporary directory that is removed at exit.")
    demo.add_argument("--keep", action="store_true",
                      help="keep the temporary directory at exit (prints where it is)")
    _register_parser(sub)
    sub.add_parser(
        "passphrase", help="change the passphrase of the encrypted store",
        description="Change the passphrase that unlocks the store under --data-dir. Only the "
        "key file is rewritten; history stays as it is.")
    wipe = sub.add_parser(
        "wipe", help="destroy the stored data, or one identity's, after a typed confirmation",
        description="Destroy everything under --data-dir (the key file is overwritten first, "
        "so no copy of a record can be opened again), or with --account the records of one "
        "identity (asks for the passphrase).")
    wipe.add_argument("--account", default=None, metavar="NAME",
                      help="only this identity ([accounts.NAME])")
    return parser


def _register_parser(sub: Any) -> None:
    reg = sub.add_parser(
        "register", help="create a new account on a server (in-band), on the route you choose",
        description="Create an account on SERVER with in-band registration (XEP-0077) and add "
        "it as an identity. The connection takes the identity's route: --tor, --proxy, "
        "--direct, or by default what [settings] says; TLS is verified before anything is "
        "sent. The server's form is asked field by field (a CAPTCHA is shown as text and "
        "links, never opened); Enter at the password offers a strong generated one.")
    reg.add_argument("server", nargs="?", default=None, help="the server's domain, e.g. example.org")
    reg.add_argument("--name", default="main", help="the identity's name, [accounts.NAME] "
                     "(default: main)")
    reg.add_argument("--tor", action="store_true", help="through Tor (127.0.0.1:9050 unless "
                     "--proxy gives another address)")
    reg.add_argument("--proxy", default=None, metavar="URL", help="through this SOCKS5 proxy, "
                     "socks5://IP:PORT")
    reg.add_argument("--direct", action="store_true", help="no proxy, whatever [settings] says")
    reg.add_argument("--host", default=None, help="connect to this host (or .onion) instead")
    reg.add_argument("--port", type=int, default=None, help="connect to this port")
    reg.add_argument("--direct-tls", action="store_true", help="direct TLS (XEP-0368) "
                     "instead of STARTTLS")
    reg.add_argument("--ca-file", type=Path, default=None, metavar="PEM",
                     help="trust only this CA (or certificate) for the server")
    reg.add_argument("--tls-pin", default=None, metavar="PIN",
                     help="sha256/BASE64: trust only this server key (see tls_pin in the "
                     "README); a server with another key gets nothing")
    reg.add_argument("--keep-password", choices=("store", "config", "print"), default="store",
                     help="store: in the encrypted store (asks for its passphrase; default); "
                     "config: in the config file; print: shown once, kept nowhere")
