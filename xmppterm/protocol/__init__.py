"""Protocol: the hardened slixmpp client, the one slixmpp→domain event table, the link
facade core uses. slixmpp is imported only inside this package."""
