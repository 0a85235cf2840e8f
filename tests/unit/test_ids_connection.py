import pytest

from xmppterm.domain.connection import (
    ConnState,
    InvalidTransition,
    Trigger,
    backoff_delay,
    next_state,
)
from xmppterm.domain.ids import AccountId, ChatKey, InvalidJid, parse_jid


def test_jid_normalisation() -> None:
    jid = parse_jid(" Alice@Example.ORG./Phone ")
    assert (jid.bare, jid.resource, jid.full) == ("alice@example.org", "Phone", "alice@example.org/Phone")


@pytest.mark.parametrize("bad", ["", "@example.org", "a b@example.org", "alice@", "a\x1b@x.org",
                                 "a\u202e@x.org", "x" * 2000 + "@x.org"])
def test_invalid_jids(bad: str) -> None:
    with pytest.raises(InvalidJid):
        parse_jid(bad)


def test_chat_key_separates_identities() -> None:
    a = ChatKey.of(AccountId("work"), "Bob@x.org/phone")
    b = ChatKey.of(AccountId("home"), "bob@x.org")
    assert a.jid == b.jid == "bob@x.org" and a != b


def test_transition_table() -> None:
    s = ConnState.OFFLINE
    for trig, want in [(Trigger.CONNECT, ConnState.CONNECTING), (Trigger.SESSION_STARTED, ConnState.ONLINE),
                       (Trigger.LOST, ConnState.WAITING), (Trigger.RETRY_DUE, ConnState.CONNECTING),
                       (Trigger.FATAL, ConnState.FAILED), (Trigger.DISCONNECT, ConnState.OFFLINE)]:
        s = next_state(s, trig)
        assert s is want
    with pytest.raises(InvalidTransition):
        next_state(ConnState.OFFLINE, Trigger.SESSION_STARTED)
    # A failed (certificate, no TLS) connection never retries by itself.
    with pytest.raises(InvalidTransition):
        next_state(ConnState.FAILED, Trigger.RETRY_DUE)


def test_backoff_grows_caps_and_jitters() -> None:
    assert backoff_delay(0, 0.5) < backoff_delay(5, 0.5) <= 300
    assert backoff_delay(50, 0.999) <= 300
    assert backoff_delay(3, 0.1) != backoff_delay(3, 0.9)
    assert backoff_delay(0, 0.0) >= 1.0
