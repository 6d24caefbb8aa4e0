"""One run of a scheduled job, the same for the daemon and `audit schedule once`:

units (state × account × region) -> `audit run`'s stages (auditor.pipeline), merged -> report files (atomic)
-> history row -> CloudWatch metrics -> notifications (queued) -> the job's summary kept for the next comparison.

The history row is written before the report, so that the published report carries the trend and the
first-seen dates including this run. A run killed before the row leaves nothing; one killed after it
leaves a complete row and report files that are each complete (written by rename) or absent, never
half a report. A publish that fails is kept with the run (its journal, kind "publish") and notified.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from auditor.aws import Aws
from auditor.errors import AuditError
from auditor.history.record import config_hash, new_run_id
from auditor.models import AuditRun
from auditor.schedule.cloudwatch import put_metrics
from auditor.schedule.config import Job, ScheduleConfig
from auditor.schedule.notify import Notifier, changes, message
from auditor.schedule.store import ScheduleStore
from auditor.schedule.summary import RunSummary, failed, summarize
from auditor.schedule.units import LocalExecutor, ProcessExecutor, UnitExecutor, audit_unit, plan_units, run_units
from auditor.state.sources import one_line

if TYPE_CHECKING:
    from auditor.report.model import HistoryContext

log = logging.getLogger("auditor.schedule")


class History(Protocol):
    """The part of auditor.history's store a scheduled run uses."""

    def record_run(self, run: AuditRun, job: str | None = None, trigger: str = "manual",
                   config_hash: str | None = None) -> str: ...

    def prune(self, before: datetime) -> Any: ...

    def record_failure(self, *, started_at: datetime, finished_at: datetime, error: str, job: str | None = None,
                       trigger: str = "schedule") -> str: ...

    def append_journal(self, journal_id: str, kind: str, entry: dict[str, Any]) -> None: ...


@dataclass
class RunContext:
    """What every run of every job shares inside one process."""

    config: ScheduleConfig
    history: History
    store: ScheduleStore
    aws: Aws
    notifier: Notifier
    executor: UnitExecutor
    observe: Callable[[RunSummary], None] = lambda summary: None  # the daemon's Prometheus gauges

    @classmethod
    def local(cls, config: ScheduleConfig, history: History, store: ScheduleStore, aws: Aws,
              **kwargs: Any) -> RunContext:
        notifier = Notifier(lambda region: aws.client("sns", region))
        executor = (ProcessExecutor if config.executor == "processes" else LocalExecutor)(config.parallel_units)
        return cls(config, history, store, aws, notifier, executor, **kwargs)


def run_job(ctx: RunContext, name: str, trigger: str = "schedule") -> RunSummary:
    """Run job `name` once and account for it everywhere. An unexpected exception is recorded as a
    failed run, then raised again (the daemon logs it with its traceback and goes on)."""
    job = ctx.config.job(name)
    started = datetime.now(UTC)
    log.info("run started", extra={"job": job.name, "trigger": trigger})
    run: AuditRun | None = None
    unexpected: Exception | None = None
    error = ""
    try:
        units = plan_units(job, ctx.config.audit, ctx.config.account_concurrency)
        run = run_units(units, ctx.executor, audit_unit(ctx.aws))
    except AuditError as exc:
        error = str(exc)
    except Exception as exc:  # recorded and re-raised below, never swallowed
        error, unexpected = f"{type(exc).__name__}: {exc}", exc
    if run is not None:
        run = replace(run, id=new_run_id(run.started_at))  # the reports carry the id the history row gets
        try:
            run_id = record(ctx, job, run, trigger)
        except AuditError as exc:  # as with `audit run`: a run that could not be recorded has failed
            summary = failed(job.name, started, datetime.now(UTC),
                             f"the run was not recorded in the history: {exc}", None)
        else:  # published after the row, so that its trend and first-seen dates include this run
            published = publish_report(ctx, job, run, _history_context(ctx, run_id))
            if published.error:
                _note_publish_failure(ctx, job, run_id, published.error)
            summary = replace(summarize(job.name, run, run_id, published.link), publish_error=published.error)
    else:
        finished = datetime.now(UTC)
        run_id = ctx.history.record_failure(started_at=started, finished_at=finished, error=error, job=job.name,
                                            trigger=trigger)
        summary = failed(job.name, started, finished, error, run_id)
    after_run(ctx, job, summary)
    if unexpected is not None:
        raise unexpected
    return summary


