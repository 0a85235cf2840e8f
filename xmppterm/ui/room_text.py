"""The words of the room lines (pure): joins and leaves, the occupant list, features,
invitations, configuration forms, listings and bookmarks. Every remote string (nick,
JID, subject, reason, form label or value) goes through `clean_field` here.
"""

from __future__ import annotations

from ..domain.ids import AccountId
from ..domain.rooms import (
    Bookmark,
    Occupant,
    Role,
    RoomConfigShown,
    RoomFeatures,
    RoomInvited,
    RoomListing,
    RoomState,
)
from ..domain.sanitize import clean_field
from .room_book import Summary
from .room_render import NICK_LIMIT, code_points, nick_slot

NAMES_SHOWN = 5  # nicks named per kind in a join/leave line; the rest are counted
JID_LIMIT = 80
ROLE_TITLES = ((Role.MODERATOR, "Moderators"), (Role.PARTICIPANT, "Participants"),
               (Role.VISITOR, "Visitors (cannot speak)"), (Role.NONE, "Others"))
Parts = list[tuple[str, str]]


def nick(text: str) -> str:
    return clean_field(text, NICK_LIMIT)


def jid(text: str) -> str:
    return clean_field(text, JID_LIMIT)


def anonymity(features: RoomFeatures) -> str:
    return "non-anonymous" if features.non_anonymous else "semi-anonymous"


def describe(features: RoomFeatures) -> str:
    """The room's features in words, the anonymity first (it decides OMEMO)."""
    words = [anonymity(features) + (" (everyone sees real addresses)" if
                                    features.non_anonymous else " (moderators see addresses)")]
    for flag, word in ((features.members_only, "members-only"),
                       (features.moderated, "moderated"), (features.password, "password"),
                       (features.persistent, "persistent"), (features.archived, "archived"),
                       (not features.public, "not listed")):
        if flag:
            words.append(word)
    return ", ".join(words)


# -- joins and leaves -------------------------------------------------------------------
def _names(parts: Parts, names: list[str], own: str) -> None:
    for index, name in enumerate(names[:NAMES_SHOWN]):
        if index:
            parts.append((", ", "notice"))
        parts.append((nick(name), "self" if name == own else f"nick-{nick_slot(name)}"))
    if len(names) > NAMES_SHOWN:
        parts.append((f" and {len(names) - NAMES_SHOWN} more", "notice"))


def summary_parts(summary: Summary, own: str) -> Parts:
    """One line for one OccupantsChanged: `→ a, b joined · ← c left · d is now e`."""
    groups: list[Parts] = []
    if summary.joined:
        group: Parts = [("→ ", "notice")]
        _names(group, list(summary.joined), own)
        groups.append([*group, (" joined", "notice")])
    whys: dict[str, list[str]] = {}
    for name, why in summary.left:
        whys.setdefault(why, []).append(name)
    for why, names in whys.items():
        group = [("← ", "notice")]
        _names(group, names, own)
        groups.append([*group, (f" {_why(why)}" if why else " left", "notice")])
    for old, new in summary.renamed[:NAMES_SHOWN]:
        groups.append([(nick(old), f"nick-{nick_slot(old)}"), (" is now ", "notice"),
                       (nick(new), "self" if new == own else f"nick-{nick_slot(new)}")])
    for name, role in summary.roles[:NAMES_SHOWN]:
        groups.append([(nick(name), f"nick-{nick_slot(name)}"), (f" is now {role}", "notice")])
    parts: Parts = []
    for index, group in enumerate(groups):
        if index:
            parts.append((" · ", "notice"))
        parts.extend(group)
    return parts


def _why(why: str) -> str:
    word = clean_field(why, 40)
    return f"was {word}" if word in ("kicked", "banned", "removed") else f"left ({word})"


def own_rename(summary: Summary, own: str) -> Parts:
    """Only the line about our own new nick (what stays when joins are folded)."""
    mine = [(old, new) for old, new in summary.renamed if new == own]
    return summary_parts(Summary(renamed=tuple(mine)), own) if mine else []


