"""The APScheduler 3.11 daemon, with its pitfalls handled on purpose (docs/scheduling.md):

- one active scheduler per job store (lock.py); a standby polls until it can lead;
- job_defaults: misfire_grace_time of hours (the default 1 s drops a nightly run after any
  downtime), coalesce=True (a daemon down for three nights runs once on its return, not three
  times), max_instances=1 (a run still going when the next is due: that one is skipped and counted);
- jobs with explicit ids; replaced only when their schedule changed (replacing an unchanged job
  would recompute its next run time and lose the run a restart should catch up);
- the job store in the history database (SQLAlchemyJobStore, pool_pre_ping) so a restart keeps
  next run times; APScheduler keeps no run history and lists no missed runs (#319), so every
  nominal fire time is accounted for from the events: run, skipped, or recorded as missed;
- no signal handling in APScheduler: SIGTERM/SIGINT stop new runs and wait for the running one
  (bounded by shutdown_timeout) before exiting 0.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    JobEvent,
    JobExecutionEvent,
    JobSubmissionEvent,
)
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server

from auditor.errors import AuditError, ConfigError
from auditor.report import write_atomic
from auditor.schedule.config import Job, ScheduleConfig, cron_trigger
from auditor.schedule.lock import LeaderLock
from auditor.schedule.notify import digest
from auditor.schedule.runner import RunContext, run_job
from auditor.schedule.summary import RunSummary

log = logging.getLogger("auditor.schedule")

JOB_PREFIX = "audit:"
JOBS_TABLE = "auditor_apscheduler_jobs"
DIGEST_JOB = "digest:daily"
HEARTBEAT_SECONDS = 5.0

_ACTIVE: Daemon | None = None
"""The process's daemon: APScheduler stores jobs as a reference to a module-level function."""


def send_digest() -> None:
    """The daily digest job (by reference, like run_scheduled)."""
    if _ACTIVE is None:
        raise RuntimeError("no active scheduler in this process")
    _ACTIVE.send_digest()


def run_scheduled(name: str) -> None:
    """The job function APScheduler calls (by reference, so it survives pickling into the job store)."""
    if _ACTIVE is None:
        raise RuntimeError("no active scheduler in this process")
    _ACTIVE.run(name)


