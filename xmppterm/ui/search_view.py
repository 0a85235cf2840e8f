"""History search in the app: the results screen, the line when nothing matched, and
opening a result in its chat, scrolled to that message and marked."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..domain.events import SearchResults
from ..domain.intents import OpenChat
from ..domain.messages import ChatMessage
from ..domain.sanitize import clean_field
from .contacts import Contacts
from .screens.search import SearchScreen

if TYPE_CHECKING:
    from .app import XmppTermApp


def no_match(event: SearchResults) -> str:
    where = (clean_field(event.chat.jid, 80) if event.chat is not None
             else f"any chat of {clean_field(event.account.name, 40)}")
    return f"No message in {where} contains “{clean_field(event.text, 80)}”."


def search_results(app: XmppTermApp, event: SearchResults) -> None:
    """Nothing found: one line in the buffer shown. Else the list of results."""
    if not event.results:
        app.say(no_match(event))
        return

    def chosen(message: ChatMessage | None) -> None:
        if message is not None:
            open_at(app, message)

    app.push_screen(SearchScreen(event), callback=chosen)


def open_at(app: XmppTermApp, message: ChatMessage) -> None:
    """Show the message's chat at that message: at once if its buffer holds it, else
    ask the backend for the history around it (ChatOpened(at=...) comes back)."""
    chat = message.chat
    buffer = app.chats.find(chat)
    if buffer is None or buffer.find(message.id) is None:
        stranger = chat.jid not in app.contacts.get(chat.account, Contacts())
        app.ensure_buffer(chat, stranger)
        app.dispatch(OpenChat(chat.account, chat, focus=True, at=message.id))
    position = app.chats.position(chat)
    if position is not None:
        app.chats.select(position)
        app.show_current(found=message.id)
