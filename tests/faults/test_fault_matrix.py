"""The fault matrix: 20 seeds of 20% random transient faults (throttling in each protocol's own body,
500/503 with XML and HTML bodies, resets mid-body, slow responses) give exactly the fault-free result,
verdicts of resources and rules alike. Set FAULT_MATRIX_REPORT to a file to get the figures as JSON."""

from __future__ import annotations

import json
import os
import statistics
import time
from pathlib import Path

import pytest

from auditor.demo.run import SeededStack
from tests.faults.proxy import FaultPlan, FaultProxy
from tests.faults.test_fail_closed import outcome, run_json

pytestmark = pytest.mark.e2e
SEEDS = range(1, 21)
RATE = 0.2


def test_twenty_seeds_at_twenty_percent_faults_give_the_fault_free_result(proxy: FaultProxy,
                                                                          stack: SeededStack) -> None:
    started = time.monotonic()
    code, clean, _ = run_json(proxy, stack)
    clean_seconds = time.monotonic() - started
    expected = outcome(clean)
    rows = []
    for seed in SEEDS:
        proxy.reseed(FaultPlan(seed=seed, rate=RATE))
        started = time.monotonic()
        faulty_code, faulty, stderr = run_json(proxy, stack)
        seconds = time.monotonic() - started
        assert outcome(faulty) == expected, (seed, stderr)
        assert faulty_code == code
        rows.append({"seed": seed, "seconds": round(seconds, 2), "requests": proxy.requests,
                     "faults": dict(proxy.faults), "api_calls": faulty["api_calls"]["total"]})
    figures = {"rate": RATE, "seeds": len(rows), "identical": len(rows), "clean_seconds": round(clean_seconds, 2),
               "clean_api_calls": clean["api_calls"]["total"],
               "median_seconds": statistics.median(r["seconds"] for r in rows),
               "max_seconds": max(r["seconds"] for r in rows),
               "median_slowdown": round(statistics.median(r["seconds"] for r in rows) / clean_seconds, 2),
               "faults_injected": sum(sum(r["faults"].values()) for r in rows), "runs": rows}
    if os.environ.get("FAULT_MATRIX_REPORT"):
        Path(os.environ["FAULT_MATRIX_REPORT"]).write_text(json.dumps(figures, indent=2))
