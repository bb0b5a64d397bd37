"""Matching persons served with a peer of similar experience (seed 000: "Matching persons served
with a Peer/PSP/Coach with similar experiences whenever possible").

Pure rules: the role track the person wishes for, the lived-experience tags a peer chose to share
that the person asked for, then the smaller caseload. The tags are plain words from the agency's
fixed list (assets/experience_tags.json), never a diagnosis.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache

from fieldpeer.config import ASSETS
from fieldpeer.domain import PeerRole

MAX_CASELOAD = 30  # a suggestion above this many persons is still listed, marked as full


@dataclass(frozen=True)
class ExperienceTag:
    code: str
    label: str


@lru_cache(maxsize=1)
def experience_tags() -> tuple[ExperienceTag, ...]:
    """The agency's list, in its order (assets/experience_tags.json)."""
    data = json.loads((ASSETS / "experience_tags.json").read_text(encoding="utf-8"))
    return tuple(ExperienceTag(t["code"], t["label"]) for t in data["tags"])


def known_tags(codes: object) -> list[str]:
    """Only codes on the agency's list, in the list's order (what a form or a JSON column may hold)."""
    wanted = set(codes) if isinstance(codes, (list, tuple, set, frozenset)) else set()
    return [t.code for t in experience_tags() if t.code in wanted]


def tag_labels(codes: list[str]) -> list[str]:
    labels = {t.code: t.label for t in experience_tags()}
    return [labels[c] for c in codes if c in labels]


@dataclass(frozen=True)
class Wish:
    """What the person asked for in their peer: a role track (None: no preference) and experience."""

    role: PeerRole | None
    experience: frozenset[str]


@dataclass(frozen=True)
class Candidate:
    peer_id: str
    name: str
    role: PeerRole
    experience: frozenset[str]
    caseload: int
    active: bool = True


@dataclass(frozen=True)
class Suggestion:
    peer_id: str
    name: str
    role: PeerRole
    role_fits: bool  # the wished role track, or no preference
    shared: tuple[str, ...]  # tag codes both chose, in the agency list's order
    caseload: int
    full: bool

    @property
    def reason(self) -> str:
        """One line a person reads: why this peer is suggested."""
        parts = [self.role.label if self.role_fits else f"{self.role.label} (not the role asked for)"]
        labels = tag_labels(list(self.shared))
        parts.append("shares: " + ", ".join(labels) if labels else "no shared experience listed")
        parts.append(f"{self.caseload} on caseload" + (" (full)" if self.full else ""))
        return "; ".join(parts)


def rank_peers(wish: Wish, candidates: list[Candidate], max_caseload: int = MAX_CASELOAD) -> list[Suggestion]:
    """Active peers, best match first: the wished role track, then room on the caseload (full ones
    last), then more shared experience, then the smaller caseload, then by name."""
    order = [t.code for t in experience_tags()]
    found = []
    for c in candidates:
        if not c.active:
            continue
        shared = tuple(code for code in order if code in wish.experience and code in c.experience)
        found.append(Suggestion(c.peer_id, c.name, c.role, wish.role is None or c.role is wish.role, shared, c.caseload, c.caseload >= max_caseload))
    return sorted(found, key=lambda s: (not s.role_fits, s.full, -len(s.shared), s.caseload, s.name.casefold(), s.peer_id))
