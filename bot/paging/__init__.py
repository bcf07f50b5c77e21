"""bot/paging."""
