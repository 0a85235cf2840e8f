"""The QR code of our `xmpp:` URI with OMEMO fingerprints, for a contact to scan."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from ...domain.omemo import Device, group_fingerprint
from ...domain.sanitize import clean_field
from ..qr import qr_lines

QR_STYLE = "black on white"  # dark modules dark, whatever the terminal's colours


class QrScreen(ModalScreen[None]):
    """Esc, q or Enter closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,enter", "dismiss", "Close"),
    ]
    DEFAULT_CSS = """
    QrScreen { align: center middle; }
    QrScreen > VerticalScroll { width: auto; max-width: 100%; height: auto; max-height: 100%; }
    QrScreen Static { width: auto; }
    """

    def __init__(self, uri: str, jid: str, devices: tuple[Device, ...]) -> None:
        super().__init__()
        self.uri, self.jid, self.devices = uri, jid, devices

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(Text(f"Scan to verify {clean_field(self.jid, 80)} (Esc closes)"))
            yield Static(Text("\n".join(qr_lines(self.uri)), style=QR_STYLE), id="qr-code")
            for device in self.devices:
                yield Static(Text(f"{device.device_id}: {group_fingerprint(device.fingerprint)}"))
