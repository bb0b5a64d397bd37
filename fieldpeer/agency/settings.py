"""How an agency server runs: one frozen settings object (pydantic-settings), every field also an
environment variable FIELDPEER_AGENCY_SETTING_<NAME> (any case), and its round trip through those
variables (uvicorn's worker processes build their app from an import string, not from an object).

`AgencySettings()` reads the process environment; keyword arguments (the command line's flags) win
over it, and a field in neither keeps its default. A value that cannot be right (a negative limit,
an unknown time zone, a TLS file that is not there) is refused when the settings are built, with
one line saying which variable and why (`settings_error`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from fieldpeer import config

ENV_PREFIX = "FIELDPEER_AGENCY_SETTING_"

# Set while `from_env` builds settings from a given mapping: the process environment is not read then.
_MAPPING_ONLY: ContextVar[bool] = ContextVar("fieldpeer_agency_settings_mapping_only", default=False)


def _shipped_zone() -> str:
    """The agency's zone from assets/agency.json (config.agency_zone's name), UTC when there is none."""
    return config.agency_settings().time_zone


class SettingsError(ValueError):
    """Settings that cannot be used; the message is one line naming the variable and the reason."""


class AgencySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, case_sensitive=False, frozen=True, extra="ignore", validate_default=True)

    db_url: str = Field("sqlite:///agency-data/agency.db", min_length=1, description="database URL: sqlite:///path or postgresql+psycopg://user@host/db (may hold a password: never logged)")
    key_dir: Path = Field(Path("agency-data/keys"), description="folder of the agency key pair, outside the database (back it up with the database)")
    time_zone: str = Field(default_factory=_shipped_zone, description='the agency\'s IANA time zone: its "today" and every time on the supervisor\'s pages (default: assets/agency.json)')
    tls_cert: Path | None = Field(None, description="serve HTTPS with this certificate chain (PEM); `serve --tls-cert` wins over it")
    tls_key: Path | None = Field(None, description="the certificate's private key (PEM); `serve --tls-key` wins over it")
    max_body_bytes: int = Field(16 * 1024 * 1024, gt=0, description="largest push request body (gzip'd sealed batch)")
    token_idle_days: float = Field(90.0, gt=0, description="a device that has not synced for this long must enrol again")
    # A batch unpacked: phones send at most 4 MiB of record JSON (plus one record) per batch.
    max_push_plaintext: int = Field(8 * 1024 * 1024, gt=0, description="largest batch once unsealed and unzipped")
    parse_workers: int = Field(2, ge=1, description="batches unsealed and validated at once, each in a worker thread")
    refusal_log_seconds: float = Field(60.0, ge=0, description="unknown callers' refusals: one access-log row per action per window")
    # The supervisor and administrator pages (agency/web_sessions.py).
    session_idle_minutes: float = Field(30.0, gt=0, description="a signed-in browser left alone this long signs in again")
    session_max_hours: float = Field(8.0, gt=0, description="and after this long whatever it does")
    credential_days: float = Field(180.0, gt=0, description="a supervisor's or administrator's token expires; `rotate-token` issues a new one")
    # Rate limits per process (agency/rate_limits.py): a burst of this many, refilled over a minute.
    sign_in_per_minute: int = Field(30, ge=1, description="sign-in attempts per client address, per minute")
    enrol_per_minute: int = Field(60, ge=1, description="enrolment attempts per client address, per minute (an office enrolling many phones is one address)")
    enrol_code_attempts: int = Field(5, ge=1, description="wrong-or-right attempts per enrolment code, per minute")
    unauthenticated_per_minute: int = Field(600, ge=1, description="other requests before a caller is known, per address, per minute")
    max_form_bytes: int = Field(64 * 1024, gt=0, description="largest request body on every route but the push (max_body_bytes)")

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {name!r} (an IANA name such as America/Los_Angeles)") from exc
        return name

    @model_validator(mode="after")
    def _tls_files(self) -> AgencySettings:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError(f"TLS needs both the certificate and its key ({ENV_PREFIX}TLS_CERT and {ENV_PREFIX}TLS_KEY, or --tls-cert and --tls-key)")
        for what, name, path in (("certificate", "TLS_CERT", self.tls_cert), ("key", "TLS_KEY", self.tls_key)):
            if path is not None and not path.is_file():
                raise ValueError(f"no TLS {what} file at {path} (--tls-{name[4:].lower()} or {ENV_PREFIX}{name})")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Arguments first, then the environment; no .env file or secrets folder is read.
        return (init_settings,) if _MAPPING_ONLY.get() else (init_settings, env_settings)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @property
    def tls(self) -> tuple[Path, Path] | None:
        return (self.tls_cert, self.tls_key) if self.tls_cert is not None and self.tls_key is not None else None

    def as_env(self) -> dict[str, str]:
        """Every setting as an environment variable (the database URL may hold a password: the
        variables go to the server's own worker processes only, never to a log). Unset (None)
        settings are left out, so they read back as unset."""
        return {f"{ENV_PREFIX}{name.upper()}": str(value) for name, value in self if value is not None}

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> AgencySettings:
        """The settings `as_env` wrote (names in any case); a variable that is missing keeps its
        default. Given a mapping other than os.environ, only that mapping is read."""
        if env is os.environ:
            return load()
        values = {key[len(ENV_PREFIX) :].lower(): value for key, value in env.items() if key.upper().startswith(ENV_PREFIX)}
        with _mapping_only():
            return load(**{name: value for name, value in values.items() if name in cls.model_fields})


@contextmanager
def _mapping_only() -> Iterator[None]:
    token = _MAPPING_ONLY.set(True)
    try:
        yield
    finally:
        _MAPPING_ONLY.reset(token)


def settings_error(error: ValidationError) -> str:
    """A validation error as one line: each variable's name and what is wrong with it (never its value's secrets: only the reason)."""
    problems = []
    for e in error.errors(include_input=False, include_url=False):
        reason = str(e["msg"]).removeprefix("Value error, ")
        problems.append(f"{ENV_PREFIX}{str(e['loc'][0]).upper()}: {reason}" if e["loc"] else reason)
    return "Bad agency setting: " + "; ".join(problems) + "."


def load(**overrides: Any) -> AgencySettings:
    """The settings from the environment with `overrides` (command-line flags) winning; SettingsError in one line if any is bad."""
    try:
        return AgencySettings(**overrides)
    except ValidationError as error:
        raise SettingsError(settings_error(error)) from None


def default(name: str) -> Any:
    """A field's built-in default (for --help), whatever the environment says."""
    return AgencySettings.model_fields[name].get_default(call_default_factory=True)
