"""Privacy settings per identity: `receipts` and `chat_states` (contacts, all, never)."""

from __future__ import annotations

import pytest

from xmppterm.config import ConfigError, parse_config
from xmppterm.domain.privacy import may_share


@pytest.mark.parametrize(("policy", "subscription", "shared"), [
    ("contacts", "both", True), ("contacts", "from", True), ("contacts", "to", False),
    ("contacts", "none", False), ("contacts", None, False),
    ("all", None, True), ("all", "none", True),
    ("never", "both", False), ("never", None, False),
    ("bogus", "both", False),
])
def test_may_share(policy: str, subscription: str | None, shared: bool) -> None:
    assert may_share(policy, subscription) is shared


def test_defaults_settings_and_overrides() -> None:
    config = parse_config({
        "settings": {"receipts": "never", "chat_states": "all"},
        "accounts": {"a": {"jid": "a@x.org"},
                     "b": {"jid": "b@x.org", "receipts": "contacts", "chat_states": "never"}}})
    a, b = config.accounts
    assert (a.receipts, a.chat_states) == ("never", "all")
    assert (b.receipts, b.chat_states) == ("contacts", "never")
    plain = parse_config({"accounts": {"c": {"jid": "c@x.org"}}}).accounts[0]
    assert (plain.receipts, plain.chat_states) == ("contacts", "contacts")


@pytest.mark.parametrize("table", [{"receipts": "friends"}, {"chat_states": True}])
def test_a_bad_choice_names_the_key_and_the_choices(table: dict[str, object]) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config({"accounts": {"a": {"jid": "a@x.org", **table}}})
    key = next(iter(table))
    assert err.value.key == f"accounts.a.{key}"
    assert '"contacts"' in str(err.value) or "must be a str" in str(err.value)
