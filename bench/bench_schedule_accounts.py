"""One machine's ceiling for scheduled fleet audits: N accounts × the reference stack (53 resources each),
every AWS request delayed by a latency-injecting proxy in front of a moto server, the job's units run
by the thread executor (LocalExecutor) or the process executor (ProcessExecutor) with 1, 2, 4 ...
at once. Prints wall time, CPU time (this process and its worker processes) and the implied accounts
and resources per hour.

    python bench/bench_schedule_accounts.py --accounts 8 --latency-ms 60 --parallel 1 2 4 8 \
        --executor threads processes
"""

from __future__ import annotations

import argparse
import http.client
import os
import resource
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

os.environ.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "t",
                   "AWS_EC2_METADATA_DISABLED": "true"})

from auditor.aws import Aws, AwsSettings
from auditor.schedule.config import load_schedule_config
from auditor.schedule.units import LocalExecutor, ProcessExecutor, UnitExecutor, audit_unit, plan_units, run_units


def latency_proxy(target: str, latency: float) -> tuple[ThreadingHTTPServer, str]:
    """An HTTP proxy that waits `latency` s before forwarding each request to `target` (a real API's round trip)."""
    host, port = urlsplit(target).hostname, urlsplit(target).port
    local = threading.local()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _forward(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            time.sleep(latency)
            conn = getattr(local, "conn", None) or http.client.HTTPConnection(host, port, timeout=120)
            local.conn = conn
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "keep-alive")}
            try:
                conn.request(self.command, self.path, body=body, headers=headers)
                answer = conn.getresponse()
            except (OSError, http.client.HTTPException):
                local.conn = conn = http.client.HTTPConnection(host, port, timeout=120)
                conn.request(self.command, self.path, body=body, headers=headers)
                answer = conn.getresponse()
            data = answer.read()
            self.send_response(answer.status)
            for key, value in answer.getheaders():
                if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _forward

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


REGION = "ap-south-1"  # auditor.demo.run's; the demo (and moto) are imported only by the main process:
# the process executor's spawned workers import this module again, and need neither


def seed_fleet(aws: Aws, accounts: int) -> list[tuple[str, str | None, str]]:
    """(account id, role, state uri) per account, each holding the reference stack."""
    from auditor.demo.run import STACK_KEY, seed_reference_stack
    from auditor.demo.seed_edge import seed_edge
    from auditor.demo.seed_network import seed_network
    from auditor.demo.seed_platform import seed_alarms, seed_platform
    from auditor.demo.seedkit import SeedContext
    from auditor.demo.statefile import build_state, publish_state

    first = seed_reference_stack(aws)
    fleet: list[tuple[str, str | None, str]] = [(aws.account_id(), None, f"s3://{first.bucket}/{STACK_KEY}")]
    for n in range(1, accounts):
        account = f"{100000000000 + n:012d}"
        role = f"arn:aws:iam::{account}:role/auditor-readonly"
        other = aws.assume(role)
        ctx = SeedContext(other, REGION, account)
        for seed in (seed_network, seed_platform, seed_edge, seed_alarms):
            seed(ctx)
        bucket = f"fleet-{account}-tfstate"
        other.client("s3").create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
        publish_state(other, REGION, bucket, STACK_KEY, build_state(ctx.items, serial=2), None)
        fleet.append((account, role, f"s3://{bucket}/{STACK_KEY}"))
    return fleet


def config_text(fleet: list[tuple[str, str | None, str]], parallel: int, workers: int) -> str:
    states = "".join(f'[[states]]\nuri = "{uri}"\nregion = "{REGION}"\n' + (f'role_arn = "{role}"\n' if role else "")
                     for _, role, uri in fleet)
    accounts = ",\n".join(f'  {{ id = "{acc}", states = ["{uri}"]' + (f', role_arn = "{role}"' if role else "") + " }"
                          for acc, role, uri in fleet)
    return (f'regions = ["{REGION}"]\n{states}[scheduler]\nparallel_units = {parallel}\n'
            f'account_concurrency = {workers}\n[[schedules]]\nname = "fleet"\ncron = "0 2 * * *"\nrules = false\n'
            f"accounts = [\n{accounts}\n]\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=8)
    parser.add_argument("--latency-ms", type=float, default=60.0)
    parser.add_argument("--parallel", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--workers", type=int, default=8, help="API workers per account")
    parser.add_argument("--executor", nargs="+", default=["threads"], choices=["threads", "processes"])
    args = parser.parse_args()
    from auditor.demo.motoserver import MotoServer
    from auditor.demo.run import REGION as DEMO_REGION

    assert DEMO_REGION == REGION
    with MotoServer() as moto:
        os.environ["AWS_ENDPOINT_URL"] = moto.endpoint
        aws = Aws(AwsSettings(region=REGION))
        started = time.monotonic()
        fleet = seed_fleet(aws, args.accounts)
        print(f"seeded {len(fleet)} accounts in {time.monotonic() - started:.1f} s")
        proxy, endpoint = latency_proxy(moto.endpoint, args.latency_ms / 1000)
        os.environ["AWS_ENDPOINT_URL"] = endpoint
        folder = Path(tempfile.mkdtemp())
        print(f"{'executor':>9} {'parallel':>8} {'wall s':>7} {'cpu s':>6} {'requests':>8} {'resources':>9} "
              f"{'accounts/h':>10} {'resources/h':>11}")
        for kind in args.executor:
            for parallel in args.parallel:
                path = folder / "audit.toml"
                path.write_text(config_text(fleet, parallel, args.workers))
                config = load_schedule_config(path)
                units = plan_units(config.job("fleet"), config.audit, config.account_concurrency)
                executor: UnitExecutor = (ProcessExecutor if kind == "processes" else LocalExecutor)(parallel)
                cpu0, wall0 = _cpu(), time.monotonic()
                run = run_units(units, executor, audit_unit(Aws(AwsSettings(region=REGION))))
                wall, cpu = time.monotonic() - wall0, _cpu() - cpu0
                audited = run.score.overall.audited
                assert not run.failures, run.failures
                print(f"{kind:>9} {parallel:>8} {wall:>7.2f} {cpu:>6.2f} {run.inventory.api_calls:>8} {audited:>9} "
                      f"{len(fleet) * 3600 / wall:>10.0f} {audited * 3600 / wall:>11.0f}")
        proxy.shutdown()
        print("cpu s: this process (the moto server and the proxy run in it) and its finished worker processes; "
              f"latency {args.latency_ms:.0f} ms per request")


def _cpu() -> float:
    """CPU seconds of this process and of its children that have ended (the process pool's workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


if __name__ == "__main__":
    main()
