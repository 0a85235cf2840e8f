"""The sidebar under load, and what it lists where."""

from __future__ import annotations

from typing import Any

from xmppterm.domain.connection import ConnState
from xmppterm.domain.events import (
    ConnectionChanged,
    MessageReceived,
    PresenceChanged,
    RosterItemChanged,
    RosterReceived,
)
from xmppterm.domain.ids import ChatKey
from xmppterm.domain.roster import Presence, RosterItem, Show
from xmppterm.ui.app import XmppTermApp

from .conftest import ALICE, WORK, FakeBackend, message, until

ROSTER = tuple(RosterItem(f"user{n:04d}@example.org", f"User {n:04d}") for n in range(3000))


def children(app: XmppTermApp) -> list[str]:
    identity = app.sidebar.root.children[0]
    return [str(node.label.plain) for node in identity.children]


def blocked(app: XmppTermApp) -> list[str]:
    """The names of the contacts marked blocked, sorted."""
    return sorted(label.rsplit(" ", 1)[-1] for label in children(app) if "⊘blocked" in label)


async def test_a_big_roster_and_a_presence_flood_do_not_freeze(backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(120, 30)) as pilot:
        backend.push(RosterReceived(WORK, ROSTER))
        await pilot.pause()
        assert len(children(app)) == 3000
        relabelled: list[Any] = []
        original = app.sidebar._relabel

        def count(chat: ChatKey) -> None:
            relabelled.append(chat)
            original(chat)

        app.sidebar._relabel = count  # type: ignore[method-assign]
        for round_ in range(5):  # 5 presences for each of 3000 contacts, in one burst
            show = Show.AWAY if round_ % 2 else Show.AVAILABLE
            backend.push(*(PresenceChanged(WORK, Presence(item.jid, "r", show))
                           for item in ROSTER))
        await until(pilot, lambda: len(relabelled) >= 3000)
        await pilot.pause(0.2)  # a second redraw of any of them would come now
        assert len(relabelled) == 3000  # each contact redrawn once, not five times
        assert children(app)[0].startswith("● User 0000")


async def test_roster_push_keeps_order_and_updates_one_node(backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(120, 30)) as pilot:
        backend.push(RosterReceived(WORK, (RosterItem("b@x.org", "Bea"), RosterItem("d@x.org"))))
        backend.push(RosterItemChanged(WORK, RosterItem("c@x.org", "Cem")))
        backend.push(RosterItemChanged(WORK, RosterItem("a@x.org", "Zoe")))
        await pilot.pause()
        assert children(app) == ["○ Bea", "○ Cem", "○ d@x.org", "○ Zoe"]
        backend.push(RosterItemChanged(WORK, RosterItem("c@x.org"), removed=True))
        await pilot.pause()
        assert children(app) == ["○ Bea", "○ d@x.org", "○ Zoe"]


async def test_a_stranger_who_becomes_a_contact_moves(backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(120, 30)) as pilot:
        backend.push(MessageReceived(WORK, message("hi"), stranger=True))
        await pilot.pause()
        assert app.sidebar.is_stranger_node(ALICE)
        assert children(app)[-1] == "strangers"
        backend.push(RosterItemChanged(WORK, RosterItem(ALICE.jid, "Alice")))
        await pilot.pause()
        assert app.sidebar.is_contact_node(ALICE) and not app.sidebar.is_stranger_node(ALICE)
        assert "strangers" not in children(app)


async def test_presence_glyphs_and_identity_state(backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(120, 30)) as pilot:
        backend.push(RosterReceived(WORK, tuple(RosterItem(f"{c}@x.org") for c in "abcd")))
        for jid, show in (("a", Show.AVAILABLE), ("b", Show.AWAY), ("c", Show.DND)):
            backend.push(PresenceChanged(WORK, Presence(f"{jid}@x.org", "r", show)))
        backend.push(ConnectionChanged(WORK, ConnState.CONNECTING))
        glyphs = ["● a@x.org", "◐ b@x.org", "⊘ c@x.org", "○ d@x.org"]
        await until(pilot, lambda: children(app) == glyphs)
        assert children(app) == glyphs
        assert " TOR connecting " in str(app.sidebar.root.children[0].label.plain)


async def test_lookalike_contact_is_marked(backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(120, 30)) as pilot:
        backend.push(RosterReceived(WORK, (RosterItem("аlice@example.org"),)))  # Cyrillic а
        await pilot.pause()
        assert children(app) == ["○ ⚠аlice@example.org"]


async def test_roster_arrival_turns_the_only_stranger_into_a_contact(
        backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(120, 30)) as pilot:
        backend.push(MessageReceived(WORK, message("hi"), stranger=True))
        await pilot.pause()
        backend.push(RosterReceived(WORK, (RosterItem(ALICE.jid, "Alice"),
                                           RosterItem("zed@example.org"))))
        await pilot.pause()
        assert app.is_running
        assert children(app) == ["○ Alice [1]", "○ zed@example.org"]


async def test_blocked_contacts_are_marked_and_unmarked(backend: FakeBackend) -> None:
    from xmppterm.domain.events import BlockListChanged, BlockListReceived

    app = XmppTermApp(backend)
    async with app.run_test(size=(120, 30)) as pilot:
        backend.push(RosterReceived(WORK, (RosterItem("b@x.org", "Bea"), RosterItem("m@evil.org"),
                                           RosterItem("n@evil.org"))))
        await pilot.pause(0.2)
        assert not any("blocked" in label for label in children(app))
        backend.push(BlockListReceived(WORK, ("b@x.org",)))
        await until(pilot, lambda: blocked(app) == ["Bea"])
        marked = [label for label in children(app) if "⊘blocked" in label]
        assert len(marked) == 1 and marked[0].endswith("⊘blocked Bea"), marked
        backend.push(BlockListChanged(WORK, ("evil.org",), blocked=True))  # a whole server
        await until(pilot, lambda: blocked(app) == ["Bea", "m@evil.org", "n@evil.org"])
        assert blocked(app) == ["Bea", "m@evil.org", "n@evil.org"]
        backend.push(BlockListChanged(WORK, ("b@x.org",), blocked=False))
        await until(pilot, lambda: blocked(app) == ["m@evil.org", "n@evil.org"])
        assert blocked(app) == ["m@evil.org", "n@evil.org"]
        backend.push(BlockListChanged(WORK, (), blocked=False))  # unblock all
        await until(pilot, lambda: not blocked(app))
        assert not any("⊘blocked" in label for label in children(app))
