"""The hardened slixmpp client of one identity.

What it changes in slixmpp, and why (THREATS.md, "Transport and TLS"):
- TLS before anything else: before TLS is up, the only stream feature handled is
  `<starttls/>`; a server that does not offer it (or strips it) ends the connection
  with a `Failure`. Three more locks keep the password in: SASL sees `encrypted`
  only when the socket really is TLS, the credentials callback refuses to hand out
  anything without TLS, and `send_raw` refuses any SASL element without TLS.
- SASL only SCRAM-SHA-* (and PLAIN by explicit opt-in, which slixmpp allows only over
  TLS); one refused password ends the attempt, no trying of weaker mechanisms.
- One connection attempt per `connect()`: `_connect_loop` makes one attempt (all
  addresses of one SRV answer at most), never reschedules, and `reconnect()` (used
  by the ping keepalive) only disconnects. Core decides when to try again (a
  stream-management resumption is such an attempt on the same client: link.py).
- The certificate must name the JID's domain, also when `host` says where to
  connect; stream redirects (see-other-host) are not followed.
- With `tls_pins` (`tls_pin`), the verified key must also be pinned: `connection_made`
  (direct TLS, and STARTTLS via `start_tls`) checks it before the stream header.
- Incoming XML goes through `BoundedStreamParser` (no DOCTYPE, size and depth bounds).
- Privacy: a random resource, no version/time/last-activity answers, no entity caps,
  a disco identity without a name, receipts answered as the identity's `receipts`
  setting says (default: only roster contacts who see our presence).
- No slixmpp callback is named `_on_*`: Textual uses that prefix on the shared loop.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import ssl
import xml.etree.ElementTree as ET
from typing import Any

from slixmpp import ClientXMPP
from slixmpp.stanza import Message, StreamFeatures
from slixmpp.util import sasl
from slixmpp.util.sasl import mechanisms as _sasl_mechanisms
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

from ..domain.privacy import may_share
from ..transport.connect import Connector, DirectConnector
from ..transport.tls import pin_mismatch
from .errors import FailKind, Failure, clean_token
from .omemo.plugin import XtOmemo
from .xmlguard import BoundedStreamParser, StreamViolation

# slixmpp draws the SCRAM (and DIGEST) client nonce from `random.random()`, a
# predictable generator. Give its SASL module the operating system's CSPRNG instead.
_sasl_mechanisms.random = secrets.SystemRandom()  # type: ignore[assignment,attr-defined]

log = logging.getLogger(__name__)

FAILED_EVENT = "xt_link_failed"  # data: Failure
READY_EVENT = "xt_ready"  # data: None; roster fetched, presence sent
SCRAM_MECHS = frozenset(
    f"SCRAM-SHA-{bits}{plus}" for bits in ("1", "256", "512") for plus in ("", "-PLUS")
)
SASL_NS = "urn:ietf:params:xml:ns:xmpp-sasl"
TLS_NS = "urn:ietf:params:xml:ns:xmpp-tls"
STREAMS_NS = "urn:ietf:params:xml:ns:xmpp-streams"
PLUGINS = ("xep_0030", "xep_0199", "xep_0280", "xep_0184", "xep_0359", "xep_0203", "xep_0198",
           "xep_0085")
DISCO_IDENTITY = ("client", "console")  # no name: the same for every install


def random_resource() -> str:
    return "xt-" + secrets.token_hex(6)


def quiet_library_logs() -> None:
    """slixmpp logs every byte sent and received at DEBUG (SASL PLAIN included, and
    message bodies): never let that reach a log, whatever the root level is."""
    library = logging.getLogger("slixmpp")
    if library.level < logging.INFO:
        library.setLevel(logging.INFO)


class XmppClient(ClientXMPP):
    def __init__(self, jid: str, password: str, *, ssl_context: ssl.SSLContext,
                 direct_tls: bool = False, host: str | None = None, port: int | None = None,
                 allow_plain: bool = False, connector: Connector | None = None,
                 receipts: str = "contacts", chat_states: str = "contacts",
                 tls_pins: tuple[str, ...] = ()) -> None:
        quiet_library_logs()
        self.receipts, self.chat_states = receipts, chat_states  # domain.privacy policies
        mechs = set(SCRAM_MECHS) | ({"PLAIN"} if allow_plain else set())
        config = {
            "feature_mechanisms": {"use_mechs": mechs, "unencrypted_plain": False,
                                   "unencrypted_scram": False, "unencrypted_digest": False,
                                   "unencrypted_cram": False, "encrypted_plain": allow_plain},
            "xep_0184": {"auto_ack": False, "auto_request": False},
            "xep_0199": {"keepalive": True, "interval": 180, "timeout": 30},
        }
        super().__init__(f"{jid}/{random_resource()}", password, plugin_config=config,
                         ssl_context=ssl_context)
        self.tls_name = self.boundjid.domain  # the certificate must name this
        self.tls_pins = tls_pins  # canonical "sha256/BASE64"; empty: no pinning
        self.direct_tls = direct_tls
        self.enable_direct_tls, self.enable_starttls = direct_tls, not direct_tls
        self.enable_plaintext = False
        self.default_port = 5223 if direct_tls else 5222
        self.target = (host, port)
        self.connector: Connector = connector or DirectConnector()
        if not self.connector.local_dns:  # a proxied identity: no resolver may ever run
            self.use_aiodns = self.use_ipv6 = False
        self.failure: Failure | None = None
        self._auth_tried = False
        self._auth_condition = ""
        self._guard: BoundedStreamParser | None = None
        self._handshaking = False
        self.whitespace_keepalive = False  # the XEP-0199 ping does it, and notices silence
        self.auto_authorize = None  # subscription requests go to the user, not auto-accepted
        self.auto_subscribe = False
        self._install()

    def _install(self) -> None:
        for name in PLUGINS:
            self.register_plugin(name)
        mechs = self.plugin["feature_mechanisms"]
        mechs.security_callback = self._sasl_security
        mechs.sasl_callback = self._sasl_credentials
        self.register_handler(Callback("xt STARTTLS failure", MatchXPath(f"{{{TLS_NS}}}failure"),
                                       self._starttls_refused, instream=True))
        self.add_event_handler("failed_auth", self._auth_refused)
        self.add_event_handler("failed_all_auth", self._auth_exhausted)
        self.add_event_handler("message", self._answer_receipt)
        self.add_event_handler("session_bind", self._set_identity)

    def __repr__(self) -> str:
        return f"<XmppClient {self.boundjid.bare}>"

    # -- TLS state and failures ----------------------------------------------------------
    @property
    def tls_active(self) -> bool:
        transport = self.transport
        return transport is not None and transport.get_extra_info("ssl_object") is not None

    def fail(self, failure: Failure) -> None:
        """Report a failure that retrying cannot fix and drop the connection now."""
        self._report(failure)
        self.abort()

    def _report(self, failure: Failure) -> None:
        if self.failure is None:
            self.failure = failure
            log.warning("connection failed: %s: %s", failure.kind.value, failure.detail)
            self.event(FAILED_EVENT, failure)

    def connection_lost(self, exception: BaseException | None) -> None:
        # asyncio reports a failed STARTTLS handshake here first: name the cause
        # before slixmpp announces a plain disconnection.
        failure = self._tls_failure(exception)
        if failure and (self._handshaking or failure.kind is FailKind.CERTIFICATE):
            self._report(failure)
        super().connection_lost(exception)

    def _tls_failure(self, exc: BaseException | None) -> Failure | None:
        """What a TLS error means for the user; None when retrying may help (the
        connection closed mid-handshake) or it is no TLS error at all."""
        if not isinstance(exc, ssl.SSLError):
            return None
        if isinstance(exc, ssl.SSLEOFError | ssl.SSLZeroReturnError):
            return None
        if isinstance(exc, ssl.SSLCertVerificationError):
            return Failure(FailKind.CERTIFICATE, exc.verify_message or str(exc))
        return Failure(FailKind.TLS_ERROR, exc.reason or str(exc))

    def connection_made(self, transport: Any, send_event: bool = True) -> None:
        """Overrides slixmpp (which writes the stream header at once): a TLS connection
        whose key is not pinned is dropped first. The CA check has already passed."""
        mismatch = pin_mismatch(transport, self.tls_pins) if self.tls_pins else None
        if mismatch is not None:
            self.transport = transport  # so that abort() drops this very connection
            self.fail(Failure(FailKind.PIN, mismatch))
            return
        super().connection_made(transport, send_event)

    # -- one connection attempt ------------------------------------------------------------
    async def _connect_loop(self) -> None:  # overrides slixmpp: no retry, no backoff
        self.event_when_connected = "connected"
        tls = self.ssl_context if self.direct_tls else None
        last: BaseException | None = None
        for host, port in await self._addresses():
            try:
                await self.connector.open(lambda: self, host, port, tls,
                                          self.tls_name if tls else None)
                return
            except OSError as exc:  # ssl.SSLError included
                failure = self._tls_failure(exc)
                if failure:
                    self._current_connection_attempt = None
                    self.fail(failure)
                    return
                last = exc
        self._current_connection_attempt = None
        self.event("connection_failed", last)

    async def _addresses(self) -> list[tuple[str, int]]:
        host, port = self.target
        if host or port or not self.connector.local_dns:
            return [(host or self.tls_name, port or self.default_port)]
        service = "xmpps-client" if self.direct_tls else "xmpp-client"
        try:
            records = await self.get_dns_records(self.tls_name, self.default_port)
        except Exception as exc:  # a DNS failure is a connection failure, not a crash
            log.info("SRV lookup failed: %s", exc)
            records = []
        found = [(addr, p) for svc, _, addr, p in records if svc in (service, "")]
        return found or [(self.tls_name, self.default_port)]

    async def get_dns_records(self, domain: str, port: int | None = None) -> list[Any]:
        if not self.connector.local_dns:  # overrides slixmpp: never behind a proxy
            raise OSError("no DNS lookup from this machine for a proxied identity")
        return await super().get_dns_records(domain, port)

    def reschedule_connection_attempt(self) -> None:  # overrides slixmpp: never retry
        return None

    def reconnect(self, wait: float = 2.0, reason: str = "Reconnecting") -> None:
        """slixmpp calls this (ping timeout, redirects): only disconnect; core retries."""
        self.disconnect(wait, reason)

    def _handle_stream_error(self, error: Any) -> None:  # overrides: no see-other-host
        self.event("stream_error", error)
        self.disconnect_reason = f"the server ended the stream ({error['condition']})"
        self.abort()

    async def start_tls(self) -> bool:  # overrides: verify against the JID's domain
        if self.transport is None:
            return False
        raw = self.transport
        self._current_connection_attempt = asyncio.ensure_future(
            self.loop.start_tls(raw, self, self.get_ssl_context(), server_hostname=self.tls_name))
        self._handshaking = True
        try:
            transport = await self._current_connection_attempt
        except (ssl.SSLError, OSError, asyncio.CancelledError) as exc:
            self._current_connection_attempt = None
            failure = self._tls_failure(exc)
            if failure:
                self._report(failure)
            raw.abort()
            if self.transport is raw:  # in case asyncio did not tell the protocol
                self.connection_lost(exc if isinstance(exc, Exception) else None)
            return False
        finally:
            self._handshaking = False
        self.connection_made(transport, send_event=False)
        return self.failure is None  # False: the key was not pinned, the connection dropped

    # -- TLS before authentication ---------------------------------------------------------
    async def _handle_stream_features(self, features: StreamFeatures) -> bool | None:
        if self.tls_active:
            return await super()._handle_stream_features(features)
        if "starttls" not in features["features"]:
            self.fail(Failure(FailKind.TLS_MISSING, "the server did not offer STARTTLS"))
            return True
        handler, _ = self._stream_feature_handlers["starttls"]
        if not handler(features):
            self.fail(Failure(FailKind.TLS_MISSING, "STARTTLS could not be started"))
        return True

    def _starttls_refused(self, stanza: Any) -> None:
        self.fail(Failure(FailKind.TLS_MISSING, "the server refused to start TLS"))

    def _sasl_security(self, values: Any) -> dict[str, Any]:
        mechs: Any = self.plugin["feature_mechanisms"]
        result: dict[str, Any] = mechs._default_security(values)
        for key in result:
            if key.startswith("unencrypted_"):
                result[key] = False
        if "encrypted" in result:
            result["encrypted"] = self.tls_active
        return result

    def _sasl_credentials(self, required: Any, optional: Any) -> dict[str, Any]:
        if not self.tls_active:
            raise sasl.SASLCancelled("no TLS: credentials withheld")  # type: ignore[no-untyped-call]
        mechs: Any = self.plugin["feature_mechanisms"]
        creds: dict[str, Any] = mechs._default_credentials(required, optional)
        return creds

    def send_raw(self, data: str | bytes) -> None:
        if not self.tls_active:
            text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
            if SASL_NS in text or "jabber:iq:auth" in text:
                self.fail(Failure(FailKind.TLS_MISSING, "authentication without TLS refused"))
                return
        super().send_raw(data)

    # -- authentication results --------------------------------------------------------------
    def _auth_refused(self, stanza: Any) -> None:
        self._auth_tried = True
        self._auth_condition = clean_token(str(stanza["condition"] or "not-authorized"))
        mechs = self.plugin["feature_mechanisms"]
        mechs.attempted_mechs |= mechs.mech_list  # one refusal ends it: no weaker retries

    def _auth_exhausted(self, event: Any) -> None:
        if self._auth_tried:
            self.fail(Failure(FailKind.AUTH, self._auth_condition))
        else:
            names = sorted(self.plugin["feature_mechanisms"].mech_list)[:12]
            offered = ", ".join(clean_token(name) for name in names) or "none"
            self.fail(Failure(FailKind.NO_MECHANISM, offered))

    # -- the bounded parser ----------------------------------------------------------------
    def init_parser(self) -> None:
        super().init_parser()
        self._guard = BoundedStreamParser()

    def data_received(self, data: bytes | str) -> None:  # overrides: bounded parsing
        guard = self._guard
        if self.parser is None or guard is None:
            return
        raw = data.encode("utf-8") if isinstance(data, str) else data
        try:
            for kind, xml, depth in guard.feed(raw):
                self.xml_depth = depth
                if kind == "start":
                    if depth == 1:
                        self.xml_root = xml
                        self.start_stream_handler(xml)  # type: ignore[no-untyped-call]
                elif depth == 1:
                    self.disconnect_reason = "the server closed the stream"
                    self.abort()
                    return
                elif depth == 2:
                    self._spawn_event(xml)
                    if self._guard is not guard:  # the stream restarted (SASL success)
                        return
                    if self.xml_root is not None:
                        self.xml_root.clear()
        except StreamViolation as exc:
            self._violation(exc)

    def _violation(self, exc: StreamViolation) -> None:
        log.warning("closing the stream: %s", exc.text)
        self.disconnect_reason = f"the server broke the stream rules ({exc.text})"
        self._guard = None
        if self.transport is not None:
            self.transport.write(
                f"<stream:error><{exc.condition} xmlns='{STREAMS_NS}'/></stream:error>"
                "</stream:stream>".encode())
        self.abort()

    # -- privacy ---------------------------------------------------------------------------
    def _set_identity(self, jid: Any) -> None:
        self.plugin["xep_0030"].add_identity(category=DISCO_IDENTITY[0],
                                             itype=DISCO_IDENTITY[1], jid=self.boundjid)

    def _subscription(self, bare: str) -> str | None:
        roster = self.client_roster
        if not bare or not roster.has_jid(bare):
            return None
        return str(roster[bare]["subscription"])

    def may_send_chat_state(self, to: str) -> bool:
        """XEP-0085: whether the `chat_states` setting lets us tell `to` (a bare JID)."""
        return may_share(self.chat_states, self._subscription(to))

    def _answer_receipt(self, msg: Message, decrypted: bool = False) -> None:
        """XEP-0184: acknowledge as the `receipts` setting says (default: only roster
        contacts who may see our presence). An OMEMO message is acknowledged only once
        it is decrypted and its ratchet stored (`acknowledge_decrypted`)."""
        if not msg["request_receipt"] or msg["type"] not in ("chat", "normal"):
            return
        if not decrypted and any(child.tag.endswith("}encrypted") for child in msg.xml):
            return
        if not msg["id"] or msg["receipt"]:
            return
        if may_share(self.receipts, self._subscription(msg["from"].bare)):
            receipts: Any = self.plugin["xep_0184"]
            receipts.ack(msg)

    def acknowledge_decrypted(self, xml: ET.Element) -> None:
        """The receipt of a live OMEMO message, once it is decrypted."""
        self._answer_receipt(Message(self, xml=xml), decrypted=True)  # type: ignore[no-untyped-call]

    def enable_omemo(self, config: dict[str, Any]) -> Any:
        """Load the OMEMO plugin (protocol/omemo/plugin.py) for this identity: its
        storage, trust mode and hooks are in `config`. Returns the plugin."""
        self.register_plugin(XtOmemo.name, pconfig=config)
        plugins: Any = self.plugin
        return plugins[XtOmemo.name]

    def send_chat_state(self, to: str, state: str) -> bool:
        """XEP-0085: a standalone chat state to `to` (a bare JID), if the `chat_states`
        setting allows it; marked not to be stored (XEP-0334). True when sent."""
        if not self.may_send_chat_state(to):
            return False
        msg = self.make_message(mto=to, mtype="chat")
        msg["chat_state"] = state
        msg.xml.append(ET.Element("{urn:xmpp:hints}no-store"))
        msg.send()
        return True

    def send_chat(self, to: str, body: str, message_id: str,
                  replaces: str | None = None) -> None:
        """A chat message with id = origin-id = `message_id`, asking for a receipt; with
        `replaces`, a correction (XEP-0308) of the message with that id."""
        msg = self.make_message(mto=to, mbody=body, mtype="chat")
        msg["id"] = message_id
        msg["origin_id"]["id"] = message_id
        msg["request_receipt"] = True
        if replaces:
            ET.SubElement(msg.xml, "{urn:xmpp:message-correct:0}replace", id=replaces)
        msg.send()
