"""bot/directory."""
