"""In-band registration (XEP-0077) as data: the server's form, the answers, the outcome.

Pure. The protocol layer parses the server's `jabber:iq:register` query (an XEP-0004
data form, or the legacy `<username/>`/`<password/>` fields) into a `RegistrationForm`;
the CLI and the UI show it with `form_lines`/`field_lines`, which sanitise every string
the server sent. A CAPTCHA (XEP-0158) is shown as far as a terminal can: its question
and its challenge URLs as text, never fetched; the user answers in the field.

`SignUp` is the port the UI drives (implemented in core, injected by the wiring): one
`SignUpSession` is one connection to the server, on the new identity's route, from the
form to the answer.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol

from .ids import InvalidJid, parse_jid
from .pins import InvalidPin, parse_pin
from .sanitize import clean_body, clean_field

RouteChoice = Literal["default", "tor", "proxy", "direct"]
ROUTE_CHOICES: tuple[RouteChoice, ...] = ("default", "tor", "proxy", "direct")
NAME_RE = re.compile(r"[A-Za-z0-9_-]{1,40}")
CAPTCHA_FORM = "urn:xmpp:captcha"
CAPTCHA_VARS = frozenset({"audio_recog", "ocr", "picture_q", "picture_recog", "qa", "speech_q",
                          "speech_recog", "video_q", "video_recog", "SHA-256"})
MULTI_KINDS = frozenset({"text-multi", "list-multi", "jid-multi"})
LIST_KINDS = frozenset({"list-single", "list-multi"})
TRUE_WORDS, FALSE_WORDS = ("1", "true", "yes", "y"), ("0", "false", "no", "n", "")
CLOSED = frozenset({"service-unavailable", "not-allowed", "forbidden", "feature-not-implemented",
                    "registration-required"})
TEXT_LIMIT = 400  # characters of a server's error text shown


@dataclass(frozen=True, slots=True)
class MediaUri:
    """One way to get a CAPTCHA challenge (XEP-0221 `<uri type=...>`), as the server gave it."""

    type: str
    uri: str

    @property
    def inline(self) -> bool:
        """Carried in the stanza itself (XEP-0231 `cid:`): nothing a terminal can show."""
        return self.uri.lower().startswith("cid:")


@dataclass(frozen=True, slots=True)
class FormField:
    var: str
    kind: str = "text-single"
    label: str = ""
    desc: str = ""
    required: bool = False
    values: tuple[str, ...] = ()
    options: tuple[tuple[str, str], ...] = ()  # (label, value)
    media: tuple[MediaUri, ...] = ()

    @property
    def answerable(self) -> bool:
        return self.kind not in ("hidden", "fixed")

    @property
    def private(self) -> bool:
        return self.kind == "text-private" or self.var == "password"

    @property
    def title(self) -> str:
        """The field's name for the user, sanitised."""
        return clean_field(self.label or self.var, 60)


@dataclass(frozen=True, slots=True)
class RegistrationForm:
    """What the server asks for. `data_form` False: legacy fields (all of them required)."""

    domain: str
    fields: tuple[FormField, ...]
    title: str = ""
    instructions: str = ""
    data_form: bool = True
    form_type: str = ""
    web_url: str = ""  # jabber:x:oob: the server sends people to a web page instead
    advertised: bool = True  # the stream features offered registration
    registered: bool = False

    @property
    def captcha(self) -> bool:
        return self.form_type == CAPTCHA_FORM or any(f.var in CAPTCHA_VARS for f in self.fields)

    def field(self, var: str) -> FormField | None:
        return next((f for f in self.fields if f.var == var), None)

    @property
    def inputs(self) -> tuple[FormField, ...]:
        return tuple(f for f in self.fields if f.answerable)


@dataclass(frozen=True, slots=True)
class SignUpRequest:
    """Where to create the account and how to get there (the new identity's route)."""

    domain: str
    name: str = "main"  # the identity: [accounts.NAME]
    route: RouteChoice = "default"  # "default": as [settings] says
    proxy: str = ""  # socks5://IP:PORT for "proxy" (or another Tor address for "tor")
    host: str = ""
    port: int | None = None
    tls: Literal["starttls", "direct"] = "starttls"
    ca_file: str = ""
    tls_pin: str = ""  # "sha256/BASE64": the connection (and the identity) trusts only this key

    def table(self, jid: str) -> dict[str, object]:
        """The `[accounts.NAME]` table of the identity with this JID (without password)."""
        table: dict[str, object] = {"jid": jid, "tls": self.tls}
        if self.route == "tor":
            table["tor"] = True
        if self.route in ("tor", "proxy") and self.proxy:
            table["proxy"] = self.proxy
        if self.route == "direct":
            table["tor"] = False  # explicitly DIRECT, whatever [settings] says
        for key, value in (("host", self.host), ("port", self.port), ("ca_file", self.ca_file),
                           ("tls_pin", self.tls_pin)):
            if value:
                table[key] = value
        return table


