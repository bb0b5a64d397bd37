"""Agency-configurable lists (service codes with unit rules, crisis lines) and settings (time zone) from ``assets/``."""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime, tzinfo
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import BaseModel, Field, field_validator

from fieldpeer.domain import UnitRounding, UnitRule

log = logging.getLogger("fieldpeer.config")
ASSETS = Path(os.environ.get("FIELDPEER_ASSETS", Path(__file__).resolve().parent.parent / "assets"))


class ServiceCode(BaseModel):
    code: str
    label: str
    unit_minutes: int = Field(15, gt=0)
    rounding: UnitRounding = UnitRounding.MIDPOINT
    daily_cap: int | None = None

    @property
    def rule(self) -> UnitRule:
        return UnitRule(self.unit_minutes, self.rounding, self.daily_cap)


class ServiceCatalog(BaseModel):
    phone_default: str
    codes: list[ServiceCode]

    def get(self, code: str) -> ServiceCode | None:
        return next((c for c in self.codes if c.code == code), None)


class CrisisLine(BaseModel):
    name: str
    phone: str
    text: str = ""
    note: str = ""


@lru_cache
def service_catalog(assets: Path = ASSETS) -> ServiceCatalog:
    return ServiceCatalog.model_validate(json.loads((assets / "service_codes.json").read_text()))


@lru_cache
def crisis_lines(assets: Path = ASSETS) -> tuple[CrisisLine, ...]:
    data = json.loads((assets / "crisis_lines.json").read_text())
    return tuple(CrisisLine.model_validate(line) for line in data["lines"])


class AgencySettings(BaseModel):
    """The agency's own settings (assets/agency.json): its time zone names "today" and every time shown."""

    time_zone: str = "UTC"

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except ZoneInfoNotFoundError as exc:
            if available_timezones():  # a tz database is here and does not know the name: a typo
                raise ValueError(f"Unknown time zone {name!r} in agency.json.") from exc
        except ValueError as exc:
            raise ValueError(f"Unknown time zone {name!r} in agency.json.") from exc
        return name

    @property
    def zone(self) -> tzinfo:
        """The agency's zone. A phone whose Python has no tz database (Android ships none in the
        IANA layout, unless the `tzdata` package is bundled) falls back to the device's own zone."""
        try:
            return ZoneInfo(self.time_zone)
        except ZoneInfoNotFoundError:
            log.warning("no time zone data on this device: showing times in the device's zone")
            return datetime.now().astimezone().tzinfo or UTC


@lru_cache
def agency_settings(assets: Path = ASSETS) -> AgencySettings:
    """The agency's settings; defaults (UTC) when the file is absent."""
    path = assets / "agency.json"
    return AgencySettings.model_validate(json.loads(path.read_text())) if path.exists() else AgencySettings()


def agency_zone(assets: Path = ASSETS) -> tzinfo:
    """The agency's time zone (e.g. America/Los_Angeles), for "today" and for showing times."""
    return agency_settings(assets).zone
