"""Realistic data for benchmarks: note narratives, signed notes written the way the app writes
them, and a big device profile (60 persons, 50,000 notes, one person with 1,000 timeline
entries) built once and cached in .cache/bench/ (building takes about a minute)."""

from __future__ import annotations

import random
import shutil
import statistics
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

from sqlmodel import update

from fieldpeer.domain import ContactMode, ContactSetting, Intervention, NoteStatus
from fieldpeer.store import notes, people
from fieldpeer.store.profile import Profile
from fieldpeer.store.tables import OutboxRow
from fieldpeer.store.unit_of_work import FieldStore
from fieldpeer.store.vault import DEFAULT_COST
from fieldpeer.records import ContactNote, Narrative, Person
from tests.conftest import make_peer

PIN = "482913"
CACHE = Path(__file__).resolve().parent.parent / ".cache" / "bench"
FRAGMENTS = [
    "Met at the coffee shop on Main Street as planned.",
    "We talked about the week and what went well.",
    "They shared that sleep has been better since starting the evening walk.",
    "Reviewed the goal of finding stable housing and the two listings from Monday.",
    "Practised what to say when calling the landlord, using role-play.",
    "I shared how I used a daily checklist in my own recovery.",
    "They said the bus schedule has been stressful and asked for help reading it.",
    "Looked at the recovery meeting list together and picked a Thursday group.",
    "They identified crowded places as a trigger and chose breathing as a first step.",
    "Discussed the job fair next week and what to bring.",
    "They felt hopeful and laughed about the last interview.",
    "Mentioned missing their sister and wanting to call her on Sunday.",
    "Agreed to bring the housing application to our next meeting.",
    "They were quieter than usual at first but opened up after a few minutes.",
    "Talked about managing money this month and the food bank hours.",
    "We walked to the library and signed up for a computer class.",
    "They asked about volunteering at the animal shelter.",
    "Plan to meet again Tuesday at 2 pm at the recovery center.",
    "I will call on Friday to check how the landlord call went.",
    "They will try the morning routine for three days and tell me how it felt.",
]


def narrative(rng: random.Random, visit: int, target: int = 520) -> Narrative:
    """About 1.2 KB of note JSON; the plan ends with "Visit <n>." so each note has one rare word."""
    parts: dict[str, str] = {}
    for name in ("goal", "intervention", "response", "plan"):
        text = ""
        while len(text) < target // 4:
            text += rng.choice(FRAGMENTS) + " "
        parts[name] = text.strip()
    parts["plan"] += f" Visit {visit}."
    return Narrative(**parts)


def write_signed_notes(store: FieldStore, person_of: Callable[[int], str], count: int, seed: int = 1, start: datetime = datetime(2024, 1, 1, 9)) -> int:
    """Signed notes through the app's own row, search index and outbox code, a thousand per
    transaction; returns the mean note JSON size."""
    rng = random.Random(seed)
    sizes: list[int] = []
    for first in range(0, count, 1000):
        with store.unit() as unit:
            for i in range(first, min(count, first + 1000)):
                begins = start + timedelta(minutes=17 * i)
                note = ContactNote(
                    person_id=person_of(i), peer_id=store.peer_id, starts_at=begins, ends_at=begins + timedelta(minutes=rng.choice([20, 30, 45, 60])),
                    mode=ContactMode.FACE_TO_FACE, setting=ContactSetting.COMMUNITY, service_code="H0038", units=2,
                    interventions=rng.sample(list(Intervention), 2), narrative=narrative(rng, i), status=NoteStatus.SIGNED, signed_at=unit.now, version=2,
                )
                sizes.append(len(note.model_dump_json()))
                notes.write_note(unit, note, "sign")
    return int(statistics.mean(sizes))


def build(root: Path, persons: int = 60, total_notes: int = 50_000, timeline: int = 1000) -> None:
    shutil.rmtree(root, ignore_errors=True)
    store = Profile(root).set_up(PIN, make_peer())
    ids = [people.save_person(store, Person(preferred_name=f"Person {n:02d}", strengths=["humour"], natural_supports=["a friend"])).id for n in range(persons)]
    write_signed_notes(store, lambda i: ids[0] if i < timeline else ids[1 + i % (persons - 1)], total_notes)
    with store.unit() as unit:  # synced long ago
        unit.session.execute(update(OutboxRow).values(state="sent"))
    store.close()


@contextmanager
def big_profile(persons: int = 60, total_notes: int = 50_000) -> Iterator[Profile]:
    """A fresh copy of the cached profile (built first if missing), so runs do not drift."""
    cached = CACHE / f"profile-{persons}-{total_notes}"
    if not (cached / "complete").exists():
        print(f"Building a profile with {persons} persons and {total_notes:,} notes (once) ...", flush=True)
        build(cached, persons, total_notes)
        (cached / "complete").touch()
    with tempfile.TemporaryDirectory(prefix="fieldpeer-bench-") as tmp:
        shutil.copytree(cached, Path(tmp) / "profile")
        yield Profile(Path(tmp) / "profile", cost=DEFAULT_COST)
