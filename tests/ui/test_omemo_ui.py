"""OMEMO in the UI (Pilot, FakeBackend, 80x24): marks, the status line, a refused send
that keeps the composer text, hostile decrypted text, the commands, fingerprints, QR."""

from __future__ import annotations

import os
import re

import pytest

from xmppterm.domain.events import ChatOpened, MessageReceived, SendRefused
from xmppterm.domain.intents import SendMessage
from xmppterm.domain.messages import Encryption
from xmppterm.domain.omemo import (
    ChatSecurity,
    ChatSecurityChanged,
    Device,
    DeviceTrust,
    NewOmemoDevice,
    OmemoDevices,
    RemoveOwnDevice,
    SetChatOmemo,
    SetDeviceTrust,
    ShowOmemo,
    fingerprint_uri,
)
from xmppterm.ui.app import XmppTermApp
from xmppterm.ui.qr import lines_to_matrix
from xmppterm.ui.screens.qr import QrScreen
from xmppterm.ui.widgets.statusline import StatusLine

from .conftest import ALICE, WORK, FakeBackend, message, screen_lines

FP = "0123abcd" * 8
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def log_text(app: XmppTermApp) -> str:
    """The log with wrapped lines joined again (the gutter of continuation lines removed)."""
    return re.sub(r"\n +│ ", " ", "\n".join(app.chatlog.lines))


def status(app: XmppTermApp) -> str:
    return app.query_one(StatusLine).build().plain


async def open_alice(backend: FakeBackend, pilot: object) -> None:
    backend.push(ChatOpened(WORK, ALICE, (), focus=True))
    await pilot.pause()  # type: ignore[attr-defined]


