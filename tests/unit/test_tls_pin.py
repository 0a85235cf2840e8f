"""`tls_pin`: parsing the config value, the SPKI hash (checked against openssl and a
hand-rolled DER walk), the words the user reads, and the `/route` line."""

from __future__ import annotations

import base64
import datetime
import hashlib
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from xmppterm.config import ConfigError, load_config, parse_config
from xmppterm.core.route import describe_route
from xmppterm.devserver import make_certs
from xmppterm.domain.ids import AccountId
from xmppterm.domain.pins import InvalidPin, format_pin, parse_pin, parse_pins
from xmppterm.protocol.errors import FailKind, Failure, failure_reason
from xmppterm.protocol.registration import failure_text
from xmppterm.transport.tls import spki_pin

DIGEST = bytes(range(32))
B64 = base64.b64encode(DIGEST).decode()
PIN = f"sha256/{B64}"
OTHER = "sha256/" + base64.b64encode(b"\xff" * 32).decode()


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    path.chmod(0o600)
    return path


def account_pins(value: str) -> tuple[str, ...]:
    text = f'[accounts.work]\njid = "me@example.org"\ntls_pin = {value}\n'
    return parse_config(tomllib.loads(text)).accounts[0].tls_pins


# -- parsing ---------------------------------------------------------------------------------
@pytest.mark.parametrize("written", [PIN, f"sha256//{B64}", f"  {PIN} "])
def test_both_prefixes_give_the_canonical_pin(written: str) -> None:
    assert parse_pin(written) == PIN == format_pin(DIGEST)


def test_base64_that_starts_with_a_slash_is_read_either_way() -> None:
    slashed = b"\xff" * 32  # base64: "//////…"
    canonical = "sha256/" + base64.b64encode(slashed).decode()
    assert canonical.startswith("sha256///")
    assert parse_pin(canonical) == canonical  # HPKP's form
    assert parse_pin("sha256//" + canonical[len("sha256/"):]) == canonical  # curl's form
    assert parse_pin(f"sha256//{B64}") == PIN
    with pytest.raises(InvalidPin) as err:
        parse_pin("sha256//" + base64.b64encode(b"x" * 20).decode())
    assert "holds 20 bytes" in str(err.value)


@pytest.mark.parametrize(("written", "why"), [
    (B64, "does not start with"),
    (f"sha1/{B64}", "does not start with"),
    (f"SHA256/{B64}", "does not start with"),
    (f"sha256:{B64}", "does not start with"),
    (f"sha256///{B64}", "33 bytes"),
    ("sha256/" + B64.replace("=", ""), "not valid base64"),  # padding missing
    ("sha256/" + base64.urlsafe_b64encode(b"\xfb\xff" * 16).decode(), "not valid base64"),
    ("sha256/" + B64[:20] + " " + B64[20:], "not valid base64"),
    ("sha256/" + base64.b64encode(b"x" * 20).decode(), "20 bytes"),  # a SHA-1 length
    ("sha256/" + base64.b64encode(b"x" * 48).decode(), "48 bytes"),
    ("sha256/", "0 bytes"),
    ("sha256/\x1b]52;c;AAAA\x07", "not valid base64"),
    ("sha256/ä" + B64, "not valid base64"),
])
def test_bad_pins_are_refused(written: str, why: str) -> None:
    with pytest.raises(InvalidPin) as err:
        parse_pin(written)
    assert why in str(err.value)
    assert "\x1b" not in str(err.value)  # the user's own text, shown harmlessly


def test_config_accepts_one_pin_or_a_list() -> None:
    assert account_pins(f'"{PIN}"') == (PIN,)
    assert account_pins(f'["sha256//{B64}", "{OTHER}", "{PIN}"]') == (PIN, OTHER)
    acc = parse_config({"accounts": {"w": {"jid": "me@example.org"}}}).accounts[0]
    assert acc.tls_pins == ()


@pytest.mark.parametrize(("value", "why"), [
    (f'"{B64}"', "does not start with"),
    ("[]", "non-empty list"),
    ("42", "non-empty list"),
    (f'["{PIN}", 42]', "only strings"),
    (f'["{PIN}", "sha256/nope"]', "holds 3 bytes"),
    (f'["{PIN}", "sha256/n%pe"]', "not valid base64"),
    (f'{{ pin = "{PIN}" }}', "non-empty list"),
])
def test_config_errors_name_file_key_and_form(tmp_path: Path, value: str, why: str) -> None:
    path = write(tmp_path, f'[accounts.work]\njid = "me@example.org"\ntls_pin = {value}\n')
    with pytest.raises(ConfigError) as err:
        load_config(path)
    text = str(err.value)
    assert err.value.key == "accounts.work.tls_pin" and str(path) in text
    assert why in text and 'tls_pin = "sha256/BASE64"' in text and "SubjectPublicKeyInfo" in text


