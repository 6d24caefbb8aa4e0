"""`[[schedules]]` parsing: valid files become frozen values, bad ones one ConfigError line."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from auditor.config import load_config
from auditor.errors import ConfigError
from auditor.schedule.config import cron_trigger, load_schedule_config

BASE = """
history = "sqlite:///h.db"
regions = ["eu-west-1"]
[[states]]
uri = "s3://b/prod.tfstate"
[[states]]
uri = "s3://b/dev.tfstate"
[[notifications]]
name = "ops"
sns_topic_arn = "arn:aws:sns:eu-west-1:123456789012:drift"
"""


def write(tmp_path: Path, schedules: str) -> Path:
    path = tmp_path / "audit.toml"
    path.write_text(BASE + schedules)
    return path


def test_a_full_schedule_is_parsed(tmp_path: Path) -> None:
    config = load_schedule_config(write(tmp_path, """
[scheduler]
misfire_grace_time = "2h"
shutdown_timeout = "30s"
[[schedules]]
name = "nightly"
cron = "0 2 * * 1-5"
timezone = "Europe/Berlin"
jitter = "2m"
states = ["s3://b/prod.tfstate"]
rules = false
notify = ["ops"]
thresholds = { drift_index = 10, failing_rules = 0 }
accounts = [{ id = "111111111111", role_arn = "arn:aws:iam::111111111111:role/a" }]
"""))
    job = config.job("nightly")
    assert (config.misfire_grace_time, config.shutdown_timeout) == (7200.0, 30.0)
    assert job.jitter == 120 and job.notify == ("ops",) and job.thresholds.drift_index == 10.0
    run_config = job.audit_config(config.audit)
    assert [s.uri for s in run_config.states] == ["s3://b/prod.tfstate"] and run_config.check_rules is False
    # crontab weekdays: 1-5 is Monday to Friday (APScheduler's own numbering starts at Monday = 0)
    fires = job.fire_times(datetime(2026, 12, 5, tzinfo=UTC), 5)  # a Saturday
    assert [f.strftime("%a %H:%M %Z") for f in fires] == [f"{d} 02:00 CET" for d in ("Mon", "Tue", "Wed", "Thu",
                                                                                      "Fri")]
    with pytest.raises(AttributeError):
        job.name = "x"  # type: ignore[misc]


def test_six_fields_put_seconds_first_and_sunday_is_0_and_7() -> None:
    trigger = cron_trigger("*/2 * * * * *", "UTC")
    first = trigger.get_next_fire_time(None, datetime(2026, 1, 1, 0, 0, 1, tzinfo=UTC))
    assert first == datetime(2026, 1, 1, 0, 0, 2, tzinfo=UTC)
    for expr in ("0 3 * * 0", "0 3 * * 7", "0 3 * * sun"):
        nxt = cron_trigger(expr, "UTC").get_next_fire_time(None, datetime(2026, 12, 7, tzinfo=UTC))
        assert nxt.strftime("%a") == "Sun", expr


def test_audit_run_accepts_a_file_with_schedules(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, '[[schedules]]\nname = "n"\ncron = "0 2 * * *"\n'))
    assert len(config.states) == 2


@pytest.mark.parametrize(("schedule", "message"), [
    ('name = "n"\ncron = "0 25 * * *"', "schedules[0] (n): bad cron '0 25 * * *'"),
    ('name = "n"\ncron = "0 2 * *"', "bad cron '0 2 * *': expected 5 fields"),
    ('name = "n"\ncron = "0 2 * * 9"', "bad cron"),
    ('name = "n"\ncron = "0 2 * * *"\ntimezone = "Mars/Olympus"', "unknown timezone 'Mars/Olympus'"),
    ('name = "n"\ncron = "0 2 * * *"\nstates = ["s3://b/nope.tfstate"]', "unknown state 's3://b/nope.tfstate'"),
    ('name = "n"\ncron = "0 2 * * *"\nnotify = ["pager"]', "unknown notification target 'pager'"),
    ('cron = "0 2 * * *"', "`name` is required"),
    ('name = "n"', "`cron` is required"),
    ('name = "n"\ncron = "0 2 * * *"\ncolour = "red"', "unknown key(s) colour"),
    ('name = "n"\ncron = "0 2 * * *"\njitter = "soon"', "invalid jitter 'soon'"),
    ('name = "n"\ncron = "0 2 * * *"\nthresholds = { drift_index = -1 }', "thresholds.drift_index"),
    ('name = "n"\ncron = "0 2 * * *"\naccounts = ["12"]', "12-digit account id"),
    ('name = "n"\ncron = "0 2 * * *"\naccounts = ["111111111111", "222222222222"]', "each names its `states`"),
    ('name = "n"\ncron = "0 2 * * *"\npublish = "ftp://x"', "publish must be s3://"),
])
def test_bad_schedules_are_one_line_errors(tmp_path: Path, schedule: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_schedule_config(write(tmp_path, f"[[schedules]]\n{schedule}\n"))
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_duplicate_job_names_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="duplicate name 'n'"):
        load_schedule_config(write(tmp_path, '[[schedules]]\nname = "n"\ncron = "0 2 * * *"\n'
                                             '[[schedules]]\nname = "n"\ncron = "0 3 * * *"\n'))


def test_a_target_needs_exactly_one_destination(tmp_path: Path) -> None:
    path = tmp_path / "audit.toml"
    path.write_text('[[notifications]]\nname = "x"\n')
    with pytest.raises(ConfigError, match="exactly one of sns_topic_arn and webhook_url_env"):
        load_schedule_config(path)


def test_crontab_weekday_steps_and_lists_keep_cron_meaning() -> None:
    from auditor.schedule.config import _crontab_weekdays

    assert _crontab_weekdays("*/2") == "sun,tue,thu,sat"
    assert _crontab_weekdays("1-5") == "mon,tue,wed,thu,fri"
    assert _crontab_weekdays("0,6") == "sun,sat"
    assert _crontab_weekdays("mon-fri") == "mon-fri"


def test_a_jittered_fire_time_belongs_to_its_nominal_slot() -> None:
    from auditor.schedule.config import Job
    from auditor.schedule.daemon import nominal_slot

    job = Job(name="n", cron="0 2 * * *", timezone="UTC", jitter=600)
    fired = job.trigger().get_next_fire_time(None, datetime(2026, 3, 1, 2, 0, 1, tzinfo=UTC))
    assert datetime(2026, 3, 2, 2, 0, tzinfo=UTC) <= fired <= datetime(2026, 3, 2, 2, 10, tzinfo=UTC)
    assert nominal_slot(job, fired) == datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    assert nominal_slot(job, datetime(2026, 3, 2, 2, 9, 59, tzinfo=UTC)) == datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    assert job.fire_times(datetime(2026, 3, 2, 2, 0, tzinfo=UTC), 2) == [
        datetime(2026, 3, 3, 2, 0, tzinfo=UTC), datetime(2026, 3, 4, 2, 0, tzinfo=UTC)], "strictly after"
