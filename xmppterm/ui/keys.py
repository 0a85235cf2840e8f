"""Key bindings of the main screen, and their description for the help screen.

Chosen to work over SSH, in tmux (whose prefix is Ctrl+B: not used here) and on
terminals without a mouse. Alt+KEY arrives as ESC KEY, which every terminal sends.
Bindings marked priority act even while the composer has focus; `?` is a plain
binding, so it opens the help only when the composer does NOT have focus (in the
composer, `?` is typed like any other character).
"""

from __future__ import annotations

from textual.binding import Binding, BindingType

MAIN_ONLY = {"toggle_sidebar", "focus_sidebar", "cycle_buffer", "goto_buffer", "help",
             "scroll_log", "next_identity"}

# Textual reads ESC+digit, which xterm, tmux and most Linux terminals send for Alt+digit,
# as the character macOS types for Option+digit (¡ ™ £ ¢ ∞ § ¶ • ª); bind those keys too.
ALT_DIGIT_KEYS = ("inverted_exclamation_mark", "trade_mark_sign", "pound_sign", "cent_sign",
                  "infinity", "section_sign", "pilcrow_sign", "bullet", "ª")

APP_BINDINGS: list[BindingType] = [
    Binding("f1,alt+h", "help", "Keys and commands", priority=True),
    Binding("question_mark", "help", "Keys and commands", show=False),
    Binding("f2,alt+b", "toggle_sidebar", "Sidebar", priority=True),
    Binding("f3,alt+c", "focus_sidebar", "Contacts", priority=True),
    Binding("f4,alt+i", "next_identity", "Next identity", priority=True),
    Binding("ctrl+n", "cycle_buffer(1)", "Next buffer", priority=True),
    Binding("ctrl+p", "cycle_buffer(-1)", "Previous buffer", priority=True),
    *(Binding(f"alt+{n},{ALT_DIGIT_KEYS[n - 1]}", f"goto_buffer({n})", f"Buffer {n}",
              show=False, priority=True)
      for n in range(1, 10)),
    Binding("pageup", "scroll_log(-1)", "Scroll up", show=False, priority=True),
    Binding("pagedown", "scroll_log(1)", "Scroll down", show=False, priority=True),
    Binding("escape", "focus_composer", "Back to the composer", show=False),
    Binding("ctrl+q", "quit", "Quit", show=False, priority=True),
]

KEY_HELP: list[tuple[str, str]] = [
    ("F1, Alt+H", "this help (also ? when the composer is not focused); Esc closes it"),
    ("F2, Alt+B", "show or hide the sidebar (hidden at start below 100 columns)"),
    ("F3, Alt+C", "go to the contact list; Enter opens a chat, Esc comes back"),
    ("F4, Alt+I", "next identity (which one you write as in the status buffer)"),
    ("Ctrl+N, Ctrl+P", "next, previous buffer"),
    ("Alt+1 … Alt+9", "buffer 1 … 9 (1 is the status buffer)"),
    ("PageUp, PageDown", "scroll the log"),
    ("Up, Down", "composer history"),
    ("Up (empty line)", "in a chat whose last message is yours: that message as "
                        "'/correct TEXT', to edit and send; Esc drops it, Up again: history"),
    ("Tab", "complete a command, a JID after /msg and /query, or in a room an occupant's "
            "nick ('nick: ' at the start of the line); again: next match"),
    ("Enter", "send the line, or run the command"),
    ("//text", "send a line that starts with /"),
    ("Ctrl+Q, /quit", "quit"),
]