def test_a_pin_cannot_be_a_default(tmp_path: Path) -> None:
    path = write(tmp_path, f'[settings]\ntls_pin = "{PIN}"\n')
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert err.value.key == "settings.tls_pin" and "[accounts.NAME]" in str(err.value)


def test_parse_pins_keeps_order_and_drops_repeats() -> None:
    assert parse_pins([OTHER, PIN, f"sha256//{B64}"]) == (OTHER, PIN)
    with pytest.raises(InvalidPin):
        parse_pins(None)


# -- the hash ---------------------------------------------------------------------------------
def _der_items(data: bytes) -> list[tuple[int, bytes]]:
    """The DER TLVs in `data`, each as (tag, whole encoding): no library involved."""
    items, i = [], 0
    while i < len(data):
        tag, length, head = data[i], data[i + 1], 2
        if length & 0x80:
            count = length & 0x7F
            length, head = int.from_bytes(data[i + 2:i + 2 + count], "big"), 2 + count
        items.append((tag, data[i:i + head + length]))
        i += head + length
    return items


def _content(tlv: bytes) -> bytes:
    return tlv[2 + (tlv[1] & 0x7F if tlv[1] & 0x80 else 0):]


def spki_by_hand(der_cert: bytes) -> bytes:
    """RFC 5280: Certificate ::= SEQUENCE { tbsCertificate, ... }; TBSCertificate ::=
    SEQUENCE { [0] version, serial, signature, issuer, validity, subject, spki, ... }."""
    [(_, cert)] = _der_items(der_cert)
    tbs = _der_items(_content(cert))[0][1]
    fields = _der_items(_content(tbs))
    offset = 1 if fields[0][0] == 0xA0 else 0
    tag, spki = fields[offset + 5]
    assert tag == 0x30
    return spki


def rsa_cert_der() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "rsa.example.test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(Encoding.DER)


def test_spki_pin_matches_a_hand_rolled_der_walk(tmp_path: Path) -> None:
    certs = make_certs(tmp_path / "c", ["example.test"])
    ec_der = x509.load_pem_x509_certificate(certs.cert_file.read_bytes()).public_bytes(Encoding.DER)
    for der in (ec_der, rsa_cert_der()):
        expected = "sha256/" + base64.b64encode(hashlib.sha256(spki_by_hand(der)).digest()).decode()
        assert spki_pin(der) == expected
    assert spki_pin(ec_der) != spki_pin(rsa_cert_der())


@pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl command")
def test_spki_pin_matches_the_readme_openssl_recipe(tmp_path: Path) -> None:
    certs = make_certs(tmp_path / "c", ["example.test"])
    recipe = (f"openssl x509 -in {certs.cert_file} -pubkey -noout | openssl pkey -pubin "
              "-outform der | openssl dgst -sha256 -binary | base64")
    out = subprocess.run(["sh", "-c", recipe], capture_output=True, text=True, check=True)
    der = x509.load_pem_x509_certificate(certs.cert_file.read_bytes())
    assert spki_pin(der.public_bytes(Encoding.DER)) == "sha256/" + out.stdout.strip()


def test_spki_pin_refuses_garbage() -> None:
    with pytest.raises(ValueError):
        spki_pin(b"\x30\x03\x02\x01\x01")


# -- what the user reads ------------------------------------------------------------------------
def test_pin_failure_names_the_key_the_actual_pin_and_the_danger() -> None:
    text = failure_reason(AccountId("work"), "me@example.org", "example.org",
                          Failure(FailKind.PIN, OTHER))
    assert "does not match tls_pin in [accounts.work]" in text
    assert f'tls_pin = "{OTHER}"' in text and "intercepting" in text
    assert "no password" in text


def test_a_sign_up_pin_failure_names_the_actual_pin_and_says_nothing_was_sent() -> None:
    text = failure_text("example.org\u202e", Failure(FailKind.PIN, OTHER))
    assert text.startswith("The server's key for example.org⟨U+202E⟩ does not match the key "
                           "pin (tls_pin) you gave")
    assert f"it presented {OTHER}" in text and "intercepting" in text
    assert "nothing was sent (no registration, no password)" in text
    assert f"give {OTHER} as the key pin." in text
    odd = failure_text("example.org", Failure(FailKind.PIN, "no certificate"))
    assert "it presented no certificate" in odd and "as the key pin" not in odd


def test_route_shows_the_pins() -> None:
    acc = parse_config({"accounts": {"work": {"jid": "me@example.org",
                                              "tls_pin": [PIN, OTHER]}}}).accounts[0]
    lines = describe_route(acc, None)
    assert lines[-1].startswith(f"TLS key pinned: {PIN} or {OTHER}")
    plain = parse_config({"accounts": {"work": {"jid": "me@example.org"}}}).accounts[0]
    assert not any("pinned" in line for line in describe_route(plain, None))
