"""The domain's words, each defined once: models, check constraints, rules, queries, CLI,
templates and tests import them from here.

StrEnum members compare equal to their strings, so stored values and JSON stay plain text."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class CaseStatus(StrEnum):
    NEW = "new"
    CONTACTED = "contacted"
    PLAN_AGREED = "plan_agreed"
    MONITORING = "monitoring"
    RESOLVED = "resolved"
    CLOSED = "closed"


OPEN_STATUSES: tuple[CaseStatus, ...] = (
    CaseStatus.NEW,
    CaseStatus.CONTACTED,
    CaseStatus.PLAN_AGREED,
    CaseStatus.MONITORING,
)
STATUSES: tuple[CaseStatus, ...] = tuple(CaseStatus)
STATUS_WORDS: dict[str, str] = {
    CaseStatus.NEW: "New",
    CaseStatus.CONTACTED: "Contacted",
    CaseStatus.PLAN_AGREED: "Plan agreed",
    CaseStatus.MONITORING: "Monitoring",
    CaseStatus.RESOLVED: "Resolved",
    CaseStatus.CLOSED: "Closed",
}


class Flag(StrEnum):
    """An evaluation's flag; an area within criteria and above the minimum has none."""

    UNDER_CRITERIA = "under_criteria"
    AT_THRESHOLD = "at_threshold"


FLAGS: tuple[Flag, ...] = tuple(Flag)
FLAG_WORDS: dict[str, str] = {
    Flag.UNDER_CRITERIA: "Under criteria",
    Flag.AT_THRESHOLD: "At threshold (exactly eight)",
}


class Reason(StrEnum):
    """Why an area is under criteria."""

    TOO_FEW_MEMBERS = "too_few_members"
    NOT_RESIDENT_LED = "not_resident_led"


REASON_WORDS: dict[str, str] = {
    Reason.TOO_FEW_MEMBERS: "fewer than the required number of members",
    Reason.NOT_RESIDENT_LED: "residents are not more than half of the members",
}


class MemberRole(StrEnum):
    """A partnership member's role on the roster."""

    CHAIR = "chair"
    VICE_CHAIR = "vice_chair"
    TREASURER = "treasurer"
    SECRETARY = "secretary"
    MEMBER = "member"
    WORKER = "worker"
    LTO_REP = "lto_rep"


MEMBER_ROLES: tuple[MemberRole, ...] = tuple(MemberRole)
# Workers and LTO representatives sit on partnerships but are not counted members.
UNCOUNTED_ROLES: tuple[MemberRole, ...] = (MemberRole.WORKER, MemberRole.LTO_REP)
MEMBER_ROLE_WORDS: dict[str, str] = {
    MemberRole.CHAIR: "Chair",
    MemberRole.VICE_CHAIR: "Vice-chair",
    MemberRole.TREASURER: "Treasurer",
    MemberRole.SECRETARY: "Secretary",
    MemberRole.MEMBER: "Member",
    MemberRole.WORKER: "Worker (not counted)",
    MemberRole.LTO_REP: "LTO rep (not counted)",
}


class UserRole(StrEnum):
    """A staff account's role."""

    REP = "rep"
    PROGRAMME = "programme"


USER_ROLES: tuple[UserRole, ...] = tuple(UserRole)


class AuditAction(StrEnum):
    """An audit entry's action, for two-factor sign-in (other actions are still plain words in
    app/operations/users.py)."""

    TWO_FACTOR_ENABLED = "two_factor_enabled"
    TWO_FACTOR_DISABLED = "two_factor_disabled"
    TWO_FACTOR_RESET = "two_factor_reset"
    RECOVERY_CODE_USED = "recovery_code_used"
    USER_CREATED = "user_created"  # also a rep created by the areas import
    AREA_CREATED = "area_created"


class SnapshotKind(StrEnum):
    ANNUAL = "annual"
    UPDATE = "update"


SNAPSHOT_KINDS: tuple[SnapshotKind, ...] = tuple(SnapshotKind)


