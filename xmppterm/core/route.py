"""Where an identity's connections go, in words (`/route`, and the sign-up form).

Mirrors what `transport.socks.connector_for` and the protocol client do with an
`AccountConfig`: the route, the proxy, the SOCKS credential (the username, and only a
short fingerprint of the password), where names are resolved, the destination and
the TLS mode and the pinned server keys. Nothing here opens a socket.
"""

from __future__ import annotations

import hashlib

from ..config import AccountConfig, ProxyConfig

STARTTLS_PORT, DIRECT_TLS_PORT = 5222, 5223


def fingerprint(username: str, password: str) -> str:
    """A short, username-salted fingerprint of a SOCKS password: enough to tell two
    apart, not enough to read it back."""
    digest = hashlib.sha256(f"{username}\0{password}".encode()).hexdigest()
    return f"sha256:{digest[:8]}"


def proxy_address(proxy: ProxyConfig) -> str:
    host = f"[{proxy.host}]" if ":" in proxy.host else proxy.host
    return f"{host}:{proxy.port}"


def describe_route(account: AccountConfig, isolation: tuple[str, str] | None) -> tuple[str, ...]:
    """Lines for the user. `isolation`: the identity's random SOCKS pair for the session
    (used when the configuration sets no proxy_username/proxy_password)."""
    proxy = account.proxy
    lines = [_route_line(account)]
    if proxy is not None:
        lines.append(_credential_line(account, proxy, isolation))
        lines.append("DNS: remote: the proxy resolves every name; this machine looks "
                     "nothing up (no SRV records)")
    elif account.host:
        lines.append(f"DNS: local: this machine looks up {account.host}")
    else:
        lines.append(f"DNS: local: this machine looks up the SRV records of {account.domain}")
    lines.append(f"Destination: {_destination(account)}")
    lines.append(_tls_line(account))
    if account.tls_pins:
        lines.append(f"TLS key pinned: {' or '.join(account.tls_pins)} (tls_pin: any other "
                     "server key stops the connection, even with a valid certificate)")
    return tuple(lines)


def _route_line(account: AccountConfig) -> str:
    proxy = account.proxy
    if proxy is None:
        return "Route: DIRECT: connections go from this machine straight to the server"
    kind = "TOR" if proxy.tor else "PROXY"
    what = "Tor's SOCKS5 port" if proxy.tor else "the SOCKS5 proxy"
    return (f"Route: {kind}: every connection of this identity goes through {what} at "
            f"{proxy_address(proxy)}, never around it")


def _credential_line(account: AccountConfig, proxy: ProxyConfig,
                     isolation: tuple[str, str] | None) -> str:
    if proxy.username is not None and proxy.password is not None:
        user, password = proxy.username, proxy.password
        source = f"set in [accounts.{account.id}]"
    elif isolation is not None:
        user, password = isolation
        source = "random, this identity's own for the session (a circuit of its own)"
    else:
        return "SOCKS credential: a new random pair for each connection"
    return (f"SOCKS credential: user {user}, password {fingerprint(user, password)} "
            f"({source})")


def _destination(account: AccountConfig) -> str:
    port = account.port or (DIRECT_TLS_PORT if account.tls == "direct" else STARTTLS_PORT)
    if account.proxy is None and not account.host and not account.port:
        service = "_xmpps-client" if account.tls == "direct" else "_xmpp-client"
        return (f"the servers named by {service}._tcp.{account.domain}, else "
                f"{account.domain}:{port}")
    return f"{account.host or account.domain}:{port}"


def _tls_line(account: AccountConfig) -> str:
    mode = "direct TLS (XEP-0368)" if account.tls == "direct" else "STARTTLS, required"
    trust = f"only {account.ca_file}" if account.ca_file else "the system's CAs"
    return (f"TLS: {mode}; the certificate must name {account.domain} (trusted: {trust}); "
            "nothing is sent before it verifies")
