"""Deterministic demo programme for ``flask demo load`` (docs/insights.md).

Pure standard library: no Flask, no database. ``generate(seed)`` returns reps, areas with
contacts, seven annual reviews (2015-2021) and in-year updates after the 2021 review. The data
is built so that the programme insights (docs/insights.md) reproduce Local Trust's published 2021
summary exactly, whatever the seed; the seed only changes who, where and how.

The construction is top-down:
1. per area and year, the status (under criteria / at threshold / fine), the number of counted
   members and the number of residents, with the yearly totals fixed by the targets below;
2. who those members are: a core of 276 people present in all seven reviews, then each year
   stayers, a few returners and exactly the wanted number of first-time members;
3. residency, roles, workers and LTO representatives (never counted);
4. in-year updates for the areas under criteria in 2021, twelve of which come back within;
5. annual reviews after 2021, up to ``last_review_year``, in the same style: each year some
   members leave and new ones join, and areas move between within, at and under criteria.
   They come from a random generator of their own, drawn after everything else, so the
   2015-2021 data (and every published figure over those years) is the same whatever the
   last review year.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Sequence
from dataclasses import dataclass

from app.rules.vocabulary import MEMBER_ROLES, UNCOUNTED_ROLES, MemberRole, SnapshotKind

# --------------------------------------------------------------------------- public types


@dataclass(frozen=True)
class DemoRep:
    email: str
    name: str
    region: str


@dataclass(frozen=True)
class DemoContact:
    name: str
    email: str


@dataclass(frozen=True)
class DemoArea:
    code: str
    name: str
    rep_email: str | None
    contacts: tuple[DemoContact, ...]


@dataclass(frozen=True)
class DemoMember:
    person_id: str
    name: str
    resident: bool
    role: str  # chair, vice_chair, treasurer, secretary, member, worker, lto_rep


@dataclass(frozen=True)
class DemoSnapshot:
    area_code: str
    kind: str  # a SnapshotKind
    year: int | None  # review year for annual reviews, None for in-year updates
    effective: datetime.date
    members: tuple[DemoMember, ...]


@dataclass(frozen=True)
class DemoProgramme:
    reps: tuple[DemoRep, ...]
    areas: tuple[DemoArea, ...]
    snapshots: tuple[DemoSnapshot, ...]  # sorted by effective date, then area code


# --------------------------------------------------------------------------- targets

REVIEW_YEARS = tuple(range(2015, 2022))
AREA_COUNT = 150
REP_COUNT = 50
MIN_MEMBERS = 8  # the default of docs/rules.md#criteria; residents must also be strictly over half

# Published: 1455 members in 2020, 1506 in 2021. 2015 follows from the other published totals:
# distinct members (4,322: "over 4,300", 28.8 per area) = members in 2015 + new members since.
MEMBERS_BY_YEAR = {
    2015: 2081,
    2016: 1910,
    2017: 1782,
    2018: 1676,
    2019: 1590,
    2020: 1455,
    2021: 1506,
}
# Published: 252 in 2020, 374 in 2021, "approximately 400" a year before the pandemic.
NEW_MEMBERS_BY_YEAR = {2016: 418, 2017: 409, 2018: 397, 2019: 391, 2020: 252, 2021: 374}
# Published: 42 areas under criteria in 2020, 28 in 2021; other years are plausible guesses.
UNDER_CRITERIA_BY_YEAR = {2015: 26, 2016: 31, 2017: 35, 2018: 38, 2019: 36, 2020: 42, 2021: 28}
AT_THRESHOLD_BY_YEAR = {2015: 9, 2016: 11, 2017: 12, 2018: 14, 2019: 15, 2020: 17, 2021: 14}
CORE_MEMBERS = 276  # people in all seven reviews
CORE_AREAS = 108  # areas with at least one of them
CORE_AREAS_3PLUS = 44  # areas with at least three
MAX_CORE_PER_AREA = 6  # stays below the smallest roster we plan for the under-criteria areas
RETURNED_AFTER_2021 = 12  # of the 2021 under-criteria areas, back within after follow-up
AT_THRESHOLD_2021_UPDATED = 4  # at-threshold areas that grow in-year (no effect on figures)
# After 2021: chance of each status next year, given this year's (areas are sticky).
LATER_STATUS_ODDS = {
    "under": (("under", 0.45), ("threshold", 0.2), ("fine", 0.35)),
    "threshold": (("under", 0.15), ("threshold", 0.35), ("fine", 0.5)),
    "fine": (("under", 0.07), ("threshold", 0.07), ("fine", 0.86)),
}
UPDATES_FROM = datetime.date(2021, 10, 1)
UPDATES_TO = datetime.date(2022, 8, 31)

REGIONS = (
    "North East",
    "North West",
    "Yorkshire and the Humber",
    "East Midlands",
    "West Midlands",
    "East of England",
    "London",
    "South East",
    "South West",
)
ROLE_ORDER = MEMBER_ROLES  # chair first, then as the vocabulary lists them

# --------------------------------------------------------------------------- word lists

# fmt: off
FIRST_NAMES = (
    "Aaliyah", "Abdul", "Adam", "Aisha", "Alan", "Alice", "Amina", "Amir", "Andrew", "Angela",
    "Anita", "Ann", "Arjun", "Barbara", "Ben", "Bernard", "Beverley", "Bilal", "Brenda", "Carl",
    "Carol", "Catherine", "Charlotte", "Chloe", "Chris", "Claire", "Colin", "Daniel", "Darren",
    "Dave", "Dawn", "Deborah", "Declan", "Denise", "Derek", "Diane", "Donna", "Eileen", "Ellie",
    "Emma", "Esther", "Fatima", "Fiona", "Frank", "Gareth", "Gary", "Gemma", "Geoff", "Gillian",
    "Glenys", "Gordon", "Grace", "Graham", "Hannah", "Harjit", "Hazel", "Helen", "Ian", "Imran",
    "Irene", "Jack", "Jackie", "Jamal", "James", "Jane", "Janet", "Jason", "Jean", "Jennifer",
    "Joan", "John", "Joseph", "Joyce", "Julie", "Karen", "Kate", "Keith", "Kevin", "Kiran",
    "Leanne", "Lee", "Lesley", "Linda", "Lisa", "Liz", "Lorraine", "Lucy", "Mandy", "Margaret",
    "Mark", "Martin", "Mary", "Maureen", "Michael", "Michelle", "Mohammed", "Nadia", "Neil",
    "Nicola", "Nigel", "Norma", "Olu", "Pam", "Patricia", "Paul", "Pauline", "Peter", "Priya",
    "Rachel", "Raj", "Ray", "Rebecca", "Rita", "Rob", "Ruth", "Ryan", "Sadia", "Sally", "Samina",
    "Sandra", "Sarah", "Sean", "Sharon", "Shirley", "Simon", "Sonia", "Stephen", "Steve", "Sue",
    "Susan", "Tariq", "Terry", "Tom", "Tony", "Tracey", "Valerie", "Vera", "Wayne", "Wendy",
    "Yasmin", "Yvonne", "Zoe",
)
SURNAMES = (
    "Adams", "Ahmed", "Ali", "Allen", "Anderson", "Armstrong", "Atkinson", "Bailey", "Baker",
    "Banks", "Barker", "Barnes", "Bell", "Bennett", "Begum", "Booth", "Bradley", "Brooks", "Brown",
    "Burton", "Butler", "Campbell", "Carter", "Chapman", "Clarke", "Cole", "Collins", "Cooper",
    "Cox", "Davies", "Dawson", "Dixon", "Doherty", "Edwards", "Ellis", "Evans", "Fletcher",
    "Foster", "Fox", "Gibson", "Graham", "Grant", "Gray", "Green", "Griffiths", "Hall", "Harris",
    "Harrison", "Hill", "Holmes", "Hughes", "Hunt", "Hussain", "Jackson", "James", "Jenkins",
    "Johnson", "Jones", "Kaur", "Kelly", "Kennedy", "Khan", "King", "Knight", "Lee", "Lewis",
    "Lloyd", "Marshall", "Martin", "Mason", "Matthews", "Mills", "Mitchell", "Moore", "Morgan",
    "Morris", "Murphy", "Murray", "Nelson", "O'Brien", "Okafor", "Owen", "Palmer", "Parker",
    "Patel", "Pearson", "Phillips", "Powell", "Price", "Reid", "Reynolds", "Richards", "Roberts",
    "Robinson", "Rogers", "Rose", "Russell", "Shah", "Shaw", "Simpson", "Singh", "Smith",
    "Spencer", "Stevens", "Stewart", "Taylor", "Thomas", "Thompson", "Turner", "Walker", "Walsh",
    "Ward", "Watson", "Webb", "White", "Wilkinson", "Williams", "Wilson", "Wood", "Wright",
    "Young",
)
PLACE_STARTS = (
    "Ash", "Ald", "Bar", "Bark", "Beck", "Black", "Bram", "Brad", "Brom", "Burn", "Chad", "Chel",
    "Clay", "Cliff", "Cob", "Dar", "Den", "Dun", "Eg", "Elm", "Fair", "Farn", "Fern", "Gold",
    "Grim", "Hal", "Hart", "Hax", "Hol", "Ken", "Kirk", "Lang", "Lid", "Long", "Mar", "Mel", "Mid",
    "Mill", "Nor", "Oak", "Old", "Pen", "Red", "Rock", "Rush", "Sand", "Shaw", "Shel", "Sil",
    "Stan", "Stock", "Sut", "Thorn", "Thur", "Tod", "Wal", "War", "Wes", "Whit", "Wil", "Win",
    "Wood", "Wyth",
)
PLACE_ENDS = (
    "bridge", "brook", "bury", "by", "church", "combe", "cote", "croft", "dale", "den", "field",
    "ford", "gate", "ham", "hill", "holme", "hurst", "ley", "lington", "mere", "minster", "more",
    "port", "stead", "stoke", "ston", "thorpe", "ton", "wick", "wood", "worth",
)
# fmt: on
COMPASS = ("North", "South", "East", "West", "Upper", "Lower", "Central", "Old", "New")
FEATURES = ("Estate", "Village", "Park", "Green", "Vale", "Heights", "Town Centre", "Ward")


def _place(rng: random.Random) -> str:
    return rng.choice(PLACE_STARTS) + rng.choice(PLACE_ENDS)


def _area_name(rng: random.Random) -> str:
    """A plausible Big Local area name, e.g. "North Haxby", "Kenford and Oakley", "Dunmere"."""
    style = rng.random()
    if style < 0.35:
        return _place(rng)
    if style < 0.55:
        return f"{rng.choice(COMPASS)} {_place(rng)}"
    if style < 0.8:
        return f"{_place(rng)} {rng.choice(FEATURES)}"
    return f"{_place(rng)} and {_place(rng)}"


def _area_names(rng: random.Random) -> list[str]:
    names: list[str] = []
    while len(names) < AREA_COUNT:
        name = _area_name(rng)
        if name not in names:  # a list, not a set: no dependence on string hashing
            names.append(name)
    return names


def _person_name(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}"


def _email(name: str, domain: str, taken: dict[str, int]) -> str:
    """firstname.lastname@domain, numbered when two people share a name."""
    local = ".".join("".join(ch for ch in part.lower() if ch.isalpha()) for part in name.split())
    taken[local] = taken.get(local, 0) + 1
    suffix = "" if taken[local] == 1 else str(taken[local])
    return f"{local}{suffix}@{domain}"


# --------------------------------------------------------------------------- small helpers


def _within(members: int, residents: int) -> bool:
    return members >= MIN_MEMBERS and residents * 2 > members


def _spread(
    rng: random.Random,
    total: int,
    lo: Sequence[int],
    hi: Sequence[int],
    weights: Sequence[float],
) -> list[int]:
    """Split ``total`` into integers within [lo, hi], roughly in proportion to ``weights``."""
    amounts = list(lo)
    rest = total - sum(lo)
    if rest < 0 or rest > sum(hi) - sum(lo):
        raise RuntimeError(f"cannot spread {total} within the bounds")
    while rest > 0:
        open_ = [i for i in range(len(amounts)) if amounts[i] < hi[i]]
        weight_sum = sum(weights[i] for i in open_)
        given = 0
        for i in open_:  # proportional shares first, capped by each upper bound
            share = min(hi[i] - amounts[i], int(rest * weights[i] / weight_sum))
            amounts[i] += share
            given += share
        if given == 0:  # the last few units go one at a time, weighted at random
            i = rng.choices(open_, weights=[weights[i] for i in open_])[0]
            amounts[i] += 1
            given = 1
        rest -= given
    return amounts


class _People:
    """Registry of persons: index -> display name, residency leaning and area."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.names: list[str] = []
        self.leans_resident: list[bool] = []
        self.tiebreak: list[float] = []
        self.area: list[int] = []

    def new(self, area: int, resident_share: float = 0.78) -> int:
        self.names.append(_person_name(self.rng))
        self.leans_resident.append(self.rng.random() < resident_share)
        self.tiebreak.append(self.rng.random())
        self.area.append(area)
        return len(self.names) - 1

    def pid(self, person: int) -> str:
        return f"P{person + 1:06d}"

    def resident_order(self, persons: Sequence[int]) -> list[int]:
        """Persons sorted so that, for any r, the first r are the most plausible residents.

        Using one fixed order per person keeps residency stable from one year to the next.
        """
        return sorted(persons, key=lambda p: (not self.leans_resident[p], self.tiebreak[p], p))


