"""xmppterm: a terminal XMPP client for people whose safety depends on their messaging."""

__version__ = "0.1.0.dev0"
