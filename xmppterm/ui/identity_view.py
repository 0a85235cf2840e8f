"""The app's side of several identities: which one you write as and in which colour,
the question before a chat crosses identities, subscription requests and the block
list (events in, intents out). Functions over the app, like `event_view`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.text import Text
from textual.widget import Widget

from ..domain import events as ev
from ..domain.ids import AccountId, ChatKey
from ..domain.intents import AnswerSubscription
from ..domain.sanitize import clean_field
from .contacts import Contacts
from .identity_colours import IDENTITY_COLOURS, override_colour
from .screens.choice import ChoiceScreen

if TYPE_CHECKING:
    from .app import XmppTermApp

SHARED = ("from", "both")  # subscriptions that let the contact see our presence


def paint_prompt(prompt: Widget, name: str, slot: int, color: str | None) -> Text:
    """Colour the prompt as the identity (its theme slot, or its configured colour)."""
    for n in range(1, IDENTITY_COLOURS + 1):
        prompt.set_class(n == slot, f"identity-{n}")
    prompt.styles.color = override_colour(color)
    return Text(f"{clean_field(name, 24)}> ")


def cross_identity(app: XmppTermApp, chat: ChatKey) -> list[AccountId]:
    """Identities other than the chat's that have its JID as a contact, when the chat's
    own identity has not and the chat is not open yet."""
    if app.chats.find(chat) is not None:
        return []
    if chat.jid in app.contacts.get(chat.account, Contacts()):
        return []
    return [account for account, contacts in app.contacts.items()
            if account != chat.account and chat.jid in contacts]


def confirm(app: XmppTermApp, question: str, then: Callable[[], None]) -> None:
    """Ask before crossing identities; nothing happens unless the user says open."""
    account = app.current_account
    name = clean_field(account.name, 24) if account is not None else "?"

    def answered(choice: str | None) -> None:
        if choice == "open":
            then()
        else:
            app.say("Nothing was opened.")

    app.push_screen(ChoiceScreen(question, (("open", f"Open as {name}"), ("cancel", "Cancel")),
                                 focus="cancel", id="cross-identity"), callback=answered)


def ask_about_request(app: XmppTermApp, chat: ChatKey) -> None:
    """A request's node was chosen in the sidebar: approve, deny, or later."""
    jid, name = clean_field(chat.jid, 80), clean_field(chat.account.name, 40)
    text = app.sidebar.requests.text(chat) or ""
    question = f"{jid} asks to see the presence of your identity '{name}'."
    if text:
        question += f"\nThey wrote: {clean_field(text, 200)}"

    def answered(choice: str | None) -> None:
        if choice in ("approve", "deny"):
            app.dispatch(AnswerSubscription(chat.account, chat.jid, choice == "approve"))

    app.push_screen(ChoiceScreen(question, (("approve", "Approve"), ("deny", "Deny"),
                                            ("later", "Later")), focus="later",
                                 id="request"), callback=answered)


# -- events ----------------------------------------------------------------------------
def subscription_requested(app: XmppTermApp, event: ev.SubscriptionRequested) -> None:
    chat = ChatKey(event.account, event.jid)
    again = app.sidebar.requests.text(chat) is not None
    app.sidebar.add_request(chat, event.text)
    if again:
        return  # the server hands pending requests over at every login
    jid = clean_field(event.jid, 80)
    said = f' ("{clean_field(event.text, 120)}")' if event.text else ""
    app.notice(f"{clean_field(event.account.name, 40)}: {jid} asks to see your presence{said}. "
               f"Nothing is shared unless you /approve {jid} (or /deny it); the request "
               "waits under 'requests' in the sidebar.")


def request_settled(app: XmppTermApp, account: AccountId, jid: str) -> None:
    app.sidebar.requests.remove(ChatKey(account, jid))


def roster_settles_requests(app: XmppTermApp, event: ev.Event) -> None:
    """A roster push that shares our presence (or removes the contact) ends a request."""
    if isinstance(event, ev.RosterItemChanged) and (
            event.removed or event.item.subscription in SHARED):
        request_settled(app, event.account, event.item.jid)


def block_list(app: XmppTermApp, event: ev.BlockListReceived | ev.BlockListChanged) -> None:
    mark_blocked(app, event)
    if isinstance(event, ev.BlockListChanged):
        if event.blocked:  # blocking also refuses a pending request
            for jid in event.jids:
                request_settled(app, event.account, jid)
        return
    if not event.requested:
        return
    name = clean_field(event.account.name, 40)
    if not event.jids:
        app.say(f"{name} blocks nobody.")
        return
    app.say(f"{name} blocks {len(event.jids)}:")
    for jid in sorted(event.jids):
        app.say(f"  {clean_field(jid, 120)}")


def mark_blocked(app: XmppTermApp, event: ev.BlockListReceived | ev.BlockListChanged) -> None:
    """Keep the sidebar's view of the block list: blocked contacts are marked there."""
    jids = frozenset(event.jids)
    if isinstance(event, ev.BlockListChanged):
        old = app.sidebar.blocked(event.account)
        jids = old | jids if event.blocked else (old - jids if jids else frozenset())
    app.sidebar.set_blocked(event.account, jids)