# --------------------------------------------------------------------------- step 1: plan


@dataclass(frozen=True)
class _Slot:
    """One area's planned annual review: status, counted members, residents."""

    status: str  # "under", "threshold" or "fine"
    members: int
    residents: int


def _core_counts(rng: random.Random, weakness: Sequence[float]) -> list[int]:
    """How many all-seven-reviews people each area has: 276 over 108 areas, 44 with 3+."""
    # Stronger areas are likelier to keep a core; noise keeps it from being a strict ranking.
    order = sorted(range(AREA_COUNT), key=lambda a: (weakness[a] + rng.gauss(0, 0.25), a))
    three_plus, one_or_two = order[:CORE_AREAS_3PLUS], order[CORE_AREAS_3PLUS:CORE_AREAS]
    twos = rng.randint(20, 40)
    counts = [0] * AREA_COUNT
    for n, a in enumerate(one_or_two):
        counts[a] = 2 if n < twos else 1
    extra = CORE_MEMBERS - sum(counts) - 3 * len(three_plus)
    shares = _spread(
        rng,
        extra,
        [0] * len(three_plus),
        [MAX_CORE_PER_AREA - 3] * len(three_plus),
        [rng.uniform(0.5, 1.5) for _ in three_plus],
    )
    for a, share in zip(three_plus, shares, strict=True):
        counts[a] = 3 + share
    return counts


