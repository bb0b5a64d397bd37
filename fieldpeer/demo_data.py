"""A fictional agency, peer and caseload for the demo. Every name here is invented."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from fieldpeer.domain import ContactMode, ContactSetting, Intervention, PeerRole, RecoveryStage, ServiceCriterion, WrapSection
from fieldpeer.records import ContactNote, CrisisPlan, Goal, Narrative, PeerProfile, Person, Supporter, WrapPlan, WrapPlanSection

if TYPE_CHECKING:
    from fieldpeer.store.unit_of_work import FieldStore

DEMO_PIN = "246810"
DEMO_AGENCY = "Lakeside Community Recovery (fictional)"

FIRST_NAMES = [
    "Avery", "Blake", "Casey", "Dana", "Emery", "Finley", "Gray", "Harper", "Indigo", "Jordan",
    "Kai", "Logan", "Morgan", "Noel", "Oakley", "Parker", "Quinn", "Reese", "Sage", "Tatum",
]
LAST_INITIALS = "ABCDEFGHJKLMNPRSTVWY"

GOALS = [
    "Move into my own apartment by spring",
    "Go back to community college part-time",
    "Reconnect with my sister",
    "Attend two recovery meetings a week",
    "Find a part-time job I enjoy",
    "Keep my appointments without reminders",
    "Build a morning routine that keeps me steady",
    "Get my driver's licence back",
]
STRENGTHS = ["Sense of humour", "Loves to cook", "Good with people", "Persistent", "Creative", "Knows the bus system", "Caring parent"]
SUPPORTS = ["Sister", "Neighbour", "Church friend", "AA sponsor", "Cousin", "Former co-worker"]


def demo_peer() -> PeerProfile:
    return PeerProfile(id="peer-demo-0001", name="Riley Demo", role=PeerRole.RECOVERY_COACH, credentials="CPRC", agency_name=DEMO_AGENCY)


def demo_caseload(today: date, count: int = 20, seed: int = 7) -> list[Person]:
    rng = random.Random(seed)
    people: list[Person] = []
    for i in range(count):
        admitted = today - timedelta(days=rng.randint(20, 400))
        reviewed = admitted + timedelta(days=rng.randint(0, max(0, (today - admitted).days)))
        people.append(
            Person(
                id=f"person-demo-{i + 1:04d}",
                preferred_name=f"{FIRST_NAMES[i % len(FIRST_NAMES)]} {LAST_INITIALS[(i * 7) % len(LAST_INITIALS)]}.",
                recovery_stage=rng.choice(list(RecoveryStage)),
                strengths=rng.sample(STRENGTHS, 2),
                goals=[Goal(id=f"goal-{i + 1:04d}-{g}", text=text) for g, text in enumerate(rng.sample(GOALS, 2))],
                natural_supports=rng.sample(SUPPORTS, 2),
                service_criterion=rng.choice(list(ServiceCriterion)),
                admitted_on=admitted,
                plan_reviewed_on=reviewed,
                part2=rng.random() < 0.4,
                phone=f"555-01{50 + i:02d}" if i % 2 == 0 else "",  # 555-0100..0199: reserved for fiction
            )
        )
    return people


def demo_plan(person: Person) -> WrapPlan:
    return WrapPlan(
        person_id=person.id,
        sections={
            WrapSection.WELLNESS_TOOLBOX: WrapPlanSection(items=["Walk by the lake", "Call my sister", "Cook a real meal"]),
            WrapSection.DAILY_MAINTENANCE: WrapPlanSection(items=["Talkative, up by 8", "Eats breakfast"], actions=["Take a walk", "Check in with a friend"]),
            WrapSection.TRIGGERS: WrapPlanSection(items=["Money worries", "Crowded buses", "Anniversaries"], actions=["Breathing exercise", "Call my peer"]),
            WrapSection.EARLY_WARNING_SIGNS: WrapPlanSection(items=["Not sleeping", "Skipping meals"], actions=["Tell my sister", "Go to a meeting"]),
            WrapSection.BREAKING_DOWN: WrapPlanSection(items=["Staying in bed all day", "Not answering the phone"], actions=["Call the warm line", "Ask a supporter to visit"]),
            WrapSection.POST_CRISIS: WrapPlanSection(items=["Rest for a few days"], actions=["Slowly return to routine"]),
        },
        crisis_plan=CrisisPlan(
            supporters=[Supporter(name="Sister (fictional)", phone="555-0142", relationship="Sister", should_do="Stay with me", should_not_do="Lecture me")],
            preferred_treatments=["Crisis residential unit close to home"],
            refused_treatments=["Being taken far from my town"],
            medications=["As I listed them with my prescriber"],
        ),
    )


def demo_history(person: Person, today: date, seed: int) -> list[dict[str, object]]:
    """A few past contacts: keyword arguments for ContactNote (without ids)."""
    rng = random.Random(seed)
    visits: list[dict[str, object]] = []
    for _ in range(rng.randint(0, 4)):
        day = today - timedelta(days=rng.randint(1, 60))
        start = datetime.combine(day, time(rng.randint(9, 16), rng.choice([0, 15, 30])))
        visits.append(
            dict(
                person_id=person.id,
                starts_at=start,
                ends_at=start + timedelta(minutes=rng.choice([20, 30, 45, 60])),
                mode=rng.choice([ContactMode.FACE_TO_FACE, ContactMode.FACE_TO_FACE, ContactMode.TELEPHONE]),
                setting=rng.choice([ContactSetting.COMMUNITY, ContactSetting.HOME, ContactSetting.RECOVERY_CENTER]),
                service_code="H0038",
                interventions=rng.sample(list(Intervention), 2),
                goal_ids=[person.goals[0].id] if person.goals else [],
                narrative=Narrative(
                    goal=person.goals[0].text if person.goals else "",
                    intervention="Talked through the week and practised asking for help.",
                    response="Engaged, said the plan felt doable.",
                    plan="Meet again next week at the library.",
                ),
            )
        )
    return visits


def seed_history(store: FieldStore, today: date, *, add_people: bool) -> None:
    """Give a device the demo caseload's WRAPs and signed past contacts (and the persons, when
    no agency sent them). Written through the store services, so all of it is encrypted."""
    from fieldpeer.store import notes, people, wrap  # the store imports records, not this module

    for index, person in enumerate(demo_caseload(today)):
        if add_people:
            people.save_person(store, person)
        wrap.save_wrap_plan(store, demo_plan(person), based_on_version=None)
        for visit in demo_history(person, today, seed=index):
            notes.sign_note(store, notes.save_draft(store, ContactNote(**visit)).id)
