"""The ``sms-bot`` command line: sending, operator commands, checks and their output."""

from bot.cli.main import main as main
