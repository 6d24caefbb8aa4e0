"""The ALB-weights deploy end to end on a moto server, gates driven through the seams."""

from __future__ import annotations

import json
from typing import Any

from click.testing import CliRunner

from auditor.aws import Aws
from auditor.cli import cli
from auditor.deploy import DeployRequest, deploy
from auditor.history import History
from tests.deploy.bgstack import (
    ALARM_5XX,
    BLUE,
    CLUSTER,
    CONTAINER,
    GREEN,
    Stack,
    desired,
    fake_seams,
    push_image,
    weights,
)


def _request(stack: Stack, **overrides: Any) -> DeployRequest:
    options: dict[str, Any] = {"cluster": CLUSTER, "service": BLUE, "image": stack.image("v2"), "steps": (10, 50, 100),
                               "bake_seconds": 300.0, "timeout_seconds": 1200.0, "alarms": (ALARM_5XX,),
                               "poll_seconds": 15.0}
    return DeployRequest(**{**options, **overrides})


def _events(history: History, deploy_id: str) -> list[str]:
    return [e["event"] for e in history.read_journal(deploy_id)]


def test_happy_path_ends_all_green_with_blue_at_zero(aws: Aws, stack: Stack, history: History) -> None:
    digest = push_image(aws, "v2")
    seams = fake_seams(aws, stack)
    outcome = deploy(_request(stack), aws=aws, history=history, **seams)
    assert outcome.result == "succeeded", outcome
    assert weights(aws, stack) == {"blue": 0, "green": 100}
    assert (desired(aws, BLUE), desired(aws, GREEN)) == (0, 2)
    green = aws.client("ecs").describe_services(cluster=CLUSTER, services=[GREEN])["services"][0]
    containers = aws.client("ecs").describe_task_definition(taskDefinition=green["taskDefinition"])[
        "taskDefinition"]["containerDefinitions"]
    assert [c["image"] for c in containers if c["name"] == CONTAINER] == [f"{stack.repo_uri}@{digest}"]
    assert outcome.green_provisioning_seconds == 45.0
    entries = history.read_journal(outcome.deploy_id)
    shifts = [e["green"] for e in entries if e["event"] == "weights"]
    assert shifts == [10, 50, 100]
    assert entries[-1]["event"] == "outcome" and entries[-1]["result"] == "succeeded"
    assert entries[-1]["green_provisioning_seconds"] == 45.0
    assert history.list_journals("deploy") == [outcome.deploy_id]
    # the lease is gone: the roles have swapped and the next deploy (from green back to blue) may start
    assert "Item" not in aws.client("dynamodb").get_item(TableName="auditor-deploy-leases",
                                                         Key={"LeaseID": {"S": f"{CLUSTER}/{BLUE}+{GREEN}"}})
    push_image(aws, "v3")
    again = deploy(_request(stack, service=GREEN, image=stack.image("v3")), aws=aws, history=history, **seams)
    assert again.result == "succeeded", again
    assert weights(aws, stack) == {"blue": 100, "green": 0}
    assert (desired(aws, BLUE), desired(aws, GREEN)) == (2, 0)


def _assert_back_on_blue(aws: Aws, stack: Stack) -> None:
    assert weights(aws, stack) == {"blue": 100, "green": 0}
    assert (desired(aws, BLUE), desired(aws, GREEN)) == (2, 0)
    lease = aws.client("dynamodb").get_item(TableName="auditor-deploy-leases",
                                            Key={"LeaseID": {"S": f"{CLUSTER}/{BLUE}+{GREEN}"}})
    assert "Item" not in lease


def test_5xx_alarm_during_the_canary_rolls_back(aws: Aws, stack: Stack, history: History) -> None:
    push_image(aws, "v2")
    seams = fake_seams(aws, stack)
    seen: list[dict[str, int]] = []
    # 45 s of green start-up, then the 10% canary bakes; the alarm fires 100 s into the deploy
    seams["clock"].at(100, lambda: (seen.append(weights(aws, stack)), aws.client("cloudwatch").set_alarm_state(
        AlarmName=ALARM_5XX, StateValue="ALARM", StateReason="5xx from green")))
    outcome = deploy(_request(stack), aws=aws, history=history, **seams)
    assert seen == [{"blue": 90, "green": 10}]
    assert outcome.result == "rolled_back"
    assert outcome.rollback_reason == f"gate alarms failed: in ALARM: {ALARM_5XX}"
    _assert_back_on_blue(aws, stack)
    entries = history.read_journal(outcome.deploy_id)
    rollback = next(e for e in entries if e["event"] == "rollback")
    assert rollback["reason"] == outcome.rollback_reason
    failed = [e for e in entries if e["event"] == "gate" and not e["ok"]]
    assert failed[-1]["gate"] == "alarms" and failed[-1]["green"] == 10
    # weights went back before green was scaled down
    after = entries[entries.index(rollback):]
    assert [e["event"] for e in after if e["event"] in ("weights", "scale")] == ["weights", "scale"]
    assert after[-1]["rollback_reason"] == outcome.rollback_reason


