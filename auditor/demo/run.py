"""`audit demo`: a moto server on 127.0.0.1, the reference stack, some drift, and a real audit of it."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from auditor.aws import Aws, AwsSettings
from auditor.config import AuditConfig
from auditor.demo.drift import DEMO_SCENARIOS, scenario
from auditor.demo.motoserver import MotoServer
from auditor.demo.seed_edge import seed_edge
from auditor.demo.seed_network import seed_network
from auditor.demo.seed_platform import seed_alarms, seed_autoscaling, seed_backend, seed_platform, state_bucket_name
from auditor.demo.seedkit import SeedContext
from auditor.demo.statefile import build_state, publish_state
from auditor.errors import ExitCode
from auditor.pipeline import run_audit
from auditor.report.emit import emit
from auditor.state.model import StateRequest

REGION = "ap-south-1"
BOOTSTRAP_KEY = "bootstrap/terraform.tfstate"
STACK_KEY = "digitallync/prod/terraform.tfstate"


@dataclass(frozen=True, slots=True)
class SeededStack:
    """The seeded reference stack: its seed contexts (attributes by address) and where its states are."""

    stack: SeedContext
    bootstrap: SeedContext
    bucket: str
    lock_table: str
    region: str

    @property
    def state_uris(self) -> tuple[str, str]:
        return (f"s3://{self.bucket}/{BOOTSTRAP_KEY}", f"s3://{self.bucket}/{STACK_KEY}")

    def config(self, **overrides: object) -> AuditConfig:
        """The audit settings a user would write for this stack."""
        request = StateRequest(uri=f"s3://{self.bucket}/**/terraform.tfstate", lock_table=self.lock_table,
                               region=self.region)
        return AuditConfig(states=(request,), regions=(self.region,), **overrides)  # type: ignore[arg-type]


def seed_reference_stack(aws: Aws, region: str = REGION) -> SeededStack:
    """Create the reference stack with boto3 and publish its two states (bootstrap and stack) to S3."""
    account_id = aws.account_id()
    boot = SeedContext(aws, region, account_id)
    seed_backend(boot)
    stack = SeedContext(aws, region, account_id)
    seed_network(stack)
    seed_platform(stack)
    seed_edge(stack)
    seed_autoscaling(stack)
    seed_alarms(stack)
    bucket = state_bucket_name(account_id)
    lock_table = boot.ref("aws_dynamodb_table.locks")["name"]
    publish_state(aws, region, bucket, BOOTSTRAP_KEY, build_state(boot.items), lock_table)
    publish_state(aws, region, bucket, STACK_KEY, build_state(stack.items, serial=7), lock_table)
    return SeededStack(stack, boot, bucket, lock_table, region)


def apply_scenarios(seeded: SeededStack, names: Iterable[str]) -> None:
    for name in names:
        scenario(name).apply(seeded.stack, seeded.bootstrap)


@contextmanager
def pointed_at(endpoint: str, region: str) -> Iterator[None]:
    """Point every SDK setting at the local endpoint with fake credentials, restoring the env after."""
    settings = {
        "AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "demo", "AWS_SECRET_ACCESS_KEY": "demo",
        "AWS_REGION": region, "AWS_DEFAULT_REGION": region, "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    dropped = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE")
    saved = {k: os.environ.get(k) for k in (*settings, *dropped)}
    os.environ.update(settings)
    for key in dropped:
        os.environ.pop(key, None)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run_demo(out_dir: Path, *, with_drift: bool, console: Console) -> ExitCode:
    """Seed, drift, audit, write JSON and HTML; returns 0 when the demo itself worked."""
    with MotoServer() as server, pointed_at(server.endpoint, REGION):
        console.print(f"embedded AWS (moto) listening on {server.endpoint}")
        seeded = seed_reference_stack(Aws(AwsSettings(region=REGION)))
        console.print(f"seeded the reference stack: {len(seeded.stack.items)} resources in "
                      f"{seeded.state_uris[1]}, {len(seeded.bootstrap.items)} in {seeded.state_uris[0]}")
        if with_drift:
            apply_scenarios(seeded, DEMO_SCENARIOS)
            for name in DEMO_SCENARIOS:
                console.print(f"  out-of-band change: {scenario(name).description}")
        run = run_audit(seeded.config(), Aws(AwsSettings(region=REGION)))
        json_path, html_path = out_dir / "audit.json", out_dir / "audit.html"
        emit(run, "table", None, html_path, json_path)
    console.print(f"\nJSON result: {json_path.resolve()}\nHTML report: {html_path.resolve()}")
    console.print(f"`audit run` would exit with {int(run.exit_code)} ({run.exit_code.name.lower()}).")
    return ExitCode.CLEAN
