"""In-band registration (XEP-0077) on the new identity's route, built on the hardened client.

`RegistrationClient` is an `XmppClient` that never authenticates: the same connector
(SOCKS5 with remote DNS, or direct), the same TLS rules (STARTTLS required or direct
TLS, certificate verified against the domain, nothing but `<starttls/>` before TLS),
the same bounded parser, the same key pins (`tls_pin`: a server with another key is
dropped right after the handshake, before the stream header). Once the stream is
secure it stops at the stream features and lets `Registration` send its two IQs; an
IQ of `jabber:iq:register` is refused at the socket without TLS, like SASL.

slixmpp's own xep_0077 plugin is not used: it registers from a stream-feature handler
and then goes on to SASL; here the stanzas are built and parsed in `regform`.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import xml.etree.ElementTree as ET
from collections.abc import Awaitable
from typing import Any, TypeVar

from slixmpp.exceptions import IqError, IqTimeout
from slixmpp.stanza import Iq, StreamFeatures
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

from ..config import AccountConfig
from ..domain.pins import PIN_PREFIX
from ..domain.registration import RegistrationFailed, RegistrationForm, refusal
from ..domain.sanitize import clean_field
from ..transport.connect import Connector
from ..transport.socks import connector_for
from ..transport.tls import client_context
from .client import FAILED_EVENT, TLS_NS, XmppClient
from .errors import FailKind, Failure
from .regform import REG_NS, answer_query, parse_query

log = logging.getLogger(__name__)
T = TypeVar("T")
REGISTER_FEATURE = "{http://jabber.org/features/iq-register}register"
NEGOTIATION_TIMEOUT = 60.0
IQ_TIMEOUT = 60.0


class RegistrationClient(XmppClient):
    """Connects and secures the stream, then waits: no SASL, no session, no presence."""

    def __init__(self, domain: str, *, ssl_context: ssl.SSLContext, direct_tls: bool,
                 host: str | None, port: int | None, connector: Connector,
                 tls_pins: tuple[str, ...] = ()) -> None:
        super().__init__(domain, "", ssl_context=ssl_context, direct_tls=direct_tls,
                         host=host, port=port, connector=connector, tls_pins=tls_pins)
        #: set when the stream is secure: whether the server announced registration
        self.secure: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._always_send_everything = True  # no session ever starts: let our IQs out

    def _install(self) -> None:  # overrides: none of the chat plugins, only the locks
        mechs = self.plugin["feature_mechanisms"]
        mechs.security_callback = self._sasl_security
        mechs.sasl_callback = self._sasl_credentials
        self.register_handler(Callback("xt STARTTLS failure", MatchXPath(f"{{{TLS_NS}}}failure"),
                                       self._starttls_refused, instream=True))

    def __repr__(self) -> str:
        return f"<RegistrationClient {self.boundjid.domain}>"

    async def _handle_stream_features(self, features: StreamFeatures) -> bool | None:
        if not self.tls_active:  # only STARTTLS, or the connection ends
            return await super()._handle_stream_features(features)
        if not self.secure.done():
            self.secure.set_result(features.xml.find(REGISTER_FEATURE) is not None)
        return True

    def send_raw(self, data: str | bytes) -> None:
        if not self.tls_active:
            text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
            if REG_NS in text:
                self.fail(Failure(FailKind.TLS_MISSING, "registration without TLS refused"))
                return
        super().send_raw(data)


def failure_text(domain: str, failure: Failure) -> str:
    where = clean_field(domain, 80)
    match failure.kind:
        case FailKind.CERTIFICATE:
            return (f"The certificate of {where} did not verify ({failure.detail}); nothing "
                    "was sent. If you run this server, give its CA file.")
        case FailKind.PIN:
            advice = (" Only if you have checked another way that this is the server's key, "
                      f"give {failure.detail} as the key pin."
                      if failure.detail.startswith(PIN_PREFIX) else "")
            return (f"The server's key for {where} does not match the key pin (tls_pin) you "
                    f"gave: it presented {failure.detail}. Someone may be intercepting the "
                    "connection, so nothing was sent (no registration, no password)." + advice)
        case FailKind.TLS_MISSING:
            return (f"{where} did not set up TLS encryption ({failure.detail}), so nothing was "
                    "sent. Someone on the network may be stripping encryption.")
    return f"The TLS connection to {where} failed ({failure.detail}); nothing was sent."


class Registration:
    """One connection to create one account: `open()` gets the form, `submit()` answers it
    (again after a refusal, if the server allows), `close()` ends it."""

    def __init__(self, account: AccountConfig, connector: Connector | None = None,
                 socks_auth: tuple[str, str] | None = None,
                 timeout: float = NEGOTIATION_TIMEOUT) -> None:
        """`account` gives the domain and the route (its JID's name part is not used).
        Create inside a running loop."""
        connector = connector or connector_for(account, socks_auth)
        if account.proxy is not None and connector.local_dns:
            raise ValueError(f"{account.id} must register through its proxy")
        self.domain, self.timeout = account.domain, timeout
        self.form: RegistrationForm | None = None
        self._closing = False
        self._ended: asyncio.Future[RegistrationFailed] = (
            asyncio.get_running_loop().create_future())
        self._client = RegistrationClient(
            account.domain, ssl_context=client_context(account.ca_file),
            direct_tls=account.tls == "direct", host=account.host, port=account.port,
            connector=connector, tls_pins=account.tls_pins)
        self._client.add_event_handler(FAILED_EVENT, self._failed)
        self._client.add_event_handler("connection_failed", self._unreachable)
        self._client.add_event_handler("disconnected", self._closed)

    def __repr__(self) -> str:
        return f"<Registration {self.domain}>"

    def _end(self, failure: RegistrationFailed) -> None:
        if not self._ended.done() and not self._closing:
            self._ended.set_result(failure)

    def _failed(self, failure: Failure) -> None:
        self._end(RegistrationFailed(failure_text(self.domain, failure)))

    def _unreachable(self, exc: Any) -> None:
        why = str(exc) if exc is not None and str(exc) else type(exc).__name__
        self._end(RegistrationFailed(f"Could not reach {clean_field(self.domain, 80)}: "
                                     f"{clean_field(why, 300)}"))

    def _closed(self, _: Any) -> None:
        self._end(RegistrationFailed(f"{clean_field(self.domain, 80)} closed the connection."))

    async def _race(self, aw: Awaitable[T], timeout: float, what: str) -> T:
        """`aw`, unless the connection ends first (its reason is raised) or time runs out."""
        task: asyncio.Future[T] = asyncio.ensure_future(aw)
        waiting: set[asyncio.Future[Any]] = {task, self._ended}
        done, _ = await asyncio.wait(waiting, timeout=timeout,
                                     return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            return task.result()
        task.cancel()
        if self._ended.done():
            raise self._ended.result()
        raise RegistrationFailed(f"{clean_field(self.domain, 80)} did not {what} within "
                                 f"{timeout:g} s.")

    async def open(self) -> RegistrationForm:
        """Connect, secure the stream, and fetch the registration form."""
        self._client.connect()
        advertised = await self._race(self._client.secure, self.timeout, "set up TLS")
        result = await self._iq("get", ET.Element(f"{{{REG_NS}}}query"))
        self.form = parse_query(result.xml.find(f"{{{REG_NS}}}query"), self.domain, advertised)
        return self.form

    async def submit(self, values: dict[str, tuple[str, ...]]) -> None:
        """Send the answers (every field's values, as `registration.collect` gives them)."""
        if self.form is None:
            raise RuntimeError("open() first")
        await self._iq("set", answer_query(self.form, values))

    async def _iq(self, kind: str, query: ET.Element) -> Iq:
        if self._ended.done():
            raise self._ended.result()
        if not self._client.tls_active:  # never reached: `secure` comes only over TLS
            raise RegistrationFailed("The connection is not encrypted: nothing was sent.")
        iq = self._client.Iq()
        iq["type"] = kind
        iq.append(query)
        try:
            sent: asyncio.Future[Iq] = iq.send(timeout=IQ_TIMEOUT)  # type: ignore[no-untyped-call]
            result = await self._race(sent, IQ_TIMEOUT + 1, "answer")
        except IqError as exc:
            raise refusal(self.domain, str(exc.condition), str(exc.text or ""),
                          str(exc.etype or "")) from None
        except IqTimeout:
            raise RegistrationFailed(f"{clean_field(self.domain, 80)} did not answer within "
                                     f"{IQ_TIMEOUT:g} s.") from None
        return result

    async def close(self) -> None:
        self._closing = True
        client = self._client
        client.cancel_connection_attempt()
        if client.transport is not None:
            try:
                await asyncio.wait_for(client.disconnect(wait=1.0), 3.0)
            except TimeoutError:
                client.abort()
        filters = client._run_out_filters  # slixmpp's send loop outlives the connection
        if filters is not None and not filters.done():
            filters.cancel()
            await asyncio.wait([filters], timeout=1.0)