class EventKind(StrEnum):
    """A line of a case's timeline."""

    OPENED = "opened"
    EVALUATED = "evaluated"
    FLAG_CHANGED = "flag_changed"
    ESCALATED = "escalated"
    RETURNED = "returned"
    RESOLVED = "resolved"
    CLOSED = "closed"
    ASSIGNED = "assigned"
    STATUS_CHANGED = "status_changed"
    NOTE = "note"
    CONTACT = "contact"
    PLAN_UPDATED = "plan_updated"
    ACTION_ADDED = "action_added"
    ACTION_UPDATED = "action_updated"
    ACTION_DONE = "action_done"
    ACTION_DROPPED = "action_dropped"
    MEMBERSHIP_UPDATED = "membership_updated"
    EMAIL_SENT = "email_sent"
    EMAIL_FAILED = "email_failed"
    ACTION_REOPENED = "action_reopened"
    ANSWER_RECEIVED = "answer_received"  # a partnership contact answered through their link
    ANSWER_ACCEPTED = "answer_accepted"
    ANSWER_DECLINED = "answer_declined"
    ANSWER_SUPERSEDED = "answer_superseded"
    UPDATE_REQUESTED = "update_requested"  # the rep asked the partnership for an update
    REMINDERS_PAUSED = "reminders_paused"
    REMINDERS_RESUMED = "reminders_resumed"
    # A partnership contact's address: also the audit action of the same change.
    CONTACT_BOUNCING = "contact_bouncing"
    CONTACT_EMAIL_CHANGED = "contact_email_changed"
    CONTACT_OPTED_OUT = "contact_opted_out"
    CONTACT_OPTED_IN = "contact_opted_in"


EVENT_KIND_WORDS: dict[str, str] = {
    EventKind.OPENED: "Case opened",
    EventKind.ASSIGNED: "Assigned",
    EventKind.STATUS_CHANGED: "Status",
    EventKind.RETURNED: "Returned within criteria",
    EventKind.RESOLVED: "Resolved",
    EventKind.ESCALATED: "Escalated",
    EventKind.FLAG_CHANGED: "Flag changed",
    EventKind.CLOSED: "Closed",
    EventKind.PLAN_UPDATED: "Plan",
    EventKind.ACTION_ADDED: "Action added",
    EventKind.ACTION_UPDATED: "Action changed",
    EventKind.ACTION_DONE: "Action done",
    EventKind.ACTION_DROPPED: "Action dropped",
    EventKind.NOTE: "Note",
    EventKind.CONTACT: "Contact",
    EventKind.EMAIL_SENT: "Email sent",
    EventKind.EMAIL_FAILED: "Email failed",
    EventKind.MEMBERSHIP_UPDATED: "Membership update",
    EventKind.EVALUATED: "Membership",
    EventKind.ACTION_REOPENED: "Action reopened",
    EventKind.ANSWER_RECEIVED: "From the partnership",
    EventKind.ANSWER_ACCEPTED: "Answer accepted",
    EventKind.ANSWER_DECLINED: "Answer declined",
    EventKind.ANSWER_SUPERSEDED: "Answer superseded",
    EventKind.UPDATE_REQUESTED: "Update requested",
    EventKind.REMINDERS_PAUSED: "Reminders paused",
    EventKind.REMINDERS_RESUMED: "Reminders resumed",
    EventKind.CONTACT_BOUNCING: "Address bouncing",
    EventKind.CONTACT_EMAIL_CHANGED: "Contact's email changed",
    EventKind.CONTACT_OPTED_OUT: "Contact opted out",
    EventKind.CONTACT_OPTED_IN: "Contact opted back in",
}
# Event kinds that are not "activity" for staleness (automatic mail is not casework).
# A pause's end is about mail, not casework (the sweep records it when the date passes).
PASSIVE_EVENT_KINDS: tuple[EventKind, ...] = (
    EventKind.EMAIL_SENT,
    EventKind.EMAIL_FAILED,
    EventKind.REMINDERS_RESUMED,
    EventKind.CONTACT_BOUNCING,
)
# Changes to a partnership contact's address or consent (timeline and the area's history).
CONTACT_EVENT_KINDS: tuple[EventKind, ...] = (
    EventKind.CONTACT_BOUNCING,
    EventKind.CONTACT_EMAIL_CHANGED,
    EventKind.CONTACT_OPTED_OUT,
    EventKind.CONTACT_OPTED_IN,
)


class ActionStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    DROPPED = "dropped"


ACTION_STATUSES: tuple[ActionStatus, ...] = tuple(ActionStatus)


class Owner(StrEnum):
    """Who owns an action; also who a reminder is addressed to (its audience)."""

    REP = "rep"
    PARTNERSHIP = "partnership"
    PROGRAMME = "programme"


OWNER_WORDS: dict[str, str] = {
    Owner.REP: "Rep",
    Owner.PARTNERSHIP: "Partnership",
    Owner.PROGRAMME: "Programme team",
}


class Barrier(StrEnum):
    RECRUITMENT = "recruitment"
    RESIDENT_ENGAGEMENT = "resident_engagement"
    GOVERNANCE = "governance"
    CONFLICT = "conflict"
    CAPACITY = "capacity"
    OTHER = "other"


BARRIER_WORDS: dict[str, str] = {
    Barrier.RECRUITMENT: "Recruitment",
    Barrier.RESIDENT_ENGAGEMENT: "Resident engagement",
    Barrier.GOVERNANCE: "Governance",
    Barrier.CONFLICT: "Conflict",
    Barrier.CAPACITY: "Capacity",
    Barrier.OTHER: "Other",
}


class Support(StrEnum):
    EXPERT_PARTNER = "expert_partner"
    LEARNING_EVENTS = "learning_events"
    NETWORKING = "networking"


SUPPORT_WORDS: dict[str, str] = {
    Support.EXPERT_PARTNER: "Time with an expert partner",
    Support.LEARNING_EVENTS: "Learning events",
    Support.NETWORKING: "Networking spaces (e.g. community engagement)",
}


class ContactMethod(StrEnum):
    """How a rep reached the partnership (a contact recorded on a case)."""

    PHONE = "phone"
    EMAIL = "email"
    MEETING = "meeting"
    VISIT = "visit"
    OTHER = "other"


CONTACT_METHODS: dict[str, str] = {m: m.value.capitalize() for m in ContactMethod}


