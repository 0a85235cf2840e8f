"""Room events on screen (functions over the app, like event_view): joins, leaves,
occupant changes as at most one line each, topics, features, invitations, forms,
listings and bookmarks; highlights and the look of the room shown.

The UI takes a chat for a room once it saw ChatOpened(room=True), a room event, a
message with `nick` set, or the user's own /join, /create or /accept.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from ..domain import rooms as r
from ..domain.ids import ChatKey
from ..domain.messages import ChatMessage
from ..domain.sanitize import clean_field
from .render import NoticeLine, RoomEventLine
from .room_text import (
    anonymity,
    bookmarks_text,
    config_text,
    features_changed,
    invite_text,
    jid,
    joined_text,
    listing_text,
    nick,
    own_rename,
    summary_parts,
)

if TYPE_CHECKING:
    from .app import XmppTermApp

ROOM_EVENTS = (r.RoomJoined, r.RoomJoinFailed, r.RoomLeft, r.OccupantsChanged,
               r.RoomSubjectChanged, r.RoomFeaturesChanged, r.RoomInvited,
               r.BookmarksReceived, r.RoomConfigShown, r.RoomListing)


def room_event(app: XmppTermApp, event: object) -> None:
    match event:
        case r.RoomJoined():
            joined(app, event)
        case r.RoomJoinFailed():
            _tell(app, event.room, f"Could not join {jid(event.room.jid)}: "
                  f"{clean_field(event.reason, 300)}", error=True)
        case r.RoomLeft():
            left(app, event)
        case r.OccupantsChanged():
            occupants_changed(app, event)
        case r.RoomSubjectChanged():
            subject_changed(app, event)
        case r.RoomFeaturesChanged():
            features(app, event)
        case r.RoomInvited():
            app.rooms.invited(event)
            if not event.again:  # the room's copy of one already told: kept, not told
                _tell(app, None, invite_text(event))
        case r.BookmarksReceived():
            known = app.rooms.bookmarks.get(event.account)
            app.rooms.bookmarks[event.account] = event.bookmarks
            if known != event.bookmarks and (known is not None or event.bookmarks):
                app.notice(bookmarks_text(event.account, event.bookmarks))  # news only
        case r.RoomConfigShown():
            app.notice(config_text(event), chat=_room(app, event.room))
        case r.RoomListing():
            app.notice(listing_text(event), chat=_room(app, event.room))


def _room(app: XmppTermApp, chat: ChatKey) -> ChatKey:
    """Take `chat` for a room; its buffer, if open, moves under the sidebar's rooms."""
    app.rooms.mark_room(chat)
    if app.chats.find(chat) is not None:
        app.sidebar.remove_stranger(chat)
        app.sidebar.add_room(chat)
    return chat


def _tell(app: XmppTermApp, chat: ChatKey | None, text: str, error: bool = False) -> None:
    """A line in the room's buffer (the status buffer if it has none); also in the
    buffer shown if that is another one, so that it is not missed."""
    app.notice(text, error, chat)
    shown = app.chats.current
    target = app.chats.find(chat) or app.chats.status
    if shown is not target:
        app.say(text, error)


def refresh_room(app: XmppTermApp, chat: ChatKey) -> None:
    """The room's nicks, look or state changed: the log's marks, status, sidebar."""
    if chat == app.chats.current.key:
        app.chatlog.set_look(app.rooms.look(chat))
        app.update_status()
    state = app.rooms.state(chat)
    app.sidebar.room_changed(chat, state is not None and not state.joined)


# -- events --------------------------------------------------------------------------------
def joined(app: XmppTermApp, event: r.RoomJoined) -> None:
    again = event.room in app.rooms.states
    state = app.rooms.joined(event)
    app.ensure_buffer(_room(app, event.room), False)
    app.sidebar.add_room(event.room)
    app.notice(joined_text(state, event.created, again), chat=event.room)
    refresh_room(app, event.room)


