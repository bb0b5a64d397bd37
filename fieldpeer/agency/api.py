"""Kept so older imports work: the app factory is agency/app.py, the settings agency/settings.py,
the routes agency/routes/ (one module per area)."""

from fieldpeer.agency.app import create_app
from fieldpeer.agency.settings import AgencySettings

__all__ = ["AgencySettings", "create_app"]
