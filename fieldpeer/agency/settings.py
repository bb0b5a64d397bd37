"""How an agency server runs: one frozen settings object, and its round trip through environment
variables (uvicorn's worker processes build their app from an import string, not from an object)."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ENV_PREFIX = "FIELDPEER_AGENCY_SETTING_"


@dataclass(frozen=True)
class AgencySettings:
    db_url: str = "sqlite:///agency-data/agency.db"
    key_dir: Path = field(default_factory=lambda: Path("agency-data/keys"))
    max_body_bytes: int = 16 * 1024 * 1024
    token_idle_days: float = 90.0  # a device that has not synced for this long must enrol again
    # A batch unpacked: phones send at most 4 MiB of record JSON (plus one record) per batch.
    max_push_plaintext: int = 8 * 1024 * 1024
    parse_workers: int = 2  # batches unsealed and validated at once, each in a worker thread
    refusal_log_seconds: float = 60.0  # unknown callers' refusals: one access-log row per action per window
    # The supervisor and administrator pages (agency/web_sessions.py).
    session_idle_minutes: float = 30.0  # a signed-in browser left alone this long signs in again
    session_max_hours: float = 8.0  # and after this long whatever it does
    credential_days: float = 180.0  # a supervisor's or administrator's token expires; `rotate-token` issues a new one
    # Rate limits per process (agency/rate_limits.py): a burst of this many, refilled over a minute.
    sign_in_per_minute: int = 30  # sign-in attempts per client address
    enrol_per_minute: int = 60  # enrolment attempts per client address (an office enrolling many phones is one address)
    enrol_code_attempts: int = 5  # wrong-or-right attempts per enrolment code, per minute
    unauthenticated_per_minute: int = 600  # other requests before a caller is known, per address
    max_form_bytes: int = 64 * 1024  # every route but the push (max_body_bytes)

    def as_env(self) -> dict[str, str]:
        """Every setting as an environment variable (the database URL may hold a password: the
        variables go to the server's own worker processes only, never to a log)."""
        return {f"{ENV_PREFIX}{f.name.upper()}": str(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> AgencySettings:
        """The settings `as_env` wrote; a variable that is missing keeps its default."""
        defaults = cls()
        values: dict[str, Any] = {}  # each converted to its field's type below
        for f in dataclasses.fields(cls):
            raw = env.get(f"{ENV_PREFIX}{f.name.upper()}")
            if raw is not None:
                default = getattr(defaults, f.name)
                values[f.name] = Path(raw) if isinstance(default, Path) else type(default)(raw)
        return dataclasses.replace(defaults, **values)
