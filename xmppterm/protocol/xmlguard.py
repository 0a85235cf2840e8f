"""A bounded XML stream parser: what the server sends is parsed only within limits.

XMPP forbids DTDs, comments and processing instructions in the stream (RFC 6120
§11.1). A DOCTYPE can only appear in the prolog, before the stream's root element,
so the prolog is checked byte by byte before anything reaches expat: only the XML
declaration and whitespace may precede `<stream:stream`. After the root element has
started, expat itself rejects a DOCTYPE, and undeclared entities are errors.

Each stanza (a child of the root) is limited in size and nesting depth.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

MAX_STANZA_BYTES = 256 * 1024
MAX_DEPTH = 64  # element nesting inside one stanza
MAX_PROLOG_BYTES = 1024
_SPACE = b" \t\r\n"


class StreamViolation(Exception):
    """The peer broke a limit or a rule; `condition` is the RFC 6120 stream error."""

    def __init__(self, condition: str, text: str) -> None:
        super().__init__(text)
        self.condition = condition
        self.text = text


class BoundedStreamParser:
    """Feed bytes, get ("start"|"end", element, depth) triples; raises StreamViolation.

    `depth` counts the root element as 1, so a stanza starts and ends at depth 2.
    """

    def __init__(self, max_stanza: int = MAX_STANZA_BYTES, max_depth: int = MAX_DEPTH) -> None:
        self.max_stanza, self.max_depth = max_stanza, max_depth
        self._parser: ET.XMLPullParser[ET.Element] = ET.XMLPullParser(("start", "end"))
        self._prolog = b""
        self._in_root = False
        self.depth = 0
        self._unfinished = 0  # bytes fed since the last stanza ended (an upper bound)

    def feed(self, data: bytes) -> Iterator[tuple[str, ET.Element, int]]:
        if not self._in_root:
            data = self._check_prolog(data)
            if not data:
                return
        self._unfinished += len(data)
        if self._unfinished > self.max_stanza:
            raise StreamViolation("policy-violation",
                                  f"stanza larger than {self.max_stanza} bytes")
        try:
            self._parser.feed(data)
            events: list[Any] = list(self._parser.read_events())
        except ET.ParseError as exc:
            raise StreamViolation("not-well-formed", f"XML error: {exc}") from None
        yield from self._walk(events, len(data))

    def _walk(self, events: list[Any], chunk: int
              ) -> Iterator[tuple[str, ET.Element, int]]:
        for kind, elem in events:
            assert isinstance(elem, ET.Element)
            if kind == "start":
                self.depth += 1
                if self.depth - 1 > self.max_depth:
                    raise StreamViolation("policy-violation",
                                          f"XML nested deeper than {self.max_depth} levels")
                yield kind, elem, self.depth
            else:
                yield kind, elem, self.depth
                self.depth -= 1
                if self.depth == 1:
                    # A stanza ended inside this chunk: what follows it is at most `chunk`.
                    self._unfinished = min(self._unfinished, chunk)

    def _check_prolog(self, data: bytes) -> bytes:
        """Buffer the prolog until the root element starts; refuse `<!` and `<?` other
        than the XML declaration. Returns the bytes to feed (empty while undecided)."""
        buf = self._prolog + data
        pos = 0
        while True:
            while pos < len(buf) and buf[pos] in _SPACE:
                pos += 1
            if pos + 2 > len(buf):
                break
            if buf[pos] != ord("<"):
                raise StreamViolation("not-well-formed", "text before the stream header")
            nxt = buf[pos + 1]
            if nxt == ord("!"):
                raise StreamViolation("restricted-xml", "DOCTYPE or comment in the stream")
            if nxt != ord("?"):
                self._in_root, self._prolog = True, b""
                return buf
            if len(buf) < pos + 6:
                break
            if pos > 0 or buf[:5] != b"<?xml" or buf[5] not in _SPACE:
                raise StreamViolation("restricted-xml", "processing instruction in the stream")
            end = buf.find(b"?>", pos)
            if end < 0:
                break
            pos = end + 2
        if len(buf) > MAX_PROLOG_BYTES:
            raise StreamViolation("policy-violation", "stream header too long")
        self._prolog = buf
        return b""
