"""QR codes drawn with Unicode half blocks: each character is two modules high.

Dark modules are drawn in the foreground colour and light ones in the background, so
the widget draws them black on white (screens/qr.py) whatever the terminal's colours;
the quiet zone is part of the drawing. Pure: segno only, no Textual.
"""

from __future__ import annotations

import segno

BORDER = 4  # modules of quiet zone around the code (what the standard asks)
BLOCKS = {(False, False): " ", (True, False): "▀", (False, True): "▄", (True, True): "█"}


def qr_matrix(data: str, border: int = BORDER) -> list[list[bool]]:
    """Rows of modules (True: dark), quiet zone included; error correction M."""
    code = segno.make(data, error="m", micro=False)
    return [[bool(module) for module in row] for row in code.matrix_iter(scale=1, border=border)]


def qr_lines(data: str, border: int = BORDER) -> list[str]:
    """The code as text lines of half blocks, two module rows per line."""
    rows = qr_matrix(data, border)
    if len(rows) % 2:
        rows.append([False] * len(rows[0]))
    return ["".join(BLOCKS[(top, bottom)] for top, bottom in zip(upper, lower, strict=True))
            for upper, lower in zip(rows[0::2], rows[1::2], strict=True)]


def lines_to_matrix(lines: list[str]) -> list[list[bool]]:
    """Back from half blocks to modules (for checking a drawing with a decoder)."""
    tops = {char: top for (top, _), char in BLOCKS.items()}
    bottoms = {char: bottom for (_, bottom), char in BLOCKS.items()}
    rows: list[list[bool]] = []
    for line in lines:
        rows.append([tops[c] for c in line])
        rows.append([bottoms[c] for c in line])
    return rows
