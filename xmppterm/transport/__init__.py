"""Transport: the only code that opens sockets (direct TLS today, SOCKS5 later)."""
