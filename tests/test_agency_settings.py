"""Issue #13: the agency server's settings in one place (agency/settings.py, pydantic-settings),
each also an environment variable FIELDPEER_AGENCY_SETTING_<NAME>; bad values refused in one line."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from fieldpeer import config
from fieldpeer.agency import settings as agency_settings
from fieldpeer.agency.settings import ENV_PREFIX, AgencySettings, SettingsError, load
from fieldpeer.agency.times import in_zone, local_time
from tests.servers import ROOT


def test_every_setting_has_a_description_and_an_environment_variable() -> None:
    assert AgencySettings.model_config.get("env_prefix") == ENV_PREFIX == "FIELDPEER_AGENCY_SETTING_"
    for name, field in AgencySettings.model_fields.items():
        assert field.description, name
    assert {"db_url", "key_dir", "time_zone", "tls_cert", "tls_key", "max_body_bytes", "sign_in_per_minute"} <= set(AgencySettings.model_fields)


def test_environment_variables_are_read_in_any_case_and_arguments_win(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FIELDPEER_AGENCY_SETTING_DB_URL", "postgresql+psycopg://u@h:1/db")
    monkeypatch.setenv("FIELDPEER_AGENCY_SETTING_ENROL_PER_MINUTE", "250")
    monkeypatch.setenv("fieldpeer_agency_setting_time_zone", "America/New_York")
    monkeypatch.setenv("FIELDPEER_AGENCY_SETTING_KEY_DIR", str(tmp_path / "keys"))
    settings = AgencySettings()
    assert (settings.db_url, settings.enrol_per_minute, settings.time_zone, settings.key_dir) == ("postgresql+psycopg://u@h:1/db", 250, "America/New_York", tmp_path / "keys")
    assert settings.zone == ZoneInfo("America/New_York") and settings.tls is None
    assert AgencySettings.from_env() == settings  # os.environ: the same reading
    assert load(enrol_per_minute=7).enrol_per_minute == 7  # a command-line flag wins over the variable
    with pytest.raises(ValidationError):  # frozen
        settings.enrol_per_minute = 1  # type: ignore[misc]


def test_defaults_and_the_zone_from_agency_json(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in AgencySettings.model_fields:
        monkeypatch.delenv(f"{ENV_PREFIX}{name.upper()}", raising=False)
    settings = AgencySettings()
    assert settings.time_zone == config.agency_settings().time_zone == str(config.agency_zone())  # assets/agency.json
    assert (settings.db_url, settings.key_dir, settings.max_body_bytes, settings.sign_in_per_minute) == ("sqlite:///agency-data/agency.db", Path("agency-data/keys"), 16 * 1024 * 1024, 30)
    assert agency_settings.default("refusal_log_seconds") == 60.0


@pytest.mark.parametrize(
    ("name", "value", "said"),
    [
        ("MAX_BODY_BYTES", "-5", "FIELDPEER_AGENCY_SETTING_MAX_BODY_BYTES: Input should be greater than 0"),
        ("SIGN_IN_PER_MINUTE", "0", "FIELDPEER_AGENCY_SETTING_SIGN_IN_PER_MINUTE: Input should be greater than or equal to 1"),
        ("PARSE_WORKERS", "many", "FIELDPEER_AGENCY_SETTING_PARSE_WORKERS: Input should be a valid integer"),
        ("TIME_ZONE", "Mars/Olympus_Mons", "FIELDPEER_AGENCY_SETTING_TIME_ZONE: unknown time zone 'Mars/Olympus_Mons'"),
    ],
)
def test_a_bad_value_is_refused_in_one_line(monkeypatch: pytest.MonkeyPatch, name: str, value: str, said: str) -> None:
    monkeypatch.setenv(f"{ENV_PREFIX}{name}", value)
    with pytest.raises(SettingsError) as refused:
        load()
    assert said in str(refused.value) and "\n" not in str(refused.value)


def test_tls_files_must_exist_and_come_in_pairs(tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    with pytest.raises(SettingsError, match=r"no TLS certificate file at .*cert\.pem"):
        load(tls_cert=cert, tls_key=key)
    cert.write_text("pem"), key.write_text("pem")
    assert load(tls_cert=cert, tls_key=key).tls == (cert, key)
    with pytest.raises(SettingsError, match="TLS needs both"):
        load(tls_cert=cert)


def test_round_trip_through_as_env(tmp_path: Path) -> None:
    (tmp_path / "c.pem").write_text("pem"), (tmp_path / "k.pem").write_text("pem")
    settings = AgencySettings(
        db_url="postgresql+psycopg://u:secret@h:1/db", key_dir=tmp_path / "keys", token_idle_days=7.5, parse_workers=3, refusal_log_seconds=5.0,
        time_zone="Europe/Berlin", tls_cert=tmp_path / "c.pem", tls_key=tmp_path / "k.pem", enrol_code_attempts=9,
    )
    env = settings.as_env()
    assert env["FIELDPEER_AGENCY_SETTING_TIME_ZONE"] == "Europe/Berlin" and env["FIELDPEER_AGENCY_SETTING_PARSE_WORKERS"] == "3"
    assert AgencySettings.from_env(env) == settings
    assert AgencySettings.from_env({k.lower(): v for k, v in env.items()}) == settings  # names in any case
    unset = AgencySettings.from_env({})
    assert "FIELDPEER_AGENCY_SETTING_TLS_CERT" not in unset.as_env() and AgencySettings.from_env(unset.as_env()) == unset


def test_the_pages_show_times_in_the_settings_zone() -> None:
    moment = datetime(2026, 11, 3, 22, 30, tzinfo=UTC)
    with in_zone(ZoneInfo("Europe/Berlin")):
        assert local_time(moment) == "Tue 3 Nov 2026, 11:30 pm"
    assert local_time(moment, ZoneInfo("America/Los_Angeles")) == "Tue 3 Nov 2026, 2:30 pm"


@pytest.mark.parametrize(
    ("env", "flags", "said"),
    [
        ({"FIELDPEER_AGENCY_SETTING_MAX_FORM_BYTES": "-1"}, (), "FIELDPEER_AGENCY_SETTING_MAX_FORM_BYTES: Input should be greater than 0"),
        ({}, ("--tls-cert", "none.pem", "--tls-key", "none.key"), "no TLS certificate file at"),
    ],
)
def test_serve_refuses_a_bad_setting_in_one_line_not_a_traceback(tmp_path: Path, env: dict[str, str], flags: tuple[str, ...], said: str) -> None:
    run = subprocess.run(
        [sys.executable, "-c", "import sys; from fieldpeer.cli import main; sys.exit(main(sys.argv[1:]))",
         "agency", "--db", f"sqlite:///{tmp_path / 'a.db'}", "serve", "--port", "0", "--keys", str(tmp_path / "keys"), *(str(tmp_path / f) if f.endswith((".pem", ".key")) else f for f in flags)],
        cwd=ROOT, capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin", **env},
    )
    assert run.returncode == 2 and "Traceback" not in run.stderr
    line = run.stderr.strip().splitlines()[-1]
    assert line.startswith("fieldpeer agency: error: Bad agency setting:") and said in line
