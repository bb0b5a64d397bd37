"""The pure rules: billing units, overdue flags, safety escalation, and the vocabulary itself."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from fieldpeer import domain
from fieldpeer.domain import Escalation, SafetyAnswer, UnitRounding, UnitRule, Zone


@pytest.mark.parametrize(
    ("minutes", "units"),
    [(0, 0), (7, 0), (8, 1), (15, 1), (22, 1), (23, 2), (37, 2), (38, 3), (60, 4)],
)
def test_midpoint_rule_counts_a_unit_from_eight_minutes(minutes: int, units: int) -> None:
    assert domain.billable_units(minutes, UnitRule()) == units


@pytest.mark.parametrize(("minutes", "whole", "any_part"), [(14, 0, 1), (15, 1, 1), (16, 1, 2), (44, 2, 3)])
def test_other_rounding_rules(minutes: int, whole: int, any_part: int) -> None:
    assert domain.billable_units(minutes, UnitRule(rounding=UnitRounding.WHOLE_UNITS)) == whole
    assert domain.billable_units(minutes, UnitRule(rounding=UnitRounding.ANY_PART)) == any_part


def test_daily_cap_counts_what_was_already_billed_that_day() -> None:
    rule = UnitRule(daily_cap=4)
    assert domain.billable_units(60, rule) == 4
    assert domain.billable_units(60, rule, already_billed_today=3) == 1
    assert domain.billable_units(60, rule, already_billed_today=6) == 0


def test_other_unit_lengths() -> None:
    assert domain.billable_units(30, UnitRule(unit_minutes=60)) == 1
    assert domain.billable_units(29, UnitRule(unit_minutes=60)) == 0


def test_bad_rules_and_times_are_refused() -> None:
    with pytest.raises(ValueError):
        UnitRule(unit_minutes=0)
    with pytest.raises(ValueError):
        domain.billable_units(-1, UnitRule())
    with pytest.raises(ValueError, match="before the start"):
        domain.contact_minutes(datetime(2026, 1, 1, 10), datetime(2026, 1, 1, 9))
    assert domain.contact_minutes(datetime(2026, 1, 1, 10), datetime(2026, 1, 1, 10, 44, 59)) == 44


def test_no_contact_flag_after_thirty_days() -> None:
    today = date(2026, 11, 25)
    assert not domain.no_recent_contact(date(2026, 10, 26), today)  # 30 days: still fine
    assert domain.no_recent_contact(date(2026, 10, 25), today)  # 31 days
    assert domain.no_recent_contact(None, today)
    assert not domain.no_recent_contact(None, today, admitted_on=date(2026, 11, 20))  # new, not yet overdue
    assert domain.no_recent_contact(None, today, admitted_on=date(2026, 9, 1))


def test_plan_review_is_due_quarterly() -> None:
    assert domain.plan_review_due_on(date(2026, 8, 31), None) == date(2026, 11, 30)
    assert domain.plan_review_due_on(date(2026, 11, 30), None) == date(2027, 2, 28)
    assert domain.plan_review_due_on(None, date(2026, 1, 15)) == date(2026, 4, 15)
    assert not domain.plan_review_due(date(2026, 8, 31), None, date(2026, 11, 29))
    assert domain.plan_review_due(date(2026, 8, 31), None, date(2026, 11, 30))
    # A new person with no review, no admission date and no contact: nothing to count from yet (grace).
    assert not domain.plan_review_due(None, None, date(2026, 11, 30))
    # ... the clock then starts at the first contact.
    assert not domain.plan_review_due(None, None, date(2026, 11, 30), first_contact=date(2026, 9, 1))
    assert domain.plan_review_due(None, None, date(2026, 12, 1), first_contact=date(2026, 9, 1))


def test_add_months_handles_leap_years_and_year_ends() -> None:
    assert domain.add_months(date(2027, 11, 30), 3) == date(2028, 2, 29)
    assert domain.add_months(date(2026, 12, 15), 1) == date(2027, 1, 15)


@pytest.mark.parametrize(
    ("safety", "zone", "expected"),
    [
        (SafetyAnswer.NO, Zone.WELL, Escalation.NONE),
        (SafetyAnswer.NO, Zone.BREAKING_DOWN, Escalation.NONE),
        (SafetyAnswer.NO, Zone.CRISIS, Escalation.CRISIS_PLAN),
        (SafetyAnswer.YES, Zone.WELL, Escalation.URGENT),
        (SafetyAnswer.UNSURE, Zone.TRIGGERS, Escalation.URGENT),
    ],
)
def test_anything_but_a_clear_no_is_urgent(safety: SafetyAnswer, zone: Zone, expected: Escalation) -> None:
    assert domain.escalation_for(safety, zone) is expected


def test_every_zone_points_at_a_plan_section() -> None:
    assert set(domain.ZONE_SECTION) == set(Zone)


def test_vocabulary_codes_are_unique_and_labelled() -> None:
    for enum in domain.LabelledEnum.__subclasses__():
        codes = [m.value for m in enum]
        assert len(codes) == len(set(codes)), enum
        assert all(m.label and m.label != m.value for m in enum), enum
    assert domain.PeerRole("recovery_coach").label == "Recovery Coach"
    assert len(domain.ServiceCriterion) == 7


def test_no_diagnosis_field_anywhere() -> None:
    """Peer support is non-clinical: no model or table may grow a diagnosis field."""
    from fieldpeer.store import tables
    from fieldpeer import records

    fields: list[str] = []
    for module in (records, tables):
        for obj in vars(module).values():
            fields += list(getattr(obj, "model_fields", {}) or {})
    assert fields, "no models found"
    assert not [f for f in fields if "diagnos" in f.lower() or "icd" in f.lower()]


# --- Caseload flags: "who needs me today?" ----------------------------------------------------

from fieldpeer.domain import AlertState, FlagKind, PersonFacts  # noqa: E402

TODAY = date(2026, 11, 25)


def kinds(facts: PersonFacts, today: date = TODAY) -> list[FlagKind]:
    return [f.kind for f in domain.caseload_flags(facts, today)]


def words(facts: PersonFacts, today: date = TODAY) -> list[str]:
    return [f.words for f in domain.caseload_flags(facts, today)]


def test_every_flag_has_words_and_an_icon_the_app_can_draw() -> None:
    import flet as ft

    assert set(domain.FLAG_ICONS) == set(FlagKind)
    everything = PersonFacts(alert_state=AlertState.OPEN, returned_notes=2, follow_up_on=date(2026, 11, 20), last_contact=date(2026, 9, 1), first_contact=date(2026, 1, 5))
    for flag in domain.caseload_flags(everything, TODAY):
        assert flag.words and getattr(ft.Icons, flag.icon)  # never colour alone


def test_flags_come_in_the_order_of_need() -> None:
    everything = PersonFacts(alert_state=AlertState.OPEN, returned_notes=2, follow_up_on=date(2026, 10, 1), last_contact=date(2026, 9, 1), first_contact=date(2026, 1, 5))
    assert kinds(everything) == [FlagKind.SAFETY_ALERT, FlagKind.NOTES_RETURNED, FlagKind.FOLLOW_UP_DUE, FlagKind.NO_RECENT_CONTACT, FlagKind.PLAN_REVIEW_DUE]
    assert words(everything)[1] == "2 notes returned by supervisor"
    assert words(PersonFacts(returned_notes=1, last_contact=TODAY))[0] == "1 note returned by supervisor"


def test_caseload_is_sorted_by_the_most_pressing_flag_then_by_how_many() -> None:
    people = {
        "calm": PersonFacts(last_contact=TODAY, admitted_on=TODAY),
        "plan due": PersonFacts(last_contact=TODAY, admitted_on=date(2026, 1, 1)),
        "unseen, plan due": PersonFacts(last_contact=date(2026, 9, 1), admitted_on=date(2026, 1, 1)),
        "unseen": PersonFacts(last_contact=date(2026, 9, 1), admitted_on=date(2026, 9, 1)),
        "follow-up": PersonFacts(last_contact=date(2026, 11, 20), follow_up_on=TODAY, admitted_on=date(2026, 11, 1)),
        "returned": PersonFacts(returned_notes=1, last_contact=TODAY, admitted_on=TODAY),
        "following up": PersonFacts(alert_state=AlertState.ACKNOWLEDGED, last_contact=TODAY, admitted_on=TODAY),
        "alert": PersonFacts(alert_state=AlertState.OPEN, last_contact=TODAY, admitted_on=TODAY),
    }
    ranked = sorted(people, key=lambda name: domain.need_rank(domain.caseload_flags(people[name], TODAY)))
    assert ranked == ["alert", "following up", "returned", "follow-up", "unseen, plan due", "unseen", "plan due", "calm"]


def test_alert_flag_follows_the_alert_lifecycle() -> None:
    assert words(PersonFacts(alert_state=AlertState.OPEN, last_contact=TODAY)) == ["Safety alert"]
    assert words(PersonFacts(alert_state=AlertState.ACKNOWLEDGED, last_contact=TODAY)) == ["Supervisor following up"]
    assert words(PersonFacts(alert_state=None, last_contact=TODAY)) == []


def test_follow_up_is_due_on_its_day_overdue_after_and_done_by_a_contact() -> None:
    assert words(PersonFacts(follow_up_on=TODAY, last_contact=date(2026, 11, 20))) == ["Follow-up due today"]
    assert words(PersonFacts(follow_up_on=date(2026, 11, 22), last_contact=date(2026, 11, 20))) == ["Follow-up overdue by 3 days"]
    assert words(PersonFacts(follow_up_on=date(2026, 11, 24), last_contact=date(2026, 11, 20))) == ["Follow-up overdue by 1 day"]
    assert words(PersonFacts(follow_up_on=date(2026, 11, 26), last_contact=date(2026, 11, 20))) == []  # tomorrow: not yet
    assert words(PersonFacts(follow_up_on=date(2026, 11, 22), last_contact=date(2026, 11, 23))) == []  # the contact did it


def test_never_contacted_reads_no_contact_yet_and_never_contradicts_thirty_days() -> None:
    # Admitted 10 days ago, never contacted: not yet "no contact in 30 days", but not silent either.
    recent = PersonFacts(admitted_on=date(2026, 11, 15))
    assert kinds(recent) == [FlagKind.NO_CONTACT_YET] and words(recent) == ["No contact yet"]
    # Admitted 45 days ago, never contacted: overdue, said without "in 30 days" next to "never".
    overdue = PersonFacts(admitted_on=date(2026, 10, 11))
    assert kinds(overdue) == [FlagKind.NO_RECENT_CONTACT] and words(overdue) == ["No contact since admission"]
    # Contacted 31 days ago.
    assert words(PersonFacts(last_contact=date(2026, 10, 25), admitted_on=date(2026, 10, 1))) == ["No contact in 30 days"]


def test_a_new_person_without_a_plan_gets_a_grace_period() -> None:
    new = PersonFacts(admitted_on=date(2026, 11, 15), last_contact=date(2026, 11, 16), first_contact=date(2026, 11, 16))
    assert FlagKind.PLAN_REVIEW_DUE not in kinds(new)
    assert FlagKind.PLAN_REVIEW_DUE not in kinds(PersonFacts(last_contact=TODAY, first_contact=TODAY))  # no admission date
    assert FlagKind.PLAN_REVIEW_DUE not in kinds(PersonFacts(admitted_on=date(2026, 8, 26), last_contact=TODAY, first_contact=TODAY))  # a day to go
    assert FlagKind.PLAN_REVIEW_DUE in kinds(PersonFacts(admitted_on=date(2026, 8, 25), last_contact=TODAY, first_contact=TODAY))
    # A review resets the clock.
    assert FlagKind.PLAN_REVIEW_DUE not in kinds(PersonFacts(admitted_on=date(2025, 1, 1), plan_reviewed_on=date(2026, 10, 1), last_contact=TODAY))
