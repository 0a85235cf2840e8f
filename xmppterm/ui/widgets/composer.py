"""Composer: the one-line input, with a prompt naming the identity you write as.

Up/Down walk the history (kept in memory for this run only); Up in an empty line, before
any history, first brings back our last message in the chat shown as `/correct TEXT`
to edit (as in Conversations, Gajim and Dino; Escape abandons it, a second Up goes on
into the history). Tab completes command
names and, after `/msg `, `/query ` and the contact commands (JID_COMMANDS), the JIDs of
the current identity's roster; in a room, the occupants' nicks (`nick: ` at the start of
the line, `nick ` later in it and after NICK_COMMANDS); pressing Tab again cycles through
the candidates. Enter posts `Composer.Submitted`.
"""

from __future__ import annotations

import os
from bisect import bisect_left
from collections.abc import Callable, Sequence
from typing import ClassVar

from rich.text import Text
from textual import events
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, Static

from ...domain.commands import complete
from ...domain.ids import ChatKey
from ...domain.sanitize import clean_body
from ..keys import ALT_DIGIT_KEYS
from .ordered_input import OrderedInput

HISTORY_LIMIT = 500


def over_ssh() -> bool:
    return bool(os.environ.get("SSH_CONNECTION") or os.environ.get("SSH_TTY"))

CANDIDATE_LIMIT = 100
JID_COMMANDS = ("/msg ", "/query ", "/remove ", "/rename ", "/block ", "/unblock ")
NICK_COMMANDS = ("/kick ", "/ban ", "/voice ", "/devoice ")
RECALL = "/correct "  # Up in an empty line: our last message, to correct


def fits_one_line(text: str) -> bool:
    """True when `text` can be put into the Input as it is. Input draws its value raw:
    a control character would reach the terminal (ESC sequences), a line break or tab
    would break the line, a bidi control would reorder it; such text (even our own, it
    may have been pasted or come from another of our devices) is not put there."""
    return bool(text.strip()) and "\n" not in text and "\t" not in text \
        and clean_body(text) == text


def nick_candidates(value: str, nicks: Sequence[str]) -> list[str]:
    """Completed lines for the last word of `value` among a room's `nicks`."""
    lowered = value.lower()
    command = next((c for c in NICK_COMMANDS if lowered.startswith(c)), None)
    if value.startswith("/") and (command is None or " " in value[len(command):]):
        return []
    head, sep, word = value.rpartition(" ")
    head += sep
    suffix = ": " if not head else " "
    word = word.casefold()
    found = [head + (f'"{nick}"' if command and " " in nick else nick) + suffix
             for nick in nicks if nick.casefold().startswith(word)]
    return found[:CANDIDATE_LIMIT]


def candidates(value: str, jids: Sequence[str], nicks: Sequence[str] = ()) -> list[str]:
    """Completed lines for `value`: command names, roster JIDs (sorted) after /msg, or
    the nicks of the room shown."""
    if value.startswith("/") and " " not in value:
        return [name + " " for name in complete(value)]
    if nicks:
        completed = nick_candidates(value, nicks)
        if completed:
            return completed
    for command in JID_COMMANDS:
        if value.lower().startswith(command):
            prefix = value[len(command):].casefold()
            if " " in prefix:
                return []
            start = bisect_left(jids, prefix)
            found: list[str] = []
            for jid in jids[start:start + CANDIDATE_LIMIT]:
                if not jid.startswith(prefix):
                    break
                found.append(value[:len(command)] + jid + " ")
            return found
    return []


def pasteable(text: str) -> str:
    """The first line of a paste, with control characters (an ESC that would start a
    terminal sequence, C1 controls, DEL) shown as U+FFFD: Textual's Input writes what
    it holds to the terminal as it is, and pasted text comes from anywhere."""
    line = text.splitlines()[0] if text else ""
    return "".join("\ufffd" if (ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0) and c != "\t"
                   else c for c in line).replace("\t", " ")


