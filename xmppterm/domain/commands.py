"""Composer input: slash commands in the style of irssi, weechat and Profanity.

`parse(line)` turns what the user typed into a Command or a plain message; it knows
nothing of accounts or the network. `//text` sends `/text` as a message.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

NO_IDENTITY = "No identity is configured: there is nobody to write as."


@dataclass(frozen=True, slots=True)
class CommandSpec:
    name: str
    usage: str
    help: str
    min_args: int = 0
    max_args: int = 0  # -1: the rest of the line is one last argument
    whole: bool = False  # the whole rest of the line is the one argument, as typed


COMMANDS: dict[str, CommandSpec] = {
    spec.name: spec
    for spec in (
        CommandSpec("msg", "/msg JID [TEXT]", "Open a chat with JID, and send TEXT if given "
                    "(in a room: /msg NICK [TEXT], a private chat through the room)", 1, -1),
        CommandSpec("query", "/query JID", "Open a chat with JID (in a room: /query NICK, a "
                    "private chat through the room)", 1, 1),
        CommandSpec("close", "/close", "Close the current chat (its history is kept)"),
        CommandSpec("me", "/me TEXT", "Send an action: '* you TEXT'", 1, -1, whole=True),
        CommandSpec("correct", "/correct TEXT",
                    "Correct your last message in this chat: it reads TEXT, here and for "
                    "the others (their clients mark it edited)", 1, -1, whole=True),
        CommandSpec("search", "/search [-a] TEXT",
                    "Search this chat's history (with -a, or in the status buffer: the whole "
                    "identity's); Enter on a result opens the chat there", 1, -1, whole=True),
        CommandSpec("connect", "/connect [NAME|all]",
                    "Connect the current identity, the one named NAME, or all of them", 0, 1),
        CommandSpec("disconnect", "/disconnect [NAME|all]",
                    "Take the current identity offline, the one named NAME, or all", 0, 1),
        CommandSpec("account", "/account [NAME]",
                    "Write as the identity NAME (from the status buffer); alone: list them", 0, 1),
        CommandSpec("add", "/add JID [NAME]",
                    "Add JID to this identity's contacts: ask to see their presence and let "
                    "them see yours", 1, -1),
        CommandSpec("remove", "/remove JID",
                    "Remove JID from this identity's contacts (both subscriptions end)", 1, 1),
        CommandSpec("rename", "/rename JID NAME", "Give a contact another name", 2, -1),
        CommandSpec("approve", "/approve JID",
                    "Let JID see this identity's presence (answers their request)", 1, 1),
        CommandSpec("deny", "/deny JID", "Refuse JID's request to see your presence", 1, 1),
        CommandSpec("block", "/block JID",
                    "Block JID (or a whole server) on this identity: the server drops what "
                    "they send", 1, 1),
        CommandSpec("unblock", "/unblock JID", "Unblock JID on this identity", 1, 1),
        CommandSpec("blocked", "/blocked", "List the JIDs this identity blocks"),
        CommandSpec("status", '/status [--all] SHOW ["TEXT"]',
                    "Set your presence on this identity (or all, with --all): online, chat, "
                    "away, xa or dnd, with an optional text", 1, -1, whole=True),
        CommandSpec("route", "/route",
                    "Show where the current identity's connections go: TOR, PROXY or DIRECT, "
                    "the proxy and SOCKS credential, DNS, destination and TLS"),
        CommandSpec("register", "/register",
                    "Create a new account on a server (in-band), through the route you choose"),
        CommandSpec("omemo", "/omemo on|off",
                    "Encrypt this chat with OMEMO (or not): with it on, a message that cannot "
                    "be encrypted is not sent at all", 1, 1),
        CommandSpec("fingerprint", "/fingerprint [qr]",
                    "Show your OMEMO fingerprints and, in a chat, the contact's; with qr, a QR "
                    "code of your address and fingerprint for a contact to scan", 0, 1),
        CommandSpec("verify", "/verify FINGERPRINT",
                    "Mark a device verified after comparing its whole fingerprint with its "
                    "owner (in person, or by a channel you trust)", 1, -1, whole=True),
        CommandSpec("trust", "/trust DEVICE|FINGERPRINT",
                    "Mark a device (by id or fingerprint) verified: do it only after checking "
                    "its fingerprint", 1, -1, whole=True),
        CommandSpec("distrust", "/distrust DEVICE|FINGERPRINT",
                    "Never encrypt for that device again, nor accept messages from it",
                    1, -1, whole=True),
        CommandSpec("devices", "/devices [remove ID]",
                    "List your own OMEMO devices; `remove ID` takes a stale one off your "
                    "device list", 0, 2),
        # Group chats (ui/room_commands.py). A NICK with spaces goes in double quotes.
        CommandSpec("join", "/join ROOM@SERVICE|NAME [NICK] [PASSWORD]",
                    "Enter a group chat (NAME alone: on your server's group-chat service; with "
                    "NICK, or your address's name; PASSWORD if the room has one)", 1, 3),
        CommandSpec("part", "/part [REASON]", "Leave the group chat shown (its buffer stays)",
                    0, -1, whole=True),
        CommandSpec("nick", "/nick NEWNICK", "Change your nick in the group chat shown",
                    1, -1, whole=True),
        CommandSpec("topic", "/topic [TEXT]", "Set the room's topic; alone: show it",
                    0, -1, whole=True),
        CommandSpec("who", "/who",
                    "List the occupants by role, with affiliation and real address where "
                    "known (⚠ marks a look-alike nick, with its code points)"),
        CommandSpec("invite", "/invite JID [REASON]", "Invite JID into the group chat shown",
                    1, -1),
        CommandSpec("accept", "/accept [ROOM]", "Accept an invitation (the only one, or ROOM's)",
                    0, 1),
        CommandSpec("decline", "/decline [ROOM]", "Decline an invitation (the only one, or ROOM's)",
                    0, 1),
        CommandSpec("create", "/create ROOM@SERVICE|NAME [MEMBER-JID ...]",
                    "Create a private room (members-only, non-anonymous, not listed; NAME alone: "
                    "on your server's group-chat service) and invite its members", 1, 64),
        CommandSpec("config", "/config [FIELD=VALUE ...]",
                    "Change the room's configuration; alone: show it", 0, 64),
        CommandSpec("kick", "/kick NICK [REASON]", "Send an occupant out of the room", 1, -1),
        CommandSpec("ban", "/ban NICK|JID [REASON]", "Ban an occupant (by real address) or a JID",
                    1, -1),
        CommandSpec("voice", "/voice NICK", "Let a visitor speak in a moderated room",
                    1, -1, whole=True),
        CommandSpec("devoice", "/devoice NICK", "Make an occupant a visitor (cannot speak)",
                    1, -1, whole=True),
        CommandSpec("affiliation", "/affiliation member|admin|owner|none NICK|JID",
                    "Change someone's lasting affiliation with the room", 2, -1),
        CommandSpec("members", "/members [owner|admin|member|outcast]",
                    "List the room's members (or owners, admins, banned)", 0, 1),
        CommandSpec("bookmark", "/bookmark [remove] [autojoin|noautojoin]",
                    "Bookmark the room shown (joined at login unless noautojoin); "
                    "outside a room: list the bookmarks", 0, 2),
        CommandSpec("joins", "/joins show|fold",
                    "Show the join/leave lines in rooms, or fold them away (this session)", 1, 1),
        CommandSpec("help", "/help [COMMAND]", "List commands, or explain one", 0, 1),
        CommandSpec("lock", "/lock", "Go offline, drop the keys from memory, ask for the passphrase"),
        CommandSpec("quit", "/quit", "Leave xmppterm (pending messages are kept)"),
    )
}


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    args: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PlainText:
    text: str


@dataclass(frozen=True, slots=True)
class ParseError:
    message: str


Parsed = Command | PlainText | ParseError


def parse(line: str) -> Parsed:
    """Parse one composer line."""
    if not line.startswith("/") or line.startswith("//"):
        return PlainText(line[1:] if line.startswith("//") else line)
    name, _, rest = line[1:].partition(" ")
    spec = COMMANDS.get(name.lower())
    if spec is None:
        return ParseError(
            f"Unknown command /{name}. Type /help for the list, or //{name} to send it as text.")
    args = _split(rest.strip(), spec)
    if isinstance(args, ParseError):
        return args
    if len(args) < spec.min_args or (spec.max_args >= 0 and len(args) > spec.max_args):
        return ParseError(f"Usage: {spec.usage}")
    return Command(spec.name, tuple(args))


def _split(rest: str, spec: CommandSpec) -> list[str] | ParseError:
    if not rest:
        return []
    if spec.whole:
        return [rest]
    if spec.max_args == -1:
        head, _, tail = _quoted_head(rest) or rest.partition(" ")
        return [head, tail.strip()] if tail.strip() else [head]
    try:
        return shlex.split(rest)
    except ValueError as exc:
        return ParseError(f"Cannot read the arguments ({exc}). Usage: {spec.usage}")


def _quoted_head(rest: str) -> tuple[str, str, str] | None:
    """`"two words" tail` -> ("two words", " ", "tail"): a nick with spaces, quoted."""
    end = rest.find('"', 1) if rest.startswith('"') else -1
    return (rest[1:end], " ", rest[end + 1:]) if end > 1 else None


def complete(prefix: str) -> list[str]:
    """Command names that start with `prefix` (which includes the leading slash)."""
    if not prefix.startswith("/") or " " in prefix:
        return []
    return sorted("/" + name for name in COMMANDS if name.startswith(prefix[1:].lower()))


def help_lines(name: str | None = None) -> list[str]:
    if name is not None:
        spec = COMMANDS.get(name.lstrip("/").lower())
        if spec is None:
            return [f"No command /{name.lstrip('/')}. Type /help for the list."]
        return [f"{spec.usage}  {spec.help}"]
    width = min(32, max(len(spec.usage) for spec in COMMANDS.values()))
    return [f"{spec.usage.ljust(width)}  {spec.help}" for spec in COMMANDS.values()]
