"""The audit trail: one record per send attempt, on SQLite or PostgreSQL."""

from bot.audit.migrate import head_revision as head_revision
from bot.audit.migrate import migrate as migrate
from bot.audit.notices import Notices as Notices
from bot.audit.optouts import OptOut as OptOut
from bot.audit.optouts import OptOutList as OptOutList
from bot.audit.records import CONTRACT_FIELDS as CONTRACT_FIELDS
from bot.audit.records import AlreadySettledError as AlreadySettledError
from bot.audit.records import AttemptResult as AttemptResult
from bot.audit.records import AuditRecord as AuditRecord
from bot.audit.records import DuplicateAttemptError as DuplicateAttemptError
from bot.audit.records import NewAttempt as NewAttempt
from bot.audit.store import AuditStore as AuditStore
from bot.audit.store import utc_now as utc_now