class Metrics:
    """Prometheus metrics of the daemon, in a registry of its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.last_run = Gauge("auditor_schedule_last_run_timestamp_seconds", "End of the last run", ["job"], registry=r)
        self.last_ok = Gauge("auditor_schedule_last_run_success", "1 if the last run succeeded", ["job"], registry=r)
        self.duration = Gauge("auditor_schedule_last_run_duration_seconds", "Duration of the last run", ["job"],
                              registry=r)
        self.drift_index = Gauge("auditor_schedule_drift_index", "Drift index of the last run", ["job"], registry=r)
        self.failing = Gauge("auditor_schedule_failing_rules", "Failing rules in the last run", ["job"], registry=r)
        self.runs = Counter("auditor_schedule_runs", "Runs by outcome", ["job", "status"], registry=r)
        self.skipped = Counter("auditor_schedule_skipped_runs", "Runs skipped: the previous still going", ["job"],
                               registry=r)
        self.missed = Counter("auditor_schedule_missed_runs", "Runs missed (daemon down or too late)", ["job"],
                              registry=r)
        self.running = Gauge("auditor_schedule_running", "Audits running now", registry=r)

    def observe(self, summary: RunSummary) -> None:
        job = summary.job
        self.last_run.labels(job).set(datetime.fromisoformat(summary.finished_at).timestamp())
        self.last_ok.labels(job).set(1 if summary.status == "succeeded" else 0)
        self.duration.labels(job).set(summary.duration)
        if summary.drift_index is not None:
            self.drift_index.labels(job).set(summary.drift_index)
        self.failing.labels(job).set(len(summary.failing_rules))
        self.runs.labels(job, summary.status).inc()


@dataclass
class Daemon:
    """A scheduler that owns its job store: jobs, events, accounting, heartbeat and shutdown."""

    ctx: RunContext
    scheduler: BaseScheduler
    metrics: Metrics = field(default_factory=Metrics)
    _running: int = 0
    _idle: threading.Condition = field(default_factory=threading.Condition)

    def __post_init__(self) -> None:
        self.ctx.observe = self.metrics.observe
        self.scheduler.add_listener(self._on_event,
                                    EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES)

    # --- jobs -------------------------------------------------------------------------------------------
    def sync_jobs(self) -> None:
        """Make the job store hold exactly the config's jobs; keep unchanged ones as they are."""
        wanted = {f"{JOB_PREFIX}{job.name}": job for job in self.ctx.config.jobs}
        for stored in self.scheduler.get_jobs():
            if stored.id.startswith(JOB_PREFIX) and stored.id not in wanted:
                self.scheduler.remove_job(stored.id)
                log.info("job removed", extra={"job": stored.id.removeprefix(JOB_PREFIX)})
        for job_id, job in wanted.items():
            trigger = job.trigger()
            stored = self.scheduler.get_job(job_id)
            if stored is not None and repr(stored.trigger) == repr(trigger) and stored.args == (job.name,):
                continue  # repr names every field, the timezone and the jitter
            self.scheduler.add_job("auditor.schedule.daemon:run_scheduled", trigger=trigger, args=(job.name,),
                                   id=job_id, name=job.name, replace_existing=True)
            self.ctx.store.update(job.name, last_slot=datetime.now(UTC))  # nothing before now can be missed
            log.info("job scheduled", extra={"job": job.name, "cron": job.cron, "timezone": job.timezone})

    def sync_digest(self) -> None:
        """A daily digest job when a target asks for one and [scheduler] digest_hour is set."""
        wanted = self.ctx.config.digest_hour is not None and any(t.digest for t in self.ctx.config.targets.values())
        if not wanted:
            if self.scheduler.get_job(DIGEST_JOB):
                self.scheduler.remove_job(DIGEST_JOB)
            return
        trigger = cron_trigger(f"0 {self.ctx.config.digest_hour} * * *", "UTC")
        stored = self.scheduler.get_job(DIGEST_JOB)
        if stored is None or repr(stored.trigger) != repr(trigger):
            self.scheduler.add_job("auditor.schedule.daemon:send_digest", trigger=trigger, id=DIGEST_JOB,
                                   name="daily digest", replace_existing=True)

    def send_digest(self) -> None:
        """Each job's last run to every target with digest = true, once a day."""
        today = datetime.now(UTC).date().isoformat()
        if self.ctx.store.get(DIGEST_JOB).digest_day == today:
            return
        summaries = [RunSummary.from_dict(kept["last"]) for job in self.ctx.config.jobs
                     if (kept := self.ctx.store.get(job.name).summary) and kept.get("last")]
        targets = [t for t in self.ctx.config.targets.values() if t.digest]
        if summaries and targets:
            self.ctx.notifier.send(targets, digest(summaries))
        self.ctx.store.update(DIGEST_JOB, digest_day=today)
        log.info("digest sent", extra={"jobs": [s.job for s in summaries], "targets": [t.name for t in targets]})

    def run(self, name: str) -> None:
        with self._idle:
            self._running += 1
            self.metrics.running.set(self._running)
        try:
            run_job(self.ctx, name, trigger="schedule")
        finally:
            with self._idle:
                self._running -= 1
                self.metrics.running.set(self._running)
                self._idle.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no audit runs (at most `timeout` s)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._running == 0, timeout)

    # --- events and accounting ---------------------------------------------------------------------------
    def _on_event(self, event: JobEvent) -> None:
        if not event.job_id.startswith(JOB_PREFIX):
            return
        name = event.job_id.removeprefix(JOB_PREFIX)
        try:
            job = self.ctx.config.job(name)
        except Exception:
            return
        if isinstance(event, JobSubmissionEvent):  # max_instances: the previous run is still going
            times = event.scheduled_run_times
            self.metrics.skipped.labels(name).inc(len(times))
            log.warning("run skipped: the previous run is still going",
                        extra={"job": name, "scheduled": [t.isoformat() for t in times]})
            self._account(job, times[-1], missed_now=False)
            return
        assert isinstance(event, JobExecutionEvent)
        if event.code == EVENT_JOB_ERROR:
            exc = event.exception
            log.error("run raised unexpectedly", extra={"job": name, "error": repr(exc)},
                      exc_info=(type(exc), exc, exc.__traceback__))
        self._account(job, event.scheduled_run_time, missed_now=event.code == EVENT_JOB_MISSED)

    def _account(self, job: Job, scheduled: datetime, *, missed_now: bool) -> None:
        """Record as missed every nominal fire time between the last accounted one and `scheduled`
        (coalesced away, or due while the daemon was down), and `scheduled` itself if it was missed."""
        slot = nominal_slot(job, scheduled)
        last = self.ctx.store.get(job.name).last_slot
        missed = job.fire_times(last, 100_000, before=slot) if last is not None and last < slot else []
        if missed_now:
            missed.append(slot)
        for when in missed:
            self.record_missed(job, when)
        if last is None or slot > last:
            self.ctx.store.update(job.name, last_slot=slot)

    def record_missed(self, job: Job, when: datetime) -> None:
        now = datetime.now(UTC)
        reason = (f"missed: due at {when.astimezone(UTC).isoformat()}, not run (the daemon was down or busy, "
                  f"beyond the {int(self.ctx.config.misfire_grace_time)} s grace, or coalesced into a later run)")
        run_id = self.ctx.history.record_failure(started_at=when, finished_at=now, error=reason, job=job.name,
                                                 trigger="missed")
        self.metrics.missed.labels(job.name).inc()
        log.warning("run missed", extra={"job": job.name, "run_id": run_id, "scheduled": when.isoformat()})


