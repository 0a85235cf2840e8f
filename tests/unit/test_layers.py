"""Imports point down only (DESIGN.md, "Layers"). Fails on any upward edge."""

import ast
import subprocess
import sys
from pathlib import Path

PKG = Path(__file__).resolve().parents[2] / "xmppterm"
LAYERS = ["ui", "core", "protocol", "transport", "store", "domain"]
ALLOWED = {
    "ui": {"core", "domain"},
    "core": {"protocol", "store", "domain"},
    "protocol": {"transport", "store", "domain"},
    "transport": {"domain"},
    "store": {"domain"},
    "domain": set(),
}
# Third-party libraries that belong to one layer only.
OWNED = {"textual": "ui", "slixmpp": "protocol", "slixmpp_omemo": "protocol", "omemo": "protocol",
         "oldmemo": "protocol", "twomemo": "protocol", "socks": "transport", "socket": "transport"}
BESIDE_DOMAIN = {"config", "paths"}  # importable from every layer


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    found: set[str] = set()
    parts = path.relative_to(PKG.parent).with_suffix("").parts
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = parts[: len(parts) - node.level]
                found.add(".".join((*base, node.module or "")).rstrip("."))
            elif node.module:
                found.add(node.module)
    return found


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] == "xmppterm" and len(parts) > 1 and parts[1] in LAYERS:
        return parts[1]
    return None


def test_no_upward_or_foreign_imports() -> None:
    problems = []
    for layer in LAYERS:
        for path in (PKG / layer).rglob("*.py"):
            for mod in imported_modules(path):
                target = layer_of(mod)
                if target and target != layer and target not in ALLOWED[layer]:
                    problems.append(f"{path.relative_to(PKG)} imports {mod} ({layer} -> {target})")
                owner = OWNED.get(mod.split(".")[0])
                if owner and owner != layer:
                    problems.append(f"{path.relative_to(PKG)} imports {mod}, which belongs to {owner}")
                if mod.split(".")[:2] in (["xmppterm", "__main__"], ["xmppterm", "demo"]):
                    problems.append(f"{path.relative_to(PKG)} imports the wiring module {mod}")
    for name in BESIDE_DOMAIN:
        for mod in imported_modules(PKG / f"{name}.py"):
            if layer_of(mod) not in (None, "domain"):
                problems.append(f"{name}.py imports {mod}")
    assert problems == []


def test_the_checker_sees_an_upward_edge(tmp_path: Path) -> None:
    bad = PKG / "domain" / "_probe_upward.py"
    bad.write_text("from ..core import session\n")
    try:
        assert any(layer_of(m) == "core" for m in imported_modules(bad))
    finally:
        bad.unlink()


def test_core_runs_without_textual() -> None:
    code = ("import sys, xmppterm.core.manager, xmppterm.core.session; "
            "print('textual' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
