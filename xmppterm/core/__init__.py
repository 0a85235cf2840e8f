"""Sessions and conversation state: N identities, one event stream."""
