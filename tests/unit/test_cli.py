import subprocess
import sys
from pathlib import Path

import pytest

from xmppterm.__main__ import main


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "xmppterm", *args], capture_output=True,
                          text=True, timeout=60, stdin=subprocess.DEVNULL)


def test_help_teaches() -> None:
    out = run("--help")
    assert out.returncode == 0
    for words in ("xmppterm demo", "password_command", "--config", "--data-dir", "/help"):
        assert words in out.stdout


def test_a_readable_config_is_refused_with_the_fix(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text('[accounts.a]\njid = "a@example.org"\npassword = "x"\n')
    cfg.chmod(0o644)
    out = run("--config", str(cfg), "--data-dir", str(tmp_path / "d"))
    assert out.returncode == 2
    assert str(cfg) in out.stderr and "chmod 600" in out.stderr
    assert not (tmp_path / "d").exists()


def test_demo_without_prosody_says_how_to_install(monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    import xmppterm.devserver.prosody as prosody

    monkeypatch.setattr(prosody, "PROSODY", "/nonexistent/prosody")
    assert main(["demo"]) == 2
    assert "apt-get install prosody" in capsys.readouterr().err
