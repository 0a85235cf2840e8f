"""Roster management, subscription answers, XEP-0191 blocking and our own presence,
for one identity's client (each identity has its own: nothing here is shared).

- Subscription requests are never answered without the user: the client's
  `auto_authorize` is None; `answer()` is the only way an approval leaves.
- A block list push is answered and reported only when it comes from our server or
  our own bare JID (`roster_stanzas.push_allowed`); any other gets an error, and
  nothing changes.
- Our presence (show and text) is remembered: `announce()` sends it at each login.
"""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import Any

from slixmpp.exceptions import IqError, IqTimeout
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

from ..domain import events as ev
from ..domain.roster import Show
from . import roster_stanzas as rs
from .errors import RequestFailed
from .stanzas import CLIENT, error_text

log = logging.getLogger(__name__)
BLOCK_PUSH_EVENT = "xt_block_push"  # data: the Iq of an allowed block/unblock push
ROSTER = "jabber:iq:roster"
ROSTER_Q = f"{{{ROSTER}}}query"
REQUEST_TIMEOUT = 20.0
MAX_TEXT = 1024  # our own status text, as sent


class ContactOps:
    """What core may ask of one identity's roster, block list and presence."""

    def __init__(self, client: Any, report: Any, timeout: float = REQUEST_TIMEOUT) -> None:
        """`report` is the link's translator: `account` and `emit(event)`."""
        self._client, self._report, self.timeout = client, report, timeout
        self.show, self.status = Show.AVAILABLE, ""
        for tag in (rs.BLOCK, rs.UNBLOCK):
            client.register_handler(Callback(f"xt blocking push {tag}",
                                             MatchXPath(f"{CLIENT}iq/{tag}"), self._push))
        # slixmpp's own roster push filter answers a forged push with an error that it
        # cannot serialise (an int code): the sender never hears. Ours answers properly.
        client.remove_handler("Roster Update")
        client.register_handler(Callback("xt roster push", MatchXPath(f"{CLIENT}iq/{ROSTER_Q}"),
                                         self._roster_push))

    @property
    def _own(self) -> str:
        return str(self._client.boundjid.bare)

    # -- presence --------------------------------------------------------------------
    def announce(self) -> None:
        """Send our presence (to the server, which tells those allowed to see it)."""
        show = None if self.show in (Show.AVAILABLE, Show.OFFLINE) else self.show.value
        self._client.send_presence(pshow=show, pstatus=self.status or None)

    def set_presence(self, show: Show, status: str, online: bool) -> None:
        self.show, self.status = show, status[:MAX_TEXT]
        if online:
            self.announce()

    # -- roster and subscriptions ------------------------------------------------------
    async def set_item(self, jid: str, name: str, groups: Sequence[str] = ()) -> None:
        """Add or change a roster item (the server's push reports the result)."""
        query = ET.Element(f"{{{ROSTER}}}query")
        item = ET.SubElement(query, f"{{{ROSTER}}}item", {"jid": jid})
        if name:
            item.set("name", name)
        for group in groups:
            ET.SubElement(item, f"{{{ROSTER}}}group").text = group
        await self._request(self._client.make_iq_set(query), f"Could not save {jid}")

    async def remove_item(self, jid: str) -> None:
        query = ET.Element(f"{{{ROSTER}}}query")
        ET.SubElement(query, f"{{{ROSTER}}}item", {"jid": jid, "subscription": "remove"})
        await self._request(self._client.make_iq_set(query), f"Could not remove {jid}")

    def subscribe(self, jid: str) -> None:
        """Ask to see `jid`'s presence."""
        self._client.send_presence(pto=jid, ptype="subscribe")

    def answer(self, jid: str, approve: bool) -> None:
        """Approve (or pre-approve) or deny `jid`'s request to see our presence."""
        self._client.send_presence(pto=jid, ptype="subscribed" if approve else "unsubscribed")

    # -- blocking (XEP-0191) -----------------------------------------------------------
    async def blocklist(self) -> tuple[str, ...]:
        iq = self._client.make_iq_get()
        iq.append(ET.Element(rs.BLOCKLIST))
        result = await self._request(iq, "Could not read the block list")
        return rs.blocklist(result.xml)

    async def block(self, jid: str, blocked: bool = True) -> None:
        action = ET.Element(rs.BLOCK if blocked else rs.UNBLOCK)
        ET.SubElement(action, rs.ITEM, {"jid": jid})
        verb = "block" if blocked else "unblock"
        await self._request(self._client.make_iq_set(action), f"Could not {verb} {jid}")

    async def fetch_blocklist(self) -> None:
        """At login: read the block list (so the server also sends us its changes)."""
        try:
            jids = await self.blocklist()
        except RequestFailed as exc:
            log.info("no block list: %s", exc)
            return
        self._report.emit(ev.BlockListReceived(self._report.account, jids))

    def _allowed(self, iq: Any, what: str) -> bool:
        """A push from our server or our own bare JID; any other request is refused,
        answered (a result or error is not ours to answer)."""
        kind = iq["type"]
        if kind in ("result", "error"):
            return False
        if kind == "set" and rs.push_allowed(iq.xml, self._own):
            return True
        log.warning("refused a %s push that did not come from our server", what)
        reply = iq.reply()
        reply["type"] = "error"
        reply["error"]["type"] = "cancel"
        reply["error"]["condition"] = "service-unavailable"
        reply.send()
        return False

    def _push(self, iq: Any) -> None:
        if self._allowed(iq, "block list"):
            iq.reply().send()
            self._client.event(BLOCK_PUSH_EVENT, iq)

    def _roster_push(self, iq: Any) -> None:
        """slixmpp updates its roster and answers the push on `roster_update`."""
        if self._allowed(iq, "roster"):
            self._client.event("roster_update", iq)

    # -- requests ------------------------------------------------------------------------
    async def _request(self, iq: Any, failure: str) -> Any:
        try:
            return await iq.send(timeout=self.timeout)
        except IqError as exc:
            raise RequestFailed(f"{failure}: {error_text(exc.iq.xml)}") from None
        except (IqTimeout, TimeoutError):
            raise RequestFailed(f"{failure}: the server did not answer") from None
