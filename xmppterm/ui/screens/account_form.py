"""First-run form: one identity, validated, returned as the TOML table to write.

`dismiss()`es with the `[accounts.<name>]` table plus a `"name"` key (the identity
name; the caller pops it), or with None when the user cancels. The table is checked
with `config.parse_config`, so what the form accepts the config loader accepts.
"""

from __future__ import annotations

import re
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from ...config import ConfigError, parse_config
from ...domain.ids import InvalidJid, parse_jid
from ..widgets.ordered_input import OrderedInput

AccountTable = dict[str, object]
NAME_RE = re.compile(r"[A-Za-z0-9_-]{1,40}")
PIN_HINT = "sha256/BASE64: only this server key (README: tls_pin)"
FIELDS = (
    ("jid", "JID", "name@example.org", False),
    ("password", "Password", "kept in the encrypted store; or give a command", True),
    ("password_command", "Password command", "e.g. pass show xmpp/me (safer)", False),
    ("host", "Host (optional)", "server name or .onion; empty: from the JID", False),
    ("port", "Port (optional)", "5222 (STARTTLS) or 5223 (direct TLS)", False),
    ("ca_file", "CA file (optional)", "PEM file: trust only it for this server", False),
    ("tls_pin", "Key pin (optional)", PIN_HINT, False),
    ("name", "Identity name", "main (shown in the status line)", False),
)


def build_table(values: dict[str, str], direct_tls: bool) -> tuple[AccountTable | None, str]:
    """The account table from the form's strings, or None and what to fix."""
    name = values.get("name", "").strip() or "main"
    if not NAME_RE.fullmatch(name):
        return None, "Identity name: use letters, digits, - and _ only."
    try:
        jid = parse_jid(values.get("jid", ""))
    except InvalidJid as exc:
        return None, f"JID: {exc}."
    if not jid.local or jid.resource:
        return None, "JID: write it as name@example.org (no /resource)."
    password = values.get("password", "")
    command = values.get("password_command", "").strip()
    if bool(password) == bool(command):
        return None, "Give a password OR a password command (e.g. pass show xmpp/me)."
    table: AccountTable = {"jid": jid.bare, "tls": "direct" if direct_tls else "starttls"}
    table["password_command" if command else "password"] = command or password
    host = values.get("host", "").strip()
    if host:
        if any(ch.isspace() or ch in "/@:" for ch in host):
            return None, "Host: a server name only, without spaces, / @ or :."
        table["host"] = host
    port_text = values.get("port", "").strip()
    if port_text:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            return None, "Port: a number from 1 to 65535."
        table["port"] = int(port_text)
    for key in ("ca_file", "tls_pin"):
        if text := values.get(key, "").strip():
            table[key] = text
    try:
        config = parse_config({"accounts": {name: dict(table)}})
    except ConfigError as exc:
        return None, str(exc)
    if "tls_pin" in table:  # as the loader reads it: "sha256/BASE64"
        table["tls_pin"] = config.accounts[0].tls_pins[0]
    return {"name": name, **table}, ""


def tls_label(direct: bool) -> Text:
    mode = "direct TLS (XEP-0368)" if direct else "STARTTLS"
    return Text(f"{mode}  (Enter: change)")


class AccountForm(ModalScreen[AccountTable | None]):
    """Asks for one identity. Enter saves, Escape cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, initial: AccountTable | None = None, error: str = "") -> None:
        super().__init__()
        self._initial = initial or {}
        self._error = error
        self._direct = self._initial.get("tls") == "direct"

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="account-form"):
            yield Static(Text("Add an identity"), id="form-title")
            yield Static(Text("Tab: next field, Enter: save, Escape: cancel. TLS is always on. "
                              "No account yet? Escape, then /register creates one."),
                         classes="form-hint")
            for key, label, hint, secret in FIELDS:
                with Horizontal(classes="form-row"):
                    yield Label(Text(label), classes="form-label")
                    value = self._initial.get(key)
                    yield OrderedInput(value="" if value is None else str(value), placeholder=hint,
                                password=secret, id=f"field-{key}", compact=True)
            with Horizontal(classes="form-row"):
                yield Label(Text("TLS"), classes="form-label")
                yield Button(tls_label(self._direct), id="field-tls", compact=True)
            yield Static(Text(self._error), id="form-error")
            with Horizontal(id="form-buttons"):
                yield Button("Save", id="save", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#field-jid", Input).focus()

    def values(self) -> dict[str, str]:
        return {key: self.query_one(f"#field-{key}", Input).value for key, *_ in FIELDS}

    def show_error(self, text: str) -> None:
        self.query_one("#form-error", Static).update(Text(text))

    @on(Button.Pressed, "#field-tls")
    def toggle_tls(self, event: Button.Pressed) -> None:
        event.stop()
        self._direct = not self._direct
        event.button.label = tls_label(self._direct)

    @on(Input.Submitted)
    @on(Button.Pressed, "#save")
    def save(self, event: Input.Submitted | Button.Pressed) -> None:
        event.stop()
        table, problem = build_table(self.values(), self._direct)
        if table is None:
            self.show_error(problem)
            return
        self.dismiss(table)

    @on(Button.Pressed, "#cancel")
    def cancel_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)
