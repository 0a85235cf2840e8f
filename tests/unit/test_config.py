from pathlib import Path

import pytest

from xmppterm.config import ConfigError, load_config, parse_config


def write(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    path.chmod(mode)
    return path


def test_full_account(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("x")
    cfg = load_config(write(tmp_path, f'''
[settings]
low_bandwidth = true
[accounts.work]
jid = "Alice@Example.org"
password_command = "pass show xmpp/alice"
host = "xmpp.example.org"
port = 5223
tls = "direct"
ca_file = "{ca}"
'''))
    acc = cfg.accounts[0]
    assert (acc.id.name, acc.jid, acc.host, acc.port, acc.tls, acc.ca_file) == (
        "work", "alice@example.org", "xmpp.example.org", 5223, "direct", ca)
    assert cfg.settings.low_bandwidth and not acc.plain_password_in_config


def test_group_readable_file_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, '[accounts.a]\njid = "a@b.c"\npassword = "x"\n', 0o640)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(path) in str(err.value) and "chmod 600" in str(err.value)


@pytest.mark.parametrize(("text", "key", "fix"), [
    ('[accounts.a]\npassword = "x"', "accounts.a.jid", "jid ="),
    ('[accounts.a]\njid = "nodomain@"', "accounts.a.jid", "name@example.org"),
    ('[accounts.a]\njid = "a@b.c"\ntls = "none"', "accounts.a.tls", "cannot be turned off"),
    ('[accounts.a]\njid = "a@b.c"\nport = 70000', "accounts.a.port", "1 to 65535"),
    ('[accounts.a]\njid = "a@b.c"\nport = "5222"', "accounts.a.port", "port = 5222"),
    ('[accounts.a]\njid = "a@b.c"\npasword = "x"', "accounts.a.pasword", "Known keys"),
    ('[accounts.a]\njid = "a@b.c"\nca_file = "/nonexistent.pem"', "accounts.a.ca_file", "PEM"),
    ('[setings]\n', "setings", "[settings]"),
])
def test_errors_name_key_and_fix(tmp_path: Path, text: str, key: str, fix: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, text))
    assert err.value.key == key and fix in str(err.value) and str(tmp_path) in str(err.value)


def test_bad_toml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(write(tmp_path, "[accounts.a\n"))
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml")


def test_plain_password_is_flagged() -> None:
    cfg = parse_config({"accounts": {"a": {"jid": "a@b.c", "password": "hunter2"}}})
    assert cfg.accounts[0].plain_password_in_config
    assert "hunter2" not in repr(cfg)
