"""Which group-chat service the identity's server offers (XEP-0045 §6.1 through
XEP-0030), so that `/join plans` can mean plans@that-service.

After each login, in the background: disco#items of the account's domain, then
disco#info of at most MAX_ITEMS of its items, PARALLEL at a time and no further once a
batch holds a group-chat service (a few requests on a usual server); the service is the
first item, in the server's order (its own subdomains first), whose info has the
identity category "conference" type "text" AND the feature
http://jabber.org/protocol/muc. Reported once as `RoomServiceFound`, with None when
the server has no items, answers with an error, does not answer in time, or lists no
such service: nothing is shown to the user then.

What counts: only a result whose `from` is exactly the JID we asked (slixmpp also lets
through results from our own domain or without `from`); only item JIDs that are bare
domain names (no local part, no resource, no node), so we never ask, nor offer the
user, anything else.
"""

from __future__ import annotations

import asyncio
import logging
import xml.etree.ElementTree as ET
from typing import Any

from slixmpp.exceptions import IqError, IqTimeout

from ...domain.ids import InvalidJid, parse_jid
from ...domain.rooms import RoomServiceFound

log = logging.getLogger(__name__)
DISCO_ITEMS = "http://jabber.org/protocol/disco#items"
DISCO_INFO = "http://jabber.org/protocol/disco#info"
MUC = "http://jabber.org/protocol/muc"
MAX_ITEMS = 20  # items whose info is asked for
MAX_READ = 1000  # items read from the answer at all
PARALLEL = 4  # disco#info requests at a time
REQUEST_TIMEOUT = 10.0  # seconds, each request
TOTAL_TIMEOUT = 30.0  # seconds, the whole discovery
MAX_DOMAIN = 253
MAX_LABEL = 63


def service_jid(text: str | None) -> str | None:
    """`text` as a bare domain JID (a DNS name: labels of letters, digits and '-'),
    normalised; None for anything else (a local part, a resource, an IP literal,
    control characters, an empty label…)."""
    if not text or "@" in text or "/" in text:
        return None
    try:
        jid = parse_jid(text)
    except InvalidJid:
        return None
    domain = jid.domain
    if jid.local or jid.resource or len(domain) > MAX_DOMAIN:
        return None
    labels = domain.split(".")
    if any(not label or len(label) > MAX_LABEL or label[0] == "-" or label[-1] == "-"
           or not all(c.isalnum() or c == "-" for c in label) for label in labels):
        return None
    return domain


def candidates(query: ET.Element | None, domain: str) -> list[str]:
    """The service JIDs worth asking about, from a disco#items `<query>` of `domain`:
    bare domain JIDs without a node, once each, the server's own subdomains first (each
    group in the server's order), at most MAX_ITEMS."""
    if query is None:
        return []
    found: list[str] = []
    for item in list(query)[:MAX_READ]:
        if item.tag != f"{{{DISCO_ITEMS}}}item" or item.get("node") is not None:
            continue
        jid = service_jid(item.get("jid"))
        if jid is not None and jid != domain and jid not in found:
            found.append(jid)
    own = [jid for jid in found if jid.endswith(f".{domain}")]
    return (own + [jid for jid in found if jid not in own])[:MAX_ITEMS]


def is_room_service(query: ET.Element | None) -> bool:
    """A disco#info `<query>` of a MUC service: identity conference/text and the
    feature http://jabber.org/protocol/muc, both."""
    if query is None:
        return False
    identity = any(i.get("category") == "conference" and i.get("type") == "text"
                   for i in query.findall(f"{{{DISCO_INFO}}}identity"))
    feature = any(f.get("var") == MUC for f in query.findall(f"{{{DISCO_INFO}}}feature"))
    return identity and feature


def answer_query(iq: ET.Element, asked: str, namespace: str) -> ET.Element | None:
    """The `<query>` of a result `iq` when it comes from exactly `asked`; else None."""
    try:
        sender = parse_jid(iq.get("from") or "").full
    except InvalidJid:
        return None
    if sender != asked or iq.get("type") != "result":
        return None
    return iq.find(f"{{{namespace}}}query")


def choose(asked: list[str], infos: list[ET.Element | None]) -> str | None:
    """The first service of `asked` (in that order) whose info (same index) is a MUC's."""
    for jid, info in zip(asked, infos, strict=True):
        if is_room_service(info):
            return jid
    return None


class RoomServiceFinder:
    """The discovery of one link; `run()` once per session, in the background."""

    def __init__(self, client: Any, report: Any, timeout: float = REQUEST_TIMEOUT,
                 total: float = TOTAL_TIMEOUT) -> None:
        """`report` is the link's translator: `account`, `ctx.domain`, `emit(event)`."""
        self._client, self._report = client, report
        self.timeout, self.total = timeout, total
        self.found: str | None = None

    async def run(self) -> None:
        """Discover and report RoomServiceFound (None when there is no service)."""
        try:
            found = await asyncio.wait_for(self.find(), self.total)
        except TimeoutError:
            found = None
        self.found = found
        self._report.emit(RoomServiceFound(self._report.account, found))

    async def find(self) -> str | None:
        domain = service_jid(self._report.ctx.domain)
        if domain is None:
            return None
        asked = candidates(await self._ask(domain, DISCO_ITEMS), domain)
        for start in range(0, len(asked), PARALLEL):  # in the server's order; stop once found
            batch = asked[start:start + PARALLEL]
            found = choose(batch, list(await asyncio.gather(
                *(self._ask(jid, DISCO_INFO) for jid in batch))))
            if found is not None:
                return found
        return None

    async def _ask(self, jid: str, namespace: str) -> ET.Element | None:
        """A disco `<query>` of `jid` (None: error, no answer, or not from `jid`)."""
        iq = self._client.make_iq_get(queryxmlns=namespace, ito=jid)
        try:
            result = await iq.send(timeout=self.timeout)
        except (IqError, IqTimeout):
            return None
        query = answer_query(result.xml, jid, namespace)
        if query is None:
            log.info("ignored a disco answer (not from the JID asked, or without a query)")
        return query
