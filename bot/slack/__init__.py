"""The Slack surface: listeners (``listeners.register_listeners``), builders and parsing."""
