"""Group chats (XEP-0045) and what goes with them: joining, occupants, admin, bookmarks."""
