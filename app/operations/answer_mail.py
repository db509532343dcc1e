"""Mail about the partnership's answers through their personal link: the rep's notice, the
contact's confirmation, the rep's decision, and the rep's request for an update.

Each mail goes into the outbox in the caller's transaction; a mail to a contact carries
LINK_PLACEHOLDER, which the sender replaces with a fresh personal link."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app, render_template

from app.extensions import db
from app.models import Case, Contact, OutboxMessage, PartnershipAnswer
from app.operations.optout import optout_link
from app.operations.partnership_links import LINK_PLACEHOLDER
from app.operations.text import without_controls
from app.rules.calendar import day_words, next_send_time
from app.rules.vocabulary import (
    ANSWER_KIND_WORDS,
    SUPPORT_WORDS,
    AnswerKind,
    AnswerStatus,
    OutboxStatus,
    ReminderKind,
)

SUBJECT_LIMIT = 300


def _area_words(case: Case) -> str:
    return f"{case.area.name} ({case.area.code})"


def _rep_address(case: Case) -> str | None:
    rep = case.rep
    return rep.email if rep is not None and rep.active else None


def _footer(case: Case, contact_id: int | None) -> dict[str, Any]:
    """What `emails/_partnership_footer.*` needs, from the case itself (not the sweep's facts)."""
    rep = case.rep if case.rep is not None and case.rep.active else None
    plan_support = [SUPPORT_WORDS[s] for s in (case.plan.support if case.plan else []) or []]
    return {
        "case": {
            "area_name": case.area.name,
            "area_code": case.area.code,
            "rep_name": rep.name if rep else None,
            "rep_email": rep.email if rep else None,
        },
        "support": plan_support or list(SUPPORT_WORDS.values()),
        "general_offer": not plan_support,
        "optout_url": optout_link(contact_id) if contact_id is not None else "",
        "partnership_url": LINK_PLACEHOLDER,
        "link_days": current_app.config["PARTNERSHIP_LINK_DAYS"],
        "support_email": current_app.config["SUPPORT_EMAIL"],
        "day": day_words,
    }


def _queue(
    *,
    key: str,
    kind: str,
    recipient: str,
    reply_to: str | None,
    subject: str,
    context: dict[str, Any],
    case: Case,
    contact_id: int | None,
    not_before: datetime,
    now: datetime,
) -> OutboxMessage:
    message = OutboxMessage(
        key=key[:200],
        kind=kind,
        recipient=recipient,
        reply_to=reply_to,
        subject=without_controls(subject)[:SUBJECT_LIMIT],
        body_text=render_template(f"emails/{kind}.txt", **context),
        body_html=render_template(f"emails/{kind}.html", **context),
        case_id=case.id,
        contact_id=contact_id,
        not_before=not_before,
        status=OutboxStatus.QUEUED,
        attempts=0,
        created_at=now,
    )
    db.session.add(message)
    return message


def notify_rep(answer: PartnershipAnswer, now: datetime, summary: str) -> OutboxMessage:
    """The one notice to the rep (the programme team when the case has no active rep)."""
    case = answer.case
    what = ANSWER_KIND_WORDS[answer.kind].lower()
    base = current_app.config["BASE_URL"].rstrip("/")
    context = {
        "answer": answer,
        "what": what,
        "summary": summary,
        "area": _area_words(case),
        "case_url": f"{base}/cases/{case.id}#answers",
        "support_email": current_app.config["SUPPORT_EMAIL"],
    }
    return _queue(
        key=f"answer:{answer.id}:notice",
        kind=ReminderKind.ANSWER_NOTICE,
        recipient=_rep_address(case) or current_app.config["PROGRAMME_TEAM_EMAIL"],
        reply_to=answer.contact_email,
        subject=f"{answer.contact_name} answered ({what}) – {_area_words(case)}",
        context=context,
        case=case,
        contact_id=None,
        not_before=now,
        now=now,
    )


def confirm_to_contact(answer: PartnershipAnswer, now: datetime, summary: str) -> OutboxMessage:
    """'We have your answer': sent at once, it is the receipt the contact waits for."""
    return _to_contact(
        answer,
        ReminderKind.ANSWER_CONFIRMATION,
        "confirmation",
        "We have your {what}",
        now,
        summary=summary,
    )


def tell_decision(answer: PartnershipAnswer, now: datetime, outcome: str) -> OutboxMessage:
    """The rep's yes or no, with their message, to the contact who sent the answer."""
    verb = "accepted" if answer.status == AnswerStatus.ACCEPTED else "declined"
    if answer.kind == AnswerKind.ACTION_DONE:
        verb = "reopened the action of"
    return _to_contact(
        answer,
        ReminderKind.ANSWER_DECIDED,
        "decided",
        f"Your rep {verb} your {{what}}",
        now,
        outcome=outcome,
    )


def _to_contact(
    answer: PartnershipAnswer, kind: str, step: str, subject: str, now: datetime, **extra: Any
) -> OutboxMessage:
    """Mail about an answer to the contact who sent it, sent at once; `subject` may name
    {what} the answer was."""
    case = answer.case
    what = ANSWER_KIND_WORDS[answer.kind].lower()
    context = {**_footer(case, answer.contact_id), "answer": answer, "what": what, **extra}
    return _queue(
        key=f"answer:{answer.id}:{step}",
        kind=kind,
        recipient=answer.contact_email,
        reply_to=_rep_address(case),
        subject=f"{subject.format(what=what)} – {_area_words(case)}",
        context=context,
        case=case,
        contact_id=answer.contact_id,
        not_before=now,
        now=now,
    )


def request_update_mail(
    case: Case, contact: Contact, message: str, rep_name: str, now: datetime
) -> OutboxMessage:
    """'Your rep asks for an update', in the partnerships' sending window."""
    context = {**_footer(case, contact.id), "contact": contact, "message": message}
    context["rep_name"] = rep_name
    return _queue(
        key=f"case:{case.id}:update_request:{now.isoformat()}:c{contact.id}",
        kind=ReminderKind.UPDATE_REQUEST,
        recipient=contact.email,
        reply_to=_rep_address(case),
        subject=f"Your rep asks for an update – {_area_words(case)}",
        context=context,
        case=case,
        contact_id=contact.id,
        not_before=next_send_time(now),
        now=now,
    )