def record(ctx: RunContext, job: Job, run: AuditRun, trigger: str) -> str:
    """Record `run` like `audit run` does (with the settings' hash), then apply history_keep_days."""
    audit = ctx.config.audit
    run_id = ctx.history.record_run(run, job=job.name, trigger=trigger,
                                    config_hash=config_hash(repr(job.audit_config(audit))))
    if audit.history_keep_days is not None:
        ctx.history.prune(datetime.now(UTC) - timedelta(days=audit.history_keep_days))
    return run_id


@dataclass(frozen=True, slots=True)
class Published:
    """Where a run's report went: the link notifications carry, and why a destination failed (if one did)."""

    link: str | None = None
    error: str | None = None


def publish_report(ctx: RunContext, job: Job, run: AuditRun, history: HistoryContext | None = None) -> Published:
    """Publish the run like `audit report --publish` does, to `report_dir`/JOB/ and `publish`/JOB/ (each:
    runs/ID.json, runs/ID.html, latest.html, index.html; S3 with SSE), with `history` (the trend up to
    and including this run, the findings' first-seen dates) in the page."""
    destinations = [str(job.report_dir / job.name)] if job.report_dir else []
    if job.publish:
        destinations.append(f"{job.publish.rstrip('/')}/{job.name}")
    if not destinations:
        return Published()
    from auditor.report.html import render_report
    from auditor.report.json_report import to_dict
    from auditor.report.model import build
    from auditor.report.publish import publish

    doc = to_dict(run)
    report = build(doc, history)
    page = render_report(report)
    link: str | None = None
    errors: list[str] = []
    for dest in destinations:
        try:
            link = publish(dest, doc, report, page, ctx.aws)[1]  # runs/ID.html
        except Exception as exc:  # the audit itself succeeded and is recorded: the failure is noted and notified
            errors.append(f"{dest}: {one_line(str(exc)) or type(exc).__name__}")
            log.error("report not published", extra={"job": job.name, "error": errors[-1]})
    if job.report_url:
        link = f"{job.report_url.rstrip('/')}/runs/{report.run_id}.html"
    return Published(link, "; ".join(errors) or None)


def _history_context(ctx: RunContext, run_id: str) -> HistoryContext | None:
    """The report's history around the run just recorded (None when the history cannot say: the report
    is then published without a trend, as `audit report --no-history` would render it)."""
    from auditor.report.model import history_context

    try:
        return history_context(ctx.history, run_id)  # type: ignore[arg-type]
    except Exception as exc:
        log.error("report history unavailable", extra={"error": one_line(str(exc)) or type(exc).__name__})
        return None


def _note_publish_failure(ctx: RunContext, job: Job, run_id: str, error: str) -> None:
    """The publish failure kept with the run (its journal, kind "publish"), beside the notification."""
    try:
        ctx.history.append_journal(run_id, "publish", {"job": job.name, "status": "failed", "error": error})
    except Exception as exc:
        log.error("publish failure not recorded", extra={"job": job.name, "error": str(exc)})


def after_run(ctx: RunContext, job: Job, summary: RunSummary) -> None:
    """Metrics, notifications and the summary kept for the next run. None of it can fail the run."""
    namespace = ctx.config.cloudwatch_namespace
    if namespace:
        try:
            put_metrics(ctx.aws.client("cloudwatch"), namespace, summary)
        except Exception as exc:
            log.error("CloudWatch metrics not sent", extra={"job": job.name, "error": str(exc)})
    kept = ctx.store.get(job.name).summary or {}
    previous = RunSummary.from_dict(kept["last"]) if kept.get("last") else None
    last_ok = RunSummary.from_dict(kept["last_ok"]) if kept.get("last_ok") else None
    events = changes(previous, last_ok, summary, job.thresholds)
    targets = [ctx.config.targets[t] for t in job.notify]
    if events and targets:
        ctx.notifier.send(targets, message(summary, events))
    ok = summary if summary.status == "succeeded" else last_ok
    ctx.store.update(job.name, summary={"last": summary.to_dict(), "last_ok": ok.to_dict() if ok else None})
    ctx.observe(summary)
    log.log(logging.INFO if summary.status == "succeeded" else logging.ERROR, "run finished", extra={
        "job": job.name, "run_id": summary.run_id, "status": summary.status, "duration": round(summary.duration, 3),
        "drift_index": summary.drift_index, "exit_code": summary.exit_code, "error": summary.error,
        "states": sorted(summary.by_state), "events": [e.kind for e in events]})
