"""Chat states (XEP-0085): the pure decisions."""

from __future__ import annotations

import pytest

from xmppterm.domain.chatstates import ChatState, after_edit, read

NS = "{http://jabber.org/protocol/chatstates}"
C, P, A = ChatState.COMPOSING, ChatState.PAUSED, ChatState.ACTIVE


@pytest.mark.parametrize(("sent", "text", "want"), [
    (None, "h", C), (C, "he", None), (P, "hel", C), (A, "x", C),
    (C, "", A), (P, "", A), (None, "", None), (A, "", None),
    (None, "/help", None), (None, "//not a command", C), (None, "   ", None), (C, "/quit", A),
])
def test_after_edit(sent: ChatState | None, text: str, want: ChatState | None) -> None:
    assert after_edit(sent, text) == want


@pytest.mark.parametrize(("tags", "want"), [
    ([f"{NS}composing"], C), (["{jabber:client}body", f"{NS}active"], A),
    ([f"{NS}composing", f"{NS}paused"], None),  # several: malformed
    ([f"{NS}dancing"], None), ([], None), (["{other}composing"], None),
])
def test_read(tags: list[str], want: ChatState | None) -> None:
    assert read(tags) == want
