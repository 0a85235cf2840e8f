"""The route keys of the configuration: proxy, tor, proxy_username/proxy_password."""

from pathlib import Path
from typing import Any

import pytest

from xmppterm.config import AccountConfig, ConfigError, ProxyConfig, load_config, parse_config
from xmppterm.domain.ids import AccountId


def accounts(text: str, tmp_path: Path) -> dict[str, AccountConfig]:
    path = tmp_path / "config.toml"
    path.write_text(text)
    path.chmod(0o600)
    return {acc.id.name: acc for acc in load_config(path).accounts}


def account(**keys: Any) -> AccountConfig:
    return parse_config({"accounts": {"a": {"jid": "a@example.org", **keys}}}).accounts[0]


def refused(data: dict[str, Any]) -> ConfigError:
    with pytest.raises(ConfigError) as err:
        parse_config(data)
    return err.value


def test_no_proxy_is_direct() -> None:
    acc = account()
    assert acc.proxy is None and acc.route == "DIRECT"
    assert AccountConfig(id=AccountId("x"), jid="x@y.z").route == "DIRECT"


@pytest.mark.parametrize(("keys", "proxy", "route"), [
    ({"tor": True}, ProxyConfig("127.0.0.1", 9050, tor=True), "TOR"),
    ({"tor": True, "proxy": "socks5://127.0.0.1:9150"}, ProxyConfig("127.0.0.1", 9150, True), "TOR"),
    ({"proxy": "socks5://10.0.0.7:1080"}, ProxyConfig("10.0.0.7", 1080), "PROXY"),
    ({"proxy": "socks5h://localhost:9050"}, ProxyConfig("127.0.0.1", 9050), "PROXY"),
    ({"proxy": "SOCKS5://[::1]:9050/"}, ProxyConfig("::1", 9050), "PROXY"),
    ({"tor": False, "proxy": "socks5://127.0.0.1:1080"}, ProxyConfig("127.0.0.1", 1080), "PROXY"),
    ({"tor": False}, None, "DIRECT"),
    ({"proxy": ""}, None, "DIRECT"),
])
def test_route_keys(keys: dict[str, Any], proxy: ProxyConfig | None, route: str) -> None:
    acc = account(**keys)
    assert acc.proxy == proxy and acc.route == route


def test_settings_default_and_opt_out(tmp_path: Path) -> None:
    accs = accounts('''
[settings]
tor = true
[accounts.a]
jid = "a@example.org"
[accounts.b]
jid = "b@example.org"
proxy = "socks5://127.0.0.1:1080"
[accounts.c]
jid = "c@example.org"
tor = false
[accounts.d]
jid = "d@example.org"
proxy = ""
''', tmp_path)
    assert {name: acc.route for name, acc in accs.items()} == {
        "a": "TOR", "b": "PROXY", "c": "DIRECT", "d": "DIRECT"}
    assert accs["a"].proxy == ProxyConfig("127.0.0.1", 9050, tor=True)


def test_settings_proxy_is_inherited_with_account_credentials() -> None:
    cfg = parse_config({"settings": {"proxy": "socks5://127.0.0.1:9150", "tor": True},
                        "accounts": {"a": {"jid": "a@example.org", "proxy_username": "u",
                                           "proxy_password": "p"}}})
    assert cfg.settings.proxy == ProxyConfig("127.0.0.1", 9150, tor=True)
    proxy = cfg.accounts[0].proxy
    assert proxy == ProxyConfig("127.0.0.1", 9150, True, "u", "p")
    assert "'p'" not in repr(proxy)  # the password stays out of reprs and logs


def test_onion_through_tor() -> None:
    acc = account(tor=True, host="abcdefghijklmnop.onion")
    assert acc.route == "TOR" and acc.host == "abcdefghijklmnop.onion"


@pytest.mark.parametrize(("keys", "key", "fix"), [
    ({"proxy": "http://127.0.0.1:8080"}, "proxy", "socks5://127.0.0.1:9050"),
    ({"proxy": "socks4://127.0.0.1:9050"}, "proxy", "socks5://"),
    ({"proxy": "socks5://tor.example.net:9050"}, "proxy", "proxy's IP address"),
    ({"proxy": "socks5://127.0.0.1"}, "proxy", "socks5://127.0.0.1:9050"),
    ({"proxy": "socks5://127.0.0.1:99999"}, "proxy", "socks5://127.0.0.1:9050"),
    ({"proxy": "socks5://u:p@127.0.0.1:9050"}, "proxy", "proxy_username"),
    ({"proxy": "socks5://127.0.0.1:9050/x?y"}, "proxy", "socks5://"),
    ({"proxy": 9050}, "proxy", 'proxy = "text"'),
    ({"tor": "yes"}, "tor", "tor = true"),
    ({"tor": True, "proxy": ""}, "tor", "Remove one"),
    ({"proxy_username": "u", "proxy_password": "p"}, "proxy_username", "tor = true"),
    ({"tor": True, "proxy_username": "u"}, "proxy_username", "both"),
    ({"tor": True, "proxy_password": "p"}, "proxy_password", "both"),
    ({"tor": True, "proxy_username": "u" * 256, "proxy_password": "p"}, "proxy_username",
     "Shorten"),
    ({"host": "abcdefghijklmnop.onion"}, "host", "tor = true"),
])
def test_account_errors(keys: dict[str, Any], key: str, fix: str) -> None:
    err = refused({"accounts": {"a": {"jid": "a@example.org", **keys}}})
    assert err.key == f"accounts.a.{key}" and fix in str(err)


def test_onion_jid_without_proxy() -> None:
    err = refused({"accounts": {"a": {"jid": "a@abcdefghijklmnop.onion"}}})
    assert err.key == "accounts.a.jid" and "only Tor" in str(err)


@pytest.mark.parametrize(("settings", "key", "fix"), [
    ({"proxy_username": "u"}, "settings.proxy_username", "per account"),
    ({"proxy_password": "p"}, "settings.proxy_password", "per account"),
    ({"proxy": "socks5://proxy.lan:1080"}, "settings.proxy", "IP address"),
])
def test_settings_errors(settings: dict[str, Any], key: str, fix: str) -> None:
    err = refused({"settings": settings})
    assert err.key == key and fix in str(err)


def test_two_accounts_may_not_share_credentials() -> None:
    creds = {"tor": True, "proxy_username": "same", "proxy_password": "pair"}
    err = refused({"accounts": {"a": {"jid": "a@example.org", **creds},
                                "b": {"jid": "b@example.org", **creds}}})
    assert err.key == "accounts.b.proxy_username" and "[accounts.a]" in str(err)
    other = {**creds, "proxy_password": "other"}
    cfg = parse_config({"accounts": {"a": {"jid": "a@example.org", **creds},
                                     "b": {"jid": "b@example.org", **other}}})
    assert [a.route for a in cfg.accounts] == ["TOR", "TOR"]


def test_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        accounts('[accounts.a]\njid = "a@b.c"\nproxy = "socks5://name:1"\n', tmp_path)
    assert str(tmp_path) in str(err.value) and "DNS query" in str(err.value)