def joined_text(state: RoomState, created: bool, again: bool) -> str:
    count = len(state.occupants)
    text = (f"You are {'back ' if again else ''}in {jid(state.room.jid)} as {nick(state.nick)}: "
            f"{count} occupant{'' if count == 1 else 's'}. {describe(state.features).capitalize()}.")
    if state.subject:
        text += f"\nTopic: {clean_field(state.subject, 300)}"
    if created:
        text += ("\nYou created this room. Nobody else can enter until it is configured "
                 "(/create does that; else /config shows the form, /config FIELD=VALUE "
                 "sets a field).")
    return text + "\n/who lists the occupants, /part leaves."


# -- /who ---------------------------------------------------------------------------------
def _occupant_line(occupant: Occupant, confusable: frozenset[str], own: str) -> str:
    name = nick(occupant.nick)
    mark = "⚠" if occupant.nick in confusable else " "
    line = f" {mark}{name}"
    if occupant.nick == own:
        line += " (you)"
    if occupant.affiliation.value != "none":
        line += f" [{occupant.affiliation.value}]"
    if occupant.jid:
        line += f" {jid(occupant.jid)}"
    if occupant.show not in ("available", ""):
        line += f" ({clean_field(occupant.show, 10)})"
    if occupant.status:
        line += f" “{clean_field(occupant.status, 60)}”"
    if mark == "⚠":
        line += f"  looks like another nick: {code_points(occupant.nick[:NICK_LIMIT])}"
    return line


def who_text(state: RoomState, confusable: frozenset[str]) -> str:
    count = len(state.occupants)
    lines = [f"{count} occupant{'' if count == 1 else 's'} in {jid(state.room.jid)} "
             f"({anonymity(state.features)}):"]
    for role, title in ROLE_TITLES:
        group = sorted((o for o in state.occupants.values() if o.role is role),
                       key=lambda o: o.nick.casefold())
        if group:
            lines.append(f"{title} ({len(group)}):")
            lines.extend(_occupant_line(o, confusable, state.nick) for o in group)
    return "\n".join(lines)


# -- other events -----------------------------------------------------------------------
def features_changed(old: RoomFeatures, new: RoomFeatures) -> str:
    text = f"The room's configuration changed: now {describe(new)}."
    if old.non_anonymous and not new.non_anonymous:
        text += " Real addresses are no longer shown to everyone: OMEMO is not possible here."
    return text


def invite_text(event: RoomInvited) -> str:
    room = jid(event.room)
    text = f"{jid(event.inviter)} invites {clean_field(event.account.name, 40)} to {room}"
    if event.reason:
        text += f": “{clean_field(event.reason, 200)}”"
    return text + f". /accept {room} joins it, /decline {room} says no."


def config_text(event: RoomConfigShown) -> str:
    lines = [f"Configuration of {jid(event.room.jid)} (/config FIELD=VALUE … changes it):"]
    for var, label, kind, value in event.fields:
        shown = f"  {clean_field(var, 60)} = {clean_field(value, 120)}"
        if label:
            shown += f"  ({clean_field(label, 80)}, {clean_field(kind, 20)})"
        lines.append(shown)
    return "\n".join(lines)


def listing_text(event: RoomListing) -> str:
    lines = [clean_field(event.title, 120) + ":"] if event.title else []
    lines.extend("  " + clean_field(line, 200) for line in event.lines)
    return "\n".join(lines or ["(nothing)"])


def bookmarks_text(account: AccountId, bookmarks: tuple[Bookmark, ...]) -> str:
    who = clean_field(account.name, 40)
    if not bookmarks:
        return f"{who} has no bookmarked room."
    lines = [f"{who} has {len(bookmarks)} bookmarked room{'' if len(bookmarks) == 1 else 's'}:"]
    for mark in bookmarks:
        line = f"  {jid(mark.room)}"
        if mark.name:
            line += f" “{clean_field(mark.name, 40)}”"
        if mark.nick:
            line += f" as {nick(mark.nick)}"
        lines.append(line + (" (autojoin)" if mark.autojoin else ""))
    return "\n".join(lines)
