"""Matching text for history search (pure): case-insensitive, and blind to the
compatibility forms NFKC unifies (full-width letters, ligatures, superscripts).

The store is sealed, so search runs over decrypted messages in memory; these
functions decide what matches and which part of a body to show.
"""

from __future__ import annotations

import unicodedata

SNIPPET_LEAD = 24  # characters shown before the match in a snippet


def fold(text: str) -> str:
    """`text` for comparison: NFKC, case-folded, NFKC again (case folding can un-normalise)."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())


class Needle:
    """What the user searches for, folded once; `in_text` tests one body."""

    __slots__ = ("folded", "simple")

    def __init__(self, text: str) -> None:
        self.simple = text.strip().casefold()
        self.folded = fold(text.strip())

    def __bool__(self) -> bool:
        return bool(self.simple)

    def in_text(self, text: str) -> bool:
        if not self.simple:
            return False
        return self.simple in text.casefold() or self.folded in fold(text)

    def find(self, text: str) -> tuple[int, int] | None:
        """Where the match is in `text` itself (start, end), when it can be told; the
        match may exist only after NFKC, where offsets in `text` are not known."""
        folded = text.casefold()
        if len(folded) != len(text):
            return None
        start = folded.find(self.simple)
        return None if start < 0 else (start, start + len(self.simple))


def snippet_start(text: str, needle: Needle) -> int:
    """Where to start showing `text` so that the match is near the start."""
    found = needle.find(text)
    if found is None or found[0] <= SNIPPET_LEAD:
        return 0
    start = found[0] - SNIPPET_LEAD
    space = text.find(" ", start, found[0])
    return space + 1 if space >= 0 else start
