"""OMEMO pieces without a server: fingerprints, URIs, the SCE envelope, replay digests,
the storage on sealed records, the config keys."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import pytest
import xeddsa
from omemo.session_manager import SessionManager

from xmppterm.config import ConfigError, parse_config
from xmppterm.domain.ids import AccountId
from xmppterm.domain.omemo import (
    ChatSecurity,
    Device,
    DeviceTrust,
    chat_security,
    find_device,
    fingerprint_uri,
    group_fingerprint,
    normalise_fingerprint,
)
from xmppterm.protocol.omemo import sce, wire
from xmppterm.protocol.omemo.devices import fingerprint
from xmppterm.protocol.omemo.storage import MemoryRecords, RecordStorage
from xmppterm.store.store import Store

FP = "0123456789abcdef" * 4
ME, BOB = "me@example.org", "bob@example.org"


def device(device_id: int, trust: DeviceTrust, *, fp: str = FP, current: bool = False,
           active: bool = True) -> Device:
    return Device(BOB, device_id, fp, trust, active=active, current=current)


def test_fingerprints_look_like_the_librarys() -> None:
    key = xeddsa.seed_to_ed25519_pub(bytes(range(32)))  # as the library stores it
    assert group_fingerprint(fingerprint(key)) == " ".join(SessionManager.format_identity_key(key))
    assert len(fingerprint(key)) == 64


@pytest.mark.parametrize("typed", [FP, FP.upper(), "05" + FP, group_fingerprint(FP),
                                   ":".join(FP[i:i + 2] for i in range(0, 64, 2))])
def test_a_typed_fingerprint_is_understood(typed: str) -> None:
    assert normalise_fingerprint(typed) == FP


@pytest.mark.parametrize("typed", ["", FP[:-1], FP + "0", "g" * 64, "1234"])
def test_anything_else_is_not_a_fingerprint(typed: str) -> None:
    assert normalise_fingerprint(typed) is None


def test_devices_are_found_by_id_or_whole_fingerprint() -> None:
    devices = (device(1, DeviceTrust.BLIND, fp="a" * 64), device(22, DeviceTrust.BLIND))
    assert find_device(devices, "22") == devices[1]
    assert find_device(devices, group_fingerprint("a" * 64)) == devices[0]
    assert find_device(devices, "3") is None
    assert find_device(devices, "a" * 63) is None  # no prefix matching


def test_the_uri_is_conversations_format() -> None:
    devices = (device(12, DeviceTrust.VERIFIED), device(34, DeviceTrust.VERIFIED, fp="b" * 64))
    assert fingerprint_uri("me@example.org", devices) == (
        f"xmpp:me@example.org?omemo-sid-12={FP};omemo-sid-34={'b' * 64}")
    assert fingerprint_uri("a?b#c@example.org", ()) == "xmpp:a%3Fb%23c@example.org"


def test_the_status_line_claims_verified_only_when_every_device_is() -> None:
    current = device(1, DeviceTrust.UNDECIDED, current=True)
    verified, blind = device(2, DeviceTrust.VERIFIED), device(3, DeviceTrust.BLIND)
    gone, distrusted = device(4, DeviceTrust.BLIND, active=False), device(5, DeviceTrust.DISTRUSTED)
    assert chat_security(False, (verified,)) is ChatSecurity.PLAIN
    assert chat_security(True, (current, verified, gone, distrusted)) is ChatSecurity.OMEMO_VERIFIED
    assert chat_security(True, (current, verified, blind)) is ChatSecurity.OMEMO_UNVERIFIED
    assert chat_security(True, (current,)) is ChatSecurity.OMEMO_UNVERIFIED


# -- SCE (OMEMO 2) ---------------------------------------------------------------------------
def test_an_envelope_round_trips() -> None:
    data = sce.make_envelope("hi <b>&amp; \x1b[2J", ME, BOB, datetime(2024, 1, 1, tzinfo=UTC))
    assert sce.open_envelope(data, sender=ME, recipient=BOB) == "hi <b>&amp; \ufffd[2J"
    root = ET.fromstring(data)  # noqa: S314 (test literals)
    assert {child.tag.rpartition("}")[2] for child in root} == {"content", "rpad", "time", "to",
                                                                "from"}


@pytest.mark.parametrize("sender,recipient,why", [
    ("eve@example.org", BOB, "sender"), (ME, "carol@example.org", "another conversation")])
def test_an_envelope_for_someone_else_is_refused(sender: str, recipient: str, why: str) -> None:
    data = sce.make_envelope("text", ME, BOB)
    with pytest.raises(sce.EnvelopeError, match=why):
        sce.open_envelope(data, sender=sender, recipient=recipient)


@pytest.mark.parametrize("data,why", [
    (b'<!DOCTYPE x [<!ENTITY a "b">]><envelope xmlns="urn:xmpp:sce:1"/>', "DOCTYPE"),
    (b"<envelope xmlns='urn:xmpp:sce:1'>" + b"<a>" * 40 + b"</a>" * 40 + b"</envelope>",
     "deeply"),
    (b"<envelope xmlns='urn:xmpp:sce:1'><from jid='me@example.org'/></envelope>", "content"),
    (b"<envelope xmlns='urn:xmpp:sce:1'><content/></envelope>", "sender"),
    (b"<x/>", "not an SCE envelope"), (b"<envelope", "well-formed"),
    (b"x" * (sce.MAX_BYTES + 1), "too large")])
def test_hostile_envelopes_are_refused(data: bytes, why: str) -> None:
    with pytest.raises(sce.EnvelopeError, match=why):
        sce.open_envelope(data, sender=ME, recipient=BOB)


def test_an_envelope_without_a_body_shows_nothing() -> None:
    data = (b"<envelope xmlns='urn:xmpp:sce:1'><content><x xmlns='urn:x'/></content>"
            b"<from jid='me@example.org/phone'/></envelope>")
    assert sce.open_envelope(data, sender=ME, recipient=BOB) is None


# -- wire ----------------------------------------------------------------------------------
def encrypted(sid: str = "7", payload: str = "cGF5", key: str = "a2V5") -> ET.Element:
    return ET.fromstring(f"<encrypted xmlns='{wire.OLD}'><header sid='{sid}'>"  # noqa: S314 (test literals)
                         f"<key rid='42'>{key}</key><key rid='9'>b3RoZXI=</key><iv>aXY=</iv>"
                         f"</header><payload>{payload}</payload></encrypted>")


def test_a_replay_has_the_same_digest_whatever_changed_around_it() -> None:
    base = wire.replay_digest(wire.OLD, encrypted(), BOB, 42)
    other_keys = encrypted()
    other_keys.find(f"{{{wire.OLD}}}header/{{{wire.OLD}}}key[@rid='9']").text = "Y2hhbmdlZA=="  # type: ignore[union-attr]
    assert wire.replay_digest(wire.OLD, other_keys, BOB, 42) == base
    assert wire.replay_digest(wire.OLD, encrypted(payload="b3RoZXI="), BOB, 42) != base
    assert wire.replay_digest(wire.OLD, encrypted(key="b3RoZXI="), BOB, 42) != base
    assert wire.replay_digest(wire.OLD, encrypted(), "eve@example.org", 42) != base


def test_two_elements_of_one_version_are_malformed() -> None:
    message = ET.Element("{jabber:client}message")
    message.extend([encrypted(), encrypted()])
    with pytest.raises(wire.Malformed):
        wire.choose(message)
    assert wire.choose(ET.Element("{jabber:client}message")) is None


# -- storage ---------------------------------------------------------------------------------
@pytest.mark.parametrize("records", [MemoryRecords, lambda: Store.open(None)])
async def test_storage_keeps_json_values_per_identity(records: object) -> None:
    backend = records()  # type: ignore[operator]
    one = RecordStorage(backend, AccountId("one"), ME)
    await one.store("/devices/x", {"a": [1, 2], "b": None})
    await one.store_bytes("/key", b"\x00\xff")
    assert (await one.load("/devices/x")).from_just() == {"a": [1, 2], "b": None}
    fresh = RecordStorage(backend, AccountId("one"), ME)  # no cache: read from the records
    assert (await fresh.load_bytes("/key")).from_just() == b"\x00\xff"
    other = RecordStorage(backend, AccountId("two"), ME)  # another identity shares nothing
    assert (await other.load("/devices/x")).is_nothing
    moved = RecordStorage(backend, AccountId("one"), "new@example.org")  # a new JID: new keys
    assert (await moved.load("/key")).is_nothing
    await fresh.delete("/key")
    assert (await RecordStorage(backend, AccountId("one"), ME).load("/key")).is_nothing
    if isinstance(backend, Store):
        await backend.close()


def test_config_reads_omemo_and_trust() -> None:
    config = parse_config({"settings": {"omemo": "always"}, "accounts": {
        "a": {"jid": "a@example.org"}, "b": {"jid": "b@example.org", "omemo": "never",
                                            "trust": "manual"}}})
    assert [(a.omemo, a.trust) for a in config.accounts] == [("always", "btbv"),
                                                              ("never", "manual")]
    with pytest.raises(ConfigError, match=r"accounts\.a\.trust"):
        parse_config({"accounts": {"a": {"jid": "a@example.org", "trust": "blind"}}})
