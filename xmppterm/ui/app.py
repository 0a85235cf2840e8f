"""XmppTermApp: the Textual app, driven only through `domain.ports.Backend`.

Keyboard → widgets post messages → the app turns them into intents (`dispatch`).
Backend events arrive through the sink as `BackendEvent` messages on the same loop;
`apply_event` (ui/event_view.py) files them in the buffers and tells the widgets.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import ClassVar

from textual.app import App, ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen

from ..domain.events import Event
from ..domain.ids import AccountId, ChatKey
from ..domain.intents import CloseChat, Intent, OpenChat
from ..domain.omemo import ChatSecurity
from ..domain.ports import AccountInfo, Backend, Gate
from ..domain.registration import SignUp
from ..domain.sanitize import clean_field, lookalike_warning
from . import identity_view as iv
from . import room_view as rv
from .chats import Buffer, Chats
from .command_runner import run_line
from .contacts import Contacts
from .event_view import apply_event
from .identity_colours import colour_slot
from .keys import APP_BINDINGS, MAIN_ONLY
from .omemo_view import security_of
from .render import NoticeLine
from .room_book import RoomBook
from .screens.account_form import AccountForm, AccountTable
from .screens.help import HelpScreen
from .screens.passphrase import PassphraseScreen
from .screens.register import RegisterScreen
from .themes import COMPACT, DEFAULT, LAYOUT_CSS, choose_theme
from .typing import Typing
from .widgets.chatlog import ChatLog
from .widgets.composer import Composer
from .widgets.sidebar import Sidebar
from .widgets.statusline import StatusInfo, StatusLine

AccountCreated = Callable[[dict[str, object]], Awaitable[str | None]]
NARROW = 100  # below this many columns the sidebar starts hidden
WELCOME = "Welcome! F1: keys, /help: commands, F2: contacts, Ctrl+N: next chat."


class BackendEvent(Message):
    """A domain event from the backend, delivered on the app's message queue."""

    def __init__(self, event: Event) -> None:
        super().__init__()
        self.event = event


