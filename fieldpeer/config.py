"""Agency-configurable lists (service codes with unit rules, crisis lines) from ``assets/``."""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, Field

from fieldpeer.domain import UnitRounding, UnitRule

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
