"""One widget per module; all message rendering lives in `chatlog.ChatLog`."""
