"""The Textual UI: `app.XmppTermApp`, driven only through `domain.ports.Backend`."""