class XmppTermApp(App[None]):
    """Sidebar | chat log, status line, composer. Everything works from the keyboard."""

    TITLE = "xmppterm"
    BINDINGS: ClassVar[list[BindingType]] = APP_BINDINGS
    ENABLE_COMMAND_PALETTE = False  # its Ctrl+P is our "previous buffer"

    def __init__(self, backend: Backend, *, theme: str = DEFAULT, low_bandwidth: bool = False,
                 status_text: str = "", first_run: bool = False,
                 on_account_created: AccountCreated | None = None,
                 gate: Gate | None = None, signup: SignUp | None = None) -> None:
        super().__init__()
        self.backend = backend
        self.gate = gate
        self.signup = signup  # in-band registration (/register)
        self.low_bandwidth = low_bandwidth
        self.status_text = status_text
        self.chats = Chats()
        self.rooms = RoomBook()  # group chats: occupants, highlights, invitations
        self.typing = Typing(self.dispatch, self.set_timer)  # chat states (XEP-0085)
        self.contacts: dict[AccountId, Contacts] = {}
        self.accounts: dict[AccountId, AccountInfo] = {}
        self.details: dict[AccountId, str] = {}
        self.security: dict[ChatKey, ChatSecurity] = {}  # OMEMO state for the status line
        self._identity: AccountId | None = None
        self._first_run = first_run
        self._on_account_created = on_account_created
        if low_bandwidth:
            self.theme = "ansi-dark"
            theme = COMPACT if theme == DEFAULT else theme
        choice = choose_theme(theme, self.get_css_variables())
        self.theme_problem = choice.problem
        self.css_path = [LAYOUT_CSS, *([choice.path] if choice.path else [])]

    # -- layout ----------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Sidebar(id="sidebar")
        with Vertical(id="main"):
            yield ChatLog(id="chatlog")
            yield StatusLine(id="statusline")
            yield Composer(low_bandwidth=self.low_bandwidth, id="composer")

    @property
    def chatlog(self) -> ChatLog:
        return self.query_one(ChatLog)

    @property
    def sidebar(self) -> Sidebar:
        return self.query_one(Sidebar)

    @property
    def composer(self) -> Composer:
        return self.query_one(Composer)

    def on_mount(self) -> None:
        if self.low_bandwidth:
            self.add_class("-low-bandwidth")
        self.sidebar.display = self.size.width >= NARROW
        self.refresh_accounts()
        self.backend.subscribe(self._sink)
        self.notice(WELCOME)
        if self.theme_problem:
            self.notice(self.theme_problem, error=True)
        self.composer.set_last_own(lambda: self.chats.current.correctable())
        self.show_current()
        self.composer.focus_input()
        if self.gate is not None and self.gate.locked:
            self.push_screen(PassphraseScreen(self.gate), callback=self._unlocked_at_start)
        else:
            self._unlocked_at_start(None)

    def _unlocked_at_start(self, _result: None) -> None:
        """The store is open: start the backend, then (first run) ask for an account."""
        self.run_worker(self._start_backend(), name="backend start")
        if self._first_run:
            self.ask_account()

    async def lock(self) -> None:
        """/lock: go offline, drop the keys, forget what is shown; ask for the passphrase."""
        if self.gate is None:
            self.notice("Nothing to lock: this session keeps nothing on disk.", error=True)
            return
        await self.gate.lock()
        self.chats, self.rooms = Chats(), RoomBook()
        self.contacts = {}
        self.refresh_accounts()
        self.show_current()
        self.push_screen(PassphraseScreen(self.gate))

    async def _start_backend(self) -> None:
        """Start the backend only now that we listen: no start-up event is missed."""
        try:
            await self.backend.start()
        except Exception as exc:
            self.notice(f"Could not start: {type(exc).__name__}: {exc}", error=True)

    def _sink(self, event: Event) -> None:
        self.post_message(BackendEvent(event))

    def on_backend_event(self, message: BackendEvent) -> None:
        try:
            apply_event(self, message.event)
        except Exception as exc:  # one bad event must not take the client down
            self.notice(f"Could not show a {type(message.event).__name__} event "
                        f"({type(exc).__name__}); this is a bug, please report it.", error=True)

    # -- identities ------------------------------------------------------------------------
    def refresh_accounts(self) -> None:
        infos = self.backend.accounts()
        for info in infos:
            self.accounts[info.id] = info
            self.contacts.setdefault(info.id, Contacts())
        self.sidebar.set_accounts(infos, self.contacts)
        if self._identity is None and infos:
            self._identity = infos[0].id
        self.update_status()

    def set_account_state(self, info: AccountInfo) -> None:
        self.accounts[info.id] = info
        self.sidebar.set_state(info.id, info.state)

    def colour(self, account: AccountId | None) -> int:
        order = list(self.accounts)
        if account is None or account not in order:
            return 1
        return colour_slot(self.accounts[account].color, order.index(account))

    @property
    def current_account(self) -> AccountId | None:
        chat = self.chats.current.key
        return chat.account if chat is not None else self._identity

    @property
    def current_chat(self) -> ChatKey | None:
        return self.chats.current.key

    # -- buffers ---------------------------------------------------------------------------
    def ensure_buffer(self, chat: ChatKey, stranger: bool) -> Buffer:
        """The chat's buffer; a new one for a look-alike JID starts with a warning."""
        buffer = self.chats.find(chat)
        if buffer is None:
            buffer = self.chats.ensure(chat, stranger)
            warning = lookalike_warning(chat.jid)
            if warning:
                buffer.add(NoticeLine(f"Careful: {clean_field(chat.jid)} {warning}.",
                                      error=True), self.chats.max_entries)
        if self.rooms.is_room(chat):
            self.sidebar.add_room(chat)
        elif stranger or chat.is_private:  # a private chat through a room: its own label
            self.sidebar.add_stranger(chat)
        return buffer

    def show_current(self, found: str | None = None) -> None:
        """Draw the buffer now selected (at the message `found`, a search result, if given)."""
        buffer = self.chats.current
        self.chatlog.show(buffer.entries, found, self.rooms.look(buffer.key))
        if buffer.key is not None:
            self.sidebar.set_unread(buffer.key, 0)
            rv.buffer_shown(self, buffer.key)
        self.update_status()

    def select_buffer(self, index: int) -> None:
        if index != self.chats.index:
            self.typing.left(self.chats.current.key)
        if index != self.chats.index and self.chats.select(index):
            self.show_current()

    def notice(self, text: str, error: bool = False, chat: ChatKey | None = None) -> None:
        buffer = self.chats.add_notice(NoticeLine(text, error), chat)
        if buffer is self.chats.current:
            self.chatlog.append(buffer.entries[-1])

    def say(self, text: str, error: bool = False) -> None:
        """A line in the buffer shown (answers to commands)."""
        self.notice(text, error, self.chats.current.key)

    def dispatch(self, intent: Intent) -> None:
        self.backend.dispatch(intent)

    def open_chat(self, chat: ChatKey) -> None:
        """Show the chat's buffer at once; ask the backend to open it if it is new."""
        known = self.chats.find(chat) is not None
        stranger = chat.jid not in self.contacts.get(chat.account, Contacts()) and \
            not chat.is_private
        self.ensure_buffer(chat, stranger)
        position = self.chats.position(chat)
        if position is not None:
            self.select_buffer(position)
        if not known:
            self.dispatch(OpenChat(chat.account, chat, focus=True))

    def close_chat(self, chat: ChatKey) -> None:
        self.dispatch(CloseChat(chat.account, chat))
        self.forget_chat(chat)

    def forget_chat(self, chat: ChatKey) -> None:
        self.sidebar.remove_stranger(chat)
        self.sidebar.remove_room(chat)
        self.rooms.forget(chat)
        if self.chats.close(chat):
            self.show_current()
        else:
            self.update_status()

    # -- status line and prompt ------------------------------------------------------------
    def update_status(self) -> None:
        account = self.current_account
        info = self.accounts.get(account) if account is not None else None
        buffer = self.chats.current
        self.query_one(StatusLine).set_info(StatusInfo(
            account=info, detail=self.details.get(account, "") if account else "",
            encryption=security_of(self, buffer.key), buffer=f"{self.chats.index + 1}:{buffer.title}",
            activity=tuple(self.chats.activity()), extra=self.status_text,
            room=rv.room_status(self, buffer.key), highlights=rv.highlight_numbers(self),
            colour=self.colour(account), typing=self.typing.words(buffer.key),
        ))
        name = account.name if account is not None else "no identity"
        self.composer.set_prompt(iv.paint_prompt(self.query_one("#prompt"), name,
                                                 self.colour(account),
                                                 info.color if info is not None else None))
        contacts = self.contacts.get(account) if account is not None else None
        self.composer.set_jids(contacts.jids() if contacts is not None else [])
        self.composer.set_nicks(self.rooms.completion_nicks(buffer.key))
        self.composer.set_chat(buffer.key)

    # -- input -----------------------------------------------------------------------------
    async def on_composer_submitted(self, message: Composer.Submitted) -> None:
        await run_line(self, message.text, message.correcting)

    def on_composer_edited(self, message: Composer.Edited) -> None:
        chat = self.chats.current.key
        if chat is not None and not self.rooms.is_room(chat) and not chat.is_private:
            self.typing.edited(chat, message.text, message.sent)

    def on_sidebar_chat_selected(self, message: Sidebar.ChatSelected) -> None:
        self.open_chat(message.chat)
        self.composer.focus_input()

    def on_sidebar_identity_selected(self, message: Sidebar.IdentitySelected) -> None:
        self._identity = message.account
        self.update_status()

    def on_sidebar_request_selected(self, message: Sidebar.RequestSelected) -> None:
        iv.ask_about_request(self, message.chat)

    # -- identities (identity_commands.IdentityHost and OpenHost) -------------------------
    def identity_infos(self) -> list[AccountInfo]:
        return list(self.accounts.values())

    def choose_identity(self, account: AccountId) -> None:
        """/account NAME: write as `account`, from the status buffer (where /msg uses it)."""
        self.select_buffer(0)
        self._identity = account
        self.update_status()
        self.say(f"You write as {clean_field(account.name, 40)} now.")

    def cross_identity(self, chat: ChatKey) -> list[AccountId]:
        return iv.cross_identity(self, chat)

    def confirm(self, question: str, then: Callable[[], None]) -> None:
        iv.confirm(self, question, then)

    async def quit(self) -> None:
        try:
            await self.backend.shutdown()
        finally:
            self.exit()

    # -- actions ---------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (action in MAIN_ONLY and isinstance(self.screen, ModalScreen))

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_toggle_sidebar(self) -> None:
        sidebar = self.sidebar
        sidebar.display = not sidebar.display
        if not sidebar.display and sidebar.has_focus:
            self.composer.focus_input()

    def action_focus_sidebar(self) -> None:
        self.sidebar.display = True
        self.sidebar.reveal(self.chats.current.key)
        self.sidebar.focus()

    def action_focus_composer(self) -> None:
        self.composer.focus_input()

    def action_next_identity(self) -> None:
        if self.chats.current.key is not None:
            self.notice("In a chat you write as its identity; Alt+1 goes to the status "
                        "buffer, where F4 chooses the identity for /msg.")
            return
        order = list(self.accounts)
        if order:
            at = order.index(self._identity) if self._identity in order else -1
            self._identity = order[(at + 1) % len(order)]
            self.update_status()

    def action_cycle_buffer(self, step: int) -> None:
        self.select_buffer((self.chats.index + step) % len(self.chats.buffers))

    def action_goto_buffer(self, number: int) -> None:
        self.select_buffer(number - 1)

    def action_scroll_log(self, direction: int) -> None:
        if direction < 0:
            self.chatlog.scroll_page_up(animate=False)
        else:
            self.chatlog.scroll_page_down(animate=False)

    async def action_quit(self) -> None:
        await self.quit()

    # -- sign-up (/register) ---------------------------------------------------------------
    def register(self) -> None:
        """The sign-up form; the new identity is saved like one from the first-run form."""
        if self.signup is None:
            self.notice("Creating accounts is not available in this xmppterm.", error=True)
            return
        self.push_screen(RegisterScreen(self.signup, self._on_account_created),
                         callback=self._registered)

    def _registered(self, jid: str | None) -> None:
        if jid:
            self.notice(f"Account {clean_field(jid)} created and added as an identity.")
            self.refresh_accounts()

    # -- first run -------------------------------------------------------------------------
    def ask_account(self, initial: AccountTable | None = None, error: str = "") -> None:
        self.push_screen(AccountForm(initial, error), callback=self._account_entered)

    async def _account_entered(self, table: AccountTable | None) -> None:
        if table is None:
            self.notice("No identity was added. Type /register to create a new account, or "
                        "add one to the configuration file and start xmppterm again.",
                        error=True)
            return
        if self._on_account_created is None:
            self.notice("This xmppterm cannot save identities.", error=True)
            return
        problem = await self._on_account_created(dict(table))
        if problem:
            self.ask_account(table, problem)
            return
        self.notice(f"Identity {clean_field(str(table.get('name', '')))} added.")
        self.refresh_accounts()
