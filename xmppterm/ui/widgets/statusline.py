"""StatusLine: who you write as, how, and to whom, in words and colour, always visible."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.widget import Widget

from ...domain.connection import ConnState
from ...domain.ports import AccountInfo
from ...domain.sanitize import clean_field
from ..identity_colours import override_style

REASON_LIMIT = 30
COMPONENTS = (
    "extra", *(f"identity-{n}" for n in range(1, 7)), "route-direct", "route-tor",
    "route-proxy", "state-online", "state-connecting", "state-offline", "state-failed",
    "plain", "omemo-trusted", "omemo-untrusted", "warning", "buffer", "activity", "separator",
    "room", "highlight",
)
STATE_CLASS = {
    ConnState.ONLINE: "state-online", ConnState.CONNECTING: "state-connecting",
    ConnState.WAITING: "state-connecting", ConnState.OFFLINE: "state-offline",
    ConnState.FAILED: "state-failed",
}


@dataclass(frozen=True, slots=True)
class StatusInfo:
    """Everything the line shows; the app builds a new one when anything changes."""

    account: AccountInfo | None = None
    detail: str = ""  # why the connection failed, or is waiting
    encryption: str = "PLAIN"  # the shown chat's encryption, in words
    buffer: str = "1:status"
    activity: tuple[int, ...] = ()  # numbers of buffers with unread messages
    extra: str = ""  # "DEMO", "EPHEMERAL"...
    colour: int = 1  # the identity's colour class, as in the sidebar
    room: str = ""  # in a group chat: our nick and the room's anonymity, in words
    highlights: tuple[int, ...] = ()  # numbers of buffers with messages that name you
    typing: str = ""  # what the contact shown is doing (XEP-0085): "typing…"


class StatusLine(Widget):
    """One line: [EXTRA] identity ROUTE state ENCRYPTION (room) (warnings) | buffer | act.
    The encryption comes before the parts of variable length, so that a narrow screen
    cuts those, never it."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {f"statusline--{name}" for name in COMPONENTS}
    DEFAULT_CSS = "StatusLine { height: 1; }"

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._info = StatusInfo()

    @property
    def info(self) -> StatusInfo:
        return self._info

    def set_info(self, info: StatusInfo) -> None:
        if info != self._info:
            self._info = info
            self.refresh()

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"statusline--{name}", partial=True,
                                             default=Style.null())

    def render(self) -> Text:
        text = self.build()
        text.truncate(max(1, self.size.width), overflow="ellipsis")
        return text

    def build(self) -> Text:
        info, sep = self._info, (" ", self._style("separator"))
        parts: list[tuple[str, Style] | str] = []
        if info.extra:
            parts += [(f" {clean_field(info.extra)} ", self._style("extra")), sep]
        parts += self._account_parts(info)
        enc_class = {"PLAIN": "plain", "OMEMO VERIFIED": "omemo-trusted"}.get(
            info.encryption, "omemo-untrusted")
        parts += [sep, (info.encryption, self._style(enc_class))]  # before what may be cut
        if info.room:
            parts += [sep, (clean_field(info.room), self._style("room"))]
        if info.typing:
            parts += [sep, (info.typing, self._style("activity"))]
        if info.account is not None and info.account.plain_password:
            parts += [sep, ("PASSWORD IN CONFIG", self._style("warning"))]
        parts += [sep, (f"[{clean_field(info.buffer)}]", self._style("buffer"))]
        if info.activity or info.highlights:
            parts += [sep, *self._activity(info)]
        return Text.assemble(*parts, no_wrap=True)

    def _activity(self, info: StatusInfo) -> list[tuple[str, Style] | str]:
        """`act:2,!3`: buffers with unread messages; `!` those that name you."""
        parts: list[tuple[str, Style] | str] = [("act:", self._style("activity"))]
        for index, number in enumerate(sorted({*info.activity, *info.highlights})):
            if index:
                parts.append((",", self._style("activity")))
            if number in info.highlights:
                parts.append((f"!{number}", self._style("highlight")))
            else:
                parts.append((str(number), self._style("activity")))
        return parts

    def _account_parts(self, info: StatusInfo) -> list[tuple[str, Style] | str]:
        account = info.account
        if account is None:
            return [("no identity", self._style("warning"))]
        route = account.route.upper() if account.route else "DIRECT"
        route_class = {"TOR": "route-tor", "PROXY": "route-proxy"}.get(route, "route-direct")
        state = account.state
        words = state.value
        if info.detail and state in (ConnState.FAILED, ConnState.WAITING):
            words += ": " + clean_field(info.detail, REASON_LIMIT)
        colour = self._style(f"identity-{info.colour}") + override_style(account.color)
        return [(clean_field(account.id.name), colour), " ",
                (route, self._style(route_class)), " ",
                (words, self._style(STATE_CLASS[state]))]
