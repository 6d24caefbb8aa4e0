"""`audit schedule run|list|check|once`: the scheduler's commands (registered in auditor/cli.py)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from auditor.errors import AuditError, ConfigError, ExitCode

DEFAULT_CONFIG = Path("audit.toml")
STANDBY_POLL_SECONDS = 1.0

_config_option = click.option("--config", "config_path", default=None, metavar="FILE|ssm:/NAME|s3://BUCKET/KEY",
                              help="audit.toml with [[schedules]]: a file (default ./audit.toml), an SSM "
                                   "parameter (SecureString decrypted) or an S3 object.")


@click.group("schedule")
def schedule_group() -> None:
    """Scheduled audits: the jobs in audit.toml's [[schedules]], recorded in the history database."""


def _config(config_path: str | None) -> Any:
    from auditor.schedule.config import load_schedule_config

    config = load_schedule_config(config_path or DEFAULT_CONFIG)
    if not config.jobs:
        raise ConfigError(f"{config.source}: no [[schedules]] defined")
    return config


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<history url>"


@contextmanager
def _history(url: str | None) -> Iterator[Any]:
    """The history store, checked to answer now (an unreachable database is a one-line error)."""
    from auditor.history import open_history

    try:
        history = open_history(url)
        if history.sqlalchemy_url:
            from sqlalchemy import create_engine, text

            engine = create_engine(history.sqlalchemy_url)
            try:
                with engine.connect() as conn:
                    conn.execute(text("SELECT 1"))
            finally:
                engine.dispose()
    except AuditError:
        raise
    except Exception as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(f"history database {_safe_url(url or 'default')} is unreachable: {reason}") from None
    try:
        yield history
    finally:
        history.close()


def _context(config: Any, history: Any, store_url: str) -> Any:
    from auditor.aws import Aws, AwsSettings
    from auditor.schedule.runner import RunContext
    from auditor.schedule.store import ScheduleStore

    aws = Aws(AwsSettings(profile=config.audit.profile,
                          region=config.audit.regions[0] if config.audit.regions else None))
    return RunContext.local(config, history, ScheduleStore(store_url), aws)


@schedule_group.command("run")
@_config_option
@click.option("--metrics-port", type=click.IntRange(0, 65535), default=None,
              help="Serve Prometheus metrics on this port.")
@click.option("--metrics-host", default="0.0.0.0", show_default=True, help="Address the metrics are served on.")
@click.option("--standby", is_flag=True,
              help="If another scheduler leads on this job store, wait and take over when it dies.")
def run_cmd(config_path: str | None, metrics_port: int | None, metrics_host: str, standby: bool) -> None:
    """Run the scheduler in the foreground until SIGTERM/SIGINT (then the running audit finishes, exit 0)."""
    from auditor.schedule import jsonlog
    from auditor.schedule.daemon import serve, stop_on_signals
    from auditor.schedule.lock import leader_lock

    config = _config(config_path)
    with _history(config.history) as history:
        url = history.sqlalchemy_url
        if not url:
            raise ConfigError("the history store is not an SQL database: the scheduler's job store lives in it",
                              "set `history` to a sqlite:/// or postgresql:// URL")
        lock = leader_lock(url)
        jsonlog.install()
        with stop_on_signals() as stop:
            if not lock.try_acquire():
                if not standby:
                    raise ConfigError(f"another scheduler is active on this job store ({lock.holder()})",
                                      "stop it first, or start this one with --standby")
                import logging

                logging.getLogger("auditor.schedule").info("standby: waiting to lead",
                                                           extra={"holder": lock.holder()})
                while not lock.try_acquire():
                    if stop.wait(STANDBY_POLL_SECONDS):
                        sys.exit(int(ExitCode.CLEAN))
            try:
                code = serve(_context(config, history, url), lock, url, stop, metrics_port, metrics_host)
            finally:
                lock.release()
    sys.exit(code)


@schedule_group.command("once")
@click.argument("name")
@_config_option
def once_cmd(name: str, config_path: str | None) -> None:
    """Run job NAME now, exactly as the daemon would (for cron, systemd timers, CronJobs, EventBridge).

    Exits like `audit run`: 0 clean, 1 failed or incomplete, 2 drift or failing rules."""
    from auditor.schedule import jsonlog
    from auditor.schedule.runner import run_job

    config = _config(config_path)
    config.job(name)
    with _history(config.history) as history:
        from auditor.schedule.store import default_store_url

        ctx = _context(config, history, history.sqlalchemy_url or default_store_url())
        jsonlog.install()
        summary = run_job(ctx, name, trigger="schedule")
        ctx.notifier.close(timeout=60)
        ctx.store.close()
    sys.exit(summary.exit_code)


@schedule_group.command("list")
@_config_option
@click.option("--count", default=3, show_default=True, type=click.IntRange(1, 100), help="Fire times per job.")
def list_cmd(config_path: str | None, count: int) -> None:
    """Each job, its schedule and its next fire times."""
    _print_jobs(_config(config_path), count)


@schedule_group.command("check")
@_config_option
def check_cmd(config_path: str | None) -> None:
    """Validate the config (and that the history database answers); print the next 5 fire times per job."""
    config = _config(config_path)
    with _history(config.history):
        pass
    _print_jobs(config, 5)
    click.echo(f"ok: {len(config.jobs)} schedule(s), history {_safe_url(config.history or 'default')}")


def _print_jobs(config: Any, count: int) -> None:
    now = datetime.now(UTC)
    for job in config.jobs:
        extras = [f"jitter {job.jitter}s"] if job.jitter else []
        if job.accounts:
            extras.append(f"{len(job.accounts)} account(s)")
        if job.notify:
            extras.append(f"notify {', '.join(job.notify)}")
        click.echo(f"{job.name}  cron \"{job.cron}\" {job.timezone}" + (f"  ({'; '.join(extras)})" if extras else ""))
        for when in job.fire_times(now, count):
            click.echo(f"  {when.isoformat()}  ({when.astimezone(UTC).strftime('%Y-%m-%d %H:%M:%S')} UTC, "
                       f"in {_until(when, now)})")


def _until(when: datetime, now: datetime) -> str:
    seconds = int((when - now).total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    return (f"{days}d " if days else "") + f"{hours}h{rest // 60:02d}m" if seconds >= 60 else f"{seconds}s"

