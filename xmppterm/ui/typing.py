"""Chat states in the UI (domain/chatstates.py): what we tell the contact of the chat
shown as the user types, and "typing…" in the status line when they type.

Only one-to-one chats: nothing is sent for a room or the status buffer. Whether a
state may leave at all (the `chat_states` setting, strangers) is protocol's check.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..domain.chatstates import PAUSE_AFTER, ChatState, SetChatState, after_edit
from ..domain.ids import ChatKey
from ..domain.intents import Intent

__all__ = ["PAUSE_AFTER", "WORDS", "Typing"]
WORDS = {ChatState.COMPOSING: "typing…", ChatState.PAUSED: "stopped typing"}


class Typing:
    def __init__(self, dispatch: Callable[[Intent], None],
                 set_timer: Callable[[float, Callable[[], None]], Any]) -> None:
        self._dispatch, self._set_timer = dispatch, set_timer
        self._sent: dict[ChatKey, ChatState] = {}
        self._theirs: dict[ChatKey, ChatState] = {}
        self._pause: Any = None  # the timer that turns composing into paused

    def _send(self, chat: ChatKey, state: ChatState) -> None:
        self._sent[chat] = state
        self._dispatch(SetChatState(chat.account, chat, state))

    def edited(self, chat: ChatKey | None, text: str, sent: bool = False) -> None:
        """The composer's text changed (`sent`: emptied because the line was sent: the
        message itself ends "composing" at the other end, no extra stanza)."""
        if chat is None:
            return
        if sent:
            self._sent.pop(chat, None)
            self._stop_timer()
            return
        state = after_edit(self._sent.get(chat), text)
        if state is not None:
            self._send(chat, state)
        if state is ChatState.COMPOSING or self._sent.get(chat) is ChatState.COMPOSING:
            self._stop_timer()
            self._pause = self._set_timer(PAUSE_AFTER, lambda: self._paused(chat))
        elif state is ChatState.ACTIVE:
            self._stop_timer()

    def left(self, chat: ChatKey | None) -> None:
        """The user turned to another buffer: a chat we were typing in is paused."""
        if chat is not None and self._sent.get(chat) is ChatState.COMPOSING:
            self._stop_timer()
            self._send(chat, ChatState.PAUSED)

    def _paused(self, chat: ChatKey) -> None:
        self._pause = None
        if self._sent.get(chat) is ChatState.COMPOSING:
            self._send(chat, ChatState.PAUSED)

    def _stop_timer(self) -> None:
        if self._pause is not None:
            self._pause.stop()
            self._pause = None

    # -- theirs ----------------------------------------------------------------------------
    def received(self, chat: ChatKey, state: ChatState) -> None:
        self._theirs[chat] = state

    def message_from(self, chat: ChatKey) -> None:
        """Their message arrived: whatever they were doing, it is done."""
        self._theirs.pop(chat, None)

    def words(self, chat: ChatKey | None) -> str:
        """What the status line says about the contact of `chat` ("" nothing)."""
        state = self._theirs.get(chat) if chat is not None else None
        return WORDS.get(state, "") if state is not None else ""
