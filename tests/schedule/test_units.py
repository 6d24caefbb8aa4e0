"""Audit units (state × account × region) on moto: a job over 2 accounts × 2 regions × 2 states finds what
the equivalent single `audit run`s find, unmanaged judged against all of an account's states (never one
state alone, never another account's), with one listing per type per account × region and each
account's API concurrency within `account_concurrency`."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from auditor.aws import Aws, AwsSettings
from auditor.models import AuditRun, DriftKind
from auditor.pipeline import run_audit
from auditor.schedule.config import schedule_config_from_mapping
from auditor.schedule.units import LocalExecutor, audit_unit, plan_units, run_units
from auditor.score import score

REGIONS = ("eu-west-1", "us-east-1")
OTHER = "111111111111"
ROLE = f"arn:aws:iam::{OTHER}:role/auditor"
TYPES = ("aws_sqs_queue", "aws_cloudwatch_log_group")


def _instance(tf_type: str, name: str, attributes: dict[str, Any]) -> dict[str, Any]:
    return {"mode": "managed", "type": tf_type, "name": name,
            "provider": 'provider["registry.terraform.io/hashicorp/aws"]',
            "instances": [{"schema_version": 0, "attributes": attributes, "sensitive_attributes": []}]}


def _queue(account: str, region: str, name: str) -> dict[str, Any]:
    url = f"https://sqs.{region}.amazonaws.com/{account}/{name}"
    return _instance("aws_sqs_queue", f"{name}_{region.replace('-', '_')}", {
        "id": url, "url": url, "name": name, "region": region,
        "arn": f"arn:aws:sqs:{region}:{account}:{name}", "tags": {}, "tags_all": {}})


def _log_group(account: str, region: str, name: str) -> dict[str, Any]:
    return _instance("aws_cloudwatch_log_group", name.strip("/").replace("/", "_"), {
        "id": name, "name": name, "region": region, "retention_in_days": 0,
        "arn": f"arn:aws:logs:{region}:{account}:log-group:{name}", "tags": {}, "tags_all": {}})


def _write(path: Path, resources: list[dict[str, Any]]) -> str:
    path.write_text(json.dumps({"version": 4, "terraform_version": "1.11.4", "serial": 1,
                                "lineage": "5d3c0f3e-aaaa-bbbb-cccc-00000000000" + str(len(path.name) % 10),
                                "outputs": {}, "resources": resources}))
    return str(path)


class InFlight:
    """The most API calls in flight at once, per account (each call delayed so that overlaps show)."""

    def __init__(self) -> None:
        self.now: Counter[str] = Counter()
        self.peak: Counter[str] = Counter()
        self.lock = threading.Lock()

    def watch(self, client: Any, account: str) -> None:
        def enter(**_: Any) -> None:
            with self.lock:
                self.now[account] += 1
                self.peak[account] = max(self.peak[account], self.now[account])
            time.sleep(0.01)

        def leave(**_: Any) -> None:
            with self.lock:
                self.now[account] -= 1

        client.meta.events.register("before-call", enter)
        client.meta.events.register("after-call", leave)
        client.meta.events.register("after-call-error", leave)


@pytest.fixture
def fleet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[dict[str, Any], InFlight]]:
    """Two accounts, each with two states over two regions, live resources seeded to match (mostly)."""
    monkeypatch.delenv("MOTO_IAM_LOAD_MANAGED_POLICIES", raising=False)
    flight = InFlight()
    made = Aws.client

    def client(self: Aws, service: str, region: str | None = None) -> Any:
        known = (service, region or self.default_region) in self._clients
        answer = made(self, service, region)
        if not known and service != "sts":
            key = answer._request_signer._credentials.access_key
            flight.watch(answer, OTHER if key.startswith("ASIA") else "default")  # assumed-role keys: ASIA…
        return answer

    monkeypatch.setattr(Aws, "client", client)
    with mock_aws():
        base = boto3.Session(region_name=REGIONS[0])
        creds = base.client("sts").assume_role(RoleArn=ROLE, RoleSessionName="seed")["Credentials"]
        other = boto3.Session(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                              aws_session_token=creds["SessionToken"])
        home = base.client("sts").get_caller_identity()["Account"]
        states: dict[str, list[str]] = {}
        for account, session in ((home, base), (OTHER, other)):
            for region in REGIONS:
                sqs = session.client("sqs", region_name=region)
                for name in ("orders", "stray") + (("billing",) if region == REGIONS[0] else ()):  # stray: no state
                    sqs.create_queue(QueueName=name)
            session.client("logs", region_name=REGIONS[0]).create_log_group(logGroupName="/app/web")
            one = [_queue(account, r, "orders") for r in REGIONS]                      # state one: both regions
            two = [_queue(account, REGIONS[0], "billing"), _queue(account, REGIONS[0], "gone"),  # gone: missing
                   _log_group(account, REGIONS[0], "/app/web")]
            folder = tmp_path / account
            folder.mkdir()
            states[account] = [_write(folder / "one.tfstate", one), _write(folder / "two.tfstate", two)]
        job = {"name": "fleet", "cron": "0 2 * * *", "rules": False, "regions": list(REGIONS), "accounts": [
            {"id": home, "states": states[home]}, {"id": OTHER, "role_arn": ROLE, "states": states[OTHER]}]}
        document = {"types": list(TYPES), "states": [{"uri": u} for u in
                                                                            states[home] + states[OTHER]],
                    "scheduler": {"account_concurrency": 2, "parallel_units": 4}, "schedules": [job]}
        yield {"config": schedule_config_from_mapping(document, "test", tmp_path), "states": states,
               "home": home}, flight


def _findings(run: AuditRun) -> set[tuple[str, str, str, str | None, tuple[str, ...]]]:
    return {(d.kind.value, d.type, d.id, d.region, d.states) for d in run.drifts}


def test_units_merge_to_the_single_runs_with_unmanaged_against_every_state(
        fleet: tuple[dict[str, Any], InFlight]) -> None:
    setup, flight = fleet
    config = setup["config"]
    job = config.job("fleet")
    units = plan_units(job, config.audit, config.account_concurrency)
    assert len(units) == 2 * 2 * 2 and len({(u.account, u.state, u.region) for u in units}) == 8
    assert {u.account.id for u in units[:2] if u.account} == {setup["home"], OTHER}  # accounts interleaved
    aws = Aws(AwsSettings(region=REGIONS[0]))
    merged = run_units(units, LocalExecutor(config.parallel_units), audit_unit(aws))
    peaks = dict(flight.peak)

    singles = []
    for unit in (units[0], units[1]):  # one `audit run` per account over both its states and regions
        single_config = replace(unit.config, max_workers=config.account_concurrency)
        singles.append(run_audit(single_config, Aws(AwsSettings(region=REGIONS[0]))))
    expected = set().union(*(_findings(r) for r in singles))
    assert _findings(merged) == expected
    assert merged.score == score(list(merged.drifts), unit.config.weights)  # scored over the merged drifts
    kinds = Counter((d.kind, d.id.rsplit("/", 1)[-1]) for d in merged.drifts)
    # unmanaged: only the queue no state holds, in each account × region; never a queue another state holds
    assert kinds[(DriftKind.UNMANAGED, "stray")] == 4
    assert not any(d.kind is DriftKind.UNMANAGED and d.id.endswith(("/orders", "/billing")) for d in merged.drifts)
    assert kinds[(DriftKind.MISSING, "gone")] == 2
    # one listing per type per account × region: exactly the calls of the single runs, nothing twice
    single_calls: Counter[str] = Counter()
    for run in singles:
        single_calls.update(run.inventory.api_calls_by_operation)
    assert Counter(merged.inventory.api_calls_by_operation) == single_calls
    assert single_calls["sqs.ListQueues"] == 4 and single_calls["cloudwatch-logs.DescribeLogGroups"] == 4
    # each account's API calls never exceeded account_concurrency (+1: the state reads' caller lookup)
    assert set(peaks) == {"default", OTHER}
    assert all(2 <= peak <= config.account_concurrency + 1 for peak in peaks.values()), peaks
    assert {s.uri for s in merged.states} == set(setup["states"][setup["home"]] + setup["states"][OTHER])


def test_an_unreadable_state_keeps_its_accounts_unmanaged_in_doubt_only(  # and /app/web, which the other
                                                                         # account's state holds, too
        fleet: tuple[dict[str, Any], InFlight], tmp_path: Path) -> None:
    setup, _ = fleet
    config = setup["config"]
    units = plan_units(config.job("fleet"), config.audit, config.account_concurrency)
    lost = setup["states"][OTHER][1]
    gone = str(tmp_path / "nowhere.tfstate")
    states = tuple(replace(s, uri=gone) if s.uri == lost else s for s in units[1].config.states)
    units = [replace(u, state=gone if u.state == lost else u.state, config=replace(u.config, states=states))
             if u.account and u.account.id == OTHER else u for u in units]
    merged = run_units(units, LocalExecutor(4), audit_unit(Aws(AwsSettings(region=REGIONS[0]))))
    singles = [run_audit(unit.config, Aws(AwsSettings(region=REGIONS[0]))) for unit in units[:2]]
    assert _findings(merged) == _findings(singles[0]) | _findings(singles[1])
    stray = {(d.kind, d.id.split("/")[3]) for d in merged.drifts if d.id.endswith("/stray")}
    assert stray == {(DriftKind.UNMANAGED, setup["home"]), (DriftKind.UNKNOWN, OTHER)}
    assert [f.uri for f in merged.failures] == [gone] and merged.exit_code == 1
