"""Web imports: check with the CLI's parser, preview by a rolled-back import, confirm the held
file by its hash, history with the original file, templates, one import at a time."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app import clock
from app.extensions import db
from app.models import Area, Case, CaseEvent, ImportRun, Snapshot
from app.operations.import_runs import wait_for_imports
from tests.cli.test_imports import AREAS, REVIEW_HEADER, review_rows
from tests.factories import make_user
from tests.querycount import count_queries
from tests.web.conftest import csrf_token, login_as

REVIEWS = REVIEW_HEADER + review_rows("BL001", 2021, 6, 4) + review_rows("BL002", 2021, 9, 6)
BAD_REVIEWS = (
    REVIEW_HEADER
    + "BL001,2021,P1,Ann,maybe,member\n"
    + "BL001,2021,P2,Bob,yes,member\n"
    + "BL009,20x1,P3,,yes,boss\n"
)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def settle() -> None:
    """Let the import threads finish, then read fresh (end this session's snapshot)."""
    wait_for_imports()
    db.session.rollback()


@pytest.fixture
def boss(app, client):
    user = make_user("programme", name="Pat Programme")
    db.session.commit()
    login_as(client, user)
    return user


def upload(client, kind: str, text: str, name: str = "file.csv"):
    data = {
        "csrf_token": csrf_token(client),
        "kind": kind,
        "file": (io.BytesIO(text.encode()), name),
    }
    return client.post("/imports", data=data, content_type="multipart/form-data")


def preview(client, kind: str, text: str, name: str = "file.csv") -> ImportRun:
    response = upload(client, kind, text, name)
    assert response.status_code == 303, response.get_data(as_text=True)
    settle()
    run_id = int(response.headers["Location"].rsplit("/", 1)[1])
    return db.session.get(ImportRun, run_id)


def apply(client, run: ImportRun, sha256: str | None = None):
    response = client.post(
        f"/imports/{run.id}/confirm",
        data={"csrf_token": csrf_token(client), "sha256": sha256 or run.sha256},
    )
    settle()
    return response


def imported(client, kind: str, text: str, name: str = "file.csv") -> ImportRun:
    run = preview(client, kind, text, name)
    assert run.status == "previewed", run.error
    apply(client, run)
    return db.session.get(ImportRun, run.id)


def test_bad_file_lists_every_bad_row_like_the_cli_and_writes_nothing(client, boss):
    imported(client, "areas", AREAS)
    snapshots, runs = count(Snapshot), count(ImportRun)
    response = upload(client, "reviews", BAD_REVIEWS)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "There is a problem" in html and "3 problem" not in html  # counted, not guessed
    for line in (
        "row 2, column resident: &#39;maybe&#39; is not yes/no",
        "row 4, column area_code: unknown area &#39;BL009&#39;",
        "row 4, column review_year: &#39;20x1&#39; is not a year",
    ):
        assert line in html
    assert count(Snapshot) == snapshots and count(ImportRun) == runs


def test_missing_file_and_kind_are_named(client, boss):
    response = client.post("/imports", data={"csrf_token": csrf_token(client)})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Choose what the file holds." in html and "Choose a CSV file to upload." in html


def test_preview_shows_what_would_happen_and_changes_nothing(client, boss):
    imported(client, "areas", AREAS)
    run = preview(client, "reviews", REVIEWS, "reviews-2021.csv")
    assert run.status == "previewed" and run.busy is None
    assert run.preview["counts"]["snapshots_created"] == 2
    assert run.preview["change_counts"]["opened"] == 1
    assert [c["area_code"] for c in run.preview["changes"]] == ["BL001"]
    assert count(Snapshot) == 0 and count(Case) == 0  # the preview was rolled back
    html = client.get(f"/imports/{run.id}").get_data(as_text=True)
    assert "What this file would do" in html and "Confirm and import" in html
    assert "2 new, 0 replaced, 0 unchanged" in html and "1 opened" in html
    assert 'href="/areas/BL001"' in html
    assert 'http-equiv="refresh"' not in html


def test_confirm_applies_the_held_file_and_opens_the_case(client, boss):
    imported(client, "areas", AREAS)
    run = preview(client, "reviews", REVIEWS)
    apply(client, run)
    run = db.session.get(ImportRun, run.id)
    assert run.status == "applied" and run.applied_by_id == boss.id
    case = db.session.scalar(select(Case).join(Area).where(Area.code == "BL001"))
    assert case is not None and case.flag == "under_criteria"
    assert run.outcome["changes"] == [
        {"change": "opened", "area_code": "BL001", "case_id": case.id}
    ]
    html = client.get(f"/imports/{run.id}").get_data(as_text=True)
    assert "What the import did" in html and f"Case #{case.id}" in html


def test_confirm_with_another_hash_is_refused(client, boss):
    imported(client, "areas", AREAS)
    run = preview(client, "reviews", REVIEWS)
    response = apply(client, run, sha256="f" * 64)
    assert response.status_code == 303
    assert db.session.get(ImportRun, run.id).status == "previewed"
    assert count(Snapshot) == 0
    html = client.get(f"/imports/{run.id}").get_data(as_text=True)
    assert "does not match the preview" in html


def test_confirming_twice_applies_once(client, boss):
    imported(client, "areas", AREAS)
    run = preview(client, "reviews", REVIEWS)
    apply(client, run)
    events = count(CaseEvent)
    apply(client, run)
    assert count(CaseEvent) == events
    html = client.get(f"/imports/{run.id}").get_data(as_text=True)
    assert "already been handled" in html


def test_the_same_file_again_says_nothing_changed(client, boss):
    imported(client, "areas", AREAS)
    imported(client, "reviews", REVIEWS)
    again = preview(client, "reviews", REVIEWS)
    assert again.preview["nothing_changed"] is True
    html = client.get(f"/imports/{again.id}").get_data(as_text=True)
    assert "Nothing would be changed" in html
    done = imported(client, "reviews", REVIEWS)
    assert done.outcome["nothing_changed"] is True
    assert "Applied: nothing changed" in client.get("/imports/history").get_data(as_text=True)


def test_a_second_import_while_one_runs_is_refused(client, boss):
    now = clock.now()
    db.session.add(
        ImportRun(
            kind="reviews",
            filename="big.csv",
            sha256="0" * 64,
            data=b"x",
            size=1,
            rows=150000,
            status="applying",
            busy=True,
            uploaded_by_id=boss.id,
            created_at=now,
            updated_at=now,
            warnings=[],
            preview={},
            outcome={},
        )
    )
    db.session.commit()
    response = upload(client, "areas", AREAS)
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Another import is running (big.csv, applying for Pat Programme)" in html
    assert count(Area) == 0 and count(ImportRun) == 1


def test_an_interrupted_run_frees_the_slot(client, boss):
    long_ago = clock.now() - timedelta(hours=2)
    stuck = ImportRun(
        kind="reviews",
        filename="stuck.csv",
        sha256="0" * 64,
        data=b"x",
        size=1,
        rows=1,
        status="applying",
        busy=True,
        uploaded_by_id=boss.id,
        created_at=long_ago,
        updated_at=long_ago,
        warnings=[],
        preview={},
        outcome={},
    )
    db.session.add(stuck)
    db.session.commit()
    run = imported(client, "areas", AREAS)
    assert run.status == "applied" and count(Area) == 2
    assert db.session.get(ImportRun, stuck.id).status == "failed"


def test_history_lists_who_what_and_serves_the_original_file(client, boss):
    run = imported(client, "areas", AREAS, "areas 2026.csv")
    html = client.get("/imports/history").get_data(as_text=True)
    assert "Pat Programme" in html and "areas 2026.csv" in html and "Areas, their reps" in html
    assert "<title>Import history (1)" in html
    download = client.get(f"/imports/{run.id}/file")
    assert download.data == AREAS.encode()
    assert 'filename="areas_2026.csv"' in download.headers["Content-Disposition"]


def test_each_template_imports_cleanly(client, boss):
    for kind in ("areas", "reviews", "updates"):
        template = client.get(f"/imports/templates/{kind}.csv").get_data(as_text=True)
        run = imported(client, kind, template, f"{kind}.csv")
        assert run.status == "applied", run.error
    assert count(Snapshot) == 2


def test_discard_keeps_the_file_in_history_and_imports_nothing(client, boss):
    run = preview(client, "areas", AREAS)
    client.post(f"/imports/{run.id}/discard", data={"csrf_token": csrf_token(client)})
    db.session.rollback()
    assert db.session.get(ImportRun, run.id).status == "discarded" and count(Area) == 0


@pytest.mark.parametrize("app_config", [{"MAX_CONTENT_LENGTH": 2000}])
def test_an_upload_over_the_limit_gets_413(client, boss):
    response = upload(client, "reviews", REVIEW_HEADER + review_rows("BL001", 2021, 200, 100))
    assert response.status_code == 413
    assert "The file is too large" in response.get_data(as_text=True)
    assert count(ImportRun) == 0


def test_progress_page_refreshes_without_javascript_while_busy(client, boss):
    now = clock.now()
    run = ImportRun(
        kind="reviews",
        filename="big.csv",
        sha256="0" * 64,
        data=b"x",
        size=1,
        rows=150000,
        status="previewing",
        busy=True,
        uploaded_by_id=boss.id,
        created_at=now,
        updated_at=now,
        warnings=[],
        preview={},
        outcome={},
    )
    db.session.add(run)
    db.session.commit()
    html = client.get(f"/imports/{run.id}").get_data(as_text=True)
    assert re.search(r'<meta http-equiv="refresh" content="\d+">', html)
    assert "Previewing" in html and "refreshes every 2 seconds" in html


def test_history_and_run_pages_query_count_does_not_grow(client, boss):
    first = imported(client, "areas", AREAS)
    with count_queries() as small_history:
        client.get("/imports/history")
    with count_queries() as small_run:
        client.get(f"/imports/{first.id}")
    for _ in range(4):
        imported(client, "areas", AREAS)
    last = imported(client, "reviews", REVIEWS)
    with count_queries() as large_history:
        client.get("/imports/history")
    with count_queries() as large_run:
        client.get(f"/imports/{last.id}")
    assert large_history.count == small_history.count
    assert large_run.count == small_run.count


UPDATES = (
    "area_code,as_of,person_id,member_name,resident,role\n"
    + "".join(f"BL001,2022-03-01,BL001-P{i},Person {i},yes,member\n" for i in range(9))
    + "".join(f"BL002,2022-03-01,BL002-P{i},Person {i},no,member\n" for i in range(9))
)
FILES = (
    ("areas", AREAS),
    (
        "reviews",
        REVIEW_HEADER + review_rows("BL001", 2020, 9, 6) + review_rows("BL002", 2020, 8, 5),
    ),
    ("reviews", REVIEWS),
    ("updates", UPDATES),
)


def _world() -> dict:
    """Cases, their events and the insights, in words that do not depend on ids or actors."""
    from app.queries.insights import programme_insights

    cases = db.session.execute(
        select(
            Area.code,
            Case.status,
            Case.flag,
            Case.opened_on,
            Case.returned_on,
            Case.resolved_on,
            Case.rep_id.is_(None),
        )
        .join(Area)
        .order_by(Area.code, Case.id)
    ).all()
    events = db.session.execute(
        select(Area.code, CaseEvent.kind, CaseEvent.message)
        .join(Case, CaseEvent.case_id == Case.id)
        .join(Area)
        .order_by(Area.code, CaseEvent.id)
    ).all()
    # Ids keep counting between the two runs: a message naming "case #12" names it by number.
    events = [(code, kind, re.sub(r"#\d+", "#N", message)) for code, kind, message in events]
    return {"cases": cases, "events": events, "insights": programme_insights()}


def test_web_and_cli_imports_of_the_same_files_give_the_same_programme(
    app, client, boss, runner, tmp_path
):
    from tests.conftest import empty_all_tables

    for n, (kind, text) in enumerate(FILES):
        path = tmp_path / f"{n}.csv"
        path.write_text(text)
        result = runner.invoke(args=[kind, "import", str(path)])
        assert result.exit_code == 0, result.output
    by_cli = _world()
    assert by_cli["cases"] and by_cli["events"]
    empty_all_tables()
    boss = make_user("programme", name="Pat Programme")
    db.session.commit()
    login_as(client, boss)
    for n, (kind, text) in enumerate(FILES):
        assert imported(client, kind, text, f"{n}.csv").status == "applied"
    assert _world() == by_cli


def _reviews_of(areas: int) -> str:
    return REVIEW_HEADER + "".join(
        review_rows(f"BL{n:03d}", 2021, 6, 4) for n in range(1, areas + 1)
    )


def _areas_of(areas: int) -> str:
    header, _, _rest = AREAS.partition("\n")
    return header + "\n" + "".join(f"BL{n:03d},Area {n},,,\n" for n in range(1, areas + 1))


def test_upload_preview_and_bad_file_pages_query_count_does_not_grow(client, boss):
    """The upload form (with recent runs), a preview of many case changes and a bad file's
    error page read in a fixed number of queries, whatever the file and the history."""
    counts = []
    for areas in (2, 25):
        imported(client, "areas", _areas_of(areas))
        run = preview(client, "reviews", _reviews_of(areas))
        assert run.status == "previewed", run.error
        db.session.expire_all()
        with count_queries() as form_page:
            assert "Import a file" in client.get("/imports").get_data(as_text=True)
        with count_queries() as preview_page:
            html = client.get(f"/imports/{run.id}").get_data(as_text=True)
        assert html.count("/areas/BL0") >= areas  # every opened case is listed
        bad = "".join(f"BL{n:03d},2021,P{n},,maybe,member\n" for n in range(areas))
        with count_queries() as bad_page:
            assert upload(client, "reviews", REVIEW_HEADER + bad).status_code == 400
        client.post(f"/imports/{run.id}/discard", data={"csrf_token": csrf_token(client)})
        settle()
        counts.append((form_page.count, preview_page.count, bad_page.count))
    assert counts[0] == counts[1]
