"""Alembic revisions of the audit store (``sms-bot db upgrade``); see ``bot.audit.migrate``."""
