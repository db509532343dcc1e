"""`flask areas|reviews|updates import`: summaries, all-or-nothing, every bad row named."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models import Area, Case, Contact, Person, RosterEntry, Snapshot, User
from app.queries.cases import case_rows

AREAS = (
    "area_code,area_name,rep_email,contact_name,contact_email\n"
    "BL001,Northfield,ann.rep@example.org,Chris Chair,chris@example.org\n"
    "BL001,Northfield,ann.rep@example.org,Sam Sec,sam@example.org\n"
    "BL002,Southgate,,,\n"
)


def write(tmp_path, name: str, text: str | bytes):
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return str(path)


def review_rows(code: str, year: int, members: int, residents: int, start: int = 0) -> str:
    lines = []
    for i in range(members):
        resident = "yes" if i < residents else "no"
        role = "chair" if i == 0 else "member"
        lines.append(f"{code},{year},{code}-P{start + i},Person {start + i},{resident},{role}\n")
    lines.append(f"{code},{year},{code}-W,Worker,no,worker\n")
    return "".join(lines)


REVIEW_HEADER = "area_code,review_year,person_id,member_name,resident,role\n"


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def import_areas(runner, tmp_path):
    result = runner.invoke(args=["areas", "import", write(tmp_path, "areas.csv", AREAS)])
    assert result.exit_code == 0, result.output
    return result


def test_areas_import_creates_areas_contacts_and_passwordless_reps(app, runner, tmp_path):
    result = import_areas(runner, tmp_path)
    assert count(Area) == 2
    assert count(Contact) == 2
    rep = db.session.scalar(select(User).where(User.email == "ann.rep@example.org"))
    assert rep.role == "rep" and rep.password_hash is None
    assert "ann.rep@example.org" in result.output
    south = db.session.scalar(select(Area).where(Area.code == "BL002"))
    assert south.rep_id is None and south.contacts == []


def test_areas_import_twice_changes_nothing(app, runner, tmp_path):
    import_areas(runner, tmp_path)
    second = import_areas(runner, tmp_path)
    assert "0 areas created, 0 updated, 2 unchanged" in second.output
    assert "0 contacts added" in second.output
    assert count(User) == 1 and count(Contact) == 2


def test_area_with_two_reps_in_one_file_is_refused(app, runner, tmp_path):
    text = AREAS + "BL002,Southgate,bob@example.org,,\nBL002,Southgate,carol@example.org,,\n"
    result = runner.invoke(args=["areas", "import", write(tmp_path, "a.csv", text)])
    assert result.exit_code == 1
    assert "row 6, column rep_email" in result.output
    assert "row 5" not in result.output
    assert count(Area) == 0 and count(User) == 0


def test_reviews_import_opens_cases_and_counts_only_counted_members(app, runner, tmp_path):
    import_areas(runner, tmp_path)
    text = REVIEW_HEADER + review_rows("BL001", 2020, 6, 4) + review_rows("BL002", 2020, 10, 7)
    result = runner.invoke(args=["reviews", "import", write(tmp_path, "r.csv", text)])
    assert result.exit_code == 0, result.output
    assert "2 created" in result.output and "1 opened" in result.output
    (case,) = case_rows()
    assert case["area_code"] == "BL001" and case["flag"] == "under_criteria"
    assert case["members"] == 6 and case["residents"] == 4  # the worker is not counted
    assert case["rep_email"] == "ann.rep@example.org"
    assert case["opened_on"] == "2020-09-30"


def test_reimporting_a_review_replaces_its_roster_and_same_file_changes_nothing(
    app, runner, tmp_path
):
    import_areas(runner, tmp_path)
    first = write(tmp_path, "r1.csv", REVIEW_HEADER + review_rows("BL001", 2020, 6, 4))
    assert runner.invoke(args=["reviews", "import", first]).exit_code == 0
    again = runner.invoke(args=["reviews", "import", first])
    assert "0 created, 0 replaced, 1 unchanged" in again.output
    bigger = write(tmp_path, "r2.csv", REVIEW_HEADER + review_rows("BL001", 2020, 10, 8))
    result = runner.invoke(args=["reviews", "import", bigger])
    assert "1 replaced" in result.output
    assert count(Snapshot) == 1
    assert count(RosterEntry) == 11
    (case,) = case_rows()
    assert case["status"] == "resolved" and case["members"] == 10


def test_seven_years_in_one_file_give_the_same_cases_as_seven_files(app, runner, tmp_path):
    # BL001: under, at threshold, under (escalation), fine (resolved), under (new case), ...
    shapes = [(6, 4), (8, 5), (7, 5), (10, 8), (5, 5), (8, 6), (9, 2)]
    years = range(2015, 2022)
    files = [
        REVIEW_HEADER + review_rows("BL001", y, m, r)
        for y, (m, r) in zip(years, shapes, strict=True)
    ]

    def cases_after(paths):
        for path in paths:
            result = runner.invoke(args=["reviews", "import", path])
            assert result.exit_code == 0, result.output
        rows = [
            {k: v for k, v in row.items() if k not in ("id", "previous_case_id")}
            | {"follows": row["previous_case_id"] is not None}
            for row in case_rows()
        ]
        return rows

    import_areas(runner, tmp_path)
    one_file = write(
        tmp_path, "all.csv", REVIEW_HEADER + "".join(f[len(REVIEW_HEADER) :] for f in files)
    )
    together = cases_after([one_file])
    events_together = count(db.metadata.tables["case_events"])
    from tests.conftest import empty_all_tables

    empty_all_tables()
    import_areas(runner, tmp_path)
    separately = cases_after([write(tmp_path, f"y{i}.csv", f) for i, f in enumerate(files)])
    assert together == separately
    assert count(db.metadata.tables["case_events"]) == events_together
    assert [c["status"] for c in together] == ["resolved", "new"]
    assert together[0]["returned_on"] == "2016-09-30"
    assert together[0]["resolved_on"] == "2018-09-30"
    assert together[1]["follows"] and together[1]["returned_on"] == "2020-09-30"
    assert together[1]["flag"] == "under_criteria"  # escalated again in 2021


def test_updates_import_resolves_a_case(app, runner, tmp_path):
    import_areas(runner, tmp_path)
    runner.invoke(
        args=[
            "reviews",
            "import",
            write(tmp_path, "r.csv", REVIEW_HEADER + review_rows("BL001", 2021, 6, 4)),
        ]
    )
    rows = "".join(
        f"BL001,2022-03-01,BL001-P{i},Person {i},{'yes' if i < 8 else 'no'},member\n"
        for i in range(11)
    )
    path = write(tmp_path, "u.csv", "area_code,as_of,person_id,member_name,resident,role\n" + rows)
    result = runner.invoke(args=["updates", "import", path])
    assert result.exit_code == 0, result.output
    assert "1 resolved" in result.output
    (case,) = case_rows()
    assert case["resolved_on"] == "2022-03-01" and case["returned_on"] == "2022-03-01"


# ------------------------------------------------------------------------------ bad files


def rejected(runner, tmp_path, text, *, command="reviews"):
    before = (count(Snapshot), count(Person), count(Case))
    result = runner.invoke(args=[command, "import", write(tmp_path, "bad.csv", text)])
    assert result.exit_code == 1, result.output
    assert (count(Snapshot), count(Person), count(Case)) == before, "a bad file wrote something"
    return result.output


def test_missing_required_column_is_named(app, runner, tmp_path):
    import_areas(runner, tmp_path)
    output = rejected(runner, tmp_path, "area_code,review_year,person_id,member_name,role\n")
    assert "row 1, column resident: missing required column" in output


def test_empty_file_is_refused(app, runner, tmp_path):
    output = rejected(runner, tmp_path, "")
    assert "row 1: the file is empty" in output


def test_every_bad_row_is_listed_and_nothing_is_written(app, runner, tmp_path):
    import_areas(runner, tmp_path)
    text = (
        REVIEW_HEADER
        + review_rows("BL001", 2021, 9, 6)  # rows 2-11 are fine
        + "BL999,2021,X1,Xena,yes,member\n"  # row 12: unknown area
        + "BL001,20x1,X2,Yan,yes,member\n"  # row 13: bad year
        + "BL001,2021,X3,Zed,maybe,member\n"  # row 14: bad resident
        + "BL001,2021,X4,Ali,yes,boss\n"  # row 15: unknown role
        + "BL001,2021,BL001-P3,Again,yes,member\n"  # row 16: duplicate person
        + "BL002,2021,X5,,yes,member\n"  # row 17: no name
    )
    output = rejected(runner, tmp_path, text)
    assert "row 12, column area_code: unknown area 'BL999'" in output
    assert "row 13, column review_year" in output
    assert "row 14, column resident" in output
    assert "row 15, column role: unknown role 'boss'" in output
    assert "row 16, column person_id: person BL001-P3 appears twice" in output
    assert "(first at row 5)" in output
    assert "row 17, column member_name" in output


def test_bad_review_date_and_bad_as_of_are_named(app, runner, tmp_path):
    import_areas(runner, tmp_path)
    text = REVIEW_HEADER.strip() + ",review_date\nBL001,2021,P1,Pat,yes,chair,2021-13-01\n"
    assert "row 2, column review_date" in rejected(runner, tmp_path, text)
    updates = "area_code,as_of,person_id,member_name,resident,role\nBL001,1/3/2022,P1,Pat,y,chair\n"
    assert "row 2, column as_of" in rejected(runner, tmp_path, updates, command="updates")


def test_non_utf8_bytes_are_refused_with_the_line(app, runner, tmp_path):
    import_areas(runner, tmp_path)
    text = (
        REVIEW_HEADER + "BL001,2021,P1,Pat,yes,chair\n"
    ).encode() + b"BL001,2021,P2,Ren\xe9,yes,member\n"
    output = rejected(runner, tmp_path, text)
    assert "row 3: the file is not UTF-8" in output


def test_bom_is_tolerated_and_extra_column_warned(app, runner, tmp_path):
    import_areas(runner, tmp_path)
    text = (
        "\ufeff"
        + REVIEW_HEADER.strip()
        + ",notes\n"
        + "".join(line + ",hello\n" for line in review_rows("BL001", 2021, 9, 6).splitlines())
    )
    result = runner.invoke(args=["reviews", "import", write(tmp_path, "bom.csv", text)])
    assert result.exit_code == 0, result.output
    assert "warning: column 'notes' is not used and was ignored" in result.output
    assert count(RosterEntry) == 10


def test_resident_accepts_every_spelling(app, runner, tmp_path):
    import_areas(runner, tmp_path)
    spellings = ["yes", "Y", "TRUE", "1", "no", "n", "False", "0"]
    rows = "".join(f"BL001,2021,P{i},Person {i},{s},member\n" for i, s in enumerate(spellings))
    result = runner.invoke(
        args=["reviews", "import", write(tmp_path, "r.csv", REVIEW_HEADER + rows)]
    )
    assert result.exit_code == 0, result.output
    snap = db.session.scalar(select(Snapshot))
    assert (snap.members, snap.residents) == (8, 4)


def test_an_area_name_longer_than_its_column_is_a_row_and_column_line(app, runner, tmp_path):
    text = AREAS + f"BL003,{'N' * 300},,,\n"
    result = runner.invoke(args=["areas", "import", write(tmp_path, "a.csv", text)])
    assert result.exit_code == 1
    assert "row 5, column area_name: is too long: at most 200 characters (300 given)" in (
        result.output
    )
    assert "Traceback" not in result.output
    assert count(Area) == 0


def test_a_control_character_in_a_cell_is_a_row_and_column_line(app, runner, tmp_path):
    text = AREAS + "BL003,South\x1bgate,,Ann\x07Chair,ann@example.org\n"
    result = runner.invoke(args=["areas", "import", write(tmp_path, "a.csv", text)])
    assert result.exit_code == 1
    assert "row 5, column area_name: contains a control character" in result.output
    assert "row 5, column contact_name: contains a control character" in result.output
    assert count(Area) == 0 and count(Contact) == 0


def test_a_nul_byte_in_the_file_names_its_row(app, runner, tmp_path):
    text = AREAS + "BL003,South\x00gate,,,\n"
    result = runner.invoke(args=["areas", "import", write(tmp_path, "a.csv", text)])
    assert result.exit_code == 1
    assert "row 5: contains a NUL byte" in result.output
    assert "Traceback" not in result.output and count(Area) == 0


def test_a_long_member_name_or_person_id_in_reviews_is_refused(app, runner, tmp_path):
    import_areas(runner, tmp_path)
    rows = review_rows("BL001", 2020, 8, 6)
    rows += f"BL001,2020,{'P' * 65},Long id,yes,member\nBL001,2020,BL001-X,{'M' * 201},yes,member\n"
    text = REVIEW_HEADER + rows
    result = runner.invoke(args=["reviews", "import", write(tmp_path, "r.csv", text)])
    assert result.exit_code == 1
    assert "row 11, column person_id: is too long: at most 64 characters" in result.output
    assert "row 12, column member_name: is too long: at most 200 characters" in result.output
    assert count(Snapshot) == 0


def test_a_review_year_in_unicode_digits_is_a_row_and_column_line(app, runner, tmp_path):
    import_areas(runner, tmp_path)
    text = REVIEW_HEADER + "BL001,²⁰²¹,BL001-P1,Ann,yes,chair\n"
    result = runner.invoke(args=["reviews", "import", write(tmp_path, "r.csv", text)])
    assert result.exit_code == 1
    assert "row 2, column review_year: '²⁰²¹' is not a year" in result.output
