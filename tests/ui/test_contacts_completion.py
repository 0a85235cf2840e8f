"""Pure helpers: presence aggregation and composer completion."""

from __future__ import annotations

from xmppterm.domain.roster import Presence, RosterItem, Show
from xmppterm.ui.contacts import Contacts
from xmppterm.ui.widgets.composer import candidates


def test_best_presence_over_resources() -> None:
    contacts = Contacts()
    contacts.set_roster([RosterItem("a@x.org")])
    assert contacts.show("a@x.org") is Show.OFFLINE
    contacts.set_presence(Presence("a@x.org", "phone", Show.AWAY, "on the bus"))
    contacts.set_presence(Presence("a@x.org", "laptop", Show.DND, "busy"))
    assert contacts.show("a@x.org") is Show.AWAY
    contacts.set_presence(Presence("a@x.org", "phone", Show.OFFLINE))
    best = contacts.best("a@x.org")
    assert best is not None and best.status == "busy"
    contacts.set_presence(Presence("a@x.org", "laptop", Show.OFFLINE))
    assert contacts.best("a@x.org") is None


def test_roster_updates_and_sorted_jids() -> None:
    contacts = Contacts()
    contacts.set_roster([RosterItem("b@x.org"), RosterItem("a@x.org")])
    assert contacts.jids() == ["a@x.org", "b@x.org"]
    contacts.update(RosterItem("c@x.org"))
    contacts.update(RosterItem("a@x.org"), removed=True)
    assert contacts.jids() == ["b@x.org", "c@x.org"]
    assert "c@x.org" in contacts and "a@x.org" not in contacts


def test_candidates() -> None:
    jids = ["alan@x.org", "alice@x.org", "bob@x.org"]
    assert candidates("/q", jids) == ["/query ", "/quit "]
    assert candidates("/msg al", jids) == ["/msg alan@x.org ", "/msg alice@x.org "]
    assert candidates("/query B", jids) == ["/query bob@x.org "]
    assert candidates("/msg alice@x.org hi", jids) == []
    assert candidates("hello", jids) == []
    assert candidates("/zzz", jids) == []