@dataclass(frozen=True, slots=True)
class SignUpDone:
    """The account exists. `table` is `[accounts.NAME]` plus "name" and "password"."""

    jid: str
    password: str = field(repr=False)
    table: dict[str, object] = field(repr=False)


class RegistrationFailed(Exception):
    """The server refused, or could not be reached; str() is the sentence to show (every
    remote part sanitised). `retry`: the same session can take corrected answers."""

    def __init__(self, message: str, condition: str = "", server_text: str = "",
                 retry: bool = False) -> None:
        super().__init__(message)
        self.condition, self.server_text, self.retry = condition, server_text, retry


class SignUpSession(Protocol):
    @property
    def form(self) -> RegistrationForm: ...

    @property
    def route(self) -> tuple[str, ...]:
        """How this connection goes (the identity's route), in lines for the user."""

    async def submit(self, answers: Mapping[str, str]) -> SignUpDone:
        """Send the answers; raises RegistrationFailed."""

    async def close(self) -> None: ...


class SignUp(Protocol):
    async def begin(self, request: SignUpRequest) -> SignUpSession:
        """Connect on the request's route (TLS verified first) and fetch the form;
        raises RegistrationFailed."""


# -- checking what the user typed ------------------------------------------------------
def check_request(request: SignUpRequest) -> str | None:
    """What to fix in the request, or None."""
    if not NAME_RE.fullmatch(request.name):
        return "Identity name: use letters, digits, - and _ only."
    try:
        jid = parse_jid(request.domain)
    except InvalidJid as exc:
        return f"Server: {exc}."
    if jid.local or jid.resource or jid.domain != request.domain.strip().lower().rstrip("."):
        return "Server: the server's name only, e.g. example.org."
    if request.route == "proxy" and not request.proxy:
        return 'Proxy: give its address, e.g. socks5://127.0.0.1:1080.'
    if request.proxy and request.route not in ("tor", "proxy"):  # never ignore it silently
        return "Proxy: set the route to Tor or SOCKS5 proxy to use it, or leave it empty."
    if request.port is not None and not 0 < request.port < 65536:
        return "Port: a number from 1 to 65535."
    if request.host and any(ch.isspace() or ch in "/@:" for ch in request.host):
        return "Host: a server name only, without spaces, / @ or :."
    return read_pin(request.tls_pin)[1] or None


def read_pin(text: str) -> tuple[str, str]:
    """A typed key pin (`tls_pin`) in canonical form ("" for none) and "", or "" and what
    to fix."""
    if not text.strip():
        return "", ""
    try:
        return parse_pin(text), ""
    except InvalidPin as exc:
        return "", (f"Key pin (tls_pin): {exc}. Write it as sha256/BASE64 (README, tls_pin: "
                    "how to read it from the server).")


def normalise(fld: FormField, text: str) -> tuple[str, ...] | str:
    """The values to send for what the user typed, or what is wrong with it (str)."""
    if fld.kind == "boolean":
        word = text.strip().lower()
        if word in TRUE_WORDS or word in FALSE_WORDS:
            return ("1",) if word in TRUE_WORDS else ("0",)
        return f"{fld.title}: answer yes or no."
    if fld.kind in LIST_KINDS:
        return _choices(fld, text)
    if fld.kind in MULTI_KINDS:
        return tuple(line for line in text.splitlines() if line.strip())
    return (text,) if text else ()


def _choices(fld: FormField, text: str) -> tuple[str, ...] | str:
    words = [w.strip() for w in (text.split(",") if fld.kind == "list-multi" else [text])]
    values = {value for _, value in fld.options}
    chosen: list[str] = []
    for word in filter(None, words):
        if word.isdigit() and 0 < int(word) <= len(fld.options):
            chosen.append(fld.options[int(word) - 1][1])
        elif word in values or not fld.options:
            chosen.append(word)
        else:
            return f"{fld.title}: choose one of the numbers shown."
    return tuple(chosen)


