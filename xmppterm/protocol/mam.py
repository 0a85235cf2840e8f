"""XEP-0313 (Message Archive Management, `urn:xmpp:mam:2`) with XEP-0059 paging: the pure
parts, tested without a server. `archive.py` drives the queries.

Who may say what (THREATS.md, "MAM results", Monal CVE-2020-26547): a `<result>` counts
only when it comes from our own account (no `from`, or exactly our bare JID), carries the
id of one of OUR queries, and that query is still open. Its content is then our own
archive: the `<delay>` of the `<forwarded>` wrapper is the time the server archived it,
and the result's `id` is the archive's stanza-id (the one live copies carry).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Container
from dataclasses import dataclass, replace
from datetime import datetime

from ..domain.messages import ChatMessage, Delivery, Direction
from . import stanzas as st

NS = "urn:xmpp:mam:2"
RSM = "http://jabber.org/protocol/rsm"
RESULT = f"{{{NS}}}result"
FIN = f"{{{NS}}}fin"
ARCHIVED_EVENT = "xt_archived"  # data: a message with a <result> (archive.py raises it)
PAGE_SIZE = 50  # Prosody answers at most 50 a page by default
MAX_PAGES = 100  # at most 5,000 messages in one catch-up; the rest at the next one


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where the next page starts: after archive id `after` (None: at the archive's
    start), or the newest page when `newest` (a first catch-up: recent history only)."""

    after: str | None = None
    newest: bool = False
    pages: int = 0  # pages read so far in this catch-up
    fetched: int = 0  # results received so far
    gap: bool = False  # the archive no longer held the marker we started from


@dataclass(frozen=True, slots=True)
class Fin:
    """The end of one page: `complete` when nothing follows; `last` the id to go on after."""

    complete: bool
    last: str | None = None


@dataclass(frozen=True, slots=True)
class Step:
    """What one page means: the next cursor (None: the catch-up is over), the marker to
    keep now (None: unchanged), and whether it stopped at its bound with more left."""

    cursor: Cursor | None
    marker: str | None
    truncated: bool = False


def first_cursor(marker: str | None) -> Cursor:
    """None: never caught up (read only the newest page); "": the archive was empty
    (read from its start); else after that archive id."""
    if marker is None:
        return Cursor(newest=True)
    return Cursor(after=marker or None)


def after_page(cursor: Cursor, fin: Fin, received: int, max_pages: int = MAX_PAGES) -> Step:
    """The paging decision after one page. Ends on `complete`, on a page that does not
    move forward (a confused or hostile server cannot loop us), and after `max_pages`."""
    done = replace(cursor, pages=cursor.pages + 1, fetched=cursor.fetched + received)
    if cursor.newest:
        return Step(None, fin.last or "")
    moved = fin.last is not None and fin.last != cursor.after
    marker = fin.last if moved else None
    if fin.complete or not moved:
        return Step(None, marker)
    if done.pages >= max_pages:
        return Step(None, marker, truncated=True)
    return Step(replace(done, after=fin.last), marker)


def query_element(query_id: str, cursor: Cursor, page_size: int = PAGE_SIZE) -> ET.Element:
    """`<query queryid=…>` with the RSM `<set>` for the page at `cursor`."""
    query = ET.Element(f"{{{NS}}}query", {"queryid": query_id})
    rsm = ET.SubElement(query, f"{{{RSM}}}set")
    ET.SubElement(rsm, f"{{{RSM}}}max").text = str(page_size)
    if cursor.newest:
        ET.SubElement(rsm, f"{{{RSM}}}before")  # empty: the last page
    elif cursor.after:
        ET.SubElement(rsm, f"{{{RSM}}}after").text = cursor.after
    return query


def _short(value: str | None) -> str | None:
    value = (value or "").strip()
    return value if value and len(value) <= st.MAX_ID else None


def parse_fin(iq: ET.Element) -> Fin:
    """The `<fin>` of a query result; a result without one ends the catch-up."""
    fin = iq.find(FIN)
    if fin is None:
        return Fin(complete=True)
    rsm = fin.find(f"{{{RSM}}}set")
    last = _short(rsm.findtext(f"{{{RSM}}}last")) if rsm is not None else None
    return Fin(complete=fin.get("complete") in ("true", "1"), last=last)


def open_result(message: ET.Element, own: str,
                open_ids: Container[str]) -> tuple[ET.Element | None, str]:
    """The `<result>` of a message when it answers one of our open queries, else None
    and why it was refused (for the log: never the content)."""
    results = message.findall(RESULT)
    if len(results) != 1:
        return None, "not exactly one result"
    sender = message.get("from")
    if sender is not None and sender != own:  # our bare JID exactly, no resource
        return None, "not from our own account"
    query_id = results[0].get("queryid")
    if not query_id or query_id not in open_ids:
        return None, "no open query of ours has that id"
    return results[0], ""


def archived_chat(result: ET.Element, ctx: st.Context, local_id: str,
                  now: datetime) -> ChatMessage | None:
    """A one-to-one message with a body from an accepted `<result>`: ours (from our
    account, perhaps another device) as OUTGOING, to us as INCOMING; None otherwise."""
    forwarded = result.find(st.FORWARDED)
    inner = forwarded.find(f"{st.CLIENT}message") if forwarded is not None else None
    if inner is None or inner.get("type", "normal") not in ("chat", "normal"):
        return None
    body = st.body_of(inner)
    sender, target = st.jid_of(inner.get("from")), st.jid_of(inner.get("to"))
    if not body or sender is None or target is None:
        return None
    if sender.bare == ctx.own:
        direction, peer, author = Direction.OUTGOING, target.bare, ctx.own
    elif target.bare == ctx.own:
        direction, peer, author = Direction.INCOMING, sender.bare, sender.bare
    else:
        return None
    delay = forwarded.find(st.DELAY) if forwarded is not None else None
    stamp = st.parse_stamp(delay.get("stamp")) if delay is not None else None
    return ChatMessage(
        id=local_id, chat=ctx.chat(peer), direction=direction, sender=author, body=body,
        timestamp=min(stamp, now) if stamp else now,
        delivery=Delivery.SENT if direction is Direction.OUTGOING else Delivery.RECEIVED,
        stanza_id=_short(result.get("id")), origin_id=st.origin_id(inner),
        remote_id=st.remote_id(inner), replaces=st.replaces(inner))
