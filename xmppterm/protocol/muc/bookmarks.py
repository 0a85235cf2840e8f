"""Room bookmarks of one identity: XEP-0402 (PEP node urn:xmpp:bookmarks:1) where the
server announces `urn:xmpp:bookmarks:1#compat` on our account, else XEP-0048 in private
XML storage (XEP-0049). The list is kept here and reported as `BookmarksReceived`.

- Bookmark content is remote (another client of ours, or a server, wrote it): at most
  MAX_BOOKMARKS are read, each room must be a bare JID with a local part, texts are
  cut; anything else is skipped, never raised.
- Changes pushed by another of our clients count only from our own bare JID (PEP);
  xmppterm sends no entity caps (privacy), so it subscribes to its own node explicitly.
- A server that refuses the XEP-0402 publish options (precondition-not-met) would keep
  the bookmarks readable by others: we stop using XEP-0402 and store in XEP-0048.
- XEP-0048 storage is rewritten whole: entries we do not handle (URLs, others'
  extensions) are kept as they were.
"""

from __future__ import annotations

import copy
import logging
import xml.etree.ElementTree as ET
from enum import Enum
from typing import Any

from slixmpp.exceptions import IqError, IqTimeout
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

from ...domain.ids import InvalidJid, parse_jid
from ...domain.rooms import Bookmark, BookmarksReceived
from ..errors import RequestFailed
from ..stanzas import CLIENT, error_text

log = logging.getLogger(__name__)
NODE = "urn:xmpp:bookmarks:1"
COMPAT = f"{NODE}#compat"
PUBSUB = "http://jabber.org/protocol/pubsub"
PUBSUB_EVENT = "http://jabber.org/protocol/pubsub#event"
PUBSUB_ERRORS = "http://jabber.org/protocol/pubsub#errors"
DISCO_INFO = "http://jabber.org/protocol/disco#info"
PRIVATE = "jabber:iq:private"
LEGACY = "storage:bookmarks"
XDATA = "jabber:x:data"
CONFERENCE_402 = f"{{{NODE}}}conference"
CONFERENCE_48 = f"{{{LEGACY}}}conference"
PUBLISH_OPTIONS = (("FORM_TYPE", "http://jabber.org/protocol/pubsub#publish-options"),
                   ("pubsub#persist_items", "true"), ("pubsub#max_items", "max"),
                   ("pubsub#send_last_published_item", "never"),
                   ("pubsub#access_model", "whitelist"))
NODE_CONFIG = "http://jabber.org/protocol/pubsub#node_config"
MAX_BOOKMARKS = 1000
MAX_TEXT = 1024
REQUEST_TIMEOUT = 20.0


class Storage(Enum):
    PEP = "XEP-0402"
    PRIVATE = "XEP-0048"


def _room(text: str | None) -> str | None:
    try:
        jid = parse_jid(text or "")
    except InvalidJid:
        return None
    return jid.bare if jid.local and not jid.resource else None


def _child_text(el: ET.Element, tag: str) -> str:
    child = el.find(tag)
    return ((child.text or "") if child is not None else "")[:MAX_TEXT]


def _flag(value: str | None) -> bool:
    return (value or "").strip() in ("true", "1")


def read_conference(conf: ET.Element, room: str | None) -> Bookmark | None:
    """One bookmark from a 0402 `<conference>` (room = item id) or a 0048 one
    (room = its jid attribute); None when the room is not a usable room JID."""
    bare = _room(room)
    if bare is None:
        return None
    ns = conf.tag.partition("}")[0] + "}"
    return Bookmark(room=bare, name=conf.get("name", "")[:MAX_TEXT],
                    nick=_child_text(conf, f"{ns}nick"), autojoin=_flag(conf.get("autojoin")),
                    password=_child_text(conf, f"{ns}password"))


