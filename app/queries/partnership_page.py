"""What a partnership contact's personal page shows: their own area only, in a fixed number
of queries. Nothing here carries an id of a person, or anything of another area."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import Action, ActionPlan, Area, Case, Contact, PartnershipAnswer, User
from app.operations.partnership_links import LinkAccess
from app.queries.case_page import RosterRow, current_roster
from app.rules.criteria import Thresholds
from app.rules.distance import Standing, criteria_sentence, standing
from app.rules.vocabulary import ActionStatus, AnswerKind, AnswerStatus, Owner


@dataclass(frozen=True)
class PartnershipPage:
    contact: Contact
    area: Area
    case: Case | None
    rep: User | None
    criteria: str
    standing: Standing | None  # None: no roster recorded
    roster: list[RosterRow]
    roster_on: date | None
    actions: list[Action]  # the partnership's open actions, soonest due first
    waiting: list[PartnershipAnswer]  # the area's answers the rep has not decided yet

    @property
    def latest_waiting_membership(self) -> int:
        """The newest undecided membership update shown (a newer one supersedes it)."""
        return max((a.id for a in self.waiting if a.kind == AnswerKind.MEMBERSHIP), default=0)


def roster_digest(roster: list[RosterRow]) -> str:
    """A fingerprint of the recorded roster: the form's rows refer to it by position, so a
    roster changed meanwhile is noticed instead of mixing people up."""
    joined = "\n".join(f"{r.person_id}\t{r.name}" for r in roster)
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()[:32]


def partnership_page(access: LinkAccess, thresholds: Thresholds) -> PartnershipPage:
    area, case = access.area, access.case
    roster_on, roster = current_roster(area.id)
    rep = area.rep if area.rep is not None and area.rep.active else None
    if case is not None and case.rep is not None and case.rep.active:
        rep = case.rep
    figures = None
    if area.current_members is not None and area.current_residents is not None:
        figures = standing(area.current_members, area.current_residents, thresholds)
    return PartnershipPage(
        contact=access.contact,
        area=area,
        case=case,
        rep=rep,
        criteria=criteria_sentence(thresholds),
        standing=figures,
        roster=roster,
        roster_on=roster_on,
        actions=open_actions(case.id) if case is not None else [],
        waiting=waiting_answers(case.id) if case is not None else [],
    )


def open_actions(case_id: int) -> list[Action]:
    return list(
        db.session.scalars(
            select(Action)
            .join(ActionPlan, ActionPlan.id == Action.plan_id)
            .where(
                ActionPlan.case_id == case_id,
                Action.owner == Owner.PARTNERSHIP,
                Action.status == ActionStatus.OPEN,
            )
            .order_by(Action.due_on, Action.id)
        )
    )


def waiting_answers(case_id: int) -> list[PartnershipAnswer]:
    return list(
        db.session.scalars(
            select(PartnershipAnswer)
            .where(
                PartnershipAnswer.case_id == case_id,
                PartnershipAnswer.status == AnswerStatus.PENDING,
            )
            .options(selectinload(PartnershipAnswer.action))
            .order_by(PartnershipAnswer.id)
        )
    )
