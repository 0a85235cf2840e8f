"""What each backend event does to the buffers and the widgets (one function per event)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from ..domain import events as ev
from ..domain.chatstates import ChatStateChanged
from ..domain.connection import ConnState
from ..domain.ids import ChatKey
from ..domain.messages import Delivery, Direction
from ..domain.omemo import ChatSecurityChanged, NewOmemoDevice, OmemoDevices
from ..domain.sanitize import clean_field
from .chats import Change
from .contacts import Contacts
from .identity_view import (
    block_list,
    request_settled,
    roster_settles_requests,
    subscription_requested,
)
from .omemo_view import omemo_event
from .room_view import ROOM_EVENTS, room_buffer_opened, room_event, room_message
from .search_view import search_results

if TYPE_CHECKING:
    from .app import XmppTermApp


def apply_event(app: XmppTermApp, event: ev.Event) -> None:
    """File one event; unknown kinds (link events never reach the UI) are ignored."""
    if event.account not in app.accounts and not isinstance(event, ev.Notice):
        app.refresh_accounts()  # an identity added since start (first-run form)
    match event:
        case ev.MessageReceived():
            message_received(app, event)
        case ev.MessageDeliveryChanged():
            delivery_changed(app, event)
        case ev.ChatOpened():
            chat_opened(app, event)
        case ev.ChatClosed():
            app.forget_chat(event.chat)
        case ev.SearchResults():
            search_results(app, event)
        case ev.Notice():
            app.notice(event.text, event.error, event.chat)
        case ev.RouteDescribed():
            for line in event.lines:
                app.say(clean_field(line, 300))
        case ev.ConnectionChanged():
            connection_changed(app, event)
        case ev.RosterReceived() | ev.RosterItemChanged() | ev.PresenceChanged():
            roster_event(app, event)
            roster_settles_requests(app, event)
        case ev.SubscriptionRequested():
            subscription_requested(app, event)
        case ev.SubscriptionAnswered():
            request_settled(app, event.account, event.jid)
        case ev.BlockListReceived() | ev.BlockListChanged():
            block_list(app, event)
        case ev.SendRefused() | ChatSecurityChanged() | NewOmemoDevice() | OmemoDevices():
            omemo_event(app, event)
        case ChatStateChanged(chat=chat, state=state):
            app.typing.received(chat, state)
            if app.chats.current.key == chat:
                app.update_status()
        case _ if isinstance(event, ROOM_EVENTS):
            room_event(app, event)


def message_received(app: XmppTermApp, event: ev.MessageReceived) -> None:
    message = event.message
    if message.direction is Direction.INCOMING and app.typing.words(message.chat):
        app.typing.message_from(message.chat)
        if app.chats.current.key == message.chat:
            app.update_status()
    stranger = event.stranger
    if message.in_room or app.rooms.is_room(message.chat):
        room_message(app, message)  # before it is drawn: its nick may be a look-alike
        stranger = False
    app.ensure_buffer(message.chat, stranger)
    buffer, change = app.chats.add_message(message, stranger)
    if buffer is app.chats.current:
        if change is Change.APPENDED:
            app.chatlog.append(message)
        else:
            app.chatlog.replace(message)
    else:
        app.sidebar.set_unread(message.chat, buffer.unread)
        app.update_status()


def delivery_changed(app: XmppTermApp, event: ev.MessageDeliveryChanged) -> None:
    found = app.chats.update_delivery(event.chat, event.message_id, event.delivery,
                                      event.error)
    if found is not None and found[0] is app.chats.current:
        app.chatlog.replace(found[1])
    elif found is None and event.delivery is Delivery.FAILED and app.chats.find(event.chat):
        # a correction (never a line of its own), or a message no longer in the buffer
        app.notice("A correction (or a message no longer shown) was not sent: "
                   f"{clean_field(event.error or 'no reason given')}", error=True,
                   chat=event.chat)


def chat_opened(app: XmppTermApp, event: ev.ChatOpened) -> None:
    room = event.room or app.rooms.is_room(event.chat)
    if room:
        app.rooms.mark_room(event.chat)
    stranger = event.stranger and not room
    app.ensure_buffer(event.chat, stranger)
    if not stranger and not event.chat.is_private:  # a private chat keeps its node
        app.sidebar.remove_stranger(event.chat)
    if room:
        room_buffer_opened(app, event.chat, event.history)
    shown = app.chats.current
    buffer = app.chats.open(event.chat, event.history, stranger, event.focus, event.at)
    if event.at is not None and app.chats.current is buffer:
        app.show_current(found=event.at)
    elif app.chats.current is not shown or buffer is shown:
        app.show_current()
    else:
        app.update_status()


def connection_changed(app: XmppTermApp, event: ev.ConnectionChanged) -> None:
    info = app.accounts.get(event.account)
    if info is None:
        return
    app.set_account_state(replace(info, state=event.state))
    app.details[event.account] = event.detail
    words = f"{clean_field(event.account.name)}: {event.state.value}"
    if event.detail:
        words += f" ({event.detail})"
    app.notice(words, error=event.state is ConnState.FAILED)
    app.update_status()


def roster_event(app: XmppTermApp,
                 event: ev.RosterReceived | ev.RosterItemChanged | ev.PresenceChanged) -> None:
    contacts = app.contacts.setdefault(event.account, Contacts())
    if isinstance(event, ev.PresenceChanged):
        contacts.set_presence(event.presence)
        app.sidebar.presence_changed(ChatKey(event.account, event.presence.jid))
        return
    if isinstance(event, ev.RosterReceived):
        contacts.set_roster(event.items)
        app.sidebar.set_roster(event.account)
    else:
        contacts.update(event.item, event.removed)
        app.sidebar.update_item(event.account, event.item, event.removed)
    if event.account == app.current_account:
        app.update_status()
