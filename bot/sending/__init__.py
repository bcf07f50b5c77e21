"""bot/sending."""