def _under_slot(rng: random.Random, core: int) -> _Slot:
    """An under-criteria review, mixing the two reasons (and both)."""
    reason = rng.choices(("few", "resident", "both"), weights=(55, 30, 15))[0]
    if reason == "resident":
        members = rng.randint(8, 13)
        return _Slot("under", members, rng.randint(members // 2 - 2, members // 2))
    members = rng.randint(max(core, 4), MIN_MEMBERS - 1)
    if reason == "both":
        return _Slot("under", members, rng.randint(max(0, members // 2 - 1), members // 2))
    return _Slot("under", members, _resident_majority(rng, members))


def _resident_majority(rng: random.Random, members: int) -> int:
    """A resident count strictly over half, usually around three quarters."""
    return min(members, max(members // 2 + 1, round(members * rng.uniform(0.6, 0.95))))


def _plan_year(
    rng: random.Random,
    year: int,
    weakness: Sequence[float],
    size: Sequence[float],
    core: Sequence[int],
) -> list[_Slot]:
    """Statuses and counts of every area's review in ``year``, hitting that year's totals."""
    # Each year's weakest areas (persistent weakness plus this year's luck) fall under criteria;
    # the at-threshold ones are drawn from the borderline areas just above them.
    ranked = sorted(range(AREA_COUNT), key=lambda a: (-(weakness[a] + rng.gauss(0, 0.12)), a))
    n_under, n_threshold = UNDER_CRITERIA_BY_YEAR[year], AT_THRESHOLD_BY_YEAR[year]
    under = ranked[:n_under]
    threshold = rng.sample(ranked[n_under : n_under + 3 * n_threshold], n_threshold)
    slots: dict[int, _Slot] = {a: _under_slot(rng, core[a]) for a in under}
    for a in threshold:
        slots[a] = _Slot("threshold", MIN_MEMBERS, rng.randint(5, MIN_MEMBERS))
    fine = [a for a in range(AREA_COUNT) if a not in slots]
    left = MEMBERS_BY_YEAR[year] - sum(slot.members for slot in slots.values())
    sizes = _spread(
        rng,
        left,
        [MIN_MEMBERS + 1] * len(fine),
        [30] * len(fine),
        [size[a] * rng.uniform(0.8, 1.2) for a in fine],
    )
    for a, members in zip(fine, sizes, strict=True):
        slots[a] = _Slot("fine", members, _resident_majority(rng, members))
    return [slots[a] for a in range(AREA_COUNT)]


# --------------------------------------------------------------------------- step 2: who


def _first_rosters(
    people: _People, plan: list[_Slot], core: Sequence[int]
) -> tuple[list[list[int]], list[list[int]]]:
    """2015 rosters, all new people, and each area's core: the first ``core[a]`` of them."""
    rosters = [[people.new(a) for _ in range(slot.members)] for a, slot in enumerate(plan)]
    core_people = [roster[: core[a]] for a, roster in enumerate(rosters)]
    return rosters, core_people


def _next_rosters(
    rng: random.Random,
    people: _People,
    year: int,
    plan: list[_Slot],
    history: dict[int, list[list[int]]],
    core_people: list[list[int]],
) -> list[list[int]]:
    """Rosters of ``year``: core, stayers, returners and exactly the wanted joiners."""
    pools = [_pools(year, a, history, core_people[a]) for a in range(AREA_COUNT)]
    no_core = [plan[a].members - len(core_people[a]) for a in range(AREA_COUNT)]
    # An area needs joiners when its known people cannot fill its roster.
    lo = [max(0, no_core[a] - len(stay) - len(back)) for a, (stay, back) in enumerate(pools)]
    previous = history[year - 1]
    weights = [
        (no_core[a] + 2 * max(0, plan[a].members - len(previous[a])) + 1) * rng.uniform(0.7, 1.3)
        for a in range(AREA_COUNT)
    ]
    joiners = _spread(rng, NEW_MEMBERS_BY_YEAR[year], lo, no_core, weights)
    rosters = []
    for a, (stay, back) in enumerate(pools):
        known = no_core[a] - joiners[a]
        # Mostly last year's members stay on; a few who had left come back.
        n_back = min(len(back), round(known * rng.uniform(0.0, 0.12)))
        n_stay = min(len(stay), known - n_back)
        n_back = known - n_stay
        roster = list(core_people[a]) + rng.sample(stay, n_stay) + rng.sample(back, n_back)
        roster += [people.new(a) for _ in range(joiners[a])]
        rosters.append(roster)
    return rosters


def _pools(
    year: int, area: int, history: dict[int, list[list[int]]], core: list[int]
) -> tuple[list[int], list[int]]:
    """Non-core people who could serve in ``year``: last year's members, and earlier leavers.

    In the last review year nobody outside the core may complete a full run of reviews, so
    people present in every earlier review are left out: the all-reviews count stays exact.
    """
    seen: dict[int, int] = {}  # person -> number of earlier reviews served (insertion-ordered)
    for earlier in range(REVIEW_YEARS[0], year):
        for person in history[earlier][area]:
            seen[person] = seen.get(person, 0) + 1
    last = history[year - 1][area]
    full_run = year - REVIEW_YEARS[0]
    excluded = set(core)
    if year == REVIEW_YEARS[-1]:
        excluded.update(p for p, n in seen.items() if n == full_run)
    stay = sorted(p for p in last if p not in excluded)
    last_set = set(last)
    back = sorted(p for p in seen if p not in excluded and p not in last_set)
    return stay, back


# --------------------------------------------------------------------------- step 3: rosters


class _Officers:
    """Keeps an area's chair and officers in post while they remain members."""

    OPTIONAL = (
        (MemberRole.TREASURER, 3, 0.9),
        (MemberRole.SECRETARY, 4, 0.8),
        (MemberRole.VICE_CHAIR, 6, 0.6),
    )

    def __init__(self) -> None:
        self.holders: dict[str, int] = {}

    def assign(
        self, rng: random.Random, members: list[int], residents: list[int]
    ) -> dict[int, str]:
        roles: dict[int, str] = {}
        chair = self.holders.get(MemberRole.CHAIR)
        if chair not in members:  # a new chair, usually a resident
            chair = rng.choice(sorted(residents) or sorted(members))
        roles[chair] = MemberRole.CHAIR
        self.holders[MemberRole.CHAIR] = chair
        for role, min_size, chance in self.OPTIONAL:
            holder = self.holders.get(role)
            if holder not in members or holder in roles:
                free = sorted(p for p in members if p not in roles)
                holder = None
                if len(members) >= min_size and free and rng.random() < chance:
                    holder = rng.choice(free)
            if holder is None:
                self.holders.pop(role, None)
            else:
                self.holders[role] = holder
                roles[holder] = role
        return roles


class _Staff:
    """An area's workers and LTO representatives: on the roster, never counted."""

    def __init__(self, people: _People, area: int) -> None:
        self.people, self.area = people, area
        self.staff: list[tuple[int, str]] = []

    def for_review(self, rng: random.Random) -> list[tuple[int, str]]:
        how_many = rng.choices((0, 1, 2), weights=(35, 45, 20))[0]
        if self.staff and rng.random() < 0.15:  # someone moved on
            self.staff.pop(rng.randrange(len(self.staff)))
        while len(self.staff) < how_many:
            role = rng.choice(UNCOUNTED_ROLES)
            self.staff.append((self.people.new(self.area, resident_share=0.3), role))
        return self.staff[:how_many]


def _member(people: _People, person: int, resident: bool, role: str) -> DemoMember:
    return DemoMember(people.pid(person), people.names[person], resident, role)


def _sorted_roster(members: list[DemoMember]) -> tuple[DemoMember, ...]:
    return tuple(sorted(members, key=lambda m: (ROLE_ORDER.index(m.role), m.person_id)))


def _annual_roster(
    rng: random.Random,
    people: _People,
    persons: list[int],
    slot: _Slot,
    officers: _Officers,
    staff: _Staff,
) -> tuple[DemoMember, ...]:
    residents = people.resident_order(persons)[: slot.residents]
    resident_set = set(residents)
    roles = officers.assign(rng, persons, residents)
    members = [
        _member(people, p, p in resident_set, roles.get(p, MemberRole.MEMBER))
        for p in sorted(persons)
    ]
    for person, role in staff.for_review(rng):
        members.append(_member(people, person, people.leans_resident[person], role))
    return _sorted_roster(members)


# --------------------------------------------------------------------------- step 4: updates


def _counts(roster: Sequence[DemoMember]) -> tuple[int, int]:
    counted = [m for m in roster if m.role not in UNCOUNTED_ROLES]
    return len(counted), sum(m.resident for m in counted)


def _reshape(
    rng: random.Random,
    people: _People,
    area: int,
    roster: tuple[DemoMember, ...],
    target: tuple[int, int],
) -> tuple[DemoMember, ...] | None:
    """The roster changed to ``target`` (members, residents) by people joining or leaving.

    Joiners are new people; leavers are never the chair. None when that is impossible.
    """
    members, residents = _counts(roster)
    change = {True: target[1] - residents, False: (target[0] - target[1]) - (members - residents)}
    kept = list(roster)
    for resident, delta in change.items():
        if delta < 0:
            leavers = [m for m in kept if m.role not in (MemberRole.CHAIR,) + UNCOUNTED_ROLES]
            leavers = [m for m in leavers if m.resident == resident]
            if len(leavers) < -delta:
                return None
            # Plain members leave before officers.
            leavers.sort(key=lambda m: (m.role != MemberRole.MEMBER, rng.random()))
            gone = {m.person_id for m in leavers[:-delta]}
            kept = [m for m in kept if m.person_id not in gone]
        for _ in range(max(0, delta)):
            kept.append(
                _member(people, people.new(area, float(resident)), resident, MemberRole.MEMBER)
            )
    return _sorted_roster(kept)


def _eight_target(roster: Sequence[DemoMember]) -> tuple[int, int]:
    """Exactly eight members with a resident majority (may need non-residents to leave)."""
    members, residents = _counts(roster)
    joining = max(0, MIN_MEMBERS - members)
    return MIN_MEMBERS, min(MIN_MEMBERS, max(MIN_MEMBERS // 2 + 1, residents + joining))


def _above_target(rng: random.Random, roster: Sequence[DemoMember]) -> tuple[int, int]:
    """Residents join until the area is within criteria above eight: always possible."""
    members, residents = _counts(roster)
    joining = max(MIN_MEMBERS + 1 - members, members - 2 * residents + 1) + rng.randint(0, 2)
    return members + joining, residents + joining


def _still_under_targets(roster: Sequence[DemoMember]) -> list[tuple[int, int]]:
    """Small changes (one joins or one leaves) that leave the area under criteria."""
    m, r = _counts(roster)
    options = [(m + 1, r + 1), (m + 1, r), (m - 1, r - 1), (m - 1, r), (m, r)]
    return [(a, b) for a, b in options if a >= 1 and 0 <= b <= a and not _within(a, b)]


def _update_plan(rng: random.Random, returning: bool, exactly_eight: bool) -> list[str]:
    """Kinds of this area's in-year updates, in date order."""
    if not returning:
        return ["under"] * rng.choice((0, 1, 1, 2))
    before = ["under"] if rng.random() < 0.3 else []
    after = ["grow"] if rng.random() < 0.3 else []
    return before + ["eight" if exactly_eight else "return"] + after


def _area_updates(
    rng: random.Random,
    people: _People,
    area: int,
    roster: tuple[DemoMember, ...],
    kinds: list[str],
) -> list[tuple[DemoMember, ...]]:
    rosters = []
    for kind in kinds:
        new: tuple[DemoMember, ...] | None = None
        if kind == "under":
            options = _still_under_targets(roster)
            while new is None:  # (m, r) itself is always an option, so this ends
                new = _reshape(rng, people, area, roster, rng.choice(options))
        elif kind == "grow":  # more residents join: stays within criteria
            m, r = _counts(roster)
            grow = rng.randint(1, 3)
            new = _reshape(rng, people, area, roster, (m + grow, r + grow))
        else:
            if kind == "eight":
                new = _reshape(rng, people, area, roster, _eight_target(roster))
            if new is None:  # not exactly eight after all: residents join instead
                new = _reshape(rng, people, area, roster, _above_target(rng, roster))
        assert new is not None  # every branch ends with a roster
        roster = new
        rosters.append(roster)
    return rosters


def _update_dates(rng: random.Random, count: int) -> list[datetime.date]:
    span = (UPDATES_TO - UPDATES_FROM).days + 1
    return [
        UPDATES_FROM + datetime.timedelta(days=d) for d in sorted(rng.sample(range(span), count))
    ]


def _returned_before(plans: dict[int, list[_Slot]]) -> list[bool]:
    """Per area: has its case open after the last review already returned within criteria?

    Follows the case rules over the annual statuses: a case opens when flagged, returns when
    an under-criteria case reaches the threshold, and closes when the area is fine."""
    open_flag: list[str | None] = [None] * AREA_COUNT
    returned = [False] * AREA_COUNT
    for year in REVIEW_YEARS:
        for a, slot in enumerate(plans[year]):
            if slot.status == "fine":
                open_flag[a], returned[a] = None, False
            elif open_flag[a] is None:
                open_flag[a], returned[a] = slot.status, False
            else:
                if open_flag[a] == "under" and slot.status == "threshold":
                    returned[a] = True
                open_flag[a] = slot.status
    return returned


def _in_year_updates(
    rng: random.Random,
    people: _People,
    plans: dict[int, list[_Slot]],
    plan_2021: list[_Slot],
    last_rosters: list[tuple[DemoMember, ...]],
) -> list[tuple[int, datetime.date, tuple[DemoMember, ...]]]:
    """Updates after the 2021 review: twelve under-criteria areas come back within criteria."""
    under = [a for a, slot in enumerate(plan_2021) if slot.status == "under"]
    # A case's returned date is set the first time only (docs/rules.md#cases), so the twelve
    # that come back are drawn from cases that have not returned before: the list of cases then
    # shows them.
    returned = _returned_before(plans)
    returning = rng.sample([a for a in under if not returned[a]], RETURNED_AFTER_2021)
    eights = set(rng.sample(returning, RETURNED_AFTER_2021 // 3))  # some at exactly eight
    kinds = {a: _update_plan(rng, a in returning, a in eights) for a in under}
    at_threshold = [a for a, slot in enumerate(plan_2021) if slot.status == "threshold"]
    for a in rng.sample(at_threshold, AT_THRESHOLD_2021_UPDATED):
        kinds[a] = ["grow"]
    updates = []
    for a in sorted(kinds):
        rosters = _area_updates(rng, people, a, last_rosters[a], kinds[a])
        dates = _update_dates(rng, len(rosters))
        updates += [(a, day, roster) for day, roster in zip(dates, rosters, strict=True)]
        _check_updates(a in returning, a in at_threshold, rosters)
    return updates


def _check_updates(
    returning: bool, at_threshold: bool, rosters: list[tuple[DemoMember, ...]]
) -> None:
    """Guard the published "12 came back" figure against a planning mistake."""
    within = [_within(*_counts(r)) for r in rosters]
    if at_threshold and not all(within):
        raise RuntimeError("an at-threshold area fell under criteria in-year")
    if not at_threshold and any(within) != returning:
        raise RuntimeError("an in-year update brought the wrong area within criteria")


# --------------------------------------------------------------------------- reps, contacts


def _reps(rng: random.Random) -> list[DemoRep]:
    taken: dict[str, int] = {}
    regions = [REGIONS[i % len(REGIONS)] for i in range(REP_COUNT)]
    rng.shuffle(regions)
    reps = []
    for region in regions:
        name = _person_name(rng)
        reps.append(DemoRep(_email(name, "reps.example.org", taken), name, region))
    return reps


def _rep_for_area(rng: random.Random, reps: list[DemoRep]) -> list[str | None]:
    """About three areas per rep; two or three areas wait unassigned."""
    unassigned = rng.choice((2, 3))
    loads = [3] * len(reps)
    for i in rng.sample(range(len(reps)), sum(loads) - (AREA_COUNT - unassigned)):
        loads[i] -= 1
    emails: list[str | None] = [
        rep.email for rep, n in zip(reps, loads, strict=True) for _ in range(n)
    ]
    emails += [None] * unassigned
    rng.shuffle(emails)
    return emails


def _contacts(
    rng: random.Random, roster: Sequence[DemoMember], taken: dict[str, int]
) -> tuple[DemoContact, ...]:
    """The chair, and often a second named contact (the secretary or a worker)."""
    chair = next(m for m in roster if m.role == MemberRole.CHAIR)
    names = [chair.name]
    others = [m for m in roster if m.role in (MemberRole.SECRETARY, MemberRole.WORKER)]
    if others and rng.random() < 0.6:
        names.append(rng.choice(others).name)
    return tuple(DemoContact(name, _email(name, "example.org", taken)) for name in names)


# --------------------------------------------------------------------------- assembly


def _review_date(year: int) -> datetime.date:
    return datetime.date(year, 9, 30)


def _annual_reviews(
    rng: random.Random, people: _People, plans: dict[int, list[_Slot]], core: Sequence[int]
) -> dict[int, list[tuple[DemoMember, ...]]]:
    """All annual reviews as {year: [roster per area]}."""
    first = REVIEW_YEARS[0]
    history: dict[int, list[list[int]]] = {}
    history[first], core_people = _first_rosters(people, plans[first], core)
    for year in REVIEW_YEARS[1:]:
        history[year] = _next_rosters(rng, people, year, plans[year], history, core_people)
    officers = [_Officers() for _ in range(AREA_COUNT)]
    staff = [_Staff(people, a) for a in range(AREA_COUNT)]
    return {
        year: [
            _annual_roster(rng, people, history[year][a], plans[year][a], officers[a], staff[a])
            for a in range(AREA_COUNT)
        ]
        for year in REVIEW_YEARS
    }


def _status_of(roster: Sequence[DemoMember]) -> str:
    members, residents = _counts(roster)
    if not _within(members, residents):
        return "under"
    return "threshold" if members == MIN_MEMBERS else "fine"


def _later_target(
    rng: random.Random, roster: tuple[DemoMember, ...], status: str
) -> tuple[int, int]:
    members, residents = _counts(roster)
    if status == "threshold":
        return _eight_target(roster)
    if status == "under":
        smaller = rng.randint(5, 7)
        return smaller, min(residents, max(smaller // 2 + 1, smaller - 2))
    if _within(members, residents) and members > MIN_MEMBERS:
        grow = rng.choice((-1, 0, 0, 1, 2))
        target = (members + grow, residents + grow)
        if target[0] > MIN_MEMBERS and _within(*target):
            return target
        return members, residents
    return _above_target(rng, roster)


def _churn(
    rng: random.Random, people: _People, area: int, roster: tuple[DemoMember, ...]
) -> tuple[DemoMember, ...]:
    """A few plain members leave and as many new people join, resident for resident."""
    plain = [m for m in roster if m.role == MemberRole.MEMBER]
    leaving = rng.sample(plain, min(len(plain), rng.choice((0, 1, 2, 2, 3))))
    gone = {m.person_id for m in leaving}
    kept = [m for m in roster if m.person_id not in gone]
    for m in leaving:
        kept.append(
            _member(people, people.new(area, float(m.resident)), m.resident, MemberRole.MEMBER)
        )
    return _sorted_roster(kept)


def _later_reviews(
    rng: random.Random,
    people: _People,
    latest: list[tuple[DemoMember, ...]],
    years: Sequence[int],
    unassigned: Sequence[int],
) -> dict[int, list[tuple[DemoMember, ...]]]:
    """Annual reviews after 2021, each area starting from its latest roster. The areas with
    no rep are under criteria in the last review, so the unassigned queue has cases."""
    people.rng = rng  # new people's names come from this generator too
    reviews: dict[int, list[tuple[DemoMember, ...]]] = {}
    rosters = list(latest)
    for year in years:
        for a, roster in enumerate(rosters):
            odds = LATER_STATUS_ODDS[_status_of(roster)]
            status = rng.choices([s for s, _p in odds], [p for _s, p in odds])[0]
            if year == years[-1] and a in unassigned:
                status = "under"
            reshaped = _reshape(
                rng, people, a, _churn(rng, people, a, roster), _later_target(rng, roster, status)
            )
            if reshaped is None:  # not possible by leaving alone: residents join instead
                reshaped = _reshape(rng, people, a, roster, _above_target(rng, roster))
            assert reshaped is not None
            rosters[a] = reshaped
        reviews[year] = list(rosters)
    return reviews


def generate(seed: int = 2021, last_review_year: int = REVIEW_YEARS[-1]) -> DemoProgramme:
    """The demo programme for ``seed``, with annual reviews up to ``last_review_year``; the
    same arguments always give the same programme."""
    rng = random.Random(seed)
    people = _People(rng)
    weakness = [rng.random() for _ in range(AREA_COUNT)]
    size = [max(0.3, 1.5 - w + rng.uniform(-0.3, 0.3)) for w in weakness]
    core = _core_counts(rng, weakness)
    plans = {year: _plan_year(rng, year, weakness, size, core) for year in REVIEW_YEARS}
    reviews = _annual_reviews(rng, people, plans, core)
    updates = _in_year_updates(
        rng, people, plans, plans[REVIEW_YEARS[-1]], reviews[REVIEW_YEARS[-1]]
    )

    codes = [f"BL{a + 1:03d}" for a in range(AREA_COUNT)]
    snapshots = [
        DemoSnapshot(codes[a], SnapshotKind.ANNUAL, year, _review_date(year), roster)
        for year in REVIEW_YEARS
        for a, roster in enumerate(reviews[year])
    ]
    snapshots += [
        DemoSnapshot(codes[a], SnapshotKind.UPDATE, None, day, r) for a, day, r in updates
    ]

    reps = _reps(rng)
    rep_emails = _rep_for_area(rng, reps)
    names = _area_names(rng)
    taken: dict[str, int] = {}  # contact emails handed out so far
    latest = reviews[REVIEW_YEARS[-1]]
    areas = [
        DemoArea(codes[a], names[a], rep_emails[a], _contacts(rng, latest[a], taken))
        for a in range(AREA_COUNT)
    ]

    later_years = range(REVIEW_YEARS[-1] + 1, last_review_year + 1)
    if later_years:
        after_updates = list(latest)
        for a, _day, roster in sorted(updates, key=lambda u: u[1]):
            after_updates[a] = roster
        unassigned = [a for a, email in enumerate(rep_emails) if email is None]
        later = _later_reviews(
            random.Random(seed * 1_000_003 + last_review_year),
            people,
            after_updates,
            later_years,
            unassigned,
        )
        snapshots += [
            DemoSnapshot(codes[a], SnapshotKind.ANNUAL, year, _review_date(year), roster)
            for year in later_years
            for a, roster in enumerate(later[year])
        ]
    snapshots.sort(key=lambda s: (s.effective, s.area_code))
    return DemoProgramme(tuple(reps), tuple(areas), tuple(snapshots))