def left(app: XmppTermApp, event: r.RoomLeft) -> None:
    app.rooms.left(event.room)
    room = jid(event.room.jid)
    if event.removed:
        reason = clean_field(event.reason, 300) or "You were removed from the room"
        text = f"{room}: {reason}. xmppterm will not rejoin by itself; /join {room} tries again."
        _tell(app, event.room, text, error=True)
    else:
        why = f" ({clean_field(event.reason, 300)})" if event.reason else ""
        app.notice(f"You left {room}{why}. /join {room} goes back in.", chat=event.room)
    refresh_room(app, event.room)


def occupants_changed(app: XmppTermApp, event: r.OccupantsChanged) -> None:
    summary = app.rooms.changed(event)
    state = app.rooms.state(event.room)
    if state is None:
        return
    parts = own_rename(summary, state.nick) if app.rooms.fold_joins else \
        summary_parts(summary, state.nick)
    if parts:
        text = "".join(text for text, _style in parts)
        _add_line(app, event.room, RoomEventLine(text, parts=tuple(parts)))
    refresh_room(app, event.room)


def _add_line(app: XmppTermApp, chat: ChatKey, line: NoticeLine) -> None:
    buffer = app.chats.find(chat)
    if buffer is None:
        return
    buffer.add(line, app.chats.max_entries)
    if buffer is app.chats.current:
        app.chatlog.append(line)


def subject_changed(app: XmppTermApp, event: r.RoomSubjectChanged) -> None:
    state = app.rooms.state(event.room)
    if state is not None:
        if state.subject == event.subject:
            return  # the topic the room sends after the join, already shown
        app.rooms.states[event.room] = replace(state, subject=event.subject)
    by = f" (set by {nick(event.by)})" if event.by else ""
    text = (f"Topic: {clean_field(event.subject, 300)}{by}" if event.subject
            else f"The topic was cleared{by}.")
    app.notice(text, chat=_room(app, event.room))


def features(app: XmppTermApp, event: r.RoomFeaturesChanged) -> None:
    state = app.rooms.state(event.room)
    old = state.features if state is not None else r.RoomFeatures()
    if state is not None:
        app.rooms.states[event.room] = replace(state, features=event.features)
    text = features_changed(old, event.features)
    app.notice(text, error=old.non_anonymous and not event.features.non_anonymous,
               chat=_room(app, event.room))
    refresh_room(app, event.room)


# -- messages, buffers, status -------------------------------------------------------------
def room_message(app: XmppTermApp, message: ChatMessage) -> None:
    """Before a room message is filed: its nick is remembered (a new look-alike marks
    the log now, so the message is drawn once, marked); a highlight is counted."""
    chat = message.chat
    known = chat in app.rooms.rooms
    shown = chat == app.chats.current.key
    if app.rooms.message(message, shown) and not shown:
        app.sidebar.set_highlights(chat, app.rooms.highlights.get(chat, 0))
    if not known and app.chats.find(chat) is not None:
        _room(app, chat)
    if shown:
        app.chatlog.set_look(app.rooms.look(chat))


def room_buffer_opened(app: XmppTermApp, chat: ChatKey,
                       history: tuple[ChatMessage, ...] = ()) -> None:
    """A room's buffer exists now (ChatOpened(room=True)): the nicks of its history
    count for the look-alike check too."""
    _room(app, chat)
    app.rooms.see(chat, [m.nick for m in history if m.nick])


def buffer_shown(app: XmppTermApp, chat: ChatKey | None) -> None:
    """The buffer of `chat` is shown: its highlights are seen."""
    if chat is not None and app.rooms.highlights.pop(chat, 0):
        app.sidebar.set_highlights(chat, 0)


def room_status(app: XmppTermApp, chat: ChatKey | None) -> str:
    """`as NICK, non-anonymous` for the status line ('' outside a room); in a private
    chat through a room, that it is one and who reads it."""
    if chat is not None and chat.occupant is not None:
        return f"private via {jid(chat.occupant[0])}: the room's server reads it"
    if not app.rooms.is_room(chat):
        return ""
    state = app.rooms.state(chat)
    if state is None:
        return "not joined"
    words = f"as {nick(state.nick)}, {anonymity(state.features)}"
    return words if state.joined else words + ", OUT"


def highlight_numbers(app: XmppTermApp) -> tuple[int, ...]:
    return tuple(n for n, buffer in enumerate(app.chats.buffers, 1)
                 if buffer.key is not None and app.rooms.highlights.get(buffer.key))
