"""Sign-up form (`/register`): create an account in-band (XEP-0077), on the route chosen.

Three steps in one modal screen: where (server, identity name, route, TLS), the
server's own form (every field it sends; a CAPTCHA as text and links, never fetched;
a strong password offered), and, if the new identity could not be saved, its name
again. The account table goes to `save` (the first-run writer: the password goes
to the encrypted store, not the config file). Dismisses with the new JID, or None.
Every string from the server is sanitised (`domain.registration`) and drawn as Text.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static, TextArea

from ...domain.registration import (
    MULTI_KINDS,
    ROUTE_CHOICES,
    FormField,
    RegistrationFailed,
    RouteChoice,
    SignUp,
    SignUpDone,
    SignUpRequest,
    SignUpSession,
    field_lines,
    form_lines,
    generate_password,
    preset,
    read_pin,
)
from ..widgets.ordered_input import OrderedInput
from .account_form import PIN_HINT

SaveAccount = Callable[[dict[str, object]], Awaitable[str | None]]
ROUTE_LABELS: dict[RouteChoice, str] = {
    "default": "as [settings] says", "tor": "Tor", "proxy": "SOCKS5 proxy",
    "direct": "direct (no proxy)",
}
WHERE = (
    ("domain", "Server", "example.org"),
    ("name", "Identity name", "main (shown in the status line)"),
    ("proxy", "Proxy", "socks5://IP:PORT (Tor: empty means 127.0.0.1:9050)"),
    ("host", "Host (optional)", "server name or .onion; empty: the server's name"),
    ("port", "Port (optional)", "5222 (STARTTLS) or 5223 (direct TLS)"),
    ("ca_file", "CA file (optional)", "PEM file: trust only it for this server"),
    ("tls_pin", "Key pin (optional)", PIN_HINT),
)
TEXT_LIMIT = 300


def build_request(values: dict[str, str], route: RouteChoice, direct_tls: bool
                  ) -> SignUpRequest | str:
    """The request from the first step's strings, or what to fix."""
    port_text = values.get("port", "").strip()
    if port_text and not port_text.isdigit():
        return "Port: a number from 1 to 65535."
    pin, problem = read_pin(values.get("tls_pin", ""))
    if problem:
        return problem
    return SignUpRequest(
        domain=values.get("domain", "").strip().lower(), name=values.get("name", "").strip()
        or "main", route=route, proxy=values.get("proxy", "").strip(),
        host=values.get("host", "").strip(), port=int(port_text) if port_text else None,
        tls="direct" if direct_tls else "starttls", ca_file=values.get("ca_file", "").strip(),
        tls_pin=pin)


def line(text: str, classes: str = "") -> Static:
    return Static(Text(text), classes=classes)


