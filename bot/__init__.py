"""sms-bot: send SMS through Octopush from Slack, with an audit trail."""

__version__ = "0.1.0"
