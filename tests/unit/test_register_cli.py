"""`xmppterm register` on the command line: arguments and early refusals (no network)."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from xmppterm.__main__ import main
from xmppterm.cli import build_parser
from xmppterm.domain.registration import SignUpRequest
from xmppterm.register import request_from_args, write_account


def test_arguments_make_the_request(tmp_path: Path) -> None:
    args = build_parser().parse_args(["register", "--tor", "--proxy", "socks5://127.0.0.1:9150",
                                      "--name", "burner", "--direct-tls", "--port", "5223",
                                      "Example.org"])
    assert request_from_args(args, input) == SignUpRequest(
        "example.org", "burner", "tor", "socks5://127.0.0.1:9150", port=5223, tls="direct")
    assert args.keep_password == "store"
    asked = build_parser().parse_args(["register", "--direct"])
    assert request_from_args(asked, lambda prompt: "x.org").route == "direct"  # type: ignore[union-attr]


def test_a_key_pin_is_taken_canonical_and_a_bad_one_refused_before_connecting(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    b64 = base64.b64encode(bytes(range(32))).decode()
    args = build_parser().parse_args(["register", "--tls-pin", f"sha256//{b64}", "x.org"])
    request = request_from_args(args, input)
    assert isinstance(request, SignUpRequest) and request.tls_pin == f"sha256/{b64}"
    code = main(["--config", str(tmp_path / "c.toml"), "--data-dir", str(tmp_path / "d"),
                 "register", "--direct", "--tls-pin", "sha256/short", "example.org"])
    err = capsys.readouterr().err
    assert code == 2 and "Key pin (tls_pin): 'sha256/short'" in err
    assert not (tmp_path / "d").exists() and not (tmp_path / "c.toml").exists()


def test_direct_with_tor_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--config", str(tmp_path / "c.toml"), "--data-dir", str(tmp_path / "d"),
                 "register", "--direct", "--tor", "example.org"])
    assert code == 2 and "--direct cannot go with --tor" in capsys.readouterr().err
    assert not (tmp_path / "d").exists() and not (tmp_path / "c.toml").exists()


def test_an_onion_server_without_tor_is_refused_before_connecting(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--config", str(tmp_path / "c.toml"), "register", "--direct",
                 "a" * 56 + ".onion"])
    assert code == 2 and "only Tor can reach" in capsys.readouterr().err


def test_write_account_validates_and_refuses_a_taken_name(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    assert write_account(path, {"name": "a", "jid": "a@x.org", "tor": True}) is None
    assert path.stat().st_mode & 0o777 == 0o600
    assert "exists already" in str(write_account(path, {"name": "a", "jid": "b@x.org"}))
    assert "not a TCP port" in str(write_account(path, {"name": "b", "jid": "b@x.org",
                                                        "port": 0}))
