"""The rules of a rep's list of new cases: one mail per rep and batch, and no per-case notice
for a case whose latest assignment was told in such a list."""

from __future__ import annotations

from datetime import date

from app.rules.reminders import AssignedCase, due_reminders, new_cases_notice
from tests.rules.test_reminders import NOW, SETTINGS, case


def cases(*codes: str) -> list[AssignedCase]:
    return [
        AssignedCase(i, code, f"Area {code}", "under_criteria", date(2026, 9, 30))
        for i, code in enumerate(codes, start=1)
    ]


def test_one_notice_lists_every_case_by_area_code():
    notice = new_cases_notice(5, "Rita", "rita@example.org", cases("BL3", "BL1"), NOW, "b:1-2")
    assert (notice.key, notice.kind, notice.audience) == ("new_cases:5:b:1-2", "new_cases", "rep")
    assert (notice.recipient, notice.not_before, notice.case_id) == ("rita@example.org", NOW, None)
    assert [c.area_code for c in notice.data["cases"]] == ["BL1", "BL3"]


def test_nothing_to_say_or_nobody_to_tell_is_no_notice():
    assert new_cases_notice(5, "Rita", "rita@example.org", [], NOW, "b") is None
    assert new_cases_notice(5, "Rita", None, cases("BL1"), NOW, "b") is None
    areas_only = new_cases_notice(5, "Rita", "r@example.org", [], NOW, "h", areas=[("BL1", "A")])
    assert areas_only is not None and areas_only.data["areas"] == (("BL1", "A"),)


def test_a_case_told_in_a_list_gets_no_new_case_notice_of_its_own():
    fresh = case(assigned_at=NOW)
    assert [r.kind for r in due_reminders(fresh, NOW, SETTINGS)] == ["new_case"]
    listed = case(assigned_at=NOW, assignment_listed=True)
    assert due_reminders(listed, NOW, SETTINGS) == []
