"""Realistic data for benchmarks: note narratives, signed notes written the way the app writes
them, and a big device profile (60 persons, 50,000 notes, one person with 1,000 timeline
entries) built once and cached in .cache/bench/ (building takes about a minute)."""

from __future__ import annotations

import random
import re
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


def write_signed_notes(
    store: FieldStore, person_of: Callable[[int], str], count: int, seed: int = 1, start: datetime = datetime(2024, 1, 1, 9), narrate: Callable[[random.Random, int], Narrative] | None = None
) -> int:
    """Signed notes through the app's own row, search index and outbox code, a thousand per
    transaction; returns the mean note JSON size. `narrate`: narrative (default) or varied_narrative."""
    narrate = narrate or narrative
    rng = random.Random(seed)
    sizes: list[int] = []
    for first in range(0, count, 1000):
        with store.unit() as unit:
            for i in range(first, min(count, first + 1000)):
                begins = start + timedelta(minutes=17 * i)
                note = ContactNote(
                    person_id=person_of(i), peer_id=store.peer_id, starts_at=begins, ends_at=begins + timedelta(minutes=rng.choice([20, 30, 45, 60])),
                    mode=ContactMode.FACE_TO_FACE, setting=ContactSetting.COMMUNITY, service_code="H0038", units=2,
                    interventions=rng.sample(list(Intervention), 2), narrative=narrate(rng, i), status=NoteStatus.SIGNED, signed_at=unit.now, version=2,
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


# --- Varied narratives -------------------------------------------------------------------------
# A fixed set of sentences flatters gzip (500 narratives from narrative() compress 29x). Real
# notes share phrasing but differ in names, places, times, numbers and wording, so these are
# built from templates with many slots, openers and asides, and word-by-word free sentences:
# 500 of them compress 5.6x (ordinary English prose: about 3.4x; see benchmarks/README.md).

_SLOTS: dict[str, list[str]] = {
    "name": "Maria Dwayne Keisha Tom Aaliyah Luis Priya Jordan Sam Rosa Kevin Ana Marcus Tanya Eli Grace Omar Denise Ray Lena Tyrone Beth Hector Nia Carl Joy Vince Lupe Darnell Ruth".split(),
    "relation": "sister brother mother father daughter son aunt uncle cousin grandmother neighbour sponsor roommate partner ex-partner friend from church old coworker case manager".split(" "),
    "place": [
        "the coffee shop on Main Street", "the public library", "the recovery center", "their apartment", "the bus station", "the food bank on 5th",
        "the park by the river", "the diner on Elm", "the clinic lobby", "the community college", "the laundromat", "the job center", "a bench outside the courthouse",
        "the shelter on Harding Avenue", "the church basement", "the pharmacy", "the DMV office", "the housing authority", "the YMCA", "the hospital cafeteria",
    ],
    "day": "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split(),
    "time": ["9 am", "9:30", "10 am", "10:15", "11", "noon", "1 pm", "1:30", "2 pm", "2:45", "3 pm", "3:30", "4 pm", "5:15", "6 pm", "the morning", "the afternoon", "the evening"],
    "feeling": "hopeful anxious tired frustrated calm proud overwhelmed relieved discouraged motivated restless sad upbeat guarded irritable optimistic nervous steady lonely grateful".split(),
    "topic": [
        "the rent increase", "the eviction notice", "their court date", "getting an ID", "food stamps renewal", "the new medication schedule they described", "a fight with their landlord",
        "going back to school", "the GED practice test", "budgeting for the month", "a job interview at the warehouse", "the custody hearing", "their probation appointment",
        "finding a dentist", "transportation to appointments", "quitting smoking", "sleep problems", "a relapse last weekend", "ninety days clean", "the Medicaid paperwork",
        "volunteering at the shelter", "a bad phone call with family", "the utility shut-off notice", "their daughter's birthday", "a new AA home group", "moving to a sober house",
    ],
    "activity": [
        "role-played the call", "filled out the application together", "made a list of questions", "looked up bus routes", "called the office on speaker", "wrote a budget on paper",
        "practised breathing for two minutes", "reviewed their WRAP daily maintenance list", "walked around the block", "looked at listings on my phone", "drafted an email",
        "read the letter together line by line", "set reminders on their phone", "picked two meetings from the schedule", "talked through the pros and cons", "made a crisis card",
    ],
    "resource": [
        "the 211 line", "legal aid", "the tenant union", "SNAP office", "the peer-run warmline", "NA Thursday night", "SMART Recovery", "DBSA group", "vocational rehab", "the food pantry",
        "a clothing closet", "the free tax clinic", "the library computer class", "Medicaid transportation", "a sliding-scale dentist", "the county housing list",
    ],
    "obstacle": [
        "no phone minutes left", "missing their birth certificate", "a waitlist of six weeks", "the office closing early", "a bus strike", "no childcare", "a cold that kept them in",
        "losing the paperwork", "a conflict with a roommate", "a late paycheck", "forgetting the appointment", "the form being only in English",
    ],
}
_SLOTS["number"] = [str(n) for n in range(2, 60)]

_SENTENCES = [
    "Met {name} at {place} at {time} as planned.", "{name} arrived a little late and said the bus was full.", "We met at {place} because it was quieter than last time.",
    "They said they felt {feeling} about {topic}.", "{name} described the week as {feeling}, mostly because of {topic}.", "Mood seemed {feeling} at first and {feeling} by the end.",
    "We talked about {topic} for about {number} minutes.", "They brought up {topic} and wanted help with the next step.", "Most of the visit went to {topic}.",
    "Together we {activity}.", "I suggested we {activity}, and they agreed.", "They {activity} on their own before I got there, which they were proud of.",
    "I shared how I handled {topic} in my own recovery.", "I talked about a time I felt {feeling} and what helped me.", "I shared that {resource} helped me once.",
    "They mentioned their {relation} has been supportive lately.", "They want to call their {relation} on {day}.", "Things are tense with their {relation} since {topic} came up.",
    "The main barrier right now is {obstacle}.", "They could not finish it because of {obstacle}.", "We worked around {obstacle} by planning an earlier start.",
    "Gave them the number for {resource}.", "We looked into {resource} and wrote down the hours.", "They agreed to try {resource} before our next visit.",
    "Goal: {topic}, from their recovery plan.", "This ties to their goal about {topic}.", "Their plan lists {topic} as a priority for this quarter.",
    "They said it has been {number} days since {topic} last came up.", "They have saved ${number} toward the deposit.", "They walked {number} blocks to meet me.",
    "Next visit {day} at {time} at {place}.", "I will call on {day} around {time} to check in about {topic}.", "They will bring the papers for {topic} on {day}.",
    "They will try {activity_short} every day until {day}.", "Plan: follow up on {resource} and {topic}.", "If things get harder they will call {resource} or their {relation}.",
]
_SLOTS["activity_short"] = ["the evening walk", "the morning routine", "writing three good things", "the breathing exercise", "calling a support", "the budget sheet", "going to one meeting"]
_SLOTS["opener"] = [
    "", "", "", "Today ", "At first ", "Later ", "Near the end ", "Before we left ", "Over lunch ", "While we waited ", "On the walk back ", "Early on ", "Again ",
    "Honestly ", "By then ", "After a pause ", "When I asked ", "Without prompting ", "For the first time ", "As usual ", "Once settled ",
]
_SLOTS["detail"] = [
    "", "", "", " which surprised me", " and laughed about it", " though it took a while", " and seemed relieved", " before changing the subject", " in their own words",
    " more than once", " with some hesitation", " and asked what I thought", " without much detail", " and then went quiet", " and wrote it down", " after some thought",
    " for the second week in a row", " even though it was raining", " while we sat outside", " and thanked me", " but did not want to go further", " and made a joke about it",
]
# Free sentences, word by word: what makes real notes differ from each other.
_SLOTS["who"] = "They|{name}|We|I|Their case manager|The landlord|Their counselor|The receptionist|Their {relation}|The caseworker|Everyone|The group|{name}'s {relation}".split("|")
_SLOTS["did"] = (
    "talked about|worried about|asked about|brought up|joked about|complained about|explained|described|remembered|forgot|mentioned|questioned|avoided|planned|"
    "looked forward to|pushed back on|agreed with|struggled with|celebrated|practised|skipped|rescheduled|finished|started|reread|signed|printed|lost|found|paid|"
    "applied for|waited for|prepared for|cried about|laughed about|thought about|wrote down|called about|texted about|argued about|followed up on|dropped off"
).split("|")
_SLOTS["what"] = (
    "the lease|a voucher|the paperwork|a phone bill|the deposit|bus fare|a resume|the cover letter|a hoodie|groceries|the prescription|an old friend|the weekend|a meeting|"
    "the court letter|the rent|a coupon|the schedule|a new shelter bed|the waitlist|their sponsor|a counseling intake|the food card|a bike|school forms|child support|"
    "the intake form|a pay stub|the insurance card|a library card|a reference letter|a missed call|the interview outfit|their savings|a birthday card|the ride|the keys|"
    "a storage unit|back pay|a parking ticket|the fridge|church on Sunday|the tenant meeting|a cooking class|the uniform|the hearing|their dog|the shift schedule"
).split("|")
_SLOTS["how"] = (
    "slowly|quickly|quietly|openly|briefly|in detail|twice|again|carefully|with a smile|with some anger|with tears|at length|in passing|eventually|reluctantly|"
    "calmly|cheerfully|nervously|angrily|proudly|sheepishly|on their own|with my help|over coffee|after lunch|before the bus came|on the phone|by text|in the lobby"
).split("|")
_SLOTS["when"] = ["", "", "", " on {month}/{date}", " at {hour}:{minute}", " around {hour}:{minute}", " by {month}/{date}", " last {day}", " since {month}/{date}", " for ${number}.{minute}"]
_SLOTS["month"] = [str(n) for n in range(1, 13)]
_SLOTS["date"] = [str(n) for n in range(1, 29)]
_SLOTS["hour"] = [str(n) for n in range(1, 13)]
_SLOTS["minute"] = [f"{n:02d}" for n in range(60)]
_SENTENCES += ["{who} {did} {what}{when} {how}."] * 50 + ["{who} {did} {what} and {what}{when} {how}."] * 25 + ["{who} {did} {what}{when}, then {did} {what} {how}."] * 25
_LOWER_FIRST = {"They", "We", "The", "Their", "Things", "Together", "Most", "Mood", "This", "If", "Gave", "Next", "Everyone", "Met"}
_WORDS = re.compile(r"{(\w+)}")


def varied_narrative(rng: random.Random, visit: int, target: int = 470) -> Narrative:
    """About 1.2 KB of note JSON, like narrative(), but varying like real notes do."""
    parts: dict[str, str] = {}
    for name in ("goal", "intervention", "response", "plan"):
        text = ""
        while len(text) < target // 4:
            sentence = rng.choice(_SENTENCES)
            while "{" in sentence:  # slots may hold slots
                sentence = _WORDS.sub(lambda m: rng.choice(_SLOTS[m.group(1)]), sentence)
            opener, detail = rng.choice(_SLOTS["opener"]), rng.choice(_SLOTS["detail"])
            if opener:
                first = sentence.split(" ", 1)[0]
                sentence = opener.rstrip() + ", " + (sentence[0].lower() + sentence[1:] if first in _LOWER_FIRST else sentence)
            text += sentence[:-1] + detail + sentence[-1] + " "
        parts[name] = text.strip()
    parts["plan"] += f" Visit {visit}."
    return Narrative(**parts)
