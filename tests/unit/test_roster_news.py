"""What a roster change tells the user about subscriptions (domain.roster)."""

from __future__ import annotations

import pytest

from xmppterm.domain.roster import RosterItem, subscription_news

J = "bob@example.test"


@pytest.mark.parametrize(("old", "new", "starts"), [
    (RosterItem(J, asked=True), RosterItem(J, subscription="to"), f"{J} accepted"),
    (RosterItem(J, subscription="from", asked=True), RosterItem(J, subscription="both"),
     f"{J} accepted"),
    (RosterItem(J, asked=True), RosterItem(J), f"{J} refused"),
    (RosterItem(J, subscription="both"), RosterItem(J, subscription="from"),
     f"{J} no longer shares"),
    (RosterItem(J, subscription="to"), RosterItem(J, subscription="none"), f"{J} no longer shares"),
    (None, RosterItem(J, subscription="both"), None),  # a new contact: the add says enough
    (RosterItem(J), RosterItem(J, asked=True), None),  # we asked: nothing from them yet
    (RosterItem(J, subscription="both"), RosterItem(J, subscription="both", name="B"), None),
    (RosterItem(J, subscription="none"), RosterItem(J, subscription="from"), None),
])
def test_subscription_news(old: RosterItem | None, new: RosterItem, starts: str | None) -> None:
    news = subscription_news(old, new)
    if starts is None:
        assert news is None
    else:
        assert news is not None and news.startswith(starts)
