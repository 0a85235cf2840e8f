"""The local store: every byte xmppterm writes to disk goes through this package."""
