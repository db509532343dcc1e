"""The partnership's answers on the case page: what waits for the rep's decision, shown as a
diff against the recorded roster with the evaluation it would produce (one query)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import and_, or_, select

from app.extensions import db
from app.models import Action, Case, PartnershipAnswer
from app.operations.case_actions import evaluation_words
from app.queries.case_page import RosterRow
from app.rules.cases import OpenCaseState, Outcome, decide
from app.rules.criteria import Evaluation, evaluate
from app.rules.vocabulary import ActionStatus, AnswerKind, AnswerStatus
from app.settings import criteria_thresholds

EFFECT_WORDS = {
    Outcome.RESOLVE: "Accepting it resolves the case: the area is back within criteria.",
    Outcome.RETURN: "Accepting it returns the area within criteria; the case stays open at eight.",
    Outcome.ESCALATE: "Accepting it escalates the case: the area is under criteria again.",
    Outcome.UPDATE: "Accepting it keeps the case open with these figures.",
    Outcome.NOTHING: "Accepting it leaves the case as it is.",
    Outcome.OPEN: "Accepting it leaves the case as it is.",
}


@dataclass(frozen=True)
class Change:
    name: str
    words: str  # "resident → not resident; Member → Chair"


@dataclass(frozen=True)
class RosterDiff:
    joined: list[dict[str, Any]] = field(default_factory=list)
    left: list[RosterRow] = field(default_factory=list)
    changed: list[Change] = field(default_factory=list)
    unchanged: int = 0

    @property
    def empty(self) -> bool:
        return not (self.joined or self.left or self.changed)


@dataclass(frozen=True)
class AnswerView:
    answer: PartnershipAnswer
    action_description: str = ""  # the action a done report or a more-time request is about
    action_due_on: date | None = None
    diff: RosterDiff | None = None
    evaluation: Evaluation | None = None
    words: str = ""
    effect: str = ""


def roster_diff(recorded: list[RosterRow], rows: list[dict[str, Any]], roles: dict) -> RosterDiff:
    """Who joins, who leaves and whose details change, between the recorded roster and a
    proposed one (people matched by their person id; new people have none)."""
    by_id = {r.person_id: r for r in recorded}
    proposed_ids = {row["person_id"] for row in rows if row["person_id"]}
    joined, changed, unchanged = [], [], 0
    for row in rows:
        before = by_id.get(row["person_id"]) if row["person_id"] else None
        if before is None:
            joined.append(row)
            continue
        words = []
        if before.name != row["name"]:
            words.append(f"name {before.name} → {row['name']}")
        if bool(before.resident) != bool(row["resident"]):
            words.append("now a resident" if row["resident"] else "no longer a resident")
        if before.role != row["role"]:
            words.append(f"{roles.get(before.role, before.role)} → {roles.get(row['role'])}")
        if words:
            changed.append(Change(row["name"], "; ".join(words)))
        else:
            unchanged += 1
    left = [r for r in recorded if r.person_id not in proposed_ids]
    return RosterDiff(joined, left, changed, unchanged)


def case_answers(case: Case, recorded: list[RosterRow], roles: dict) -> list[AnswerView]:
    """Answers waiting for the rep, and actions the partnership reported done that are still
    done (the rep may reopen them), oldest first."""
    rows = db.session.execute(
        select(PartnershipAnswer, Action.description, Action.due_on)
        .outerjoin(Action, Action.id == PartnershipAnswer.action_id)
        .where(
            PartnershipAnswer.case_id == case.id,
            or_(
                PartnershipAnswer.status == AnswerStatus.PENDING,
                and_(
                    PartnershipAnswer.kind == AnswerKind.ACTION_DONE,
                    PartnershipAnswer.status == AnswerStatus.ACCEPTED,
                    Action.status == ActionStatus.DONE,
                ),
            ),
        )
        .order_by(PartnershipAnswer.id)
    ).all()
    state = OpenCaseState(flag=case.flag, returned=case.returned_on is not None)
    views = []
    for answer, description, due_on in rows:
        if answer.kind != AnswerKind.MEMBERSHIP:
            views.append(AnswerView(answer, description or "an action", due_on))
            continue
        evaluation = evaluate(
            ((row["resident"], row["role"]) for row in answer.rows), criteria_thresholds()
        )
        views.append(
            AnswerView(
                answer,
                diff=roster_diff(recorded, answer.rows, roles),
                evaluation=evaluation,
                words=evaluation_words(evaluation),
                effect=EFFECT_WORDS[decide(state, evaluation.flag).outcome],
            )
        )
    return views