def read_items(items: ET.Element) -> dict[str, Bookmark]:
    """The bookmarks in a pubsub `<items>` (result or event)."""
    found: dict[str, Bookmark] = {}
    for item in list(items)[:MAX_BOOKMARKS]:
        conf = item.find(CONFERENCE_402)
        mark = read_conference(conf, item.get("id")) if conf is not None else None
        if mark is not None:
            found[mark.room] = mark
    return found


def read_storage(storage: ET.Element | None) -> dict[str, Bookmark]:
    found: dict[str, Bookmark] = {}
    for conf in (storage.findall(CONFERENCE_48) if storage is not None else [])[:MAX_BOOKMARKS]:
        mark = read_conference(conf, conf.get("jid"))
        if mark is not None:
            found[mark.room] = mark
    return found


def conference(mark: Bookmark, ns: str) -> ET.Element:
    """The `<conference>` of a bookmark in namespace `ns` (0402 or 0048)."""
    attrs = {"autojoin": "true" if mark.autojoin else "false"}
    if ns == LEGACY:
        attrs["jid"] = mark.room
    if mark.name:
        attrs["name"] = mark.name
    conf = ET.Element(f"{{{ns}}}conference", attrs)
    if mark.nick:
        ET.SubElement(conf, f"{{{ns}}}nick").text = mark.nick
    if mark.password:
        ET.SubElement(conf, f"{{{ns}}}password").text = mark.password
    return conf


def publish_options() -> ET.Element:
    options = ET.Element(f"{{{PUBSUB}}}publish-options")
    x = ET.SubElement(options, f"{{{XDATA}}}x", {"type": "submit"})
    for var, value in PUBLISH_OPTIONS:
        field = ET.SubElement(x, f"{{{XDATA}}}field", {"var": var})
        if var == "FORM_TYPE":
            field.set("type", "hidden")
        ET.SubElement(field, f"{{{XDATA}}}value").text = value
    return options


def create_node() -> ET.Element:
    """A pubsub `<create>` of the bookmarks node, configured as the publish options ask."""
    pubsub = ET.Element(f"{{{PUBSUB}}}pubsub")
    ET.SubElement(pubsub, f"{{{PUBSUB}}}create", {"node": NODE})
    configure = ET.SubElement(pubsub, f"{{{PUBSUB}}}configure")
    form = publish_options().find(f"{{{XDATA}}}x")
    assert form is not None
    form[0].find(f"{{{XDATA}}}value").text = NODE_CONFIG  # type: ignore[union-attr]
    configure.append(form)
    return pubsub


def _condition(exc: IqError) -> str:
    return str(exc.iq["error"]["condition"] or "")


def _precondition_failed(exc: IqError) -> bool:
    """XEP-0060 §7.1.5: <conflict/> with <precondition-not-met/> (pubsub#errors)."""
    return exc.iq.xml.find(f".//{{{PUBSUB_ERRORS}}}precondition-not-met") is not None


