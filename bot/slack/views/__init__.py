"""bot/slack/views."""
