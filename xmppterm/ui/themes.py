"""Theme files: `themes/<name>.tcss`, looked up in the user's, the repository's and the
installed theme directories. A missing or broken theme is reported, never fatal."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

from textual.css.stylesheet import Stylesheet, StylesheetParseError

from ..paths import user_themes_dir

DEFAULT = "default"
COMPACT = "compact"
NAME_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
LAYOUT_CSS = Path(__file__).with_name("app.tcss")


def theme_dirs() -> list[Path]:
    """Where themes are looked for, first match wins."""
    return [
        user_themes_dir(),
        Path(__file__).resolve().parents[2] / "themes",
        Path(sys.prefix) / "share" / "xmppterm" / "themes",
    ]


def find_theme(name: str) -> Path | None:
    if not NAME_RE.fullmatch(name):
        return None
    for folder in theme_dirs():
        path = folder / f"{name}.tcss"
        if path.is_file():
            return path
    return None


@dataclass(frozen=True, slots=True)
class ThemeChoice:
    path: Path | None  # None: no theme file at all (layout only)
    problem: str = ""  # what went wrong with the theme asked for, for the status buffer


def check_theme(path: Path, variables: dict[str, str]) -> str:
    """Parse a theme file on its own; the problem in one line, or ''."""
    try:
        css = path.read_text(encoding="utf-8")
        sheet = Stylesheet(variables=variables)
        sheet.add_source(css, read_from=(str(path), ""))
        sheet.parse()
    except (OSError, UnicodeDecodeError) as exc:
        return f"cannot read {path}: {exc.__class__.__name__}"
    except StylesheetParseError as exc:
        return f"{path} has errors ({_first_error(exc)})"
    except Exception as exc:  # TokenError, UnresolvedVariableError, ...: all non-fatal
        return f"{path} has errors ({_one_line(str(exc)) or exc.__class__.__name__})"
    return ""


def _first_error(exc: StylesheetParseError) -> str:
    for rule in exc.errors.rules:
        for token, message in rule.errors:
            line = token.location[0] + 1
            summary = getattr(message, "summary", message)
            return f"line {line}: {_one_line(str(summary))}"
    return "syntax error"


def _one_line(text: str) -> str:
    return " ".join(text.split())[:160]


def choose_theme(name: str, variables: dict[str, str]) -> ThemeChoice:
    """The theme file to load for `name`, falling back to the default one."""
    problem = ""
    path = find_theme(name)
    if path is None:
        problem = f"Theme {name!r} not found in " + ", ".join(str(d) for d in theme_dirs())
    else:
        problem = check_theme(path, variables)
        if not problem:
            return ThemeChoice(path)
    fallback = find_theme(DEFAULT)
    if fallback is not None and fallback != path and not check_theme(fallback, variables):
        return ThemeChoice(fallback, problem + "; using the default theme.")
    return ThemeChoice(None, problem + "; no usable theme, using plain colours.")