class OutboxStatus(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"  # its cause was gone before it was sent


OUTBOX_STATUSES: tuple[OutboxStatus, ...] = tuple(OutboxStatus)
OUTBOX_STATUS_WORDS: dict[str, str] = {s: s.value.capitalize() for s in OutboxStatus}


class HealthStatus(StrEnum):
    """How the mail machinery is doing, for /healthz, `flask health` and the health panels."""

    OK = "ok"
    DEGRADED = "degraded"  # running, but the sweep is late or due mail is waiting
    DOWN = "down"  # the database cannot be reached


class JobName(StrEnum):
    """A periodic job whose last run is recorded in `job_runs`."""

    SWEEP = "sweep"
    SEND = "send"


JOB_NAMES: tuple[JobName, ...] = tuple(JobName)


class ReminderKind(StrEnum):
    """A kind of automatic mail; also the name of its email templates."""

    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    CHECKIN = "checkin"
    NEW_CASE = "new_case"
    # One mail to a rep listing every case a bulk assignment or a handover gave them; their
    # assigned events carry {"notice": "new_cases"} so no per-case new_case mail follows.
    NEW_CASES = "new_cases"
    STALE = "stale"
    ESCALATED = "escalated"
    RETURNED = "returned"
    REP_DIGEST = "rep_digest"
    PROGRAMME_DIGEST = "programme_digest"
    # Mail about the partnership's answers through their personal link (not from the sweep).
    UPDATE_REQUEST = "update_request"  # the rep asks the partnership for an update
    ANSWER_NOTICE = "answer_notice"  # to the rep: the partnership answered
    ANSWER_CONFIRMATION = "answer_confirmation"  # to the contact: we have your answer
    ANSWER_DECIDED = "answer_decided"  # to the contact: the rep accepted or declined it
    BOUNCE_NOTICE = "bounce_notice"  # to the rep: a contact's address refuses mail


REMINDER_KINDS: tuple[ReminderKind, ...] = tuple(ReminderKind)
# The reminders a partnership gets about its case: what a pause holds back.
PARTNERSHIP_REMINDER_KINDS: tuple[ReminderKind, ...] = (
    ReminderKind.DUE_SOON,
    ReminderKind.OVERDUE,
    ReminderKind.CHECKIN,
)
REMINDER_KIND_WORDS: dict[str, str] = {
    ReminderKind.DUE_SOON: "Action due soon",
    ReminderKind.OVERDUE: "Action overdue",
    ReminderKind.CHECKIN: "Check-in",
    ReminderKind.NEW_CASE: "New case (to the rep)",
    ReminderKind.STALE: "No activity (to the rep)",
    ReminderKind.ESCALATED: "Escalated",
    ReminderKind.RETURNED: "Returned within criteria",
    ReminderKind.REP_DIGEST: "Rep's weekly digest",
    ReminderKind.PROGRAMME_DIGEST: "Programme weekly digest",
    ReminderKind.UPDATE_REQUEST: "Update asked for",
    ReminderKind.ANSWER_NOTICE: "Partnership answered (to the rep)",
    ReminderKind.ANSWER_CONFIRMATION: "Answer received (to the partnership)",
    ReminderKind.ANSWER_DECIDED: "Answer decided (to the partnership)",
}


class AnswerKind(StrEnum):
    """What a partnership contact answered through their personal link."""

    MEMBERSHIP = "membership"  # a proposed membership update (a roster)
    ACTION_DONE = "action_done"  # an action reported done, with a comment
    MORE_TIME = "more_time"  # more time asked for an action: a date and why


ANSWER_KINDS: tuple[AnswerKind, ...] = tuple(AnswerKind)
ANSWER_KIND_WORDS: dict[str, str] = {
    AnswerKind.MEMBERSHIP: "Membership update",
    AnswerKind.ACTION_DONE: "Action reported done",
    AnswerKind.MORE_TIME: "More time asked for",
}


class AnswerStatus(StrEnum):
    PENDING = "pending"  # waiting for the rep
    ACCEPTED = "accepted"  # the rep said yes (an action reported done is accepted at once)
    DECLINED = "declined"  # the rep said no (or reopened an action reported done)
    SUPERSEDED = "superseded"  # a newer membership update arrived before the rep decided


ANSWER_STATUSES: tuple[AnswerStatus, ...] = tuple(AnswerStatus)
ANSWER_STATUS_WORDS: dict[str, str] = {
    AnswerStatus.PENDING: "Waiting for the rep",
    AnswerStatus.ACCEPTED: "Accepted",
    AnswerStatus.DECLINED: "Declined",
    AnswerStatus.SUPERSEDED: "Replaced by a newer update",
}


def sql_in(column: str, values: Iterable[str]) -> str:
    """`column IN ('a', 'b')` for a check constraint or partial index built from a vocabulary."""
    return f"{column} IN ({', '.join(repr(str(v)) for v in values)})"


def template_globals() -> dict[str, object]:
    """The vocabulary as Jinja globals, so templates compare against words, not bare strings."""
    return {
        "CaseStatus": CaseStatus,
        "Flag": Flag,
        "Reason": Reason,
        "MemberRole": MemberRole,
        "UserRole": UserRole,
        "SnapshotKind": SnapshotKind,
        "EventKind": EventKind,
        "ActionStatus": ActionStatus,
        "Owner": Owner,
        "OutboxStatus": OutboxStatus,
        "HealthStatus": HealthStatus,
        "ReminderKind": ReminderKind,
        "AnswerKind": AnswerKind,
        "AnswerStatus": AnswerStatus,
        "ANSWER_KIND_WORDS": ANSWER_KIND_WORDS,
        "ANSWER_STATUS_WORDS": ANSWER_STATUS_WORDS,
        "STATUS_WORDS": STATUS_WORDS,
        "FLAG_WORDS": FLAG_WORDS,
        "REASON_WORDS": REASON_WORDS,
        "ROLE_WORDS": MEMBER_ROLE_WORDS,
        "KIND_WORDS": EVENT_KIND_WORDS,
        "OWNERS": OWNER_WORDS,
        "BARRIERS": BARRIER_WORDS,
        "SUPPORT": SUPPORT_WORDS,
        "CONTACT_METHODS": CONTACT_METHODS,
        "REMINDER_KIND_WORDS": REMINDER_KIND_WORDS,
        "OUTBOX_STATUS_WORDS": OUTBOX_STATUS_WORDS,
    }
