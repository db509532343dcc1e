"""The benchmark programme, deterministic for a given size.

`factor` 1 is the real programme (150 areas, 50 reps, about 1,000 open cases); 10 is ten times
it. The files are the CSV formats of docs/csv.md and are loaded with the real `flask` commands.

One open case per area is enforced by the database, so 10,000 open cases need 10,000 areas:
the reviewed areas (150 × factor, seven annual reviews each: the 150,000-row file at 10×) give
the open cases their 2021 review flags, and *extra* areas top the count up. Each extra area has
one in-year update (6 counted members: too few) loaded with `flask updates import`, which opens
its case through the real case rules. In-year updates are excluded from insights, so insights
still see exactly 10× the real programme's reviews."""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

YEARS = range(2015, 2022)
DOMAIN = "bench.example.org"
PASSWORD = "bench-password-123"
PROGRAMME_EMAIL = f"programme@{DOMAIN}"
ACTIONS_PER_CASE = 5
ROLES = ("chair", "treasurer", "secretary")
OWNERS = ("partnership", "partnership", "rep", "programme", "partnership")


@dataclass(frozen=True)
class Programme:
    """The sizes of a benchmark programme `factor` times the real one."""

    factor: float

    @property
    def label(self) -> str:
        return f"{self.factor:g}×"

    @property
    def reviewed_areas(self) -> int:
        return max(1, round(150 * self.factor))

    @property
    def reps(self) -> int:
        return max(1, round(50 * self.factor))

    @property
    def open_cases(self) -> int:
        return max(1, round(1000 * self.factor))


@dataclass
class Files:
    areas: Path
    reviews: Path
    updates: Path
    review_rows: int = 0
    update_rows: int = 0
    areas_total: int = 0
    open_from_reviews: int = 0
    extra_areas: int = 0


def rep_email(index: int) -> str:
    return f"rep{index + 1:04d}@{DOMAIN}"


def write_files(programme: Programme, folder: Path, today: date) -> Files:
    """Write areas.csv, reviews.csv and updates.csv for `programme` into `folder`."""
    files = Files(folder / "areas.csv", folder / "reviews.csv", folder / "updates.csv")
    rng = random.Random(1000 + programme.reviewed_areas)
    reviewed = [f"BL{a + 1:04d}" for a in range(programme.reviewed_areas)]
    with files.reviews.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(
            ["area_code", "review_year", "person_id", "member_name", "resident", "role"]
        )
        for index, code in enumerate(reviewed):
            rows, flagged_2021 = _area_reviews(code, index % programme.reps, rng)
            writer.writerows(rows)
            files.review_rows += len(rows)
            files.open_from_reviews += flagged_2021
    files.extra_areas = max(0, programme.open_cases - files.open_from_reviews)
    extra = [f"BX{i + 1:05d}" for i in range(files.extra_areas)]
    as_of = (today - timedelta(days=30)).isoformat()
    with files.updates.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["area_code", "as_of", "person_id", "member_name", "resident", "role"])
        for code in extra:
            for n in range(6):
                role = "chair" if n == 0 else "member"
                person = f"{code}-U{n}"
                writer.writerow([code, as_of, person, f"Member {person}", _yes(n < 4), role])
                files.update_rows += 1
    codes = reviewed + extra
    files.areas_total = len(codes)
    with files.areas.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["area_code", "area_name", "rep_email", "contact_name", "contact_email"])
        for index, code in enumerate(codes):
            name, rep = f"Bench area {code}", rep_email(index % programme.reps)
            writer.writerow([code, name, rep, f"Chair of {code}", f"chair.{code.lower()}@{DOMAIN}"])
            if index % 2:
                writer.writerow(
                    [code, name, rep, f"Secretary {code}", f"sec.{code.lower()}@{DOMAIN}"]
                )
    return files


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def _area_reviews(code: str, rep: int, rng: random.Random) -> tuple[list[list[str]], int]:
    """Seven annual reviews of 10–15 counted members (plus a worker, usually the LTO rep).

    About a fifth of the reviews are flagged: mostly not resident-led, some at eight members."""
    rows: list[list[str]] = []
    current: list[str] = []
    next_person = 0
    flagged = False
    for year in YEARS:
        flagged = rng.random() < (0.25 if year == 2021 else 0.2)
        at_threshold = flagged and rng.random() < 0.25
        size = 8 if at_threshold else rng.randint(10, 15)
        current = [p for p in current if rng.random() < 0.8][:size]
        while len(current) < size:
            current.append(f"{code}-{next_person}")
            next_person += 1
        residents = (
            size // 2 if flagged and not at_threshold else max(size // 2 + 1, size * 7 // 10)
        )
        for n, person in enumerate(current):
            role = ROLES[n] if n < len(ROLES) else "member"
            rows.append([code, str(year), person, f"Member {person}", _yes(n < residents), role])
        rows.append([code, str(year), f"{code}-W", f"Worker {code}", "no", "worker"])
        if rng.random() < 0.8:
            rows.append([code, str(year), f"LTO-{rep}", f"LTO rep {rep}", "no", "lto_rep"])
    return rows, int(flagged)


def plan_rows(
    case_ids: list[int], now: datetime, today: date
) -> tuple[list[dict], list[tuple[str, datetime, datetime | None, datetime | None]]]:
    """An action plan per open case, and each case's status and milestones.

    Returns (plans, statuses) where statuses[i] is (status, last_activity_at, contacted_at,
    plan_agreed_at) for case_ids[i]."""
    rng = random.Random(len(case_ids))
    plans, statuses = [], []
    for case_id in case_ids:
        plans.append(
            {
                "case_id": case_id,
                "barriers": rng.sample(["recruitment", "resident_engagement", "capacity"], 2),
                "barriers_text": "Few residents come to meetings.",
                "target_members": 9,
                "target_on": today + timedelta(days=rng.randint(30, 200)),
                "support": ["expert_partner", "learning_events"],
                "updated_at": now - timedelta(days=rng.randint(1, 40)),
                "version": 1,
            }
        )
        roll = rng.random()
        activity = now - timedelta(days=rng.randint(0, 60), hours=rng.randint(0, 23))
        contacted = activity - timedelta(days=10)
        if roll < 0.2:
            statuses.append(("new", activity, None, None))
        elif roll < 0.4:
            statuses.append(("contacted", activity, contacted, None))
        else:
            statuses.append(("plan_agreed", activity, contacted, contacted + timedelta(days=5)))
    return plans, statuses


def action_rows(plan_ids: list[int], now: datetime, today: date) -> list[dict]:
    """Five actions per plan: owners mixed, due dates spread from 35 days ago to 35 ahead."""
    rng = random.Random(len(plan_ids) + 7)
    rows = []
    for plan_id in plan_ids:
        for n in range(ACTIONS_PER_CASE):
            roll = rng.random()
            status = "open" if roll < 0.8 else ("done" if roll < 0.95 else "dropped")
            rows.append(
                {
                    "plan_id": plan_id,
                    "description": f"Action {n + 1}: invite residents to the next meeting",
                    "owner": OWNERS[n],
                    "due_on": today + timedelta(days=rng.randint(-35, 35)),
                    "status": status,
                    "completed_at": now - timedelta(days=2) if status == "done" else None,
                    "created_at": now - timedelta(days=40),
                }
            )
    return rows
