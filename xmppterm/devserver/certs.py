"""Throwaway X.509 material for the local test and demo server.

Each call to `make_certs` creates a fresh certificate authority (EC P-256) and a
server certificate signed by it whose subjectAltName lists the given host names
and loopback addresses. Nothing is reused between calls, so calling it twice
gives two CAs that do not trust each other: the second set serves as the
"wrong certificate" in negative tests.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DEFAULT_IPS: tuple[str, ...] = ("127.0.0.1",)
VALIDITY = datetime.timedelta(days=7)
BACKDATE = datetime.timedelta(hours=1)


@dataclass(frozen=True)
class CertFiles:
    """Where one CA and its server certificate were written."""

    directory: Path
    ca_file: Path
    cert_file: Path
    key_file: Path
    hostnames: tuple[str, ...]


def _name(common_name: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "xmppterm devserver"),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


def _builder(subject: x509.Name, issuer: x509.Name,
             public_key: ec.EllipticCurvePublicKey) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return (x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - BACKDATE)
            .not_valid_after(now + VALIDITY))


def _make_ca(label: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(f"xmppterm throwaway CA {label}")
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (_builder(name, name, key.public_key())
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=False, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True,
                crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(ski, critical=False)
            .sign(key, hashes.SHA256()))
    return key, cert


def _san(hostnames: Sequence[str], ips: Sequence[str]) -> x509.SubjectAlternativeName:
    names: list[x509.GeneralName] = [x509.DNSName(h) for h in hostnames]
    names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]
    return x509.SubjectAlternativeName(names)


def _make_leaf(ca_key: ec.EllipticCurvePrivateKey, ca_cert: x509.Certificate,
               hostnames: Sequence[str], ips: Sequence[str],
               ) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    aki = x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key())
    cert = (_builder(_name(hostnames[0]), ca_cert.subject, key.public_key())
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=True, key_cert_sign=False,
                crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH,
                                                  ExtendedKeyUsageOID.CLIENT_AUTH]),
                           critical=False)
            .add_extension(_san(hostnames, ips), critical=False)
            .add_extension(aki, critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    return key, cert


def _write_private(path: Path, data: bytes) -> None:
    """Write `data` to a new file readable by its owner only (0600 from creation)."""
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.chmod(path, 0o600)


def make_certs(directory: Path, hostnames: Sequence[str],
               ips: Sequence[str] = DEFAULT_IPS, label: str = "") -> CertFiles:
    """Create a new CA and a server certificate for `hostnames` (and `ips`) in `directory`.

    Writes `ca.pem`, `server.crt` and `server.key` (all mode 0600). `label` only
    appears in the CA's common name, to tell sets apart when debugging.
    """
    if not hostnames:
        raise ValueError("make_certs needs at least one host name")
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    ca_key, ca_cert = _make_ca(label or os.urandom(4).hex())
    key, cert = _make_leaf(ca_key, ca_cert, hostnames, ips)
    files = CertFiles(directory=directory, ca_file=directory / "ca.pem",
                      cert_file=directory / "server.crt", key_file=directory / "server.key",
                      hostnames=tuple(hostnames))
    pem = serialization.Encoding.PEM
    _write_private(files.ca_file, ca_cert.public_bytes(pem))
    _write_private(files.cert_file, cert.public_bytes(pem) + ca_cert.public_bytes(pem))
    _write_private(files.key_file, key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return files


def make_untrusted_certs(directory: Path, hostnames: Sequence[str],
                         ips: Sequence[str] = DEFAULT_IPS) -> CertFiles:
    """A certificate for the same names from an unrelated CA (for wrong-certificate tests)."""
    return make_certs(directory, hostnames, ips, label="untrusted " + os.urandom(4).hex())