async def test_each_message_shows_how_it_came(backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_alice(backend, pilot)
        for text, encryption in (("verified one", Encryption.OMEMO_TRUSTED),
                                 ("unverified one", Encryption.OMEMO_UNTRUSTED),
                                 ("plain one", Encryption.PLAIN)):
            backend.push(MessageReceived(WORK, message(text, encryption=encryption)))
        broken = message("FALLBACK BODY", encryption=Encryption.UNDECRYPTABLE)
        backend.push(MessageReceived(WORK, broken.__class__(**{
            **{f: getattr(broken, f) for f in broken.__slots__}, "body": "",
            "error": "it was not encrypted for this device"})))
        await pilot.pause()
        rows = screen_lines(app)
        assert any(r.startswith("12:34 E    <alice@example.org> verified one") for r in rows)
        assert any(r.startswith("12:34 U    <alice@example.org> unverified one") for r in rows)
        assert any(r.startswith("12:34 P    <alice@example.org> plain one") for r in rows)
        assert any(r.startswith("12:34 X    <alice@example.org> (encrypted; could not be "
                                "decrypted") for r in rows)
        assert "FALLBACK" not in log_text(app)


async def test_the_status_line_says_how_the_chat_is_encrypted(backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(120, 24)) as pilot:
        await open_alice(backend, pilot)
        assert "PLAIN" in status(app)
        for security in (ChatSecurity.OMEMO_UNVERIFIED, ChatSecurity.OMEMO_VERIFIED):
            backend.push(ChatSecurityChanged(WORK, ALICE, security))
            await pilot.pause()
            assert security.value in status(app)
        await pilot.press("alt+1")  # the status buffer: no chat, no encryption claimed
        await pilot.pause()
        assert "OMEMO" not in status(app)


async def test_a_refused_send_keeps_the_text_in_the_composer(backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_alice(backend, pilot)
        await pilot.press(*"meet at noon", "enter")
        assert backend.of_type(SendMessage) == [SendMessage(WORK, ALICE, "meet at noon")]
        backend.push(SendRefused(WORK, ALICE, "meet at noon",
                                 "alice@example.org publishes no OMEMO device. Nothing was sent."))
        await pilot.pause()
        assert app.composer.value == "meet at noon"
        assert "Not sent, it is back in the composer" in log_text(app)
        assert "publishes no OMEMO device" in log_text(app)
        assert "<me> meet at noon" not in log_text(app)


async def test_a_refused_send_does_not_overwrite_new_typing(backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_alice(backend, pilot)
        await pilot.press(*"first", "enter", *"second draft")
        backend.push(SendRefused(WORK, ALICE, "first", "no trusted device"))
        await pilot.pause()
        assert app.composer.value == "second draft"
        await pilot.press("ctrl+u", "up")
        assert app.composer.value == "first"


async def test_escape_sequences_in_decrypted_text_are_drawn_inert(backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_alice(backend, pilot)
        hostile = "copy \x1b]52;c;ZXZpbA==\x07 and \x1b[2J [bold]x[/]"
        backend.push(MessageReceived(WORK, message(hostile, encryption=Encryption.OMEMO_TRUSTED)))
        await pilot.pause()
        rows = screen_lines(app)
        assert not any(RAW_CONTROL.search(row) for row in rows)
        assert any("␛]52;c;ZXZpbA==" in row and "[bold]x[/]" in row for row in rows)


async def test_the_commands_become_intents(backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_alice(backend, pilot)
        for line in ("/omemo on", "/fingerprint", "/trust 1234", f"/verify {FP[:8]} {FP[8:]}",
                     "/distrust 99", "/devices", "/devices remove 77", "/fingerprint qr"):
            await pilot.press(*line, "enter")
        assert backend.intents == [
            SetChatOmemo(WORK, ALICE, True), ShowOmemo(WORK, ALICE, "fingerprint"),
            SetDeviceTrust(WORK, ALICE, "1234", DeviceTrust.VERIFIED),
            SetDeviceTrust(WORK, ALICE, f"{FP[:8]} {FP[8:]}", DeviceTrust.VERIFIED,
                           require_fingerprint=True),
            SetDeviceTrust(WORK, ALICE, "99", DeviceTrust.DISTRUSTED),
            ShowOmemo(WORK, None, "devices"), RemoveOwnDevice(WORK, 77),
            ShowOmemo(WORK, ALICE, "qr")]


def devices() -> tuple[tuple[Device, ...], tuple[Device, ...]]:
    own = (Device("me@example.org", 111, FP, DeviceTrust.UNDECIDED, current=True),
           Device("me@example.org", 222, "f" * 64, DeviceTrust.VERIFIED))
    theirs = (Device(ALICE.jid, 333, "e" * 64, DeviceTrust.BLIND, omemo2=True),)
    return own, theirs


async def test_fingerprints_are_shown_grouped(backend: FakeBackend) -> None:
    app = XmppTermApp(backend)
    async with app.run_test(size=(120, 30)) as pilot:
        await open_alice(backend, pilot)
        own, theirs = devices()
        backend.push(OmemoDevices(WORK, "me@example.org", own, ALICE, theirs, "fingerprint"))
        backend.push(NewOmemoDevice(WORK, ALICE, Device(ALICE.jid, 444, "d" * 64,
                                                        DeviceTrust.UNDECIDED)))
        await pilot.pause()
        text = log_text(app)
        assert " ".join(["0123abcd"] * 8) in text
        assert "(this device, not yet trusted)" in text
        assert "eeeeeeee " * 7 + "eeeeeeee" in text and "OMEMO 2" in text
        assert "new OMEMO device 444" in text and "/verify" in text


async def test_the_qr_code_decodes_to_the_fingerprint_uri(backend: FakeBackend) -> None:
    decoder = pytest.importorskip("pyzbar.pyzbar", reason="pyzbar and libzbar0 decode QR codes") \
        if not os.environ.get("CI") else __import__("pyzbar.pyzbar").pyzbar
    app = XmppTermApp(backend)
    async with app.run_test(size=(80, 40)) as pilot:
        own, _ = devices()
        backend.push(OmemoDevices(WORK, "me@example.org", own, None, (), "qr"))
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, QrScreen)
        drawn = str(screen.query_one("#qr-code").render()).split("\n")
        matrix, scale = lines_to_matrix(drawn), 4
        height, width = len(matrix) * scale, len(matrix[0]) * scale
        pixels = bytes(0 if matrix[y // scale][x // scale] else 255
                       for y in range(height) for x in range(width))
        found = decoder.decode((pixels, width, height))
        assert [f.data.decode() for f in found] == [fingerprint_uri("me@example.org", own)]
        assert found[0].data.decode() == (f"xmpp:me@example.org?omemo-sid-111={FP};"
                                          f"omemo-sid-222={'f' * 64}")
        await pilot.press("escape")
        assert not isinstance(app.screen, QrScreen)