def nominal_slot(job: Job, scheduled: datetime) -> datetime:
    """The nominal fire time a (possibly jittered) scheduled time belongs to."""
    if not job.jitter:
        return scheduled
    earlier = job.fire_times(scheduled - timedelta(seconds=job.jitter + 1), 2, before=scheduled + timedelta(seconds=1))
    return max((t for t in earlier if t <= scheduled), default=scheduled)


def build_scheduler(config: ScheduleConfig, jobstore_url: str, scheduler_class: type[BaseScheduler] =
                    BackgroundScheduler, executor: Any = None) -> BaseScheduler:
    """An APScheduler scheduler with the job defaults that keep nightly runs (see the module docstring)."""
    return scheduler_class(
        jobstores={"default": SQLAlchemyJobStore(url=jobstore_url, tablename=JOBS_TABLE,
                                                 engine_options={"pool_pre_ping": True})},
        executors={"default": executor or ThreadPoolExecutor(max_workers=max(2, len(config.jobs)))},
        job_defaults={"misfire_grace_time": int(config.misfire_grace_time) or None, "coalesce": True,
                      "max_instances": 1},
        timezone=UTC,
    )


def write_heartbeat(daemon: Daemon) -> None:
    """The liveness file: pid, time and each job's next run time (written by rename: never half a file)."""
    path = daemon.ctx.config.heartbeat_file
    if path is None:
        return
    jobs = {j.name: j.next_run_time.isoformat() if j.next_run_time else None for j in daemon.scheduler.get_jobs()}
    write_atomic(path, json.dumps({"pid": os.getpid(), "time": datetime.now(UTC).isoformat(), "leader": True,
                                   "jobs": jobs}) + "\n")


@contextmanager
def stop_on_signals() -> Iterator[threading.Event]:
    """An event set by SIGTERM or SIGINT (the previous handlers come back afterwards)."""
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda signum, frame: stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def serve(ctx: RunContext, lock: LeaderLock, jobstore_url: str, stop: threading.Event,
          metrics_port: int | None = None, metrics_host: str = "0.0.0.0") -> int:
    """Lead: run the jobs until `stop` is set; then finish the running audit and return the exit code.
    A heartbeat file that cannot be written or a metrics port that cannot be served is a ConfigError
    raised before anything starts."""
    global _ACTIVE
    daemon = Daemon(ctx, build_scheduler(ctx.config, jobstore_url))
    write_heartbeat(daemon)
    if metrics_port is not None:
        try:
            start_http_server(metrics_port, addr=metrics_host, registry=daemon.metrics.registry)
        except OSError as exc:
            raise ConfigError(f"cannot serve metrics on {metrics_host}:{metrics_port}: {exc.strerror or exc}") from None
    _ACTIVE = daemon
    daemon.scheduler.start(paused=True)
    daemon.sync_jobs()
    daemon.sync_digest()
    daemon.scheduler.resume()
    log.info("scheduler started", extra={"jobs": [j.name for j in ctx.config.jobs], "pid": os.getpid(),
                                         "metrics_port": metrics_port})
    code = 0
    while True:
        try:
            write_heartbeat(daemon)
        except AuditError as exc:  # a full disk must not stop the audits: the stale file tells the probe
            log.error("heartbeat not written", extra={"error": str(exc)})
        if stop.wait(HEARTBEAT_SECONDS):
            break
        if not lock.healthy():
            log.error("leader lock lost: stopping so that a standby can lead")
            code = 1
            break
    log.info("stopping: no new runs; waiting for the running audit",
             extra={"shutdown_timeout": ctx.config.shutdown_timeout})
    daemon.scheduler.shutdown(wait=False)
    if not daemon.wait_idle(ctx.config.shutdown_timeout):
        log.error("shutdown_timeout passed with an audit still running: abandoned (nothing of it is recorded)")
        code = 1
    if not ctx.notifier.close(timeout=30):
        log.error("notifications still queued at exit were not delivered")
    _ACTIVE = None
    log.info("scheduler stopped", extra={"exit_code": code})
    return code