def test_green_never_healthy_rolls_back_without_moving_traffic(aws: Aws, stack: Stack,
                                                               history: History) -> None:
    push_image(aws, "v2")
    seams = fake_seams(aws, stack)
    seams["health"].broken.add(stack.green_tg)
    outcome = deploy(_request(stack), aws=aws, history=history, **seams)
    assert outcome.result == "rolled_back"
    assert outcome.rollback_reason == (f"green ({GREEN}) never became healthy: waited 20m for 2 healthy targets in "
                                       "web-green; last seen 0 healthy of 2 registered, 2 desired")
    assert not [e for e in history.read_journal(outcome.deploy_id) if e["event"] == "weights"]
    _assert_back_on_blue(aws, stack)


def test_timeout_during_the_last_bake_rolls_back(aws: Aws, stack: Stack, history: History) -> None:
    push_image(aws, "v2")
    seams = fake_seams(aws, stack, startup=400.0)  # 405 s to provision, then 3 bakes of 300 s: past 1200 s
    outcome = deploy(_request(stack), aws=aws, history=history, **seams)
    assert outcome.result == "rolled_back"
    assert outcome.rollback_reason == "timed out after 20m baking green at 100% (3m15s of 5m done)"
    assert outcome.green_provisioning_seconds == 405.0
    _assert_back_on_blue(aws, stack)


def test_green_5xx_rate_over_the_limit_rolls_back(aws: Aws, stack: Stack, history: History) -> None:
    push_image(aws, "v2")
    seams = fake_seams(aws, stack)
    seams["metrics"].rate = lambda tg, _now: 0.05 if tg == stack.green_tg else 0.0
    outcome = deploy(_request(stack), aws=aws, history=history, **seams)
    assert outcome.result == "rolled_back"
    assert outcome.rollback_reason is not None and outcome.rollback_reason.startswith("gate 5xx failed: ")
    assert "(5.00%, limit 1.00%)" in outcome.rollback_reason
    _assert_back_on_blue(aws, stack)


def test_dry_run_changes_nothing(aws: Aws, stack: Stack, history: History) -> None:
    push_image(aws, "v2")
    revisions = aws.client("ecs").list_task_definitions()["taskDefinitionArns"]
    outcome = deploy(_request(stack, dry_run=True), aws=aws, history=history, **fake_seams(aws, stack))
    assert outcome.result == "dry_run"
    assert any("green web-green: desired 0 -> 2" in line for line in outcome.plan)
    assert history.list_journals("deploy") == []
    assert aws.client("ecs").list_task_definitions()["taskDefinitionArns"] == revisions
    _assert_back_on_blue(aws, stack)


def test_stats_from_the_journals(aws: Aws, stack: Stack, history: History) -> None:
    push_image(aws, "v2")
    seams = fake_seams(aws, stack)
    seams["health"].broken.add(stack.green_tg)
    failed = deploy(_request(stack), aws=aws, history=history, **seams)
    done = deploy(_request(stack), aws=aws, history=history, **fake_seams(aws, stack, seams["clock"]))
    history.append_journal("web-blue-dead", "deploy", {"event": "start", "way": "alb-weights", "at": 1.0})
    result = CliRunner().invoke(cli, ["deploy", "--stats", "--format", "json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert (figures["deploys"], figures["ended"], figures["failed_rate"]) == (3, 2, 0.5)
    assert figures["by_result"] == {"rolled_back": 1, "succeeded": 1, "unfinished": 1}
    assert figures["median_green_provisioning_seconds"] == 45.0
    records = {r["deploy_id"]: r for r in figures["records"]}
    assert records[failed.deploy_id]["rollback_reason"] == failed.rollback_reason
    assert records[done.deploy_id]["duration_seconds"] == round(done.duration_seconds, 3)
    text = CliRunner().invoke(cli, ["deploy", "--stats"]).stdout
    assert text.startswith("3 deploys, 2 ended; failed-deployment rate 50.0%; median green provisioning 45s")


class _FailingStore:
    """The history store, failing every append once green has had 10% of the traffic."""

    def __init__(self, history: History) -> None:
        self.history = history
        self.broken = False

    def append_journal(self, journal_id: str, kind: str, entry: dict[str, Any]) -> None:
        if self.broken:
            raise OSError("disk full")
        self.history.append_journal(journal_id, kind, entry)
        self.broken = entry["event"] == "weights"

    def read_journal(self, journal_id: str) -> list[dict[str, Any]]:
        return self.history.read_journal(journal_id)

    def list_journals(self, kind: str) -> list[str]:
        return self.history.list_journals(kind)


def test_a_failing_journal_store_still_rolls_back(aws: Aws, stack: Stack, history: History) -> None:
    push_image(aws, "v2")
    outcome = deploy(_request(stack), aws=aws, history=_FailingStore(history), **fake_seams(aws, stack))
    assert outcome.result == "rolled_back"
    assert outcome.rollback_reason == "OSError: disk full"
    assert "journal entries could not be written during the rollback" in outcome.message
    _assert_back_on_blue(aws, stack)
