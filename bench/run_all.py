"""Run every benchmark with modest sizes (`make bench`); each script also runs alone with its own options."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
RUNS = (
    ("state parsing (100 MB)", ["bench_state_parse.py"]),
    ("audit against moto (1k, 2k, 5k resources) and diff of 10k pairs", ["bench_audit.py"]),
    ("blue/green deployer under chaos (200 simulated deploys, a random fault each)", ["bench_deploy_chaos.py"]),
    ("audit versus terraform plan -refresh-only (needs terraform and its provider mirror)", ["bench_vs_terraform.py"]),
    ("report of 10k resources with 90 runs of history; 365-run trend on SQLite and PostgreSQL", ["bench_report.py"]),
    ("scheduled fleet audit: 4 accounts behind a 60 ms latency proxy", ["bench_schedule_accounts.py", "--accounts", "4",
                                                                         "--parallel", "1", "4"]),
)


def main() -> int:
    failed = 0
    for title, argv in RUNS:
        print(f"\n== {title}", flush=True)
        failed |= subprocess.call([sys.executable, str(HERE / argv[0]), *argv[1:]])
    return failed


if __name__ == "__main__":
    raise SystemExit(main())
