"""Each identity's colour: a slot of the theme (`$identity-1` … `$identity-6`), chosen
by its place in the list or by `color` in its `[accounts.NAME]` table.

`color = "identity-3"` (or `3`) picks a theme slot, so the theme still decides the
colour itself; any other value is a colour (`"green"`, `"#ff8800"`) drawn over the
slot's style in the sidebar, the status line and the composer prompt. An unusable
value is ignored (the slot's colour shows). No colour is written in this code.
"""

from __future__ import annotations

import re

from rich.style import Style
from textual.color import Color, ColorParseError

IDENTITY_COLOURS = 6
SLOT = re.compile(r"(?:identity-)?([1-9][0-9]?)")


def colour_slot(color: str | None, index: int) -> int:
    """The theme slot (1..IDENTITY_COLOURS) of the identity at `index` in the list."""
    found = SLOT.fullmatch(color.strip()) if color else None
    if found and 1 <= int(found.group(1)) <= IDENTITY_COLOURS:
        return int(found.group(1))
    return index % IDENTITY_COLOURS + 1


def override_colour(color: str | None) -> Color | None:
    """The configured colour, when `color` is a colour and not a slot."""
    if not color or SLOT.fullmatch(color.strip()):
        return None
    try:
        return Color.parse(color.strip())
    except (ColorParseError, ValueError):
        return None


def override_style(color: str | None) -> Style:
    """A Rich style with the configured colour, or the null style."""
    found = override_colour(color)
    return Style(color=found.rich_color) if found is not None else Style.null()
