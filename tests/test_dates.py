"""Dates and times as people read them, in the agency's time zone, with a fixed "now"."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from fieldpeer import config
from fieldpeer.screens import dates

LA = ZoneInfo("America/Los_Angeles")
# 25 Nov 2026, 22:30 UTC = 2:30 pm in Los Angeles (PST, UTC-8).
NOW = datetime(2026, 11, 25, 22, 30, tzinfo=timezone.utc)


def test_the_agency_time_zone_comes_from_assets(tmp_path: Path) -> None:
    assert config.agency_zone() == LA  # the shipped assets/agency.json
    (tmp_path / "agency.json").write_text(json.dumps({"time_zone": "America/New_York"}))
    assert config.agency_zone(tmp_path) == ZoneInfo("America/New_York")
    assert config.agency_zone(tmp_path / "missing") == ZoneInfo("UTC")
    (tmp_path / "agency.json").write_text(json.dumps({"time_zone": "Mars/Olympus_Mons"}))
    config.agency_settings.cache_clear()
    with pytest.raises(ValidationError, match="Unknown time zone"):
        config.agency_settings(tmp_path)


def test_utc_stamps_are_shown_in_the_agency_zone_and_wall_clock_times_as_they_are() -> None:
    assert dates.when(NOW, NOW, LA) == "Today 2:30 pm"
    # 07:05 UTC on the 26th is still the 25th in Los Angeles: "today" is the agency's day.
    assert dates.when(datetime(2026, 11, 26, 7, 5, tzinfo=timezone.utc), NOW, LA) == "Today 11:05 pm"
    assert dates.today_in(LA, datetime(2026, 11, 26, 7, 5, tzinfo=timezone.utc)) == date(2026, 11, 25)
    assert dates.when(datetime(2026, 11, 24, 9, 5), NOW, LA) == "Yesterday 9:05 am"  # a contact's local time
    assert dates.when(datetime(2026, 11, 3, 12, 0), NOW, LA) == "Tue 3 Nov 12:00 pm"
    assert dates.when(datetime(2025, 11, 3, 0, 15), NOW, LA) == "Mon 3 Nov 2025 12:15 am"


def test_day_words_and_days_ago() -> None:
    today = date(2026, 11, 25)
    assert [dates.day_words(date(2026, 11, d), today) for d in (25, 24, 26, 3)] == ["Today", "Yesterday", "Tomorrow", "Tue 3 Nov"]
    assert dates.days_ago(date(2026, 10, 31), today) == "25 days ago"
    assert dates.days_ago(date(2026, 11, 28), today) == "in 3 days"
    assert dates.last_contact_words(date(2026, 10, 31), today) == "Last contact 25 days ago"
    assert dates.last_contact_words(today, today) == "Last contact today"
    assert dates.last_contact_words(None, today) == "No contact yet"


def test_durations_and_countdowns() -> None:
    assert [dates.duration(m) for m in (0, 40, 60, 65, 150)] == ["0 min", "40 min", "1 h", "1 h 5 min", "2 h 30 min"]
    assert [dates.countdown(s) for s in (27, 26.2, 0.4, 120, 600)] == ["0:27", "0:27", "0:01", "2:00", "10:00"]


def test_the_unlock_line_counts_down_then_warns_about_erasing() -> None:
    assert dates.pin_line(10, 0) == ""  # no wrong PIN yet: nothing to say
    assert dates.pin_line(8, 0) == "Wrong PIN. 8 tries left before FieldPeer erases its data on this phone."
    assert dates.pin_line(1, 0) == "Wrong PIN. 1 try left before FieldPeer erases its data on this phone."
    assert dates.pin_line(5, 26.4) == "Try again in 0:27"


def test_a_phone_without_time_zone_data_still_opens_and_uses_its_own_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_database(name: str) -> ZoneInfo:
        raise config.ZoneInfoNotFoundError(name)

    monkeypatch.setattr(config, "ZoneInfo", no_database)
    monkeypatch.setattr(config, "available_timezones", set)
    settings = config.AgencySettings(time_zone="America/Los_Angeles")  # accepted: nothing to check it against
    assert settings.zone.utcoffset(datetime(2026, 11, 25)) == datetime.now().astimezone().utcoffset()


def test_caseload_lines_say_how_long_since_when_due_and_the_latest_try() -> None:
    today = date(2026, 11, 25)
    assert dates.no_contact_for(date(2026, 10, 5), today) == "No contact for 51 days"
    assert dates.no_contact_for(date(2026, 11, 24), today) == "No contact for 1 day"
    assert dates.plan_review_words(date(2026, 10, 3), today) == "Plan review due since 3 Oct"
    assert dates.plan_review_words(date(2025, 10, 3), today) == "Plan review due since 3 Oct 2025"
    assert dates.plan_review_words(today, today) == "Plan review due today"
    assert dates.tried_words(datetime(2026, 11, 25, 9, 5), "No answer", today) == "Tried today: no answer"
    assert dates.tried_words(datetime(2026, 11, 22, 16, 0), "Left a message", today) == "Tried 3 days ago: left a message"
