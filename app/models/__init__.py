"""All models, imported here so Alembic and the app see the whole schema."""

from app.models.answers import PartnershipAnswer
from app.models.areas import Area, Contact
from app.models.audit import AuditEntry
from app.models.cases import Case, CaseEvent
from app.models.imports import ImportRun
from app.models.outbox import JobRun, OutboxMessage, SchedulerLease
from app.models.plans import Action, ActionPlan
from app.models.sign_in import RecoveryCode, SignInCount, UserSession
from app.models.snapshots import Person, RosterEntry, Snapshot
from app.models.users import User

__all__ = [
    "Action",
    "ActionPlan",
    "Area",
    "AuditEntry",
    "Case",
    "CaseEvent",
    "Contact",
    "ImportRun",
    "JobRun",
    "OutboxMessage",
    "PartnershipAnswer",
    "Person",
    "RecoveryCode",
    "RosterEntry",
    "SchedulerLease",
    "SignInCount",
    "Snapshot",
    "User",
    "UserSession",
]