class ComposerInput(OrderedInput):
    """The Input with history and completion bindings; keys apply in the order they
    came (ordered_input.py)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "history(-1)", "Previous line", show=False),
        Binding("down", "history(1)", "Next line", show=False),
        Binding("tab", "complete", "Complete", show=False),
        Binding("escape", "abandon", "Abandon the correction", show=False),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, placeholder="Type a message, or /help", select_on_focus=False,
                         compact=True)
        self.jids: Sequence[str] = ()
        self.nicks: Sequence[str] = ()  # the occupants of the room shown, for Tab
        # (id, body) of our last message in the chat shown, if /correct may change it.
        self.last_own: Callable[[], tuple[str, str] | None] = lambda: None
        self._recalled: str | None = None  # the line Up brought back to correct, if shown
        self._recalled_id: str | None = None  # the message it corrects

        self._history: list[str] = []
        self._hist_pos: int | None = None
        self._draft = ""
        self._cycle: list[str] = []
        self._cycle_at = 0

    class Sent(Message):
        """Enter: `line` left the input (already emptied); `correcting` as in correcting()."""

        def __init__(self, line: str, correcting: str | None) -> None:
            super().__init__()
            self.line, self.correcting = line, correcting

    async def action_submit(self) -> None:
        """Enter: the line leaves the input at once, so that keys typed after Enter
        start the next line instead of joining this one."""
        line, correcting = self.value, self.correcting()
        self.remember(line)
        self.post_message(self.Sent(line, correcting))
        self.value = ""

    def check_consume_key(self, key: str, character: str | None) -> bool:
        """Leave Alt+digit to the app: terminals send ESC+digit, which Textual reads as
        the characters macOS types for Option+digit (see keys.ALT_DIGIT_KEYS)."""
        return key not in ALT_DIGIT_KEYS and super().check_consume_key(key, character)

    def remember(self, line: str) -> None:
        if line and (not self._history or self._history[-1] != line):
            self._history.append(line)
            del self._history[:-HISTORY_LIMIT]
        self._hist_pos = None
        self._draft = ""
        self._recalled = None

    def _put(self, value: str) -> None:
        self.value = value
        self.cursor_position = len(value)

    def action_history(self, step: int) -> None:
        if step < 0 and self._hist_pos is None and not self.value and self._recall():
            return
        if not self._history:
            return
        if self._hist_pos is None:
            if step > 0:
                return
            self._recalled = None  # into the history: the line is kept as the draft
            self._draft = self.value
            self._hist_pos = len(self._history)
        self._hist_pos = max(0, self._hist_pos + step)
        if self._hist_pos >= len(self._history):
            self._hist_pos = None
            self._put(self._draft)
        else:
            self._put(self._history[self._hist_pos])

    def _recall(self) -> bool:
        """Our last message in this chat, as `/correct TEXT` to edit; False if none
        (or one that cannot be shown on one line: then Up is the history, silently)."""
        mine = self.last_own()
        if mine is None or not fits_one_line(mine[1]):
            return False
        self._recalled_id, body = mine
        self._recalled = RECALL + body
        self._put(self._recalled)
        return True

    def correcting(self) -> str | None:
        """For a /correct line: the id of the message it is meant for, the one Up brought
        back (edited or not), else the one shown as ours last now; else None."""
        if not self.value.startswith(RECALL):
            return None
        if self._recalled:
            return self._recalled_id
        mine = self.last_own()
        return mine[0] if mine is not None else None

    def action_abandon(self) -> None:
        """Escape: drop the correction brought back by Up (else Escape is the app's)."""
        if not (self._recalled and self.value.startswith(RECALL)):
            raise SkipAction()
        self._recalled = None
        self._put("")

    def drop_recall(self) -> None:
        """Take a correction brought back by Up off the line (into the history if edited)."""
        if self._recalled and self.value.startswith(RECALL):
            if self.value != self._recalled:
                self.remember(self.value)
            self._put("")
        self._recalled = None

    def action_complete(self) -> None:
        if self._cycle and self.value == self._cycle[self._cycle_at]:
            self._cycle_at = (self._cycle_at + 1) % len(self._cycle)
        else:
            self._cycle = candidates(self.value, self.jids, self.nicks)
            self._cycle_at = 0
            if not self._cycle:
                return
        self._put(self._cycle[self._cycle_at])

    def _on_paste(self, event: events.Paste) -> None:
        event.prevent_default()  # not Input's own paste as well: it keeps control codes
        event.stop()
        line = pasteable(event.text)
        if line:
            selection = self.selection
            if selection.is_empty:
                self.insert_text_at_cursor(line)
            else:
                self.replace(line, *selection)


class Composer(Widget):
    """A prompt (`[identity]`) and the input line."""

    DEFAULT_CSS = """
    Composer { height: 1; layout: horizontal; }
    Composer > #prompt { width: auto; height: 1; }
    Composer > ComposerInput { width: 1fr; height: 1; border: none; padding: 0; }
    """

    class Submitted(Message):
        """A line to send; `correcting`: the id of the message a /correct brought back
        by Up was meant for (core refuses it if that is no longer our last one)."""

        def __init__(self, text: str, correcting: str | None = None) -> None:
            super().__init__()
            self.text, self.correcting = text, correcting

    class Edited(Message):
        """The text changed; `sent` when it was emptied by sending the line."""

        def __init__(self, text: str, sent: bool) -> None:
            super().__init__()
            self.text, self.sent = text, sent

    def __init__(self, *, low_bandwidth: bool = False, id: str | None = None) -> None:
        super().__init__(id=id)
        self._low_bandwidth = low_bandwidth
        self._sending = False  # the input is being emptied because its line was sent
        self._chat: ChatKey | None = None  # the chat shown

    def compose(self) -> ComposeResult:
        yield Static(Text("[no identity] "), id="prompt")
        field = ComposerInput(id="composer-input")
        # Every blink repaints the line: over SSH that is bytes on the user's link.
        field.cursor_blink = not (self._low_bandwidth or over_ssh())
        yield field

    @property
    def input(self) -> ComposerInput:
        return self.query_one(ComposerInput)

    @property
    def value(self) -> str:
        return self.input.value

    def set_prompt(self, prompt: Text) -> None:
        self.query_one("#prompt", Static).update(prompt)

    def set_jids(self, jids: Sequence[str]) -> None:
        self.input.jids = jids

    def set_nicks(self, nicks: Sequence[str]) -> None:
        self.input.nicks = nicks

    def set_last_own(self, last_own: Callable[[], tuple[str, str] | None]) -> None:
        """Where Up in an empty line finds (id, body) of our last message in the chat shown."""
        self.input.last_own = last_own

    def set_chat(self, chat: ChatKey | None) -> None:
        """The buffer shown is `chat`: a correction brought back by Up in another chat
        leaves the line (kept in the history if it was edited), so that it cannot
        change this chat's message."""
        if chat != self._chat:
            self._chat = chat
            self.input.drop_recall()

    def focus_input(self) -> None:
        self.input.focus()

    def restore(self, text: str) -> bool:
        """Give back a line that was not sent: into the input if it is empty (True),
        else into the history only, where Up finds it (False)."""
        field = self.input
        if field.value:
            field.remember(text)
            return False
        field.value = text
        field.cursor_position = len(text)
        return True

    def on_composer_input_sent(self, event: ComposerInput.Sent) -> None:
        event.stop()
        self._sending = bool(event.line)  # the input's emptying that follows is the send
        if event.line.strip():
            self.post_message(self.Submitted(event.line, event.correcting))

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        sent, self._sending = self._sending and not event.value, False
        self.post_message(self.Edited(event.value, sent))