class RegisterScreen(ModalScreen[str | None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    RegisterScreen { align: center middle; }
    #register-form { width: 100%; max-width: 80; height: auto; max-height: 100%; padding: 0 1; }
    #register-form .form-row { height: auto; }
    #register-form .form-label { width: 20; }
    #register-form Input, #register-form TextArea { width: 1fr; }
    #register-form TextArea { height: 4; }
    #register-form .field-help { padding-left: 2; }
    #register-form .field-label { margin-top: 1; }
    #register-form .route { margin-bottom: 1; }
    #register-form .title { margin-bottom: 1; }
    #field-route, #field-tls { width: auto; }
    """

    def __init__(self, signup: SignUp, save: SaveAccount | None = None) -> None:
        super().__init__()
        self.signup, self.save = signup, save
        self.values: dict[str, str] = {}
        self.route: RouteChoice = "default"
        self.direct_tls = False
        self.session: SignUpSession | None = None
        self.done: SignUpDone | None = None
        self.generated = ""
        self.error = ""

    # -- the three steps -------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        with VerticalScroll(id="register-form"):
            if self.done is not None:
                yield from self._save_step(self.done)
            elif self.session is not None:
                yield from self._form_step(self.session)
            else:
                yield from self._where_step()
            yield Static(Text(self.error), id="form-error")

    def _where_step(self) -> ComposeResult:
        yield line("Create an account (in-band registration)", "title")
        yield line("Tab: next field, Enter: connect, Escape: cancel. TLS is always on and "
                   "verified before anything is sent.", "title")
        for number, (key, label, hint) in enumerate(WHERE):
            if number == 2:  # the route right after the server and the name
                yield from self._button_row("Route", "field-route", ROUTE_LABELS[self.route])
            with Horizontal(classes="form-row"):
                yield Label(Text(label), classes="form-label")
                yield OrderedInput(value=self.values.get(key, ""), placeholder=hint,
                            id=f"where-{key}", compact=True)
        yield from self._button_row("TLS", "field-tls", "direct TLS (XEP-0368)"
                                    if self.direct_tls else "STARTTLS")
        with Horizontal(id="form-buttons"):
            yield Button("Connect", id="connect", variant="primary", compact=True)
            yield Button("Cancel", id="cancel", compact=True)

    def _button_row(self, label: str, ident: str, text: str) -> ComposeResult:
        with Horizontal(classes="form-row"):
            yield Label(Text(label), classes="form-label")
            yield Button(Text(f"{text}  (Enter: change)"), id=ident, compact=True)

    def _form_step(self, session: SignUpSession) -> ComposeResult:
        form = session.form
        yield line(f"Sign up on {self.values.get('domain', '')}", "title")
        for text in session.route:
            yield line(text, "route")
        for text in form_lines(form):
            yield line(text)
        for index, fld in enumerate(form.fields):
            yield from self._field(index, fld)
        if form.field("password") is not None:
            yield Button("Generate a strong password", id="generate", compact=True)
            yield Static(Text(self.generated), id="generated", classes="field-help")
        with Horizontal(id="form-buttons"):
            yield Button("Create account", id="create", variant="primary", compact=True)
            yield Button("Back", id="back", compact=True)
            yield Button("Cancel", id="cancel", compact=True)

    def _field(self, index: int, fld: FormField) -> ComposeResult:
        if fld.kind == "hidden":
            return
        if fld.answerable:  # the label on a line of its own: a CAPTCHA question may be long
            yield line(fld.title + (" (required)" if fld.required else ""), "field-label")
            if fld.kind in MULTI_KINDS and fld.kind != "list-multi":
                yield TextArea(preset(fld), id=f"answer-{index}", compact=True)
            else:
                hint = "type it, or Generate below" if fld.var == "password" else (
                    "required" if fld.required else "optional")
                yield OrderedInput(value=preset(fld), password=fld.private, placeholder=hint,
                            id=f"answer-{index}", compact=True)
        elif fld.label:
            yield line(fld.title)
        for text in field_lines(fld):
            yield line(text, "field-help")

    def _save_step(self, done: SignUpDone) -> ComposeResult:
        yield line(f"The account {done.jid} exists now, but the identity is not saved yet.",
                   "title")
        yield line("Choose another identity name and save. Escape leaves it unsaved: note "
                   f"its password first: {done.password}", "title")
        with Horizontal(classes="form-row"):
            yield Label(Text("Identity name"), classes="form-label")
            yield OrderedInput(value=str(done.table.get("name", "")), id="save-name", compact=True)
        with Horizontal(id="form-buttons"):
            yield Button("Save", id="save", variant="primary", compact=True)
            yield Button("Cancel", id="cancel", compact=True)

    def on_mount(self) -> None:
        self._focus_first()

    def _focus_first(self) -> None:
        boxes = self.query("Input, TextArea")
        if boxes:
            boxes.first().focus()

    def show_error(self, text: str) -> None:
        self.error = text
        self.query_one("#form-error", Static).update(Text(text))

    async def _step(self, error: str = "") -> None:
        self.error = error
        await self.recompose()
        self._focus_first()

    # -- step 1: where ---------------------------------------------------------------------
    @on(Button.Pressed, "#field-route")
    def next_route(self, event: Button.Pressed) -> None:
        event.stop()
        self.route = ROUTE_CHOICES[(ROUTE_CHOICES.index(self.route) + 1) % len(ROUTE_CHOICES)]
        event.button.label = Text(f"{ROUTE_LABELS[self.route]}  (Enter: change)")

    @on(Button.Pressed, "#field-tls")
    def toggle_tls(self, event: Button.Pressed) -> None:
        event.stop()
        self.direct_tls = not self.direct_tls
        mode = "direct TLS (XEP-0368)" if self.direct_tls else "STARTTLS"
        event.button.label = Text(f"{mode}  (Enter: change)")

    def _where_values(self) -> dict[str, str]:
        return {key: self.query_one(f"#where-{key}", Input).value for key, *_ in WHERE}

    def connect(self) -> None:
        self.values = self._where_values()
        request = build_request(self.values, self.route, self.direct_tls)
        if isinstance(request, str):
            self.show_error(request)
            return
        self.show_error(f"Connecting to {request.domain}…")
        self.run_worker(self._begin(request), exclusive=True, group="sign-up")

    async def _begin(self, request: SignUpRequest) -> None:
        try:
            session = await self.signup.begin(request)
        except RegistrationFailed as exc:
            self.show_error(str(exc))
            return
        self.session, self.generated = session, ""
        await self._step()

    # -- step 2: the server's form ---------------------------------------------------------
    def answers(self) -> dict[str, str]:
        assert self.session is not None
        found: dict[str, str] = {}
        for index, fld in enumerate(self.session.form.fields):
            for box in self.query(f"#answer-{index}"):
                found[fld.var] = box.text if isinstance(box, TextArea) else str(
                    getattr(box, "value", ""))
        return found

    def create(self) -> None:
        if self.session is None:
            return
        self.show_error("Sending…")
        self.run_worker(self._submit(self.session, self.answers()), exclusive=True,
                        group="sign-up")

    async def _submit(self, session: SignUpSession, answers: dict[str, str]) -> None:
        try:
            done = await session.submit(answers)
        except RegistrationFailed as exc:
            if exc.retry:
                self.show_error(str(exc))
                return
            await self._back(str(exc))
            return
        await session.close()
        self.session = None
        await self._save(done)

    @on(Button.Pressed, "#generate")
    def generate(self, event: Button.Pressed) -> None:
        event.stop()
        assert self.session is not None
        password = generate_password()
        for index, fld in enumerate(self.session.form.fields):
            if fld.var == "password":
                self.query_one(f"#answer-{index}", Input).value = password
        self.generated = (f"Generated: {password}  (note it if you will use this account "
                          "elsewhere; xmppterm keeps it in its encrypted store)")
        self.query_one("#generated", Static).update(Text(self.generated))

    async def _back(self, error: str = "") -> None:
        session, self.session = self.session, None
        if session is not None:
            await session.close()
        await self._step(error)

    # -- step 3: saving the identity -------------------------------------------------------
    async def _save(self, done: SignUpDone) -> None:
        if self.save is None:
            self.done = done
            await self._step(f"Created {done.jid}, but this xmppterm cannot save identities.")
            return
        problem = await self.save(dict(done.table))
        if problem is None:
            self.dismiss(done.jid)
            return
        self.done = done
        await self._step(problem)

    def save_again(self) -> None:
        if self.done is None:
            return
        name = self.query_one("#save-name", Input).value.strip()
        self.done = SignUpDone(self.done.jid, self.done.password, {**self.done.table,
                                                                    "name": name})
        self.run_worker(self._save(self.done), exclusive=True, group="sign-up")

    # -- keys and buttons ------------------------------------------------------------------
    @on(Input.Submitted)
    @on(Button.Pressed, "#connect, #create, #save")
    def submitted(self, event: Input.Submitted | Button.Pressed) -> None:
        event.stop()
        if self.done is not None:
            self.save_again()
        elif self.session is not None:
            self.create()
        else:
            self.connect()

    @on(Button.Pressed, "#back")
    async def back_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        await self._back()

    @on(Button.Pressed, "#cancel")
    async def cancel_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        await self.action_cancel()

    async def action_cancel(self) -> None:
        self.workers.cancel_group(self, "sign-up")
        session, self.session = self.session, None
        if session is not None:
            await session.close()
        self.dismiss(None)
