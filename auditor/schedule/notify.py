"""Notifications: only on a change since the job's previous run, or a threshold crossed; delivered to
SNS topics (a JSON message) and Slack-compatible webhooks on a background thread, retried with
backoff, so a slow or failing endpoint never delays the next run.

Webhooks are one JSON POST ({"text": ...}) with the standard library: apprise was considered, but
its Slack plugin targets Slack's own host only, while a Slack-compatible URL (Mattermost,
Rocket.Chat, a proxy) is what the config names, and a retry policy is needed that it does not add.
The webhook URL is a secret (it carries the token): it is read from the environment at send time,
and only its host is ever logged.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from auditor.schedule.config import Target, Thresholds
from auditor.schedule.summary import RunSummary

log = logging.getLogger("auditor.schedule.notify")

SCHEMA = "auditor.notification/v1"
_LISTED = 20  # names listed per event in a message; the rest are counted


@dataclass(frozen=True, slots=True)
class Event:
    kind: str          # new_drift | resolved_drift | failing_rules | fixed_rules | run_failed | run_recovered |
                       # report_not_published |
                       # threshold_crossed | threshold_cleared
    text: str
    items: tuple[str, ...] = ()


def changes(previous: RunSummary | None, last_ok: RunSummary | None, current: RunSummary,
            thresholds: Thresholds) -> list[Event]:
    """What is worth telling about `current`: compared with the job's previous run (for failed /
    recovered) and its previous successful run (for drift, rules and thresholds)."""
    events: list[Event] = []
    if current.status == "failed":
        if previous is None or previous.status != "failed":
            events.append(Event("run_failed", f"run failed: {current.error}"))
        return events
    if previous is not None and previous.status == "failed":
        events.append(Event("run_recovered", "run succeeded again after a failure"))
    if current.publish_error:
        events.append(Event("report_not_published", f"report not published: {current.publish_error}"))
    before_drift = set(last_ok.drifted) if last_ok else set()
    before_rules = set(last_ok.failing_rules) if last_ok else set()
    for kind, items, text in (
        ("new_drift", sorted(set(current.drifted) - before_drift), "new drift"),
        ("resolved_drift", sorted(before_drift - set(current.drifted)), "drift resolved"),
        ("failing_rules", sorted(set(current.failing_rules) - before_rules), "newly failing rules"),
        ("fixed_rules", sorted(before_rules - set(current.failing_rules)), "rules fixed"),
    ):
        if items:
            events.append(Event(kind, f"{text}: {len(items)}", tuple(items)))
    events.extend(_crossings(last_ok, current, thresholds))
    return events


def _crossings(before: RunSummary | None, now: RunSummary, limits: Thresholds) -> list[Event]:
    checks: list[tuple[str, float | None, Callable[[RunSummary], bool]]] = [
        ("drift index", limits.drift_index,
         lambda s: s.drift_index is not None and s.drift_index >= (limits.drift_index or 0)),
        ("failing rules", limits.failing_rules,
         lambda s: len(s.failing_rules) > (limits.failing_rules or 0)),
        ("coverage", limits.coverage, lambda s: s.coverage is not None and s.coverage < (limits.coverage or 0)),
    ]
    values = {"drift index": now.drift_index, "failing rules": len(now.failing_rules), "coverage": now.coverage}
    events = []
    for name, limit, beyond in checks:
        if limit is None:
            continue
        was, is_now = (before is not None and beyond(before)), beyond(now)
        if is_now and not was:
            events.append(Event("threshold_crossed", f"{name} {values[name]} crossed the threshold {limit}"))
        elif was and not is_now:
            events.append(Event("threshold_cleared", f"{name} {values[name]} is back within the threshold {limit}"))
    return events


def message(summary: RunSummary, events: Sequence[Event]) -> dict[str, Any]:
    """The JSON document sent to SNS (and rendered as text for webhooks)."""
    return {
        "schema": SCHEMA, "job": summary.job, "run_id": summary.run_id, "status": summary.status,
        "events": [{"kind": e.kind, "text": e.text, "items": list(e.items[:_LISTED]),
                    "more": max(0, len(e.items) - _LISTED)} for e in events],
        "summary": {"drift_index": summary.drift_index, "coverage": summary.coverage, "counts": summary.counts,
                    "failing_rules": len(summary.failing_rules), "exit_code": summary.exit_code,
                    "started_at": summary.started_at, "finished_at": summary.finished_at, "error": summary.error},
        "report_url": summary.report_url,
    }


def digest(summaries: Sequence[RunSummary]) -> dict[str, Any]:
    """The daily digest: each job's last run, whether or not anything changed."""
    events = [{"kind": "digest", "text": f"{s.job}: {s.status}, drift index "
                                         f"{s.drift_index if s.drift_index is not None else 'n/a'}, "
                                         f"{len(s.drifted)} drifted, {len(s.failing_rules)} failing rules"
                                         + (f" ({s.error})" if s.error else ""),
               "items": list(s.drifted[:_LISTED]), "more": max(0, len(s.drifted) - _LISTED)} for s in summaries]
    return {"schema": SCHEMA, "job": "digest", "run_id": None, "status": "digest", "events": events,
            "summary": {"drift_index": max((s.drift_index for s in summaries if s.drift_index is not None),
                                           default=None),
                        "coverage": min((s.coverage for s in summaries if s.coverage is not None), default=None),
                        "counts": {}, "failing_rules": sum(len(s.failing_rules) for s in summaries),
                        "exit_code": max((s.exit_code for s in summaries), default=0), "started_at": None,
                        "finished_at": None, "error": None},
            "report_url": None}