def collect(form: RegistrationForm, answers: Mapping[str, str]) -> dict[str, tuple[str, ...]] | str:
    """Every field's values to send (hidden ones as the server gave them), or what to fix."""
    out: dict[str, tuple[str, ...]] = {}
    missing: list[str] = []
    for fld in form.fields:
        if fld.kind == "fixed":
            continue
        if fld.kind == "hidden":
            out[fld.var] = fld.values
            continue
        values = normalise(fld, answers.get(fld.var, ""))
        if isinstance(values, str):
            return values
        if (fld.required or not form.data_form) and not any(v.strip() for v in values):
            missing.append(fld.title)
        out[fld.var] = values
    if missing:
        return "Fill in: " + ", ".join(missing) + "."
    return out


def generate_password() -> str:
    """A strong password: 24 URL-safe characters from the OS CSPRNG (144 bits)."""
    return secrets.token_urlsafe(18)


# -- showing the form ------------------------------------------------------------------
def form_lines(form: RegistrationForm) -> list[str]:
    """The form's head for the user: title, instructions, web page, CAPTCHA note."""
    lines = [clean_field(form.title, 100)] if form.title else []
    lines += clean_body(form.instructions[:2000]).split("\n") if form.instructions else []
    if form.web_url:
        lines.append("The server also names a web page for signing up (not opened): "
                     + clean_field(form.web_url, 300))
    if not form.advertised:
        lines.append(f"{clean_field(form.domain)} did not announce in-band registration; "
                     "it answered anyway.")
    if form.captcha:
        lines.append("This form has a CAPTCHA: its challenge is shown as text and links, "
                     "which xmppterm never opens itself. Open a link only through the same "
                     "route (e.g. Tor Browser), or it may reveal where you are.")
    return lines


def field_lines(fld: FormField) -> list[str]:
    """What the user should know to answer one field (below its label), sanitised."""
    lines = clean_body(fld.desc[:1000]).split("\n") if fld.desc else []
    if fld.kind == "fixed":
        lines += [clean_field(v, 300) for v in fld.values]
    for number, (label, value) in enumerate(fld.options[:100], start=1):
        lines.append(f"{number}) {clean_field(label or value, 80)}"
                     + (f" [{clean_field(value, 40)}]" if label and label != value else ""))
    for media in fld.media[:8]:
        kind = clean_field(media.type or "challenge", 40)
        if media.inline:
            lines.append(f"{kind} sent inside the stanza ({clean_field(media.uri, 80)}): "
                         "a terminal cannot show it")
        else:
            lines.append(f"{kind} at {clean_field(media.uri, 300)} (not fetched)")
    if fld.kind == "boolean":
        lines.append("yes or no")
    elif fld.kind in MULTI_KINDS and fld.kind not in LIST_KINDS:
        lines.append("one value per line")
    elif fld.kind == "list-multi":
        lines.append("numbers separated by commas")
    return lines


def preset(fld: FormField) -> str:
    """The value to start the field's input with (never a private one)."""
    if fld.private or not fld.values:
        return ""
    if fld.kind == "boolean":
        return "yes" if fld.values[0].strip().lower() in ("1", "true") else "no"
    return "\n".join(fld.values) if fld.kind in MULTI_KINDS else fld.values[0]


# -- what the server's refusal means ---------------------------------------------------
def refusal(domain: str, condition: str, text: str, kind: str = "") -> RegistrationFailed:
    """The sentence for an error reply to our registration (condition, text and error
    type as sent)."""
    where, cond = clean_field(domain, 80), clean_field(condition or "unknown", 40)
    said = clean_body(text[:TEXT_LIMIT]).replace("\n", " / ") if text else ""
    if kind == "wait" or condition in ("resource-constraint", "too-many-requests"):
        what, retry = f"{where} refuses for now ({cond}): wait and try again later", False
    elif condition in CLOSED:
        what, retry = f"{where} does not let anyone create an account here ({cond})", False
    elif condition == "conflict":
        what, retry = f"That name is taken on {where} ({cond}): choose another", True
    elif condition in ("not-acceptable", "bad-request", "policy-violation"):
        what, retry = f"{where} did not accept the answers ({cond})", True
    else:
        what, retry = f"{where} refused the registration ({cond})", True
    message = what + (f'. The server says: "{said}"' if said else ".")
    return RegistrationFailed(message, condition=cond, server_text=said, retry=retry)
