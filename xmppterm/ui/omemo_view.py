"""OMEMO events on screen: a refused send (its text back in the composer), the chat's
encryption state for the status line, new devices, fingerprints, devices, the QR code.

Remote parts (JIDs) are sanitised; fingerprints and device ids are hex and digits the
client formatted itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..domain import events as ev
from ..domain.ids import ChatKey
from ..domain.omemo import (
    ChatSecurity,
    ChatSecurityChanged,
    Device,
    DeviceTrust,
    NewOmemoDevice,
    OmemoDevices,
    fingerprint_uri,
    group_fingerprint,
)
from ..domain.sanitize import clean_field

if TYPE_CHECKING:
    from .app import XmppTermApp

OmemoEvent = ev.SendRefused | ChatSecurityChanged | NewOmemoDevice | OmemoDevices
REMOVE_HINT = "/devices remove ID takes a device you no longer use off your device list."


def omemo_event(app: XmppTermApp, event: OmemoEvent) -> None:
    match event:
        case ev.SendRefused():
            send_refused(app, event)
        case ChatSecurityChanged():
            app.security[event.chat] = event.security
            app.update_status()
        case NewOmemoDevice():
            new_device(app, event)
        case OmemoDevices():
            devices_shown(app, event)


def security_of(app: XmppTermApp, chat: ChatKey | None) -> str:
    """The words the status line shows for a chat (PLAIN in the status buffer)."""
    if chat is None:
        return ChatSecurity.PLAIN.value
    return app.security.get(chat, ChatSecurity.PLAIN).value


def send_refused(app: XmppTermApp, event: ev.SendRefused) -> None:
    restored = app.composer.restore(event.body)
    where = ("it is back in the composer" if restored
             else "press Up in the composer to get it back")
    app.notice(f"Not sent, {where}: {event.reason}", error=True, chat=event.chat)


def new_device(app: XmppTermApp, event: NewOmemoDevice) -> None:
    device = event.device
    whose = "Your account" if event.chat is None else clean_field(device.jid, 80)
    text = (f"{whose} has a new OMEMO device {device.device_id} "
            f"({device.trust.value}), fingerprint {group_fingerprint(device.fingerprint)}.")
    if device.trust is DeviceTrust.UNDECIDED:
        text += (" Compare the fingerprint with its owner, then /verify it, or /distrust it "
                 "if you do not know it.")
    app.notice(text, error=device.trust is DeviceTrust.UNDECIDED, chat=event.chat)


def device_line(device: Device) -> str:
    marks = [device.trust.value]
    if device.current:
        marks.insert(0, "this device")
    if not device.active:
        marks.append("no longer listed")
    if device.omemo2:
        marks.append("OMEMO 2")
    return (f"  {device.device_id:>10}  {group_fingerprint(device.fingerprint)}"
            f"  ({', '.join(marks)})")


def devices_shown(app: XmppTermApp, event: OmemoDevices) -> None:
    if event.purpose == "qr":
        show_qr(app, event)
        return
    own = clean_field(event.own_jid, 80)
    lines = [f"Your OMEMO devices ({own}):", *(device_line(d) for d in event.own)]
    if event.purpose == "devices":
        lines.append(REMOVE_HINT)
    elif event.chat is not None:
        who = clean_field(event.chat.jid, 80)
        room = app.rooms.is_room(event.chat)
        if room:
            lines.append(f"Devices of the members of {who}:" if event.contact
                         else f"No member of {who} has an OMEMO device.")
        else:
            lines.append(f"Devices of {who}:" if event.contact else f"{who} has no OMEMO device.")
        owner = None
        for device in event.contact:
            if room and device.jid != owner:  # a room lists every member's devices
                owner = device.jid
                lines.append(f" {clean_field(owner, 80)}:")
            lines.append(device_line(device))
        lines.append("Compare fingerprints with your contact (in person, or by a channel you "
                     "trust), then /verify FINGERPRINT. /fingerprint qr shows yours as a QR code.")
    app.notice("\n".join(lines), chat=event.chat)


def show_qr(app: XmppTermApp, event: OmemoDevices) -> None:
    from .screens.qr import QrScreen

    shared = tuple(d for d in event.own if d.current or
                   (d.active and d.trust is DeviceTrust.VERIFIED))
    app.push_screen(QrScreen(fingerprint_uri(event.own_jid, shared), event.own_jid, shared))