def subject(doc: dict[str, Any]) -> str:
    kinds = ", ".join(dict.fromkeys(e["kind"].replace("_", " ") for e in doc["events"])) or "nothing"
    return f"[auditor] {doc['job']}: {kinds}"[:100]


def text(doc: dict[str, Any]) -> str:
    """The Slack-compatible rendering of a message."""
    s = doc["summary"]
    lines = [f"*{subject(doc)}*",
             f"drift index {s['drift_index'] if s['drift_index'] is not None else 'n/a'}, coverage "
             f"{s['coverage'] if s['coverage'] is not None else 'n/a'}%, failing rules {s['failing_rules']}"]
    for event in doc["events"]:
        lines.append(f"• {event['text']}")
        lines.extend(f"    {item}" for item in event["items"])
        if event["more"]:
            lines.append(f"    … and {event['more']} more")
    if doc.get("report_url"):
        lines.append(f"report: {doc['report_url']}")
    return "\n".join(lines)


class Notifier:
    """Delivers messages on one background thread; each target is retried with exponential backoff."""

    def __init__(self, sns_client: Callable[[str], Any], *, attempts: int = 5, backoff: float = 1.0,
                 timeout: float = 10.0) -> None:
        self._sns_client = sns_client  # region -> boto3 SNS client (via auditor.aws)
        self.attempts, self.backoff, self.timeout = attempts, backoff, timeout
        self._queue: queue.Queue[tuple[Target, dict[str, Any]] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._work, name="notifier", daemon=True)
        self._thread.start()
        self.delivered = 0
        self.failed = 0

    def send(self, targets: Sequence[Target], doc: dict[str, Any]) -> None:
        """Queue `doc` for every target and return at once."""
        for target in targets:
            self._queue.put((target, doc))

    def close(self, timeout: float) -> bool:
        """Stop after delivering what is queued, waiting at most `timeout` s; False if some was left."""
        self._queue.put(None)
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _work(self) -> None:
        while (item := self._queue.get()) is not None:
            target, doc = item
            for attempt in range(1, self.attempts + 1):
                try:
                    self._deliver(target, doc)
                    self.delivered += 1
                    log.info("notification sent", extra={"job": doc["job"], "target": target.name,
                                                         "attempt": attempt})
                    break
                except Exception as exc:  # any delivery error is retried, then logged; never raised into a run
                    if attempt == self.attempts:
                        self.failed += 1
                        log.error("notification not delivered", extra={
                            "job": doc["job"], "target": target.name, "attempts": attempt,
                            "error": _describe(exc, target)})
                    else:
                        time.sleep(self.backoff * 2 ** (attempt - 1))

    def _deliver(self, target: Target, doc: dict[str, Any]) -> None:
        if target.sns_topic_arn:
            region = target.sns_topic_arn.split(":")[3]
            self._sns_client(region).publish(TopicArn=target.sns_topic_arn, Subject=subject(doc),
                                             Message=json.dumps(doc, sort_keys=True))
            return
        url = target.webhook_url()
        if not url:
            raise RuntimeError(f"environment variable {target.webhook_url_env} is not set")
        request = urllib.request.Request(url, data=json.dumps({"text": text(doc)}).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            response.read()


def _describe(exc: Exception, target: Target) -> str:
    """A delivery error without the webhook URL (its path is the secret)."""
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} from {urlsplit(exc.url).hostname}"
    if isinstance(exc, urllib.error.URLError):
        return f"cannot reach {urlsplit(target.webhook_url() or '').hostname}: {exc.reason}"
    text_ = str(exc)
    url = target.webhook_url()
    return text_.replace(url, "<webhook>") if url else text_
