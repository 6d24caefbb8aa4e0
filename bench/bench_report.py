"""The report and the history at scale.

- a 10,000-resource run with 90 runs of history: report build + HTML render time (goal < 2 s), page size
  (goal < 5 MB), and Chromium's load of the page (goal < 2 s: navigation start to the load event, after the
  page's script has wired every table);
- a history of 365 runs: the trend queries (overall and per type) on SQLite and PostgreSQL (goal < 1 s).

    python bench/bench_report.py [--resources 10000] [--runs 90] [--trend-runs 365] [--no-postgres] [--trend-only]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from auditor.history import (
    History,
    analysis,
    open_history,
)
from auditor.report.html import render_document
from tests.history.docs import make_doc

T0 = datetime(2026, 1, 1, 6, 0, tzinfo=UTC)
TYPES = [f"aws_type_{i:02d}" for i in range(40)]
RULES = [{"id": f"R{g}-{i:02d}", "title": f"rule {g}-{i}", "severity": ("low", "medium", "high")[i % 3],
          "resource_types": [], "rationale": "why", "remediation": "fix it", "terraform": 'resource "x" "y" {}',
          "peers": {"checkov": [f"CKV_AWS_{g}{i}"], "trivy": [], "securityhub": [f"SVC.{i}"], "aws_config": [],
                    "prowler": []}} for g in ("A", "B", "C", "D") for i in range(5)]


def big_doc(day: int, resources: int) -> dict[str, Any]:
    """`resources` resources over 40 types; about 3% drift (changing with the day), 3 verdicts per resource."""
    drifts: list[Any] = []
    in_sync = []
    verdicts = []
    for n in range(resources):
        kind = TYPES[n % len(TYPES)]
        rid = f"{kind}-{n:06d}"
        roll = (n * 7919 + day * 104729) % 1000
        if roll < 20:
            drifts.append((kind, rid, "changed", ["tags.Owner", "settings[0].value"]))
        elif roll < 25:
            drifts.append((kind, rid, "missing", []))
        elif roll < 30:
            drifts.append((kind, rid, "unmanaged", []))
        else:
            in_sync.append((kind, rid))
        for k in range(3):
            rule = RULES[(n + k) % len(RULES)]["id"]
            verdicts.append((rule, kind, rid, "FAIL" if (n + k + day) % 97 == 0 else "PASS"))
    return make_doc(T0 + timedelta(days=day), drifts, verdicts, in_sync=in_sync, metas=RULES)


def record(history: History, runs: int, resources: int) -> float:
    started = time.perf_counter()
    for day in range(runs):
        history.record_document(big_doc(day, resources))
    return time.perf_counter() - started


def report_at_scale(folder: Path, resources: int, runs: int) -> None:
    url = f"sqlite:///{folder / 'report.db'}"
    with open_history(url) as history:
        seconds = record(history, runs, resources)
        print(f"recorded {runs} runs of {resources} resources in {seconds:.1f} s ({seconds / runs:.2f} s/run)")
        doc = history.run("latest").document or {}
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        page = render_document(doc, url)
        timings.append(time.perf_counter() - started)
    path = folder / "report.html"
    path.write_text(page, encoding="utf-8")
    size = path.stat().st_size
    print(f"report of {resources} resources with {runs} runs of history: render {min(timings):.2f} s "
          f"(best of 3; goal < 2 s), {size / 1e6:.2f} MB (goal < 5 MB)")
    browser_load(path)


def browser_load(path: Path) -> None:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("Chromium load: skipped (playwright not installed)")
        return
    with tempfile.TemporaryDirectory() as profile, sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            profile, executable_path="/usr/bin/chromium", headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        page = context.new_page()
        loads = []
        for _ in range(3):
            started = time.perf_counter()
            page.goto(path.as_uri(), wait_until="load")
            wall = time.perf_counter() - started
            nav = page.evaluate("() => { const n = performance.getEntriesByType('navigation')[0];"
                                " return n.loadEventEnd - n.startTime; }")
            loads.append((nav / 1000, wall))
        context.close()
    nav, wall = min(loads)
    print(f"Chromium load: {nav:.2f} s navigation-to-load, {wall:.2f} s wall (best of 3; goal < 2 s)")


def trend_query(url: str, runs: int, label: str) -> None:
    with open_history(url) as history:
        seconds = record(history, runs, 500)
        timings = []
        for _ in range(3):
            started = time.perf_counter()
            overall = analysis.trend(history)
            per_type = analysis.trend(history, "type")
            timings.append(time.perf_counter() - started)
    print(f"{label}: {runs} runs recorded in {seconds:.1f} s; trend overall ({len(overall)} rows) and per type "
          f"({len(per_type)} rows) in {min(timings) * 1000:.0f} ms (best of 3; goal < 1 s)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=90)
    parser.add_argument("--trend-runs", type=int, default=365)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--trend-only", action="store_true", help="Only the 365-run trend queries.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if not args.trend_only:
            report_at_scale(folder, args.resources, args.runs)
        trend_query(f"sqlite:///{folder / 'trend.db'}", args.trend_runs, "SQLite")
        if not args.no_postgres:
            from tests.history.pg import create_database, throwaway_postgres

            try:
                with throwaway_postgres() as server:
                    trend_query(create_database(server, "trend"), args.trend_runs, "PostgreSQL")
            except FileNotFoundError as exc:
                print(f"PostgreSQL: skipped ({exc})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
