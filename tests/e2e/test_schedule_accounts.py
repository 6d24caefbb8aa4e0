"""A job over several accounts on a moto server: units per state × account (its role assumed, its
own states), run in parallel on threads or processes and merged into one recorded run; an account
whose units fail makes the run incomplete, naming the account, without hiding the others' results."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from auditor.aws import Aws, AwsSettings
from auditor.demo.run import REGION, STACK_KEY, SeededStack
from auditor.demo.seed_edge import seed_edge
from auditor.demo.seed_network import seed_network
from auditor.demo.seed_platform import seed_alarms, seed_platform
from auditor.demo.seedkit import SeedContext
from auditor.demo.statefile import build_state, publish_state
from auditor.history import open_history
from auditor.schedule.config import load_schedule_config
from auditor.schedule.runner import RunContext, run_job
from auditor.schedule.store import ScheduleStore
from tests.e2e.test_schedule_daemon import stack_toml

pytestmark = pytest.mark.e2e
SECOND = "111111111111"
ROLE = f"arn:aws:iam::{SECOND}:role/auditor-readonly"


@pytest.mark.parametrize("executor", ["threads", "processes"])
def test_units_per_account_are_merged_into_one_run(stack: SeededStack, tmp_path: Path, executor: str) -> None:
    aws = Aws(AwsSettings(region=REGION))
    other = aws.assume(ROLE)
    ctx = SeedContext(other, REGION, SECOND)
    for seed in (seed_network, seed_platform, seed_edge, seed_alarms):
        seed(ctx)
    other.client("s3").create_bucket(Bucket="second-tfstate", CreateBucketConfiguration={"LocationConstraint": REGION})
    publish_state(other, REGION, "second-tfstate", STACK_KEY, build_state(ctx.items, serial=3), None)
    service = ctx.ref("aws_ecs_service.web_app")
    other.client("ecs").update_service(cluster=service["cluster"], service=service["name"], desiredCount=5)

    history_url = f"sqlite:///{tmp_path / 'history.db'}"
    config = tmp_path / "audit.toml"
    config.write_text(stack_toml(stack, history_url) + f"""
[[states]]
uri = "s3://second-tfstate/{STACK_KEY}"
region = "{REGION}"
role_arn = "{ROLE}"
[[states]]
uri = "s3://third-tfstate/none.tfstate"
region = "{REGION}"
[scheduler]
cloudwatch_namespace = ""
account_concurrency = 4
executor = "{executor}"
[[schedules]]
name = "fleet"
cron = "0 2 * * *"
report_dir = "reports"
accounts = [
  {{ id = "{aws.account_id()}", states = ["s3://{stack.bucket}/**/terraform.tfstate"] }},
  {{ id = "{SECOND}", role_arn = "{ROLE}", states = ["s3://second-tfstate/{STACK_KEY}"] }},
  {{ id = "333333333333", states = ["s3://third-tfstate/none.tfstate"] }},
]
""")
    schedule = load_schedule_config(config)
    history = open_history(history_url)
    run_ctx = RunContext.local(schedule, history, ScheduleStore(history_url), aws)
    assert type(run_ctx.executor).__name__ == {"threads": "LocalExecutor", "processes": "ProcessExecutor"}[executor]
    summary = run_job(run_ctx, "fleet")
    assert run_ctx.notifier.close(timeout=10)

    assert summary.status == "succeeded" and summary.exit_code == 1, "one account failed: incomplete"
    assert any(item.startswith("changed aws_ecs_service") for item in summary.drifted)
    assert set(summary.by_state) >= {f"s3://second-tfstate/{STACK_KEY}"}
    info = history.runs()[0]
    assert info.job == "fleet" and info.account_id == f"{aws.account_id()},{SECOND}"
    report = json.loads(next((tmp_path / "reports" / "fleet" / "runs").glob("*.json")).read_text())
    assert [f["uri"] for f in report["state_failures"]] == ["account 333333333333"]
    assert "third-tfstate" in report["state_failures"][0]["error"]
    assert {s["uri"] for s in report["states"]} >= {f"s3://second-tfstate/{STACK_KEY}"}
    history.close()