class Bookmarks:
    """The identity's bookmark list: `fetch`, `put`, `remove`; pushes update it."""

    def __init__(self, client: Any, report: Any, timeout: float = REQUEST_TIMEOUT) -> None:
        """`report` is the link's translator: `account` and `emit(event)`."""
        self._client, self._report, self.timeout = client, report, timeout
        self.storage: Storage | None = None  # decided by the first fetch
        self.items: dict[str, Bookmark] = {}
        self._legacy_raw: ET.Element | None = None  # the 0048 storage as last read
        client.register_handler(Callback(
            "xt bookmarks push", MatchXPath(f"{CLIENT}message/{{{PUBSUB_EVENT}}}event"),
            self._push))

    @property
    def _own(self) -> str:
        return str(self._client.boundjid.bare)

    async def _send(self, iq: Any, failure: str) -> ET.Element:
        try:
            result = await iq.send(timeout=self.timeout)
        except (IqTimeout, TimeoutError):
            raise RequestFailed(f"{failure}: the server did not answer") from None
        xml: ET.Element = result.xml
        return xml

    def _iq(self, kind: str, child: ET.Element) -> Any:
        make = self._client.make_iq_get if kind == "get" else self._client.make_iq_set
        iq = make(ito=self._own)
        iq.append(child)
        return iq

    def _emit(self) -> None:
        self._report.emit(BookmarksReceived(self._report.account, tuple(self.items.values())))

    # -- which storage -----------------------------------------------------------------
    async def _detect(self) -> Storage:
        if self.storage is None:
            query = ET.Element(f"{{{DISCO_INFO}}}query")
            try:
                reply = await self._send(self._iq("get", query), "Could not ask the server")
                found = {f.get("var") for f in reply.iter(f"{{{DISCO_INFO}}}feature")}
            except IqError:
                found = set()
            self.storage = Storage.PEP if COMPAT in found else Storage.PRIVATE
        return self.storage

    # -- reading -------------------------------------------------------------------------
    async def fetch(self) -> tuple[Bookmark, ...]:
        """Read the list (and, with XEP-0402, subscribe to its changes); reports it."""
        try:
            if await self._detect() is Storage.PEP:
                self.items = await self._fetch_pep()
                await self._subscribe()
            else:
                self.items = await self._fetch_private()
        except IqError as exc:
            raise RequestFailed(f"Could not read the bookmarks: {error_text(exc.iq.xml)}") \
                from None
        self._emit()
        return tuple(self.items.values())

    async def _fetch_pep(self) -> dict[str, Bookmark]:
        pubsub = ET.Element(f"{{{PUBSUB}}}pubsub")
        ET.SubElement(pubsub, f"{{{PUBSUB}}}items", {"node": NODE})
        try:
            reply = await self._send(self._iq("get", pubsub), "Could not read the bookmarks")
        except IqError as exc:
            if _condition(exc) == "item-not-found":
                return {}
            raise
        items = reply.find(f"{{{PUBSUB}}}pubsub/{{{PUBSUB}}}items")
        return read_items(items) if items is not None else {}

    async def _fetch_private(self) -> dict[str, Bookmark]:
        query = ET.Element(f"{{{PRIVATE}}}query")
        ET.SubElement(query, f"{{{LEGACY}}}storage")
        reply = await self._send(self._iq("get", query), "Could not read the bookmarks")
        storage = reply.find(f"{{{PRIVATE}}}query/{{{LEGACY}}}storage")
        self._legacy_raw = copy.deepcopy(storage) if storage is not None else None
        return read_storage(storage)

    async def _subscribe(self) -> None:
        """Follow the node (created, private, when it does not exist yet: a node made
        later by another client would not tell us)."""
        pubsub = ET.Element(f"{{{PUBSUB}}}pubsub")
        ET.SubElement(pubsub, f"{{{PUBSUB}}}subscribe", {"node": NODE, "jid": self._own})
        try:
            try:
                await self._send(self._iq("set", copy.deepcopy(pubsub)), "Could not follow")
            except IqError as exc:
                if _condition(exc) != "item-not-found":
                    raise
                await self._send(self._iq("set", create_node()), "Could not create")
                await self._send(self._iq("set", pubsub), "Could not follow")
        except (IqError, RequestFailed) as exc:  # changes then show at the next login
            log.info("bookmark subscription refused: %s", type(exc).__name__)

    # -- writing -------------------------------------------------------------------------
    async def put(self, mark: Bookmark) -> str:
        """Add or replace the bookmark of `mark.room`. Returns a note for the user
        ("" normally; why, when the server made us fall back to XEP-0048)."""
        if _room(mark.room) != mark.room:
            raise RequestFailed(f"{mark.room!r} is not a room JID")
        note = ""
        if await self._detect() is Storage.PEP:
            try:
                await self._publish(mark)
            except IqError as exc:
                if not _precondition_failed(exc):
                    raise RequestFailed(f"Could not save the bookmark: {error_text(exc.iq.xml)}")\
                        from None
                note = ("The server would not keep bookmarks private (XEP-0402 options "
                        "refused): they are now kept in private XML storage (XEP-0048).")
                self.storage = Storage.PRIVATE
                await self._fetch_private_merged()
        if self.storage is Storage.PRIVATE:
            await self._write_private({**self.items, mark.room: mark})
        self.items[mark.room] = mark
        self._emit()
        return note

    async def remove(self, room: str) -> None:
        bare = _room(room) or room
        if await self._detect() is Storage.PEP:
            pubsub = ET.Element(f"{{{PUBSUB}}}pubsub")
            retract = ET.SubElement(pubsub, f"{{{PUBSUB}}}retract",
                                    {"node": NODE, "notify": "true"})
            ET.SubElement(retract, f"{{{PUBSUB}}}item", {"id": bare})
            try:
                await self._send(self._iq("set", pubsub), "Could not remove the bookmark")
            except IqError as exc:
                if _condition(exc) != "item-not-found":
                    raise RequestFailed("Could not remove the bookmark: "
                                        f"{error_text(exc.iq.xml)}") from None
        else:
            await self._write_private({k: v for k, v in self.items.items() if k != bare})
        self.items.pop(bare, None)
        self._emit()

    async def _publish(self, mark: Bookmark) -> None:
        pubsub = ET.Element(f"{{{PUBSUB}}}pubsub")
        publish = ET.SubElement(pubsub, f"{{{PUBSUB}}}publish", {"node": NODE})
        item = ET.SubElement(publish, f"{{{PUBSUB}}}item", {"id": mark.room})
        item.append(conference(mark, NODE))
        pubsub.append(publish_options())
        await self._send(self._iq("set", pubsub), "Could not save the bookmark")

    async def _fetch_private_merged(self) -> None:
        """After falling back: what XEP-0048 holds, plus what XEP-0402 held."""
        try:
            stored = await self._fetch_private()
        except IqError as exc:
            raise RequestFailed(f"Could not read the bookmarks: {error_text(exc.iq.xml)}") \
                from None
        self.items = {**stored, **self.items}

    async def _write_private(self, marks: dict[str, Bookmark]) -> None:
        storage = ET.Element(f"{{{LEGACY}}}storage")
        for kept in self._legacy_raw if self._legacy_raw is not None else ():
            if kept.tag != CONFERENCE_48 or _room(kept.get("jid")) is None:
                storage.append(kept)  # URLs, extensions, entries we cannot read: as they were
        for mark in marks.values():
            storage.append(conference(mark, LEGACY))
        query = ET.Element(f"{{{PRIVATE}}}query")
        query.append(storage)
        try:
            await self._send(self._iq("set", query), "Could not save the bookmarks")
        except IqError as exc:
            raise RequestFailed(f"Could not save the bookmarks: {error_text(exc.iq.xml)}") \
                from None
        self._legacy_raw = storage

    # -- pushes from our other clients ----------------------------------------------------
    def _push(self, msg: Any) -> None:
        sender = msg["from"]
        if sender.resource or sender.bare != self._own:
            return  # PEP notifications about our bookmarks come from our bare JID only
        items = msg.xml.find(f"{{{PUBSUB_EVENT}}}event/{{{PUBSUB_EVENT}}}items")
        if items is None or items.get("node") != NODE or self.storage is not Storage.PEP:
            return
        changed = False
        for child in list(items)[:MAX_BOOKMARKS]:
            if child.tag == f"{{{PUBSUB_EVENT}}}retract":
                changed |= self.items.pop(child.get("id", ""), None) is not None
            elif child.tag == f"{{{PUBSUB_EVENT}}}item":
                conf = child.find(CONFERENCE_402)
                mark = read_conference(conf, child.get("id")) if conf is not None else None
                if mark is not None and (mark.room in self.items or
                                         len(self.items) < MAX_BOOKMARKS):
                    changed |= self.items.get(mark.room) != mark
                    self.items[mark.room] = mark
        if changed:
            self._emit()
